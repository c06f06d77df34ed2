"""Endpoint resolution: where the caller reaches a port of a Docker container.

With a local engine the container's own IP is routable, and connecting there reaches the
container's listener directly. With a remote engine (``DOCKER_HOST`` over TCP or SSH) the
container IP means nothing here: the port must be published, and is reached on the engine's
host, through docker-proxy, which accepts before the container does (see
:func:`conu.utils.net.port_accepts`).
"""

from __future__ import annotations

import functools
import ipaddress
import socket
from typing import Any
from urllib.parse import urlsplit

from conu.backend.docker.client import engine_address
from conu.exceptions import ConuException
from conu.utils.net import Endpoint

__all__ = ["endpoint_for", "engine_host", "engine_is_local"]

_WILDCARDS = ("", "0.0.0.0", "::")


def engine_host() -> str:
    """Return the host name of the engine, ``127.0.0.1`` for a local socket."""
    url = urlsplit(engine_address())
    if url.scheme in ("unix", "npipe", "") or not url.hostname:
        return "127.0.0.1"
    return url.hostname


@functools.cache
def _is_loopback(host: str) -> bool:
    try:
        infos = socket.getaddrinfo(host, None)
    except OSError:
        return False
    return all(ipaddress.ip_address(info[4][0]).is_loopback for info in infos)


def engine_is_local() -> bool:
    """Tell whether the engine runs on this host, so that container IPs are routable."""
    url = urlsplit(engine_address())
    return url.scheme in ("unix", "npipe", "") or _is_loopback(engine_host())


def endpoint_for(inspect_data: dict[str, Any], port: int) -> Endpoint:
    """Return where container ``port`` is reached from here.

    Raises:
        ConuException: the engine is remote and the port is not published.
    """
    settings = inspect_data.get("NetworkSettings") or {}
    if (inspect_data.get("HostConfig") or {}).get("NetworkMode") == "host":
        return Endpoint(engine_host(), port)
    ips = [n.get("IPAddress") for n in (settings.get("Networks") or {}).values()]
    ips = [ip for ip in ips if ip]
    if ips and engine_is_local():
        return Endpoint(ips[0], port)
    for binding in (settings.get("Ports") or {}).get(f"{port}/tcp") or ():
        if binding.get("HostPort"):
            host = binding.get("HostIp") or ""
            host = engine_host() if host in _WILDCARDS else host
            return Endpoint(host, int(binding["HostPort"]), proxied=True)
    name = str(inspect_data.get("Name", "")).lstrip("/") or inspect_data.get("Id")
    msg = (
        f"port {port} of container {name!r} cannot be reached from here: the engine at "
        f"{engine_address()} is remote (or the container has no IP) and the port is not "
        "published (run it with -p)"
    )
    raise ConuException(msg)
