"""HTTP requests to a fixed host and port, given only the path (e.g. a container's port)."""

from __future__ import annotations

import requests

__all__ = ["HttpClient", "get_url"]


def get_url(path: str, host: str, port: int | str, method: str = "http") -> str:
    """Build the URL of ``path`` on ``host``:``port``.

    Args:
        path: the path with an optional query, e.g. ``"/api/version?full=1"``; a missing
            leading ``/`` is added.
        host: a hostname, an IPv4 address or an IPv6 address (bracketed or not).
        port: the TCP port.
        method: the URL scheme, ``"http"`` or ``"https"`` (conu 1.0 calls it ``method``).

    Returns:
        The URL, e.g. ``"http://172.1.1.1:80/"`` or ``"http://[::1]:8080/app"``.
    """
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    if path and not path.startswith("/"):
        path = f"/{path}"
    return f"{method}://{host}:{port}{path}"


class HttpClient(requests.Session):
    """A requests session whose relative URLs go to ``host``:``port``.

    ``client.get("/health")`` requests ``http://host:port/health``; a full URL
    (``"http://..."``) is left alone.

    Args:
        host: a hostname, an IPv4 or an IPv6 address.
        port: the TCP port.
        session: a session whose headers, cookies and auth to start from.
    """

    def __init__(self, host: str, port: int | str, session: requests.Session | None = None) -> None:
        super().__init__()
        self.host = host
        self.port = port
        self.session = session
        if session is not None:
            self.headers.update(session.headers)
            self.cookies.update(session.cookies)
            self.auth = session.auth

    def prepare_request(self, request: requests.Request) -> requests.PreparedRequest:
        """Point a request given by path at this client's host and port, then prepare it."""
        url = request.url
        if isinstance(url, str) and "://" not in url:
            request.url = get_url(url, self.host, self.port)
        return super().prepare_request(request)
