"""Filling conu metadata objects from Docker's inspect and list documents."""

from __future__ import annotations

from typing import Any, TypeVar

from conu.apidefs.metadata import ContainerMetadata, ContainerStatus, ImageMetadata, Metadata
from conu.utils import graceful_get

__all__ = ["inspect_to_container_metadata", "inspect_to_metadata", "split_env"]

M = TypeVar("M", bound=Metadata)


def split_env(env: list[str] | None) -> dict[str, str]:
    """Turn ``["K=V", ...]`` into a dict, splitting on the first ``=``; drop entries without."""
    pairs = (item.split("=", 1) for item in env or () if "=" in item)
    return {key: value for key, value in pairs}


def _strip_algorithm(identifier: str | None) -> str | None:
    if identifier and ":" in identifier:
        return identifier.split(":", 1)[1]
    return identifier


def inspect_to_metadata(metadata_object: M, inspect_data: dict[str, Any]) -> M:
    """Update ``metadata_object`` in place from an inspect (or list) document and return it."""
    config = inspect_data.get("Config") or {}
    md = metadata_object
    md.raw = inspect_data
    md.identifier = _strip_algorithm(inspect_data.get("Id"))
    if config.get("Env"):
        md.env_variables = split_env(config["Env"])
    if config.get("ExposedPorts") and hasattr(md, "exposed_ports"):
        md.exposed_ports = list(config["ExposedPorts"])
    repo_tags = _named(inspect_data.get("RepoTags"))
    if repo_tags:
        md.name = repo_tags[0]
    md.labels = config.get("Labels") if config else inspect_data.get("Labels")
    md.command = config.get("Cmd")
    md.creation_timestamp = inspect_data.get("Created")
    if isinstance(md, ImageMetadata):
        _fill_image(md, inspect_data, config)
    return md


def _named(names: list[str] | None) -> list[str] | None:
    """Drop the engine's placeholders for "no name" (``<none>:<none>``, ``<none>@<none>``)."""
    if names is None:
        return None
    return [name for name in names if not name.startswith("<none>")]


def _fill_image(md: ImageMetadata, data: dict[str, Any], config: dict[str, Any]) -> None:
    md.image_names = _named(data.get("RepoTags"))
    digests = _named(data.get("RepoDigests"))
    if digests:
        md.repo_digests = digests
        md.digest = digests[0]
    md.entrypoint = config.get("Entrypoint")
    md.working_dir = config.get("WorkingDir") or None
    md.user = config.get("User") or None
    md.volumes = sorted(config.get("Volumes") or {})


def _port_mappings(host_config: dict[str, Any]) -> dict[str, list[int | None]]:
    mappings: dict[str, list[int | None]] = {}
    for container_port, bindings in (host_config.get("PortBindings") or {}).items():
        ports: list[int | None] = []
        for binding in bindings or ():
            host_port = (binding or {}).get("HostPort")
            if not host_port:
                ports.append(None)
            elif str(host_port).isdigit():
                ports.append(int(host_port))
        mappings[container_port] = ports
    return mappings


def inspect_to_container_metadata(
    c_metadata_object: ContainerMetadata, inspect_data: dict[str, Any], image_instance: Any
) -> ContainerMetadata:
    """Update container metadata in place from ``docker inspect`` output and return it."""
    md = inspect_to_metadata(c_metadata_object, inspect_data)
    state = inspect_data.get("State")
    if isinstance(state, dict):
        md.status = ContainerStatus.get_from_docker(state.get("Status"), state.get("ExitCode"))
    else:  # list output: State is a plain string and there is no exit code
        md.status = ContainerStatus.get_from_docker(state, 0 if state != "exited" else None)
    md.port_mappings = _port_mappings(inspect_data.get("HostConfig") or {})
    md.hostname = graceful_get(inspect_data, "Config", "Hostname")
    networks = graceful_get(inspect_data, "NetworkSettings", "Networks", default={}) or {}
    md.ipv4_addresses = [n["IPAddress"] for n in networks.values() if n.get("IPAddress")]
    md.ipv6_addresses = [
        n["GlobalIPv6Address"] for n in networks.values() if n.get("GlobalIPv6Address")
    ]
    md.image = image_instance
    name = inspect_data.get("Name") or (inspect_data.get("Names") or [None])[0]
    md.name = name.lstrip("/") if name else None
    return md
