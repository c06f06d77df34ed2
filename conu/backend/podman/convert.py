"""Podman's inspect documents turned into conu's value objects.

Podman's ``inspect`` follows Docker's layout, with its own container states, a
``NetworkMode`` of ``bridge`` for every network, ports published at ``create`` time and
image ids without their algorithm.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from conu.apidefs.specs import ContainerInfo, ContainerState, ImageInfo, PortBinding

__all__ = ["STATES", "container_info", "image_info", "port_bindings", "with_algorithm"]

STATES: Mapping[str, ContainerState] = {
    "configured": ContainerState.CREATED,
    "created": ContainerState.CREATED,
    "initialized": ContainerState.CREATED,
    "running": ContainerState.RUNNING,
    "stopping": ContainerState.RUNNING,
    "paused": ContainerState.PAUSED,
    "restarting": ContainerState.RESTARTING,
    "stopped": ContainerState.EXITED,
    "exited": ContainerState.EXITED,
    "removing": ContainerState.REMOVING,
    "dead": ContainerState.DEAD,
}
"""Podman's state strings → portable states (``stopping``: it still runs)."""
_DEFAULT_NETWORK = "podman"


def state_of(raw: str | None) -> ContainerState:
    """Map podman's state string (``configured``, ``stopped``...) to a portable state."""
    return STATES.get(str(raw or "").lower(), ContainerState.UNKNOWN)


def with_algorithm(identifier: str) -> str:
    """Return ``identifier`` with its ``sha256:`` prefix (podman prints bare hex ids)."""
    if identifier.startswith("sha256:") or identifier == "<missing>":
        return identifier
    return f"sha256:{identifier}"


def port_bindings(ports: Mapping[str, Any] | None) -> dict[str, tuple[PortBinding, ...] | None]:
    """Turn Docker-shaped port maps (``{"8080/tcp": [{"HostIp", "HostPort"}]}``) into
    :class:`PortBinding` tuples; None stays None (exposed only)."""
    found: dict[str, tuple[PortBinding, ...] | None] = {}
    for port, bindings in (ports or {}).items():
        if bindings is None:
            found[port] = None
            continue
        found[port] = tuple(
            PortBinding(
                host_ip=str(b.get("HostIp") or ""),
                host_port=int(b["HostPort"]) if b.get("HostPort") else None,
            )
            for b in bindings
        )
    return found


def _addresses(settings: Mapping[str, Any], key: str) -> tuple[str, ...]:
    """The container's addresses of kind ``key`` on every network, without empty ones."""
    found = [(net or {}).get(key) for net in (settings.get("Networks") or {}).values()]
    if not found and settings.get(key):
        found = [settings[key]]  # rootless podman reports the address only at the top
    return tuple(str(address) for address in found if address)


def _network_mode(data: Mapping[str, Any]) -> str | None:
    """``host``, ``none``, ``bridge`` (podman's default network) or a network's name."""
    mode = (data.get("HostConfig") or {}).get("NetworkMode")
    networks = list((data.get("NetworkSettings") or {}).get("Networks") or {})
    if mode == "bridge" and len(networks) == 1 and networks[0] != _DEFAULT_NETWORK:
        return str(networks[0])
    return str(mode) if mode else None


def _exposed(data: Mapping[str, Any]) -> tuple[str, ...]:
    """Exposed ports: the image's and the options' (podman lists them all, published or
    not, under ``NetworkSettings.Ports``), in order, once each."""
    config = data.get("Config") or {}
    ports = [
        *(config.get("ExposedPorts") or {}),
        *((data.get("NetworkSettings") or {}).get("Ports") or {}),
        *((data.get("HostConfig") or {}).get("PortBindings") or {}),
    ]
    return tuple(dict.fromkeys(str(port) for port in ports))


def container_info(data: Mapping[str, Any]) -> ContainerInfo:
    """Describe a container from its ``podman container inspect`` document."""
    config = data.get("Config") or {}
    state = data.get("State") or {}
    settings = data.get("NetworkSettings") or {}
    status = state_of(state.get("Status"))
    live = status in (ContainerState.RUNNING, ContainerState.PAUSED)
    return ContainerInfo(
        id=str(data["Id"]),
        name=data.get("Name") or None,
        image=data.get("ImageName") or config.get("Image") or data.get("Image"),
        image_id=with_algorithm(str(data["Image"])) if data.get("Image") else None,
        state=status,
        exit_code=state.get("ExitCode"),
        pid=int(state.get("Pid") or 0),
        labels=config.get("Labels") or {},
        env=config.get("Env") or (),
        command=config.get("Cmd"),
        hostname=config.get("Hostname") or None,
        ports=port_bindings(settings.get("Ports")) if live else {},
        exposed_ports=_exposed(data),
        requested_ports={
            port: bindings or ()
            for port, bindings in port_bindings(
                (data.get("HostConfig") or {}).get("PortBindings")
            ).items()
        },
        ipv4_addresses=_addresses(settings, "IPAddress"),
        ipv6_addresses=_addresses(settings, "GlobalIPv6Address"),
        network_mode=_network_mode(data),
        created=data.get("Created"),
        raw=data,
    )


def _names(data: Mapping[str, Any]) -> tuple[str, ...]:
    names = data.get("RepoTags") or data.get("Names") or []
    return tuple(name for name in names if name and "<none>" not in name)


def image_info(data: Mapping[str, Any]) -> ImageInfo:
    """Describe an image from its ``podman image inspect`` document.

    Names keep podman's ``localhost/`` prefix of short local names, as podman reports them.
    """
    config = data.get("Config") or {}
    return ImageInfo(
        id=with_algorithm(str(data["Id"])),
        names=_names(data),
        digests=tuple(d for d in data.get("RepoDigests") or () if "<none>" not in d),
        labels=config.get("Labels") or data.get("Labels") or {},
        env=config.get("Env") or (),
        command=config.get("Cmd"),
        entrypoint=config.get("Entrypoint"),
        working_dir=config.get("WorkingDir") or None,
        user=config.get("User") or None,
        exposed_ports=tuple(config.get("ExposedPorts") or ()),
        volumes=tuple(config.get("Volumes") or ()),
        created=data.get("Created"),
        raw=data,
    )
