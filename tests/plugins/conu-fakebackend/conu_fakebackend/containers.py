"""The record of one container, and how it is described (:class:`ContainerInfo`)."""

from __future__ import annotations

import os
import subprocess
import threading
from collections.abc import Iterator

import attrs

from conu.apidefs.engine import Engine
from conu.apidefs.specs import ContainerInfo, ContainerState, RunSpec
from conu.exceptions import ContainerNotFound
from conu_fakebackend.images import ImageStore, StoredImage, now
from conu_fakebackend.layers import Index
from conu_fakebackend.process import DEFAULT_PATH

__all__ = ["Box", "EngineState", "describe", "make_box"]


@attrs.define(eq=False)
class Box:
    """A container: its root directory and logs on the host, and its current process."""

    id: str
    name: str
    spec: RunSpec
    image: StoredImage
    directory: str
    env: dict[str, str]
    argv: list[str]
    command: list[str]
    workdir: str
    user: str
    labels: dict[str, str]
    created: str = attrs.Factory(now)
    index: Index = attrs.Factory(dict)
    process: subprocess.Popen[bytes] | None = None
    done: threading.Event = attrs.Factory(threading.Event)
    exit_code: int = 0
    started_at: str = ""
    finished_at: str = ""

    @property
    def root(self) -> str:
        """The container's root filesystem on the host."""
        return os.path.join(self.directory, "root")

    @property
    def log_paths(self) -> tuple[str, str]:
        """The files its standard output and error go to."""
        return os.path.join(self.directory, "stdout"), os.path.join(self.directory, "stderr")

    @property
    def running(self) -> bool:
        """Whether the main process was started and has not been reaped yet."""
        return self.process is not None and not self.done.is_set()

    @property
    def status(self) -> str:
        """Docker's state string."""
        if self.process is None:
            return "created"
        return "running" if self.running else "exited"


def make_box(
    container_id: str, name: str, spec: RunSpec, image: StoredImage, directory: str
) -> Box:
    """Work out a container's environment, command and labels from ``spec`` and ``image``."""
    config = image.config
    env = dict(item.split("=", 1) for item in config.get("Env") or () if "=" in item)
    env.setdefault("PATH", DEFAULT_PATH)
    env.update(spec.env)
    entrypoint = list(
        spec.entrypoint if spec.entrypoint is not None else config.get("Entrypoint") or ()
    )
    if spec.command is not None:
        command = list(spec.command)
    else:
        command = [] if spec.entrypoint is not None else list(config.get("Cmd") or ())
    return Box(
        id=container_id,
        name=name,
        spec=spec,
        image=image,
        directory=directory,
        env=env,
        argv=entrypoint + command,
        command=command,
        workdir=spec.working_dir or config.get("WorkingDir") or "/",
        user=spec.user if spec.user is not None else config.get("User") or "",
        labels={**(config.get("Labels") or {}), **spec.labels},
    )


def describe(box: Box, state: ContainerState) -> ContainerInfo:
    """Describe ``box``; ``raw`` is shaped like ``docker inspect``'s document."""
    env = [f"{key}={value}" for key, value in box.env.items()]
    hostname = box.spec.hostname or box.id[:12]
    pid = box.process.pid if box.running and box.process is not None else 0
    config = box.image.config
    raw = {
        "Id": box.id,
        "Name": "/" + box.name,
        "Created": box.created,
        "Image": box.image.id,
        "Path": box.argv[0] if box.argv else "",
        "Args": box.argv[1:],
        "Config": {
            "Hostname": hostname,
            "Env": env,
            "Labels": dict(box.labels),
            "Cmd": list(box.command),
            "Entrypoint": box.argv[: len(box.argv) - len(box.command)] or None,
            "Image": box.spec.image,
            "WorkingDir": box.workdir,
            "User": box.user,
            "Tty": box.spec.tty,
            "ExposedPorts": dict(config.get("ExposedPorts") or {}),
        },
        "State": {
            "Status": box.status,
            "Running": box.running,
            "ExitCode": box.exit_code,
            "Pid": pid,
            "StartedAt": box.started_at,
            "FinishedAt": box.finished_at,
        },
        "HostConfig": {"AutoRemove": box.spec.auto_remove, "NetworkMode": "host"},
        "NetworkSettings": {"Ports": {}, "Networks": {}},
    }
    return ContainerInfo(
        id=box.id,
        name=box.name,
        image=box.spec.image,
        image_id=box.image.id,
        state=state,
        exit_code=box.exit_code,
        pid=pid,
        labels=box.labels,
        env=env,
        command=box.command,
        hostname=hostname,
        requested_ports=box.spec.ports,
        ipv4_addresses=(),
        network_mode="host",
        created=box.created,
        raw=raw,
    )


class EngineState(Engine):
    """The state the fake engine's primitives share; each group of them is a subclass."""

    _lock: threading.Lock
    """Guards ``_containers``, ``_images`` and every :class:`Box`."""
    _containers: dict[str, Box]
    _images: ImageStore
    _numbers: Iterator[int]
    """Numbers of generated container names (``fake-<n>``)."""
    _tmp: str
    """The engine's directory: container directories and build roots."""

    def _box(self, reference: str) -> Box:
        """Find a container by id, name or unique id prefix (call with the lock held)."""
        box = self._containers.get(reference)
        if box is None:
            wanted = reference.removeprefix("/")
            found = [
                b
                for b in self._containers.values()
                if wanted and wanted in (b.name, b.id[: len(wanted)])
            ]
            if len(found) != 1:
                msg = f"no such container: {reference!r}"
                raise ContainerNotFound(msg)
            box = found[0]
        return box

    def _named(self, name: str) -> bool:
        return any(box.name == name for box in self._containers.values())
