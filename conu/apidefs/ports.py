"""Ports of a container seen from the caller: mappings, readiness and HTTP, for every backend.

:class:`PortsMixin` is part of :class:`conu.apidefs.container.Container`; it needs only the
container's :class:`~conu.apidefs.specs.ContainerInfo` and the engine's
:meth:`~conu.apidefs.engine.Engine.container_address`.
"""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from conu.exceptions import ConuException
from conu.utils.net import Endpoint, port_accepts
from conu.utils.validate import port_number, timeout_seconds

if TYPE_CHECKING:
    import requests

    from conu.apidefs.engine import Engine
    from conu.apidefs.specs import ContainerInfo
    from conu.utils.http_client import HttpClient

__all__ = ["PortsMixin"]


class PortsMixin:
    """Ports, readiness and HTTP helpers of a container."""

    if TYPE_CHECKING:
        engine: Engine

        def info(self, refresh: bool = True) -> ContainerInfo: ...

        def get_id(self) -> str: ...

    _http_session: requests.Session | None = None

    @property
    def http_session(self) -> requests.Session:
        """A :class:`requests.Session` kept for this container's HTTP helpers."""
        if self._http_session is None:
            import requests

            self._http_session = requests.Session()
        return self._http_session

    def get_ports(self) -> list[str]:
        """Return the container's ports (published or exposed) without protocol, as strings."""
        return [key.split("/", 1)[0] for key in self.info().ports]

    def get_port_mappings(self, port: int | None = None) -> Any:
        """Return port bindings: all of them as a dict, or the list for one container port.

        Returns:
            with ``port=None`` the dict ``{"8080/tcp": [{"HostIp": .., "HostPort": ..}]}``;
            for an exposed port its list (None when not published); ``[]`` for other ports.
        """
        ports = {
            key: None if bindings is None else [b.as_dict() for b in bindings]
            for key, bindings in self.info().ports.items()
        }
        if port is None:
            return ports
        for key, bindings in ports.items():
            if key.split("/", 1)[0] == str(port):
                return bindings
        return []

    def get_endpoint(self, port: int) -> Endpoint:
        """Return where the caller reaches container ``port``: the container's own address
        when it is routable from the caller, otherwise the host port it is published on.

        Raises:
            ConuException: the port cannot be reached from the caller at all.
        """
        return self.engine.container_address(self.info(), port_number(port))

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

        Where the port is reached from (:meth:`get_endpoint`) is resolved once per wait,
        when the container has an address, not at every try.

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
        number = port_number(port)
        resolved: list[Endpoint] = []

        def container_accepts(container: str, port: int) -> bool:
            if not resolved:
                try:
                    resolved.append(self.get_endpoint(port))
                except ConuException:  # no address yet (or not published yet)
                    return False
            return port_accepts(resolved[0], timeout=0.5)

        container = self.get_id()[:12]
        probe = Probe(
            timeout, fnc=container_accepts, container=container, port=number, **probe_kwargs
        )
        probe.run()

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
