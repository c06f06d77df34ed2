"""Metadata of containers and images, and the portable container state.

Metadata objects are filled by a backend from what its engine reports (for Docker: the
``inspect`` document). conu 1.0 suites read them as objects (``md.labels``), while the
documentation of ``DockerContainer.get_metadata`` promises a dict: a metadata object serves
both, its mapping interface reading the engine's raw document (``md["Config"]["Env"]``).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, cast

import attrs

from conu.apidefs.specs import ContainerState

if TYPE_CHECKING:
    from conu.apidefs.specs import ContainerInfo, ImageInfo

__all__ = [
    "CommandResult",
    "ContainerMetadata",
    "ContainerStatus",
    "ImageMetadata",
    "Metadata",
    "PathInfo",
    "PathKind",
    "container_metadata",
    "fill_common",
    "image_metadata",
    "split_env",
]


class ContainerStatus(enum.Enum):
    """Portable status of a container (conu 1.0's four values)."""

    RUNNING = 0
    NOT_RUNNING = 1
    UNKNOWN = 2
    FAILED = 3

    @classmethod
    def from_state(cls, state: ContainerState, exit_code: int | None) -> ContainerStatus:
        """Return the status of a container in ``state`` that exited with ``exit_code``.

        A non-zero (or unknown) exit code means FAILED whatever the state says.
        """
        if exit_code != 0:
            return cls.FAILED
        return _STATUS_OF.get(state, cls.UNKNOWN)

    @classmethod
    def get_from_docker(cls, string: str | None, exit_code: int | None) -> ContainerStatus:
        """conu 1.0's name of :meth:`from_state`, for a state given by its name."""
        return cls.from_state(ContainerState.parse(string), exit_code)


_STATUS_OF = {
    ContainerState.CREATED: ContainerStatus.NOT_RUNNING,
    ContainerState.RUNNING: ContainerStatus.RUNNING,
    ContainerState.PAUSED: ContainerStatus.NOT_RUNNING,
    ContainerState.EXITED: ContainerStatus.NOT_RUNNING,
    ContainerState.DEAD: ContainerStatus.FAILED,
}


@attrs.define(eq=True)
class Metadata(Mapping[str, Any]):
    """What containers and images have in common.

    Besides its fields, the object is a read-only mapping over ``raw``, the engine's own
    document, so ``md["Config"]`` works where conu 1.0 returned the inspect dict.
    """

    name: str | None = None
    """Name of the container, or the first repository tag of the image."""
    identifier: str | None = None
    """Engine id without an algorithm prefix (``"sha256:"`` is stripped)."""
    labels: dict[str, str] | None = None
    """Labels, or None when the engine reports none."""
    command: list[str] | None = None
    """The command (``Config.Cmd`` for Docker), or None."""
    creation_timestamp: str | int | None = None
    """Creation time as the engine reports it (ISO string from inspect, epoch from lists)."""
    env_variables: dict[str, str] = attrs.field(factory=dict)
    """Environment, split on the first ``=``; entries without ``=`` are dropped."""
    raw: dict[str, Any] = attrs.field(factory=dict, repr=False, eq=False)
    """The engine's raw document these fields were read from."""

    def __getitem__(self, key: str) -> Any:
        return self.raw[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.raw)

    def __len__(self) -> int:
        return len(self.raw)

    def __bool__(self) -> bool:
        # A Mapping is falsy when empty; metadata objects are always "something".
        return True


@attrs.define(eq=True)
class ContainerMetadata(Metadata):
    """Metadata of a container."""

    image: Any = None
    """The image object the container was created from."""
    exposed_ports: list[str] = attrs.field(factory=list)
    """Exposed ports as ``"<port>/<proto>"`` strings."""
    port_mappings: dict[str, Any] | None = None
    """Container port (``"8080/tcp"``) → list of host ports (int, None when chosen by engine)."""
    hostname: str | None = None
    """Hostname inside the container."""
    ipv4_addresses: list[str] | None = None
    """IPv4 addresses, one per attached network; None when the container has no networks."""
    ipv6_addresses: list[str] | None = None
    """Global IPv6 addresses, one per attached network; None when it has no networks."""
    status: ContainerStatus | None = None
    """Portable state."""


@attrs.define(eq=True)
class ImageMetadata(Metadata):
    """Metadata of an image."""

    exposed_ports: list[str] = attrs.field(factory=list)
    """Exposed ports as ``"<port>/<proto>"`` strings."""
    image_names: list[str] | None = None
    """All ``repo:tag`` names of the image."""
    digest: str | None = None
    """The first repository digest, as the full ``repo@sha256:…`` string."""
    repo_digests: list[str] | None = None
    """All repository digests."""
    entrypoint: list[str] | None = None
    """The entrypoint, or None."""
    working_dir: str | None = None
    """The working directory, or None when unset."""
    user: str | None = None
    """The user the image runs as, or None when unset."""
    volumes: list[str] = attrs.field(factory=list)
    """Declared volumes."""


class PathKind(enum.Enum):
    """What a path in an image or container is (its final component, links not followed)."""

    FILE = "file"
    DIRECTORY = "directory"
    SYMLINK = "symlink"
    HARDLINK = "hardlink"
    OTHER = "other"
    """A device node, fifo or socket."""


@attrs.frozen
class PathInfo:
    """What the engine reports about one path, as ``lstat`` would."""

    name: str
    """Base name of the path."""
    kind: PathKind
    """File, directory, symlink…"""
    mode: int
    """``st_mode``: type bits and permission bits (setuid, setgid, sticky included), so that
    :func:`stat.filemode` and :func:`stat.S_ISDIR` work on it."""
    uid: int | None
    """Owner's user id; None only in a followed stat (``stat_path(..., follow=True)``) of an
    engine that cannot tell the owner cheaply (Docker's)."""
    gid: int | None
    """Owner's group id; None where ``uid`` is."""
    size: int
    """Size in bytes (0 for directories and links)."""
    link_target: str | None = None
    """Where a symlink points (as written), or what a hard link links to."""


@attrs.frozen
class CommandResult:
    """The outcome of a command run in a fresh container of an image."""

    exit_code: int
    """The command's exit code."""
    stdout: bytes
    """Its standard output."""
    stderr: bytes
    """Its standard error (empty when a TTY merged it into stdout)."""
    image: Any = None
    """With ``commit=True``: the image the container was committed to; otherwise None."""


def split_env(env: Iterable[str] | None) -> dict[str, str]:
    """Turn ``["K=V", ...]`` into a dict, splitting on the first ``=``; drop entries without."""
    pairs = (item.split("=", 1) for item in env or () if "=" in item)
    return {key: value for key, value in pairs}


def _strip_algorithm(identifier: str) -> str:
    return identifier.split(":", 1)[1] if ":" in identifier else identifier


def fill_common(md: Metadata, info: ContainerInfo | ImageInfo) -> None:
    """Update the fields every metadata object has from what the engine reports."""
    md.raw = cast("dict[str, Any]", info.raw)
    md.identifier = _strip_algorithm(info.id)
    if info.env:
        md.env_variables = split_env(info.env)
    md.labels = dict(info.labels) if info.labels else None
    md.command = list(info.command) if info.command is not None else None
    md.creation_timestamp = info.created


def image_metadata(md: ImageMetadata, info: ImageInfo) -> ImageMetadata:
    """Update ``md`` in place from what the engine reports and return it."""
    fill_common(md, info)
    if info.names:
        md.name = info.names[0]
    if info.exposed_ports:
        md.exposed_ports = list(info.exposed_ports)
    md.image_names = list(info.names)
    if info.digests:
        md.repo_digests = list(info.digests)
        md.digest = info.digests[0]
    md.entrypoint = list(info.entrypoint) if info.entrypoint is not None else None
    md.working_dir = info.working_dir or None
    md.user = info.user or None
    md.volumes = sorted(info.volumes)
    return md


def container_metadata(md: ContainerMetadata, info: ContainerInfo, image: Any) -> ContainerMetadata:
    """Update ``md`` in place from what the engine reports and return it."""
    fill_common(md, info)
    md.name = info.name
    md.image = image
    md.status = ContainerStatus.from_state(info.state, info.exit_code)
    md.exposed_ports = list(info.exposed_ports)
    md.port_mappings = {
        port: [binding.host_port for binding in bindings]
        for port, bindings in info.requested_ports.items()
    }
    md.hostname = info.hostname
    md.ipv4_addresses = list(info.ipv4_addresses) if info.ipv4_addresses is not None else []
    md.ipv6_addresses = list(info.ipv6_addresses) if info.ipv6_addresses is not None else []
    return md
