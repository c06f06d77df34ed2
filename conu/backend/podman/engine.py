"""The podman engine: conu's primitives over the ``podman`` command line.

Containers are handled here; files, images and session sweeps in mixins
(:mod:`~conu.backend.podman.engine_files`, :mod:`~conu.backend.podman.engine_images`,
:mod:`~conu.backend.podman.sessions`). Every podman call goes through
:mod:`conu.backend.podman.cli` (or :mod:`~conu.backend.podman.stream` for output read while
podman runs), where podman's failures become conu exceptions.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, ClassVar

from conu.apidefs.backend import Capability
from conu.apidefs.engine import Engine
from conu.apidefs.specs import ContainerInfo, ContainerState, ExecStream, RunSpec
from conu.backend.podman import cli, execs
from conu.backend.podman.convert import container_info, state_of
from conu.backend.podman.engine_files import FilesMixin
from conu.backend.podman.engine_images import ImagesMixin
from conu.backend.podman.run_args import create_args, label_filters
from conu.backend.podman.sessions import SessionsMixin
from conu.exceptions import ContainerNotFound, ConuException, ProbeTimeout
from conu.utils.net import Endpoint

__all__ = ["LOCALHOST", "PodmanEngine"]

LOCALHOST = "127.0.0.1"
"""Where published ports and host-network containers are reached."""
_WILDCARDS = ("", "0.0.0.0", "::")
_ROOTFUL_ONLY = frozenset({Capability.MOUNT, Capability.IMAGE_FILES})


def rootless() -> bool:
    """Tell whether podman runs rootless here (this process is not root)."""
    return os.geteuid() != 0


class PodmanEngine(FilesMixin, ImagesMixin, SessionsMixin, Engine):
    """The podman engine, reached through its command line (``podman`` on ``PATH``)."""

    name: ClassVar[str] = "podman"
    stop_timeout: ClassVar[float] = 10
    """Seconds ``stop_container`` waits after SIGTERM when no timeout is given."""
    exec_timeout: ClassVar[float] = 600
    """Seconds an exec may run unless its ``timeout`` option says otherwise."""
    follow_timeout: ClassVar[float] = 3600
    """Seconds followed logs may stream before podman is killed (no call is unbounded)."""
    wait_slice: ClassVar[float] = 300
    """Seconds one ``podman wait`` may take; longer waits take several."""

    # -- the engine itself ----------------------------------------------------------------

    @property
    def capabilities(self) -> frozenset[Capability]:
        """Every capability; rootless podman's mounts are invisible here, so file checks
        (which read ``podman mount``) and mounts are left out then."""
        every = frozenset(Capability)
        return every - _ROOTFUL_ONLY if rootless() else every

    def container_state(self, raw: str | None) -> ContainerState:
        """Map podman's state string (``configured``, ``stopped``...) to a portable state."""
        return state_of(raw)

    def container_address(self, info: ContainerInfo, port: int) -> Endpoint:
        """Return where ``port`` of the container is reached from here.

        The container's IP when it has one on a bridge (rootful podman: routable from the
        host); else the published host port on loopback (``proxied``); with
        ``--network host``, the port on loopback.

        Raises:
            ConuException: the container has no routable address and the port is not
                published.
        """
        if info.network_mode == "host":
            return Endpoint(LOCALHOST, port)
        if info.ipv4_addresses and not rootless():
            return Endpoint(info.ipv4_addresses[0], port)
        published = info.ports or info.requested_ports
        for binding in published.get(f"{port}/tcp") or ():
            if binding.host_port:
                host = LOCALHOST if binding.host_ip in _WILDCARDS else binding.host_ip
                return Endpoint(host, binding.host_port, proxied=True)
        msg = (
            f"port {port} of container {info.name or info.id!r} cannot be reached from here: "
            "it has no address routable from the host and the port is not published"
        )
        raise ConuException(msg)

    def version(self) -> str:
        """Return podman's version (``"4.3.1"``).

        Raises:
            CommandDoesNotExistException: podman is not installed.
        """
        args = ["version", "--format", "{{.Client.Version}}"]
        return cli.last_line(cli.run(args, what="read its version").stdout)

    def cli_command(self) -> list[str] | None:
        """Return ``["podman"]``: ``run_via_binary`` runs ``podman run ...``."""
        return [cli.BINARY]

    # -- containers -----------------------------------------------------------------------

    def create_container(self, spec: RunSpec) -> str:
        """Create the container with ``podman create`` (never pulling); return its id."""
        what = f"create a container of {spec.image!r}"
        return cli.last_line(cli.run(create_args(spec), what=what).stdout)

    def start_container(self, container_id: str) -> None:
        """Start the container with ``podman start``."""
        cli.run(["start", container_id], what=_what("start", container_id))

    def stop_container(self, container_id: str, timeout: float | None = None) -> None:
        """Stop it: SIGTERM, SIGKILL after ``timeout`` seconds (10 when None)."""
        grace = self.stop_timeout if timeout is None else timeout
        args = ["stop", "--time", str(math.ceil(grace)), container_id]
        cli.run(args, what=_what("stop", container_id), timeout=cli.TIMEOUT + grace)

    def kill_container(self, container_id: str, signal: str | int | None = None) -> None:
        """Send ``signal`` (SIGKILL when None) with ``podman kill``."""
        sent = "KILL" if signal is None else str(signal)
        cli.run(["kill", "--signal", sent, container_id], what=_what("kill", container_id))

    def remove_container(
        self, container_id: str, *, force: bool = False, volumes: bool = False
    ) -> None:
        """Remove it with ``podman rm`` (``force``: no grace period)."""
        args = ["rm", *(["--force", "--time", "0"] if force else [])]
        args += ["--volumes"] if volumes else []
        what = _what("remove", container_id)
        removed = cli.run([*args, container_id], what=what).stdout
        if not removed.strip():  # podman rm --force says nothing about a missing container
            raise ContainerNotFound(f"cannot {what}: no such container")

    def wait_container(self, container_id: str, timeout: float | None = None) -> int:
        """Wait for it to stop with ``podman wait`` (calls of at most :attr:`wait_slice`)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        what = _what("wait for", container_id)
        while True:
            left = self.wait_slice if deadline is None else deadline - time.monotonic()
            try:
                done = cli.run(["wait", container_id], what=what, timeout=max(left, 0.1))
            except ProbeTimeout:
                if deadline is not None and time.monotonic() >= deadline:
                    msg = f"container {container_id[:12]!r} still ran after {timeout:g}s"
                    raise ProbeTimeout(msg) from None
                continue
            return int(cli.last_line(done.stdout))

    def exec_in_container(
        self,
        container_id: str,
        command: Sequence[str],
        *,
        options: Mapping[str, Any] | None = None,
    ) -> ExecStream:
        """Start ``command`` with ``podman exec`` (stdout and stderr merged).

        ``options``: ``user``, ``workdir``, ``environment``, ``privileged``, ``tty``,
        ``timeout`` (seconds, :attr:`exec_timeout` by default) and ``podman_args``; Docker's
        ``{"create": {...}, "start": {...}}`` shape is accepted.
        """
        args, timeout = execs.exec_args(options)
        return execs.exec_stream(container_id, command, args, timeout or self.exec_timeout)

    def container_logs(
        self,
        container_id: str,
        *,
        follow: bool = False,
        stdout: bool = True,
        stderr: bool = True,
    ) -> Iterator[bytes]:
        """Return ``podman logs`` output; podman keeps the streams apart, so either may be
        left out (both: merged in the order podman wrote them)."""
        return execs.logs(
            container_id,
            follow=follow,
            stdout=stdout,
            stderr=stderr,
            timeout=self.follow_timeout,
        )

    def inspect_container(self, container_id: str) -> ContainerInfo:
        """Describe the container with ``podman container inspect``."""
        found = _inspect_containers([container_id], check=True)
        if not found:
            raise ContainerNotFound(f"cannot {_what('inspect', container_id)}: no such container")
        return found[0]

    def list_containers(self, labels: Mapping[str, str] | None = None) -> list[ContainerInfo]:
        """List with ``podman ps --all``, then inspect every id in one call (so entries have
        the command and environment too); containers gone meanwhile are left out."""
        args = ["ps", "--all", "--quiet", "--no-trunc", *label_filters(labels)]
        output = cli.run(args, what="list containers").stdout.decode()
        ids = [line.strip() for line in output.splitlines() if line.strip()]
        found = _inspect_containers(ids, check=False) if ids else []
        wanted = dict(labels or {})
        return [c for c in found if all(c.labels.get(k) == v for k, v in wanted.items())]


def _what(action: str, container_id: str) -> str:
    return f"{action} container {container_id[:12]!r}"


def _inspect_containers(ids: list[str], *, check: bool) -> list[ContainerInfo]:
    """Inspect ``ids`` in one podman call; without ``check`` missing ones are skipped."""
    what = f"inspect container {ids[0][:12]!r}" if len(ids) == 1 else "inspect containers"
    args = ["container", "inspect", "--format", "json", *ids]
    found = cli.run_json(args, what=what, check=check)
    return [container_info(data) for data in found or []]
