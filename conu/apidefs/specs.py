"""Value objects that cross the engine interface: what to run, what to build, what is there.

Every engine (:class:`conu.apidefs.engine.Engine`) takes and returns these, never its own
documents: a container to create is a :class:`RunSpec`, an image to build a
:class:`BuildSpec`; what the engine reports comes back as :class:`ContainerInfo` and
:class:`ImageInfo`, each keeping the engine's own document in ``raw`` for users who need it.
All of them are frozen; build them with keywords.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import attrs

__all__ = [
    "BuildSpec",
    "ContainerInfo",
    "ContainerState",
    "ExecStream",
    "ImageInfo",
    "PortBinding",
    "PullPolicy",
    "RunSpec",
]


def _frozen_map(value: Mapping[str, Any] | None) -> dict[str, Any]:
    return dict(value or {})


def _strings(value: Any) -> tuple[str, ...]:
    return tuple(value or ())


def _optional_strings(value: Any) -> tuple[str, ...] | None:
    return None if value is None else tuple(value)


class PullPolicy(enum.Enum):
    """When an image is pulled as it is constructed (shared by every backend)."""

    NEVER = 0
    """Never touch the registry; an absent image stays absent."""
    IF_NOT_PRESENT = 1
    """Pull only when the engine does not hold the image."""
    ALWAYS = 2
    """Pull every time."""


class ContainerState(enum.Enum):
    """The portable state of a container; each engine maps its own strings onto it.

    The values are the strings :meth:`conu.apidefs.container.Container.get_status` returns.
    """

    CREATED = "created"
    RUNNING = "running"
    PAUSED = "paused"
    RESTARTING = "restarting"
    REMOVING = "removing"
    EXITED = "exited"
    DEAD = "dead"
    UNKNOWN = "unknown"

    @classmethod
    def parse(cls, text: str | None) -> ContainerState:
        """Return the state named ``text`` (case-insensitive); UNKNOWN for anything else."""
        try:
            return cls((text or "").lower())
        except ValueError:
            return cls.UNKNOWN


@attrs.frozen
class PortBinding:
    """The host side of one published container port."""

    host_ip: str = ""
    """Host address the port is bound to; ``""`` for every address."""
    host_port: int | None = None
    """Host port; None to let the engine choose a free one (in a :class:`RunSpec`)."""

    def as_dict(self) -> dict[str, str]:
        """Return Docker's shape, ``{"HostIp": ..., "HostPort": ...}`` (conu 1.0's format)."""
        port = "" if self.host_port is None else str(self.host_port)
        return {"HostIp": self.host_ip, "HostPort": port}


@attrs.frozen(kw_only=True)
class RunSpec:
    """A container to create."""

    image: str
    """Id (or name) of the image to create it from."""
    command: tuple[str, ...] | None = attrs.field(default=None, converter=_optional_strings)
    """Command (arguments of the entrypoint); None for the image's own."""
    entrypoint: tuple[str, ...] | None = attrs.field(default=None, converter=_optional_strings)
    """Entrypoint; None for the image's own."""
    name: str | None = None
    """Name of the container; None lets the engine choose."""
    env: Mapping[str, str] = attrs.field(factory=dict, converter=_frozen_map)
    """Environment added to the image's."""
    labels: Mapping[str, str] = attrs.field(factory=dict, converter=_frozen_map)
    """Labels (conu adds the session's)."""
    user: str | None = None
    """``name``, ``uid`` or ``uid:gid``; None for the image's user."""
    working_dir: str | None = None
    """Working directory; None for the image's."""
    hostname: str | None = None
    """Host name inside the container."""
    tty: bool = False
    """Allocate a TTY (stderr is then merged into stdout)."""
    stdin_open: bool = False
    """Keep stdin open."""
    privileged: bool = False
    """Run privileged."""
    cap_add: tuple[str, ...] = attrs.field(default=(), converter=_strings)
    """Linux capabilities to add."""
    binds: tuple[str, ...] = attrs.field(default=(), converter=_strings)
    """Bind mounts, ``host_path:container_path[:mode]``."""
    ports: Mapping[str, tuple[PortBinding, ...]] = attrs.field(factory=dict, converter=_frozen_map)
    """Ports to publish: container port (``"8080/tcp"``) → host bindings."""
    network: str | None = None
    """Network: None for the engine's default, ``"none"`` for no network, ``"host"``, a name."""
    auto_remove: bool = False
    """Remove the container when it exits."""
    engine_options: Mapping[str, Any] = attrs.field(factory=dict, converter=_frozen_map)
    """Options only one engine understands (e.g. Docker's ``create``/``host_config`` keyword
    arguments from ``DockerContainerParameters``); other engines ignore them."""


@attrs.frozen(kw_only=True)
class BuildSpec:
    """An image to build from a context directory."""

    path: str
    """The build context (a directory)."""
    tag: str | None = None
    """Name the image gets, ``repository[:tag]``."""
    dockerfile: str | None = None
    """The Dockerfile's path within the context; ``Dockerfile`` by default."""
    labels: Mapping[str, str] = attrs.field(factory=dict, converter=_frozen_map)
    """Labels added to the image."""
    nocache: bool = False
    """Build every step afresh."""
    build_args: Mapping[str, str] = attrs.field(factory=dict, converter=_frozen_map)
    """``ARG`` values."""
    timeout: float = 600
    """Seconds the builder may stay silent."""


@attrs.frozen(kw_only=True)
class ContainerInfo:
    """What an engine reports about one container."""

    id: str
    """The engine's full id."""
    name: str | None = None
    """Name, without Docker's leading ``/``."""
    image: str | None = None
    """What the container was created from, as given (an id or a name)."""
    image_id: str | None = None
    """Id of that image."""
    state: ContainerState = ContainerState.UNKNOWN
    """Portable state."""
    exit_code: int | None = None
    """Exit code; 0 while created or running, None when the engine did not say."""
    pid: int = 0
    """Host PID of the main process; 0 when it does not run."""
    labels: Mapping[str, str] = attrs.field(factory=dict, converter=_frozen_map)
    """Labels."""
    env: tuple[str, ...] = attrs.field(default=(), converter=_strings)
    """Environment as ``"K=V"`` strings."""
    command: tuple[str, ...] | None = attrs.field(default=None, converter=_optional_strings)
    """The command (arguments of the entrypoint)."""
    hostname: str | None = None
    """Host name inside the container."""
    ports: Mapping[str, tuple[PortBinding, ...] | None] = attrs.field(
        factory=dict, converter=_frozen_map
    )
    """Container ports (``"8080/tcp"``) → where they are published; None when exposed only.
    Empty until the container runs."""
    exposed_ports: tuple[str, ...] = attrs.field(default=(), converter=_strings)
    """Ports the container exposes (``"8080/tcp"``), from its image and its options."""
    requested_ports: Mapping[str, tuple[PortBinding, ...]] = attrs.field(
        factory=dict, converter=_frozen_map
    )
    """Ports the container was created to publish (host port None: any free port)."""
    ipv4_addresses: tuple[str, ...] | None = attrs.field(default=(), converter=_optional_strings)
    """IPv4 addresses, one per network; None when the engine does not say (list output)."""
    ipv6_addresses: tuple[str, ...] | None = attrs.field(default=(), converter=_optional_strings)
    """Global IPv6 addresses, one per network."""
    network_mode: str | None = None
    """``"host"``, ``"none"``, ``"bridge"``, a network name, or None."""
    created: str | int | None = None
    """Creation time as the engine reports it."""
    raw: Mapping[str, Any] = attrs.field(factory=dict, eq=False, repr=False)
    """The engine's own document (``docker inspect``), returned by ``inspect()``."""

    @property
    def running(self) -> bool:
        """True while the main process runs."""
        return self.state is ContainerState.RUNNING


@attrs.frozen(kw_only=True)
class ImageInfo:
    """What an engine reports about one image."""

    id: str
    """The engine's id, with its algorithm (``sha256:…``)."""
    names: tuple[str, ...] = attrs.field(default=(), converter=_strings)
    """``repository:tag`` names (no placeholders for "no name")."""
    digests: tuple[str, ...] = attrs.field(default=(), converter=_strings)
    """``repository@sha256:…`` digests."""
    labels: Mapping[str, str] = attrs.field(factory=dict, converter=_frozen_map)
    """Labels."""
    env: tuple[str, ...] = attrs.field(default=(), converter=_strings)
    """Environment as ``"K=V"`` strings."""
    command: tuple[str, ...] | None = attrs.field(default=None, converter=_optional_strings)
    """Default command."""
    entrypoint: tuple[str, ...] | None = attrs.field(default=None, converter=_optional_strings)
    """Entrypoint."""
    working_dir: str | None = None
    """Working directory, None when unset."""
    user: str | None = None
    """User, None when unset."""
    exposed_ports: tuple[str, ...] = attrs.field(default=(), converter=_strings)
    """Exposed ports, ``"8080/tcp"``."""
    volumes: tuple[str, ...] = attrs.field(default=(), converter=_strings)
    """Declared volumes."""
    created: str | int | None = None
    """Creation time as the engine reports it."""
    raw: Mapping[str, Any] = attrs.field(factory=dict, eq=False, repr=False)
    """The engine's own document (``docker image inspect``), returned by ``inspect()``."""

    @classmethod
    def from_config(cls, image_id: str, config: Mapping[str, Any], **fields: Any) -> ImageInfo:
        """Describe image ``image_id`` from its runtime configuration (Docker's inspect
        ``Config``, the OCI config's ``config``: ``Labels``, ``Env``, ``Cmd``,
        ``Entrypoint``, ``WorkingDir``, ``User``, ``ExposedPorts``, ``Volumes``); ``fields``
        (names, digests, created, raw...) are added and win."""
        described: dict[str, Any] = {
            "labels": config.get("Labels") or {},
            "env": config.get("Env") or (),
            "command": config.get("Cmd"),
            "entrypoint": config.get("Entrypoint"),
            "working_dir": config.get("WorkingDir") or None,
            "user": config.get("User") or None,
            "exposed_ports": sorted(config.get("ExposedPorts") or {}),
            "volumes": sorted(config.get("Volumes") or {}),
        }
        return cls(id=image_id, **{**described, **fields})


@attrs.define(eq=False)
class ExecStream:
    """A command started in a running container: its output, then its exit code."""

    output: Iterator[bytes]
    """Output chunks (stdout and stderr merged), until the command ends."""
    exit_code: Callable[[], int | None]
    """Return the exit code once ``output`` is consumed (None if the engine does not know)."""
