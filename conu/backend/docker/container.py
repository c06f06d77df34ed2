"""Docker containers."""

from __future__ import annotations

import logging
import subprocess
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from conu.apidefs.container import Container
from conu.apidefs.metadata import ContainerMetadata
from conu.backend.common.container import InspectedContainerMixin, check_container_identity
from conu.backend.docker import files, network
from conu.backend.docker.client import get_client, translate_errors
from conu.backend.docker.run_builder import DockerRunBuilder
from conu.backend.docker.utils import inspect_to_container_metadata
from conu.exceptions import CommandFailed, ContainerNotFound, ConuException
from conu.utils.lines import split_lines
from conu.utils.net import Endpoint
from conu.utils.validate import command_list, signal_value, timeout_seconds

if TYPE_CHECKING:
    from conu.backend.docker.filesystem import DockerContainerFS
    from conu.backend.docker.image import DockerImage

__all__ = ["ConuException", "DockerContainer", "DockerRunBuilder"]

logger = logging.getLogger(__name__)


class DockerContainer(InspectedContainerMixin, Container):
    """A Docker container.

    Args:
        image: the :class:`~conu.DockerImage` it runs, or None to look it up.
        container_id: the container's id (or None with ``name``).
        name: the container's name.
        popen_instance: the ``docker run`` process of a container started in the foreground.
    """

    backend_name = "docker"

    def __init__(
        self,
        image: DockerImage | None,
        container_id: str | None,
        name: str | None = None,
        popen_instance: subprocess.Popen[bytes] | None = None,
    ) -> None:
        self.d = get_client()
        self._inspect_data: dict[str, Any] | None = None
        check_container_identity(container_id, name)
        super().__init__(image, container_id, name)
        self.popen_instance = popen_instance
        self.metadata = ContainerMetadata()

    def __repr__(self) -> str:
        return f"DockerContainer(image={self.image}, id={self.get_id()})"

    def _translate(self, what: str, **kwargs: Any) -> Any:
        return translate_errors(f"{what} container {self._ref()!r}", **kwargs)

    def _call(self, what: str, method: str, *args: Any, **kwargs: Any) -> Any:
        with self._translate(what, not_found=ContainerNotFound):
            return getattr(self.d, method)(self._ref(), *args, **kwargs)

    # -- identity and state (get_id, is_running, exit_code…: InspectedContainerMixin) -----

    def inspect(self, refresh: bool = True) -> dict[str, Any]:
        """Return ``docker inspect`` of the container (cached unless ``refresh``).

        Raises:
            ContainerNotFound: the container does not exist (any more).
        """
        if refresh or self._inspect_data is None:
            self._inspect_data = self._call("inspect", "inspect_container")
        return self._inspect_data

    def get_metadata(self, refresh: bool = True) -> ContainerMetadata:
        """Return the container's metadata; it is also a mapping over ``inspect()``."""
        data = self.inspect(refresh=refresh)
        return inspect_to_container_metadata(self.metadata, data, self.image)

    def get_image_name(self) -> str | None:
        """Return the image the container was created from (conu runs images by id)."""
        return self.inspect(refresh=False).get("Config", {}).get("Image")

    # -- networking -----------------------------------------------------------------------

    def get_IPv4s(self) -> list[str] | None:
        """Return the container's IPv4 addresses; empty with networking disabled."""
        return self.get_metadata().ipv4_addresses

    def get_IPv6s(self) -> list[str] | None:
        """Return the container's global IPv6 addresses."""
        return self.get_metadata().ipv6_addresses

    def get_endpoint(self, port: int) -> Endpoint:
        """Return where the caller reaches container ``port`` (its IP, or the published port)."""
        return network.endpoint_for(self.inspect(), int(port))

    # -- lifecycle ------------------------------------------------------------------------

    def start(self) -> None:
        """Start the created container."""
        self._call("start", "start")

    def stop(self) -> None:
        """Stop the container (SIGTERM, SIGKILL after Docker's grace period)."""
        self._call("stop", "stop")

    def kill(self, signal: str | int | None = None) -> None:
        """Send ``signal`` (SIGKILL by default) to the container."""
        self._call("kill", "kill", signal=signal_value(signal))

    def delete(self, force: bool = False, volumes: bool = False, **kwargs: Any) -> None:
        """Remove the container (and its anonymous volumes with ``volumes=True``)."""
        self._call("remove", "remove_container", v=volumes, force=force)

    def wait(self, timeout: float | None = None) -> int:
        """Block until the container stops and return its exit code.

        Raises:
            ProbeTimeout: it still ran after ``timeout`` seconds.
        """
        timeout = timeout_seconds(timeout)
        with self._translate("wait for", not_found=ContainerNotFound, timeout=timeout):
            result = self.d.wait(self._ref(), timeout=timeout or None)
        return int(result["StatusCode"])

    # -- processes and output -------------------------------------------------------------

    def execute(  # type: ignore[override]  # conu 1.0's Docker-specific keywords
        self,
        command: list[str],
        blocking: bool = True,
        exec_create_kwargs: dict[str, Any] | None = None,
        exec_start_kwargs: dict[str, Any] | None = None,
    ) -> Any:
        """Run ``command`` in the running container.

        Returns:
            with ``blocking``, the list of output chunks (bytes, stdout and stderr merged);
            otherwise an iterator over them (the exit code is then not checked).

        Raises:
            CommandFailed: the command exited non-zero or does not exist (exit code in the
                message and in ``exit_code``).
            Conflict: the container is not running.
        """
        command = command_list(command)
        what = f"execute {command!r} in"
        with self._translate(what, not_found=ContainerNotFound):
            exec_id = self.d.exec_create(self._ref(), list(command), **(exec_create_kwargs or {}))
            stream = self.d.exec_start(exec_id, stream=True, **(exec_start_kwargs or {}))
        if not blocking:
            return stream
        chunks = self._collect(stream, what)
        with self._translate(what):
            exit_code = self.d.exec_inspect(exec_id)["ExitCode"]
        if exit_code != 0:
            msg = f"failed to execute command {list(command)!r}, exit code {exit_code}"
            raise CommandFailed(msg, exit_code=exit_code, output=b"".join(chunks))
        return chunks

    def _collect(self, stream: Iterator[bytes], what: str) -> list[bytes]:
        chunks = []
        with self._translate(what):
            for chunk in stream:
                logger.info("%s", chunk.decode("utf-8", "replace").strip())
                chunks.append(chunk)
        return chunks

    def logs(self, follow: bool = False) -> Iterator[bytes]:
        """Iterate over the output (stdout and stderr), one line per item, as bytes.

        Args:
            follow: keep streaming new output until the container exits.
        """
        with self._translate("read logs of", not_found=ContainerNotFound):
            stream = self.d.logs(self._ref(), stream=True, follow=follow)
        return split_lines(stream)

    def write_to_stdin(self, message: str | bytes) -> None:
        """Write ``message`` to the stdin of a container run with ``run_via_binary_in_foreground``.

        Raises:
            ConuException: the container does not run, was not started in the foreground with
                stdin piped, or ``message`` is neither str nor bytes.
        """
        if not self.is_running():
            msg = f"container {self._ref()!r} is not running"
            raise ConuException(msg)
        if self.popen_instance is None or self.popen_instance.stdin is None:
            msg = (
                "writing to stdin needs a container from run_via_binary_in_foreground "
                'with popen_params={"stdin": subprocess.PIPE}'
            )
            raise ConuException(msg)
        if not isinstance(message, str | bytes):
            msg = f"message must be str or bytes, not {type(message).__name__}"
            raise ConuException(msg)
        data = message.encode("utf-8") if isinstance(message, str) else message
        try:
            self.popen_instance.stdin.write(data)
            self.popen_instance.stdin.flush()
        except OSError as exc:
            msg = f"cannot write to stdin of container {self._ref()!r}: {exc}"
            raise ConuException(msg) from exc

    # -- files ----------------------------------------------------------------------------

    def copy_to(self, src: str, dest: str) -> None:
        """Copy host file or directory ``src`` to ``dest`` in the container (like docker cp)."""
        files.copy_to(self, src, dest)

    def copy_from(self, src: str, dest: str) -> None:
        """Copy ``src`` in the container to host path ``dest`` (like docker cp)."""
        files.copy_from(self, src, dest)

    def mount(self, mount_point: str | None = None) -> DockerContainerFS:
        """Return the container's filesystem; use it as a context manager."""
        from conu.backend.docker.filesystem import DockerContainerFS

        return DockerContainerFS(self, mount_point=mount_point)
