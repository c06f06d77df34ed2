"""The abstract container: what every backend's container offers.

Methods decorated with :func:`abc.abstractmethod` are what every backend must have; the
others have a generic body built on them, or raise :class:`conu.exceptions.UnsupportedOperation`
naming the backend and the operation.
"""

from __future__ import annotations

import abc
import contextlib
import functools
import socket
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from conu.exceptions import ConuException, UnsupportedOperation
from conu.utils.net import Endpoint, port_accepts
from conu.utils.validate import port_number, timeout_seconds

if TYPE_CHECKING:
    import requests

    from conu.apidefs.filesystem import Filesystem
    from conu.apidefs.image import Image
    from conu.apidefs.metadata import ContainerMetadata, ContainerStatus
    from conu.utils.http_client import HttpClient

__all__ = ["Container", "ContainerName"]


class ContainerName(str):
    """A container's name: a string, and callable for the generic ``name()`` method.

    conu 1.0 assigned ``container.name`` as a plain attribute, which shadowed the documented
    ``name()`` method; this type serves both spellings.
    """

    __slots__ = ()

    def __call__(self) -> str:
        return str(self)


class Container(abc.ABC):
    """A container of some backend.

    Args:
        image: the :class:`~conu.apidefs.image.Image` it was created from, or None to look it
            up through :meth:`get_image_name`.
        container_id: the engine's id of the container.
        name: the container's name, if known.

    Raises:
        TypeError: ``image`` is neither None nor an ``Image``.
    """

    backend_name = "<abstract_backend>"

    def __init__(self, image: Image | None, container_id: str | None, name: str | None) -> None:
        from conu.apidefs.image import Image

        self._id = container_id
        self.name: ContainerName | None = ContainerName(name) if name else None
        self._metadata: ContainerMetadata | None = None
        self._http_session: requests.Session | None = None
        if image is None:
            image_name = self.get_image_name()
            image = Image(image_name) if image_name else None
        elif not isinstance(image, Image):
            msg = f"image must be an Image instance or None, not {type(image).__name__}"
            raise TypeError(msg)
        self.image = image

    def _unsupported(self, operation: str) -> UnsupportedOperation:
        return UnsupportedOperation(self.backend_name, f"{type(self).__name__}.{operation}")

    @property
    def http_session(self) -> requests.Session:
        """A :class:`requests.Session` kept for this container's HTTP helpers."""
        if self._http_session is None:
            import requests

            self._http_session = requests.Session()
        return self._http_session

    # -- identity and state -------------------------------------------------------------

    @abc.abstractmethod
    def get_id(self) -> str:
        """Return the engine's unique identifier of this container."""

    @abc.abstractmethod
    def inspect(self, refresh: bool = True) -> dict[str, Any]:
        """Return the engine's document describing this container.

        Args:
            refresh: ask the engine again instead of returning the cached document.
        """

    @abc.abstractmethod
    def get_metadata(self, refresh: bool = True) -> ContainerMetadata:
        """Return this container's metadata, which is also a mapping over ``inspect()``."""

    def get_image_name(self) -> str | None:
        """Return the name (or id) of the image this container was created from."""
        raise self._unsupported("get_image_name")

    @abc.abstractmethod
    def is_running(self) -> bool:
        """Ask the engine (never a cache) whether the container is running."""

    @abc.abstractmethod
    def get_status(self) -> str:
        """Return the engine's state string, e.g. ``"running"`` or ``"exited"``."""

    def status(self) -> ContainerStatus:
        """Return the portable :class:`~conu.apidefs.metadata.ContainerStatus`."""
        status = self.get_metadata().status
        if status is None:
            raise self._unsupported("status")
        return status

    @abc.abstractmethod
    def exit_code(self) -> int:
        """Return the exit code; 0 while the container is created or running."""

    def get_pid(self) -> int:
        """Return the host PID of the container's main process (0 when not running)."""
        raise self._unsupported("get_pid")

    # -- networking -----------------------------------------------------------------------

    def get_IPv4s(self) -> list[str] | None:
        """Return the container's IPv4 addresses; empty when it has networking disabled."""
        raise self._unsupported("get_IPv4s")

    def get_IPv6s(self) -> list[str] | None:
        """Return the container's global IPv6 addresses."""
        raise self._unsupported("get_IPv6s")

    def get_ports(self) -> list[str]:
        """Return the container's exposed ports as strings, e.g. ``["8080"]``."""
        raise self._unsupported("get_ports")

    def get_port_mappings(self, port: int | None = None) -> Any:
        """Return the host bindings of published ports: all of them as a dict
        (``{"8080/tcp": [{"HostIp": .., "HostPort": ..}]}``), or the list for one port."""
        raise self._unsupported("get_port_mappings")

    def get_endpoint(self, port: int) -> Endpoint:
        """Return where the caller can reach container ``port``.

        That is the container's own address when it is routable from the caller, otherwise
        the host port the engine publishes it on, on the engine's host.

        Raises:
            ConuException: the port cannot be reached from the caller at all.
        """
        raise self._unsupported("get_endpoint")

    def is_port_open(self, port: int, timeout: float = 2) -> bool:
        """Tell whether a process in the container accepts connections on ``port``.

        A proxy in front of a published port (docker-proxy) accepting the connection does
        not count: the check needs the container's own listener.

        Args:
            port: container port.
            timeout: seconds to wait for the connection.
        """
        number = port_number(port)
        timeout_seconds(timeout, allow_none=False)
        try:
            endpoint = self.get_endpoint(number)
        except ConuException:
            return False
        return port_accepts(endpoint, timeout=timeout)

    def wait_for_port(self, port: int, timeout: float = 10, **probe_kwargs: Any) -> None:
        """Block until a process in the container accepts connections on ``port``.

        Args:
            port: container port.
            timeout: seconds to wait; -1 waits without limit.
            probe_kwargs: further arguments of :class:`~conu.probes.Probe` (e.g. ``pause``).

        Raises:
            ProbeTimeout: nothing accepted on the port in time.
        """
        from conu.probes import Probe

        # Short pauses: a refused connection costs microseconds, and readiness should be
        # noticed within tens of milliseconds.
        probe_kwargs.setdefault("pause", 0.01)
        if timeout != -1:
            timeout_seconds(timeout)
        check = functools.partial(self.is_port_open, port_number(port), timeout=0.5)
        Probe(timeout=timeout, fnc=check, **probe_kwargs).run()

    def open_connection(self, port: int | None = None) -> socket.socket:
        """Open a TCP connection to ``port`` (default: the first exposed port).

        Returns:
            a connected :class:`socket.socket`; the caller closes it.
        """
        endpoint = self.get_endpoint(self._default_port(port))
        return socket.create_connection((endpoint.host, endpoint.port), timeout=10)

    def _default_port(self, port: int | str | None) -> int:
        if port is not None:
            return port_number(port)
        ports = self.get_ports()
        if not ports:
            msg = f"container {self.get_id()!r} exposes no port; pass port= explicitly"
            raise ConuException(msg)
        return int(ports[0])

    def _http_base(self, host: str | None, port: int | str | None) -> tuple[str, int]:
        if host is not None:  # the caller knows where to go; the port is taken as given
            return host, self._default_port(port)
        endpoint = self.get_endpoint(self._default_port(port))
        return endpoint.host, endpoint.port

    def http_request(
        self,
        path: str = "/",
        method: str = "GET",
        host: str | None = None,
        port: int | str | None = None,
        json: Any = False,
        data: Any = None,
    ) -> requests.Response:
        """Send one HTTP request to the container.

        Args:
            path: URL path.
            method: HTTP method.
            host: host to send to; by default where the port is reachable from the caller.
            port: container port; by default the first exposed one.
            json: an object to send as a JSON body (``False`` sends no body).
            data: a body to send.

        Returns:
            the :class:`requests.Response`.
        """
        from conu.utils.http_client import get_url

        host, real_port = self._http_base(host, port)
        body: dict[str, Any] = {"data": data}
        if json is not False:
            body["json"] = json
        return self.http_session.request(method, get_url(path, host, real_port), **body)

    @contextlib.contextmanager
    def http_client(
        self, host: str | None = None, port: int | str | None = None
    ) -> Iterator[HttpClient]:
        """Yield a session whose relative paths go to the container's HTTP port."""
        from conu.utils.http_client import HttpClient

        real_host, real_port = self._http_base(host, port)
        client = HttpClient(real_host, real_port)
        try:
            yield client
        finally:
            client.close()

    # -- lifecycle ------------------------------------------------------------------------

    @abc.abstractmethod
    def start(self) -> None:
        """Start the container, which has to be created."""

    @abc.abstractmethod
    def stop(self) -> None:
        """Stop the container gracefully."""

    @abc.abstractmethod
    def kill(self, signal: str | int | None = None) -> None:
        """Send ``signal`` (SIGKILL by default) to the container's main process."""

    @abc.abstractmethod
    def delete(self, force: bool = False, **kwargs: Any) -> None:
        """Remove the container.

        Args:
            force: remove it even when running.
            kwargs: backend-specific options (Docker: ``volumes``).
        """

    @abc.abstractmethod
    def wait(self, timeout: float | None = None) -> int:
        """Block until the container stops and return its exit code.

        Raises:
            ProbeTimeout: it did not stop within ``timeout`` seconds.
        """

    # -- processes, output, files ------------------------------------------------------

    @abc.abstractmethod
    def execute(self, command: list[str], **kwargs: Any) -> Any:
        """Run ``command`` in the running container.

        Raises:
            CommandFailed: the command exited non-zero or could not be run.
        """

    @abc.abstractmethod
    def logs(self, follow: bool = False) -> Iterator[bytes]:
        """Iterate over the container's output, one line (bytes, with its newline) per item."""

    def logs_in_bytes(self) -> bytes:
        """Return the container's whole output as bytes."""
        return b"".join(self.logs())

    def logs_unicode(self) -> str:
        """Return the container's whole output decoded as UTF-8."""
        return self.logs_in_bytes().decode("utf-8", errors="replace")

    def copy_to(self, src: str, dest: str) -> None:
        """Copy file or directory ``src`` from the host to ``dest`` in the container."""
        raise self._unsupported("copy_to")

    def copy_from(self, src: str, dest: str) -> None:
        """Copy file or directory ``src`` from the container to ``dest`` on the host."""
        raise self._unsupported("copy_from")

    def mount(self, mount_point: str | None = None) -> Filesystem:
        """Return the container's filesystem, available inside a ``with`` block."""
        raise self._unsupported("mount")

    def __enter__(self) -> Container:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.delete(force=True)
