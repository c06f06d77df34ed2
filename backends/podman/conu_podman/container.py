"""Podman containers."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from conu.apidefs.container import Container, ContainerName
from conu.apidefs.metadata import ContainerMetadata
from conu.backend.common.container import InspectedContainerMixin, check_container_identity
from conu.exceptions import CommandFailed, ContainerNotFound
from conu.utils.lines import split_lines
from conu.utils.net import Endpoint
from conu_podman import engine, files, network
from conu_podman.stream import open_stream
from conu_podman.utils import container_metadata

if TYPE_CHECKING:
    from conu_podman.filesystem import PodmanContainerFS
    from conu_podman.image import PodmanImage

__all__ = ["EXEC_TIMEOUT", "LOGS_TIMEOUT", "STOP_TIMEOUT", "PodmanContainer"]

logger = logging.getLogger(__name__)

EXEC_TIMEOUT = 600.0
"""Seconds a command run by :meth:`PodmanContainer.execute` may take by default."""
LOGS_TIMEOUT = 600.0
"""Seconds :meth:`PodmanContainer.logs` may stream with ``follow=True`` by default."""
STOP_TIMEOUT = 10
"""Seconds ``stop()`` waits after SIGTERM before podman sends SIGKILL (Docker's default)."""
_EXEC_ENGINE_FAILURES = (125, 255)
"""``podman exec`` exit statuses that may be podman's own failure rather than the command's."""


class PodmanContainer(InspectedContainerMixin, Container):
    """A podman container.

    Args:
        image: the :class:`~conu_podman.PodmanImage` it runs, or None to look it up.
        container_id: the container's id (or None with ``name``).
        name: the container's name.

    Raises:
        InvalidArgument: neither ``container_id`` nor ``name`` is given.
    """

    backend_name = "podman"

    def __init__(
        self, image: PodmanImage | None, container_id: str | None, name: str | None = None
    ) -> None:
        check_container_identity(container_id, name)
        self._inspect_data: dict[str, Any] | None = None
        super().__init__(image, container_id, name)
        self.metadata = ContainerMetadata()

    def __repr__(self) -> str:
        return f"PodmanContainer(image={self.image}, id={self.get_id()})"

    def _what(self, action: str) -> str:
        return f"{action} container {self._ref()[:12]!r}"

    def _podman(self, action: str, *args: str, timeout: float | None = engine.TIMEOUT) -> bytes:
        done = engine.run([*args, self._ref()], what=self._what(action), timeout=timeout)
        return done.stdout

    # -- identity and state (get_id, is_running, exit_code…: InspectedContainerMixin) -----

    def inspect(self, refresh: bool = True) -> dict[str, Any]:
        """Return ``podman inspect`` of the container (cached unless ``refresh``).

        Raises:
            ContainerNotFound: the container does not exist (any more).
        """
        if refresh or self._inspect_data is None:
            args = ["container", "inspect", "--format", "json", self._ref()]
            found = engine.run_json(args, what=self._what("inspect"))
            if not found:
                raise ContainerNotFound(f"cannot {self._what('inspect')}: no such container")
            self._inspect_data = found[0]
            if self.name is None:
                self.name = ContainerName(str(found[0].get("Name") or "")) or None
        return self._inspect_data

    def get_metadata(self, refresh: bool = True) -> ContainerMetadata:
        """Return the container's metadata; it is also a mapping over ``inspect()``."""
        return container_metadata(self.metadata, self.inspect(refresh=refresh), self.image)

    def get_image_name(self) -> str | None:
        """Return the image the container was created from (its name, or its id)."""
        data = self.inspect(refresh=False)
        return data.get("ImageName") or (data.get("Config") or {}).get("Image") or data["Image"]

    # -- networking -----------------------------------------------------------------------

    def get_IPv4s(self) -> list[str]:
        """Return the container's IPv4 addresses; empty without a bridge network."""
        return network.ip_addresses(self.inspect())

    def get_IPv6s(self) -> list[str]:
        """Return the container's global IPv6 addresses."""
        return network.ip_addresses(self.inspect(), "GlobalIPv6Address")

    def get_endpoint(self, port: int) -> Endpoint:
        """Return where the caller reaches container ``port`` (its IP, or the published port)."""
        return network.endpoint_for(self.inspect(), int(port))

    # -- lifecycle ------------------------------------------------------------------------

    def start(self) -> None:
        """Start the container (created or stopped)."""
        self._podman("start", "start")

    def stop(self, timeout: int = STOP_TIMEOUT) -> None:
        """Stop the container: SIGTERM, then SIGKILL after ``timeout`` seconds."""
        self._podman("stop", "stop", "--time", str(int(timeout)), timeout=engine.TIMEOUT + timeout)

    def kill(self, signal: str | int | None = None) -> None:
        """Send ``signal`` (SIGKILL by default) to the container's main process."""
        if signal is not None and not isinstance(signal, str | int):
            msg = f"signal must be a str, an int or None, not {type(signal).__name__}"
            raise TypeError(msg)
        self._podman("kill", "kill", "--signal", str(signal if signal is not None else "KILL"))

    def delete(self, force: bool = False, volumes: bool = False, **kwargs: Any) -> None:
        """Remove the container; ``force`` kills it first if it runs, ``volumes`` also removes
        its anonymous volumes."""
        options = ["--force", "--time", "0"] if force else []
        removed = self._podman("remove", "rm", *options, *(["--volumes"] if volumes else []))
        if not removed.strip():  # podman rm --force says nothing about a missing container
            msg = f"cannot {self._what('remove')}: no such container"
            raise ContainerNotFound(msg)

    def wait(self, timeout: float | None = None) -> int:
        """Block until the container stops and return its exit code.

        Args:
            timeout: the most seconds to wait; None waits as long as it takes.

        Raises:
            ProbeTimeout: it still ran after ``timeout`` seconds.
            ContainerNotFound: the container does not exist.
        """
        output = self._podman("wait for", "wait", timeout=timeout)
        return int(output.decode().strip().splitlines()[-1])

    # -- processes and output -------------------------------------------------------------

    def execute(
        self,
        command: list[str],
        blocking: bool = True,
        timeout: float = EXEC_TIMEOUT,
        **kwargs: Any,
    ) -> Any:
        """Run ``command`` in the running container.

        Args:
            command: the command and its arguments.
            blocking: wait for it and check its exit code; False returns an iterator over
                its output at once (the exit code is then not checked).
            timeout: the most seconds it may take.
            kwargs: none is accepted (Docker's ``exec_*_kwargs`` have no podman equivalent).

        Returns:
            with ``blocking``, the list of output chunks (bytes, stdout and stderr merged);
            otherwise an iterator over them.

        Raises:
            CommandFailed: the command exited non-zero or does not exist (exit code in the
                message and in ``exit_code``).
            Conflict: the container is not running.
            ContainerNotFound: the container does not exist.
            ProbeTimeout: it ran longer than ``timeout`` seconds.
            TypeError: an unknown keyword argument is given.
        """
        if kwargs:
            msg = f"execute() got unexpected keyword arguments: {sorted(kwargs)}"
            raise TypeError(msg)
        if isinstance(command, str) or not isinstance(command, list | tuple):
            msg = f"command must be a list of str, not {type(command).__name__}"
            raise TypeError(msg)
        args, what = ["exec", self._ref(), *command], self._what(f"execute {list(command)!r} in")
        if not blocking:
            return self._stream(args, what, timeout)
        done = engine.run(args, what=what, timeout=timeout, merge_output=True, check=False)
        output, code = done.stdout, done.returncode
        if code in _EXEC_ENGINE_FAILURES and engine.recognise(output) is not None:
            raise engine.failure(what, output)
        if output:
            logger.info("%s", output.decode("utf-8", "replace").strip())
        if code != 0:
            msg = f"failed to execute command {list(command)!r}, exit code {code}"
            raise CommandFailed(msg, exit_code=code, output=output)
        return [output] if output else []

    def _stream(self, args: list[str], what: str, timeout: float | None) -> Iterator[bytes]:
        with open_stream(args, what=what, timeout=timeout) as stream:
            yield from stream.chunks()

    def logs(self, follow: bool = False, timeout: float | None = LOGS_TIMEOUT) -> Iterator[bytes]:
        """Iterate over the output (stdout and stderr), one line per item, as bytes.

        Args:
            follow: keep streaming new output until the container exits.
            timeout: with ``follow``, the most seconds to stream (None: until it exits).

        Raises:
            ContainerNotFound: the container does not exist.
            ProbeTimeout: following outlived ``timeout``.
        """
        what = self._what("read logs of")
        if follow:
            return split_lines(self._stream(["logs", "--follow", self._ref()], what, timeout))
        done = engine.run(["logs", self._ref()], what=what, merge_output=True)
        return split_lines([done.stdout])

    # -- files ----------------------------------------------------------------------------

    def copy_to(self, src: str, dest: str) -> None:
        """Copy host file or directory ``src`` to ``dest`` in the container (like docker cp)."""
        files.copy_to(self.get_id(), src, dest)

    def copy_from(self, src: str, dest: str) -> None:
        """Copy ``src`` in the container to host path ``dest`` (like docker cp)."""
        files.copy_from(self.get_id(), src, dest)

    def mount(self, mount_point: str | None = None) -> PodmanContainerFS:
        """Return the container's filesystem (streamed ``podman export``); use it with ``with``."""
        from conu_podman.filesystem import PodmanContainerFS

        return PodmanContainerFS(self, mount_point=mount_point)
