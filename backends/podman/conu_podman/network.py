"""Where the caller reaches a port of a podman container.

Podman runs on this host (it is daemonless, there is no remote engine here), so:

* a container on a bridge network (rootful podman with CNI or netavark) has an address that
  is routable from the host: connecting there reaches the container's own listener;
* a container without one (rootless podman with slirp4netns, or ``--network none`` with a
  published port) is reached on the port published on the host, through podman's port
  forwarder, which may accept before the container does (``proxied``);
* with ``--network host`` the container port is a port of this host.
"""

from __future__ import annotations

from typing import Any

from conu.exceptions import ConuException
from conu.utils.net import Endpoint

__all__ = ["LOCALHOST", "endpoint_for", "ip_addresses"]

LOCALHOST = "127.0.0.1"
"""Where published ports and host-network containers are reached."""
_WILDCARDS = ("", "0.0.0.0", "::")


def ip_addresses(inspect_data: dict[str, Any], key: str = "IPAddress") -> list[str]:
    """Return the container's addresses of kind ``key`` (``IPAddress``, ``GlobalIPv6Address``)
    on every network it is attached to, without empty ones."""
    settings = inspect_data.get("NetworkSettings") or {}
    found = [(net or {}).get(key) for net in (settings.get("Networks") or {}).values()]
    if not found and settings.get(key):
        found = [settings[key]]  # rootless podman reports the address only at the top
    return [str(address) for address in found if address]


def endpoint_for(inspect_data: dict[str, Any], port: int) -> Endpoint:
    """Return where container ``port`` (TCP) is reached from here.

    Args:
        inspect_data: ``podman inspect`` of the container.
        port: the container port.

    Raises:
        ConuException: the container has no routable address and ``port`` is not published.
    """
    if (inspect_data.get("HostConfig") or {}).get("NetworkMode") == "host":
        return Endpoint(LOCALHOST, port)
    addresses = ip_addresses(inspect_data)
    if addresses:
        return Endpoint(addresses[0], port)
    ports = (inspect_data.get("NetworkSettings") or {}).get("Ports") or {}
    for binding in ports.get(f"{port}/tcp") or ():
        if (binding or {}).get("HostPort"):
            host = binding.get("HostIp") or ""
            return Endpoint(
                LOCALHOST if host in _WILDCARDS else host, int(binding["HostPort"]), proxied=True
            )
    name = inspect_data.get("Name") or inspect_data.get("Id")
    msg = (
        f"port {port} of container {name!r} cannot be reached from here: the container has no "
        "address routable from the host and the port is not published (run it with -p)"
    )
    raise ConuException(msg)
