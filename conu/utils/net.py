"""Where a container port is reached from the caller, and whether something accepts there."""

from __future__ import annotations

import socket
from collections.abc import Callable

import attrs

__all__ = ["PROXY_GRACE", "Endpoint", "port_accepts"]

PROXY_GRACE = 0.05
"""Seconds a proxied connection must stay open before it counts as accepted by the container.

docker-proxy accepts on a published port whether or not anything listens in the container,
then closes the connection at once when its own connection to the container is refused.
"""


@attrs.frozen
class Endpoint:
    """An address a container port can be reached at from the caller."""

    host: str
    """Host name or IP address to connect to."""
    port: int
    """TCP port on that host."""
    proxied: bool = False
    """True when a proxy in front of the container (a published port) accepts first."""
    check: Callable[[float], bool] | None = attrs.field(default=None, eq=False, repr=False)
    """How to tell whether the container accepts (given a timeout) when connecting here
    cannot tell (a relay that answers later than :data:`PROXY_GRACE`); None: connect."""


def port_accepts(endpoint: Endpoint, timeout: float = 2) -> bool:
    """Tell whether a process accepts TCP connections at ``endpoint``.

    Args:
        endpoint: where to connect.
        timeout: seconds to wait for the connection.

    Returns:
        True when the connection was established (and, through a proxy, not closed at once).
    """
    if endpoint.check is not None:
        return endpoint.check(timeout)
    try:
        sock = socket.create_connection((endpoint.host, endpoint.port), timeout=timeout)
    except OSError:
        return False
    with sock:
        return not endpoint.proxied or _survives_proxy(sock)


def _survives_proxy(sock: socket.socket) -> bool:
    sock.settimeout(PROXY_GRACE)
    try:
        data = sock.recv(1, socket.MSG_PEEK)
    except TimeoutError:
        return True  # open and silent: a real listener that waits for the client to speak
    except OSError:
        return False  # reset by the proxy
    return data != b""  # EOF: the proxy closed it because nothing listens behind it
