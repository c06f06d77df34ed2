"""Docker's documents as the engine interface's value objects, and value objects as arguments.

Pure functions, no engine calls: inspect and list documents become
:class:`~conu.apidefs.specs.ContainerInfo` and :class:`~conu.apidefs.specs.ImageInfo`, tar
headers :class:`~conu.apidefs.metadata.PathInfo`, and a
:class:`~conu.apidefs.specs.RunSpec` the keyword arguments of docker-py's
``create_container`` and ``create_host_config``.
"""

from __future__ import annotations

import stat
from collections.abc import Iterable, Mapping
from typing import Any

from conu.apidefs.files import path_info_of as path_info
from conu.apidefs.metadata import PathInfo, PathKind
from conu.apidefs.specs import ContainerInfo, ContainerState, ImageInfo, PortBinding, RunSpec

__all__ = [
    "container_info",
    "create_kwargs",
    "image_info",
    "label_filters",
    "listed_container_info",
    "path_info",
]


def label_filters(labels: Mapping[str, str] | None) -> dict[str, list[str]] | None:
    """Return the list filter selecting resources that carry all of ``labels``."""
    return {"label": [f"{k}={v}" for k, v in labels.items()]} if labels else None


def _named(names: Iterable[str] | None) -> tuple[str, ...]:
    """Drop the engine's placeholders for "no name" (``<none>:<none>``, ``<none>@<none>``)."""
    return tuple(name for name in names or () if not name.startswith("<none>"))


def _bindings(raw: Iterable[Mapping[str, Any]] | None) -> tuple[PortBinding, ...]:
    found = []
    for binding in raw or ():
        port = str((binding or {}).get("HostPort") or "")
        host_port = int(port) if port.isdigit() else None
        found.append(PortBinding(str((binding or {}).get("HostIp") or ""), host_port))
    return tuple(found)


def state_of(raw: str | None) -> ContainerState:
    """Map Docker's ``State.Status`` (``"running"``, ``"exited"``...) onto a portable state:
    the portable names are Docker's."""
    return ContainerState.parse(raw)


def _network_mode(host_config: Mapping[str, Any] | None) -> str | None:
    """Docker's ``NetworkMode``, its ``"default"`` named for what it is (``"bridge"``)."""
    mode = (host_config or {}).get("NetworkMode") or None
    return "bridge" if mode == "default" else mode


def _addresses(networks: Mapping[str, Any], key: str) -> tuple[str, ...]:
    return tuple(n[key] for n in networks.values() if (n or {}).get(key))


def container_info(doc: Mapping[str, Any]) -> ContainerInfo:
    """Map ``docker inspect`` of a container."""
    config = doc.get("Config") or {}
    state = doc.get("State") or {}
    host = doc.get("HostConfig") or {}
    settings = doc.get("NetworkSettings") or {}
    networks = settings.get("Networks") or {}
    published = settings.get("Ports") or {}
    return ContainerInfo(
        id=doc["Id"],
        name=str(doc.get("Name") or "").lstrip("/") or None,
        image=config.get("Image"),
        image_id=doc.get("Image"),
        state=state_of(state.get("Status")),
        exit_code=state.get("ExitCode"),
        pid=int(state.get("Pid") or 0),
        labels=config.get("Labels") or {},
        env=config.get("Env") or (),
        command=config.get("Cmd"),
        hostname=config.get("Hostname"),
        exposed_ports=list(config.get("ExposedPorts") or {}),
        ports={port: None if b is None else _bindings(b) for port, b in published.items()},
        requested_ports={p: _bindings(b) for p, b in (host.get("PortBindings") or {}).items()},
        ipv4_addresses=_addresses(networks, "IPAddress"),
        ipv6_addresses=_addresses(networks, "GlobalIPv6Address"),
        network_mode=_network_mode(host),
        created=doc.get("Created"),
        raw=doc,
    )


def _listed_ports(
    entries: Iterable[Mapping[str, Any]],
) -> dict[str, tuple[PortBinding, ...] | None]:
    ports: dict[str, tuple[PortBinding, ...] | None] = {}
    for entry in entries:
        key = f"{entry.get('PrivatePort')}/{entry.get('Type') or 'tcp'}"
        public = entry.get("PublicPort")
        if public is None:
            ports.setdefault(key, None)
            continue
        binding = PortBinding(str(entry.get("IP") or ""), int(public))
        ports[key] = (*(ports.get(key) or ()), binding)
    return ports


def listed_container_info(entry: Mapping[str, Any]) -> ContainerInfo:
    """Map one entry of the container list (``State`` a plain string, no exit code)."""
    settings = entry.get("NetworkSettings")
    networks = (settings or {}).get("Networks") or {}
    names = entry.get("Names") or []
    return ContainerInfo(
        id=entry["Id"],
        name=str(names[0]).lstrip("/") if names else None,
        image=entry.get("Image"),
        image_id=entry.get("ImageID"),
        state=state_of(entry.get("State")),
        exit_code=None,
        labels=entry.get("Labels") or {},
        ports=_listed_ports(entry.get("Ports") or ()),
        ipv4_addresses=None if settings is None else _addresses(networks, "IPAddress"),
        ipv6_addresses=None if settings is None else _addresses(networks, "GlobalIPv6Address"),
        network_mode=_network_mode(entry.get("HostConfig")),
        created=entry.get("Created"),
        raw=entry,
    )


def image_info(doc: Mapping[str, Any]) -> ImageInfo:
    """Map ``docker image inspect`` (or an entry of the image list, which has no Config)."""
    config = doc.get("Config") or {}
    return ImageInfo.from_config(
        doc["Id"],
        config,
        names=_named(doc.get("RepoTags")),
        digests=_named(doc.get("RepoDigests")),
        labels=config.get("Labels") or doc.get("Labels") or {},
        created=doc.get("Created"),
        raw=doc,
    )


# Go's os.FileMode bits, as the engine's path stat reports them.
_GO_DIR, _GO_SYMLINK, _GO_DEVICE = 1 << 31, 1 << 27, 1 << 26
_GO_PIPE, _GO_SOCKET, _GO_CHAR = 1 << 25, 1 << 24, 1 << 21
_GO_SPECIAL = ((1 << 23, stat.S_ISUID), (1 << 22, stat.S_ISGID), (1 << 20, stat.S_ISVTX))
_GO_TYPES = (
    (_GO_DIR, PathKind.DIRECTORY, stat.S_IFDIR),
    (_GO_SYMLINK, PathKind.SYMLINK, stat.S_IFLNK),
    (_GO_CHAR, PathKind.OTHER, stat.S_IFCHR),
    (_GO_DEVICE, PathKind.OTHER, stat.S_IFBLK),
    (_GO_PIPE, PathKind.OTHER, stat.S_IFIFO),
    (_GO_SOCKET, PathKind.OTHER, stat.S_IFSOCK),
)


def stat_info(found: Mapping[str, Any]) -> PathInfo:
    """Describe a path from the engine's path stat (a HEAD of the archive endpoint), which
    carries no owner: ``uid`` and ``gid`` are None."""
    go_mode = int(found["mode"])
    kind, type_bits = PathKind.FILE, stat.S_IFREG
    for bit, kind_, bits in _GO_TYPES:
        if go_mode & bit:
            kind, type_bits = kind_, bits
            break
    special = sum(bits for bit, bits in _GO_SPECIAL if go_mode & bit)
    size = 0 if kind in (PathKind.DIRECTORY, PathKind.SYMLINK) else int(found.get("size") or 0)
    return PathInfo(
        name=str(found.get("name") or ""),
        kind=kind,
        mode=type_bits | special | (go_mode & 0o777),
        uid=None,
        gid=None,
        size=size,
        link_target=found.get("linkTarget") or None,
    )


def _port_key(port: str) -> tuple[str, int | tuple[int, str]]:
    number, _, protocol = str(port).partition("/")
    protocol = protocol or "tcp"
    exposed = int(number) if protocol == "tcp" else (int(number), protocol)
    return f"{number}/{protocol}", exposed


def create_kwargs(spec: RunSpec) -> tuple[dict[str, Any], dict[str, Any]]:
    """Return ``(create_container kwargs but image and host_config, create_host_config
    kwargs)`` for ``spec``; ``spec.engine_options["create"]`` and ``["host_config"]`` are
    merged in last and win."""
    exposed: list[int | tuple[int, str]] = []
    bindings: dict[str, list[dict[str, str]]] = {}
    for port, host_side in spec.ports.items():
        key, entry = _port_key(port)
        exposed.append(entry)
        if host_side:
            bindings[key] = [binding.as_dict() for binding in host_side]
    create: dict[str, Any] = {
        "command": None if spec.command is None else list(spec.command),
        "entrypoint": None if spec.entrypoint is None else list(spec.entrypoint),
        "name": spec.name,
        "environment": dict(spec.env) or None,
        "labels": dict(spec.labels) or None,
        "user": spec.user,
        "working_dir": spec.working_dir,
        "hostname": spec.hostname,
        "tty": spec.tty,
        "stdin_open": spec.stdin_open,
        "ports": exposed or None,
        "network_disabled": spec.network == "none",
        "detach": True,
    }
    host: dict[str, Any] = {
        "privileged": spec.privileged,
        "cap_add": list(spec.cap_add) or None,
        "binds": list(spec.binds) or None,
        "port_bindings": bindings or None,
        "network_mode": spec.network,
        "auto_remove": spec.auto_remove,
    }
    create.update(spec.engine_options.get("create") or {})
    host.update(spec.engine_options.get("host_config") or {})
    return create, host
