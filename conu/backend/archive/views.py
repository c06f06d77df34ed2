"""The "containers" of the archive engine: read-only views of an image's root, never started.

A view exists so that conu's generic file checks, copies out and mounts (written over the
engine's container primitives) work on an image that no engine holds. It has the image's
environment, command and labels, its state is always ``created`` and it has no process, no
network and no ports.
"""

from __future__ import annotations

from datetime import UTC, datetime

import attrs

from conu.apidefs.metadata import split_env
from conu.apidefs.specs import ContainerInfo, ContainerState, RunSpec
from conu.backend.archive.images import OpenedImage

__all__ = ["View", "describe"]


def _now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


@attrs.define(eq=False)
class View:
    """A view of one image, as created from a :class:`RunSpec`."""

    id: str
    name: str
    spec: RunSpec
    image: OpenedImage
    created: str = attrs.Factory(_now)

    @property
    def labels(self) -> dict[str, str]:
        """The image's labels with the spec's over them, as engines merge them."""
        return {**(self.image.info.labels or {}), **self.spec.labels}


def describe(view: View) -> ContainerInfo:
    """Describe ``view``; ``raw`` is shaped like ``docker inspect``'s document."""
    info, spec = view.image.info, view.spec
    env = [f"{key}={value}" for key, value in {**split_env(info.env), **spec.env}.items()]
    entrypoint = spec.entrypoint if spec.entrypoint is not None else info.entrypoint
    if spec.command is not None:
        command: tuple[str, ...] = spec.command
    else:
        command = () if spec.entrypoint is not None else tuple(info.command or ())
    hostname = spec.hostname or view.id[:12]
    argv = [*(entrypoint or ()), *command]
    raw = {
        "Id": view.id,
        "Name": "/" + view.name,
        "Created": view.created,
        "Image": info.id,
        "Path": argv[0] if argv else "",
        "Args": argv[1:],
        "Config": {
            "Hostname": hostname,
            "Env": env,
            "Labels": view.labels,
            "Cmd": list(command),
            "Entrypoint": list(entrypoint) if entrypoint is not None else None,
            "Image": spec.image,
            "WorkingDir": spec.working_dir or info.working_dir or "",
            "User": spec.user if spec.user is not None else info.user or "",
            "ExposedPorts": {port: {} for port in info.exposed_ports},
        },
        "State": {"Status": "created", "Running": False, "ExitCode": 0, "Pid": 0},
        "HostConfig": {"NetworkMode": "none"},
        "NetworkSettings": {"Ports": {}, "Networks": {}},
    }
    return ContainerInfo(
        id=view.id,
        name=view.name,
        image=spec.image,
        image_id=info.id,
        state=ContainerState.CREATED,
        exit_code=0,
        pid=0,
        labels=view.labels,
        env=env,
        command=command,
        hostname=hostname,
        exposed_ports=info.exposed_ports,
        ipv4_addresses=(),
        ipv6_addresses=(),
        network_mode="none",
        created=view.created,
        raw=raw,
    )
