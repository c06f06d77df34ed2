"""Parameters of a container to create, and how ``docker run`` options become them.

:func:`parse_run_options` reads ``docker run`` options the way the docker CLI does (for the
options conu understands; the others are ignored) into :class:`DockerContainerParameters`, and
:func:`to_api_kwargs` turns those into keyword arguments for docker-py's ``create_container``
and ``create_host_config``. Nothing here imports docker: a healthcheck is a plain dict with
docker-py's lowercase keys, which ``create_container`` accepts.

Differences from conu 1.0, all of them fixes:

* A malformed value raises :class:`~conu.exceptions.InvalidArgument` naming the option, where
  1.0 exited through ``SystemExit(2)``; ports are checked (1-65535, known protocol, valid IP).
* Labels split on the first ``=`` (``a=b=c`` gives ``{"a": "b=c"}``) and a label without ``=``
  has the value ``""``, as with ``docker run``; 1.0 rejected both.
* Health durations are Go duration strings (``"30s"``, ``"1m30s"``, ``"500ms"``) or bare
  seconds, converted to nanoseconds; 1.0 passed integers through as nanoseconds, which docker
  rejects below one millisecond. ``--health-start-period`` is understood.
* ``healthcheck`` is None without health options (1.0 always built an empty one) and
  ``{"test": ["NONE"]}`` for ``--no-healthcheck`` (1.0 gave None, so the image's check ran).
* A container port published twice keeps both bindings (a list), as docker does.
* ``--ip`` and ``--pid`` are recognised (and ignored) instead of being read as abbreviations of
  ``--ipc`` and ``--pids-limit``.
* :func:`to_api_kwargs` turns ``src:dst[:mode]`` volumes into binds, uses ``network`` and
  ``platform``, and exposes the published ports; 1.0 dropped all of these.
"""

from __future__ import annotations

import argparse
import functools
import ipaddress
import re
from collections.abc import Callable, Iterable, Sequence
from fractions import Fraction
from typing import Any, NoReturn, TypeAlias, cast

import attrs

from conu.apidefs.metadata import ContainerMetadata
from conu.exceptions import InvalidArgument

__all__ = ["DockerContainerParameters", "PortBinding", "parse_run_options", "to_api_kwargs"]

PortBinding: TypeAlias = int | tuple[str, int | None] | None
"""Host side of one published port, in docker-py's ``port_bindings`` format."""


@attrs.define(eq=True, init=False)
class DockerContainerParameters(ContainerMetadata):
    """Everything needed to create a container through the API.

    ``name``, ``labels``, ``command``, ``env_variables``, ``port_mappings`` and ``hostname``
    are the :class:`ContainerMetadata` fields; every other constructor argument is stored in
    the attribute of the same name. ``env_variables`` is a list of ``"K=V"`` strings when it
    comes from :func:`parse_run_options` (a dict is accepted too) and ``{}`` when None.
    ``port_mappings`` maps a container port as written (``"8080"``, ``"53/udp"``) to a
    :data:`PortBinding`, or to a list of them when the port is published more than once.
    """

    cap_add: list[str] | None = None
    """Capabilities to add (``--cap-add``)."""
    cap_drop: list[str] | None = None
    """Capabilities to drop (``--cap-drop``)."""
    detach: bool = False
    """``-d``; recorded only, containers created through the API never attach."""
    devices: list[str] | None = None
    """Host devices, ``"host[:container[:perms]]"`` (``--device``)."""
    dns: list[str] | None = None
    """DNS servers (``--dns``)."""
    entrypoint: str | list[str] | None = None
    """Entrypoint override (``--entrypoint``)."""
    group_add: list[str] | None = None
    """Additional groups (``--group-add``)."""
    healthcheck: dict[str, Any] | None = None
    """docker-py healthcheck dict (``test``, ``interval``, ...), durations in nanoseconds."""
    init: bool = False
    """Run an init process as PID 1 (``--init``)."""
    ipc_mode: str | None = None
    """IPC namespace (``--ipc``)."""
    isolation: str | None = None
    """Isolation technology (``--isolation``)."""
    mac_address: str | None = None
    """MAC address (``--mac-address``)."""
    mem_limit: str | int | None = None
    """Memory limit, e.g. ``"1G"`` (``-m``)."""
    mounts: list[str] | None = None
    """Mounts as docker-py accepts them (``--mount`` values are passed through untranslated)."""
    network: str | None = None
    """Network mode or network name (``--network``, ``--net``)."""
    pids_limit: int | None = None
    """PID limit (``--pids-limit``)."""
    platform: str | None = None
    """Platform, ``os[/arch[/variant]]`` (``--platform``)."""
    privileged: bool = False
    """Extended privileges (``--privileged``)."""
    publish_all_ports: bool = False
    """Publish all exposed ports to random host ports (``-P``)."""
    read_only: bool = False
    """Read-only root filesystem (``--read-only``)."""
    remove: bool = False
    """Remove the container when it exits (``--rm``)."""
    runtime: str | None = None
    """OCI runtime (``--runtime``)."""
    stdin_open: bool = False
    """Keep stdin open (``-i``)."""
    stdout: bool = True
    """Kept from conu 1.0; not used."""
    stderr: bool = False
    """Kept from conu 1.0; not used."""
    stop_signal: str | None = None
    """Signal that stops the container (``--stop-signal``)."""
    tty: bool = False
    """Allocate a pseudo-TTY (``-t``)."""
    user: str | None = None
    """User to run as (``-u``)."""
    volumes: list[str] | None = None
    """Volumes, ``"/dst"`` or ``"src:dst[:mode]"`` (``-v``)."""
    working_dir: str | None = None
    """Working directory (``-w``)."""

    def __init__(
        self,
        cap_add: list[str] | None = None,
        cap_drop: list[str] | None = None,
        command: list[str] | None = None,
        detach: bool = False,
        devices: list[str] | None = None,
        dns: list[str] | None = None,
        entrypoint: str | list[str] | None = None,
        env_variables: list[str] | dict[str, str] | None = None,
        group_add: list[str] | None = None,
        healthcheck: dict[str, Any] | None = None,
        hostname: str | None = None,
        init: bool = False,
        ipc_mode: str | None = None,
        isolation: str | None = None,
        labels: dict[str, str] | None = None,
        mac_address: str | None = None,
        mem_limit: str | int | None = None,
        mounts: list[str] | None = None,
        name: str | None = None,
        network: str | None = None,
        pids_limit: int | None = None,
        platform: str | None = None,
        port_mappings: dict[str, Any] | None = None,
        privileged: bool = False,
        publish_all_ports: bool = False,
        read_only: bool = False,
        remove: bool = False,
        runtime: str | None = None,
        stdin_open: bool = False,
        stdout: bool = True,
        stderr: bool = False,
        stop_signal: str | None = None,
        tty: bool = False,
        user: str | None = None,
        volumes: list[str] | None = None,
        working_dir: str | None = None,
    ) -> None:
        """Store the parameters; see the class and attribute docstrings."""
        self.__attrs_init__(
            name=name,
            labels=labels,
            command=command,
            # The metadata field is typed as a dict, but 1.0 parsing yields "K=V" strings.
            env_variables=cast(dict[str, str], {} if env_variables is None else env_variables),
            port_mappings=port_mappings,
            hostname=hostname,
            cap_add=cap_add,
            cap_drop=cap_drop,
            detach=detach,
            devices=devices,
            dns=dns,
            entrypoint=entrypoint,
            group_add=group_add,
            healthcheck=healthcheck,
            init=init,
            ipc_mode=ipc_mode,
            isolation=isolation,
            mac_address=mac_address,
            mem_limit=mem_limit,
            mounts=mounts,
            network=network,
            pids_limit=pids_limit,
            platform=platform,
            privileged=privileged,
            publish_all_ports=publish_all_ports,
            read_only=read_only,
            remove=remove,
            runtime=runtime,
            stdin_open=stdin_open,
            stdout=stdout,
            stderr=stderr,
            stop_signal=stop_signal,
            tty=tty,
            user=user,
            volumes=volumes,
            working_dir=working_dir,
        )


def parse_run_options(
    options: Sequence[str], command: Sequence[str] | None = None
) -> DockerContainerParameters:
    """Read ``docker run`` options into container parameters.

    Options conu does not understand (``--cpus``, ``--log-opt``, ...) are ignored with their
    values. Combined short flags (``-it``) and unambiguous prefixes of long options (``--net``
    for ``--network``) work. Repeated single-value options keep the last value. ``-e`` values
    stay ``"K=V"`` strings; a label without ``=`` gets the value ``""``.

    Args:
        options: the options, e.g. ``["-d", "--name", "web", "-p", "8080:80"]``.
        command: the command to run in the container; None or empty for the image's default.

    Returns:
        The parameters.

    Raises:
        TypeError: ``options`` or ``command`` is not a sequence of strings.
        InvalidArgument: an option has a malformed value (an integer, port, duration or label).
    """
    _check_strings("options", options)
    if command is not None:
        _check_strings("command", command)
    namespace, _unknown = _parser().parse_known_args(list(options))
    fields = {key: value for key, value in vars(namespace).items() if not key.startswith("_")}
    labels = dict(namespace._labels) if namespace._labels else None
    return DockerContainerParameters(
        **fields,
        command=list(command) if command else None,
        labels=labels,
        port_mappings=_port_mappings(namespace._ports),
        healthcheck=_healthcheck(namespace),
    )


def to_api_kwargs(params: DockerContainerParameters) -> tuple[dict[str, Any], dict[str, Any]]:
    """Translate parameters into docker-py keyword arguments.

    ``src:dst[:mode]`` volumes become binds (and ``dst`` a container volume), a plain ``/dst``
    stays a container volume. Published ports are exposed and bound. The container is always
    created detached, as in conu 1.0; ``stdout`` and ``stderr`` are not used.

    Args:
        params: the parameters.

    Returns:
        ``(create_kwargs, host_config_kwargs)``: the arguments of ``create_container`` except
        the image and ``host_config``, and the arguments of ``create_host_config``.

    Raises:
        InvalidArgument: a volume or a port mapping is malformed.
    """
    binds, volumes = _split_volumes(params.volumes or [])
    exposed, bindings = _port_api_args(params)
    create = {name: getattr(params, name) for name in _CREATE_SAME_NAME}
    create |= {
        "detach": True,
        "environment": params.env_variables or None,
        "ports": exposed or None,
        "volumes": volumes or None,
    }
    host = {name: getattr(params, name) for name in _HOST_SAME_NAME}
    host |= {
        "auto_remove": params.remove,
        "binds": binds or None,
        # Unset rather than False, so that a daemon configured with "init": true still applies.
        "init": params.init or None,
        "network_mode": params.network,
        "port_bindings": bindings or None,
    }
    return create, host


# Parameters passed under their own name.
_CREATE_SAME_NAME = (
    "command",
    "entrypoint",
    "healthcheck",
    "hostname",
    "labels",
    "mac_address",
    "name",
    "platform",
    "runtime",
    "stdin_open",
    "stop_signal",
    "tty",
    "user",
    "working_dir",
)
_HOST_SAME_NAME = (
    "cap_add",
    "cap_drop",
    "devices",
    "dns",
    "group_add",
    "ipc_mode",
    "isolation",
    "mem_limit",
    "mounts",
    "pids_limit",
    "privileged",
    "publish_all_ports",
    "read_only",
)


def _check_strings(argument: str, value: object) -> None:
    """Raise TypeError unless ``value`` is a list or tuple of strings."""
    if not isinstance(value, list | tuple) or not all(isinstance(item, str) for item in value):
        msg = f"{argument!r} must be a list or tuple of str, not {value!r}"
        raise TypeError(msg)


# ----------------------------------------------------------------------------- the parser


class _OptionParser(argparse.ArgumentParser):
    """An argument parser that raises InvalidArgument instead of exiting."""

    def error(self, message: str) -> NoReturn:
        msg = f"invalid docker run options: {message}"
        raise InvalidArgument(msg)


def _option_type(parse: Callable[[str], Any], name: str) -> Callable[[str], Any]:
    """Wrap a parsing function for argparse, which then names the option in its error."""

    def convert(text: str) -> Any:
        try:
            return parse(text)
        except InvalidArgument as exc:
            raise argparse.ArgumentTypeError(str(exc)) from exc

    convert.__name__ = name
    return convert


def _parse_label(text: str) -> tuple[str, str]:
    key, _, value = text.partition("=")
    if not key.strip():
        msg = f"label {text!r} has an empty name"
        raise InvalidArgument(msg)
    return key, value


def _parse_retries(text: str) -> int:
    if not re.fullmatch(r"[0-9]+", text):
        msg = f"{text!r} is not a non-negative integer"
        raise InvalidArgument(msg)
    return int(text)


def _parse_int(text: str) -> int:
    if not re.fullmatch(r"-?[0-9]+", text):
        msg = f"{text!r} is not an integer"
        raise InvalidArgument(msg)
    return int(text)


_DURATION_UNITS_NS = {
    "ns": 1,
    "us": 1_000,
    "\u00b5s": 1_000,  # micro sign
    "\u03bcs": 1_000,  # Greek mu
    "ms": 1_000_000,
    "s": 1_000_000_000,
    "m": 60_000_000_000,
    "h": 3_600_000_000_000,
}
_DURATION_PART = r"([0-9]+(?:\.[0-9]*)?|\.[0-9]+)(ns|us|\u00b5s|\u03bcs|ms|s|m|h)"
_MIN_DURATION_NS = 1_000_000


def _parse_duration(text: str) -> int:
    """Read a Go duration (``"1m30s"``) or bare seconds (``"30"``) as nanoseconds."""
    if re.fullmatch(r"[0-9]+", text):
        total = Fraction(int(text) * _DURATION_UNITS_NS["s"])
    elif re.fullmatch(f"(?:{_DURATION_PART})+", text):
        parts = re.findall(_DURATION_PART, text)
        total = sum(
            (Fraction(number) * _DURATION_UNITS_NS[unit] for number, unit in parts), Fraction()
        )
    else:
        msg = f"{text!r} is not a duration such as '30s', '1m30s', '500ms' or seconds"
        raise InvalidArgument(msg)
    nanoseconds = int(total)
    if 0 < nanoseconds < _MIN_DURATION_NS:
        msg = f"duration {text!r} is shorter than 1ms (docker accepts 0 or at least 1ms)"
        raise InvalidArgument(msg)
    return nanoseconds


_PROTOCOLS = ("tcp", "udp", "sctp")


def _parse_port_spec(spec: str) -> tuple[str, PortBinding]:
    """Read a ``-p`` value: ``[[ip:]hostPort:]containerPort[/proto]``, IPv6 in brackets.

    Returns:
        The container port as written and its host binding (None means a random host port).
    """
    ip, host, container = _split_port_spec(spec)
    port, slash, protocol = container.partition("/")
    _port_number(port, "container port", spec)
    if slash and protocol not in _PROTOCOLS:
        msg = (
            f"unknown protocol {protocol!r} in port mapping {spec!r}, expected one of {_PROTOCOLS}"
        )
        raise InvalidArgument(msg)
    host_port = _port_number(host, "host port", spec) if host else None
    if not ip:
        return container, host_port
    try:
        ipaddress.ip_address(ip)
    except ValueError as exc:
        msg = f"invalid IP address {ip!r} in port mapping {spec!r}"
        raise InvalidArgument(msg) from exc
    return container, (ip, host_port)


def _split_port_spec(spec: str) -> tuple[str, str, str]:
    """Split a ``-p`` value into IP, host port and container port ("" when absent)."""
    if spec.startswith("["):
        ip, bracket, rest = spec[1:].partition("]:")
        host, colon, container = rest.partition(":")
        if bracket and colon:
            return ip, host, container
    else:
        parts = spec.split(":")
        if len(parts) <= 3:
            ip, host, container = ["", "", *parts][-3:]
            return ip, host, container
    msg = f"port mapping {spec!r} is not [[ip:]hostPort:]containerPort[/protocol]"
    raise InvalidArgument(msg)


def _port_number(text: str, what: str, spec: str) -> int:
    if re.fullmatch(r"[0-9]{1,5}", text) and 1 <= int(text) <= 65535:
        return int(text)
    msg = f"invalid {what} {text!r} in port mapping {spec!r}: expected 1 to 65535"
    raise InvalidArgument(msg)


def _port_mappings(specs: list[tuple[str, PortBinding]] | None) -> dict[str, Any] | None:
    """Collect parsed ``-p`` values; a port published twice maps to a list of bindings."""
    if not specs:
        return None
    mappings: dict[str, Any] = {}
    for container, binding in specs:
        if container not in mappings:
            mappings[container] = binding
        elif isinstance(mappings[container], list):
            mappings[container].append(binding)
        else:
            mappings[container] = [mappings[container], binding]
    return mappings


def _port_api_args(
    params: DockerContainerParameters,
) -> tuple[list[int | tuple[int, str]], dict[str, Any]]:
    """Exposed ports and port bindings in docker-py's formats, keys normalised to ``port/proto``."""
    bindings: dict[str, Any] = {}
    for key, binding in (params.port_mappings or {}).items():
        port, protocol = _container_port(str(key))
        bindings[f"{port}/{protocol}"] = binding
    exposed: list[int | tuple[int, str]] = []
    for key in [*bindings, *params.exposed_ports]:
        port, protocol = _container_port(key)
        entry = port if protocol == "tcp" else (port, protocol)
        if entry not in exposed:
            exposed.append(entry)
    return exposed, bindings


def _container_port(key: str) -> tuple[int, str]:
    port, _, protocol = key.partition("/")
    if protocol and protocol not in _PROTOCOLS:
        msg = f"unknown protocol {protocol!r} in container port {key!r}"
        raise InvalidArgument(msg)
    return _port_number(port, "container port", key), protocol or "tcp"


def _split_volumes(specs: Iterable[str]) -> tuple[list[str], list[str]]:
    """Split ``-v`` values into binds and container-side volume paths."""
    binds: list[str] = []
    targets: list[str] = []
    for spec in specs:
        parts = spec.split(":")
        if len(parts) == 1 and spec:
            targets.append(spec)
        elif len(parts) in (2, 3) and parts[0] and parts[1]:
            binds.append(spec)
            targets.append(parts[1])
        else:
            msg = f"volume {spec!r} is neither '/target' nor 'source:target[:mode]'"
            raise InvalidArgument(msg)
    return binds, targets


_DURATION = _option_type(_parse_duration, "duration")

# dest, option strings, argparse action, value parser. Dests starting with "_" are not
# DockerContainerParameters arguments and are post-processed.
_OPTIONS: tuple[tuple[str, tuple[str, ...], str, Callable[[str], Any] | None], ...] = (
    ("stdin_open", ("-i", "--interactive"), "store_true", None),
    ("detach", ("-d", "--detach"), "store_true", None),
    ("tty", ("-t", "--tty"), "store_true", None),
    ("init", ("--init",), "store_true", None),
    ("privileged", ("--privileged",), "store_true", None),
    ("publish_all_ports", ("-P", "--publish-all"), "store_true", None),
    ("read_only", ("--read-only",), "store_true", None),
    ("remove", ("--rm",), "store_true", None),
    ("entrypoint", ("--entrypoint",), "store", None),
    ("hostname", ("-h", "--hostname"), "store", None),
    ("name", ("--name",), "store", None),
    ("ipc_mode", ("--ipc",), "store", None),
    ("isolation", ("--isolation",), "store", None),
    ("mac_address", ("--mac-address",), "store", None),
    ("mem_limit", ("-m", "--memory"), "store", None),
    ("network", ("--network",), "store", None),
    ("platform", ("--platform",), "store", None),
    ("runtime", ("--runtime",), "store", None),
    ("stop_signal", ("--stop-signal",), "store", None),
    ("user", ("-u", "--user"), "store", None),
    ("working_dir", ("-w", "--workdir"), "store", None),
    ("pids_limit", ("--pids-limit",), "store", _option_type(_parse_int, "integer")),
    ("env_variables", ("-e", "--env"), "append", None),
    ("cap_add", ("--cap-add",), "append", None),
    ("cap_drop", ("--cap-drop",), "append", None),
    ("devices", ("--device",), "append", None),
    ("dns", ("--dns",), "append", None),
    ("group_add", ("--group-add",), "append", None),
    ("mounts", ("--mount",), "append", None),
    ("volumes", ("-v", "--volume"), "append", None),
    ("_labels", ("-l", "--label"), "append", _option_type(_parse_label, "label")),
    ("_ports", ("-p", "--publish"), "append", _option_type(_parse_port_spec, "port")),
    ("_health_cmd", ("--health-cmd",), "store", None),
    ("_interval", ("--health-interval",), "store", _DURATION),
    ("_timeout", ("--health-timeout",), "store", _DURATION),
    ("_start_period", ("--health-start-period",), "store", _DURATION),
    ("_retries", ("--health-retries",), "store", _option_type(_parse_retries, "retries")),
    ("_no_healthcheck", ("--no-healthcheck",), "store_true", None),
    # docker options that would otherwise be taken for abbreviations of --ipc / --pids-limit
    ("_ignored", ("--ip", "--pid"), "store", None),
)


@functools.cache
def _parser() -> _OptionParser:
    parser = _OptionParser(prog="docker run", add_help=False, allow_abbrev=True)
    for dest, flags, action, value_type in _OPTIONS:
        if value_type is None:
            parser.add_argument(*flags, dest=dest, action=action)
        else:
            parser.add_argument(*flags, dest=dest, action=action, type=value_type)
    return parser


def _healthcheck(namespace: argparse.Namespace) -> dict[str, Any] | None:
    """Build docker-py's healthcheck dict from the ``--health-*`` options."""
    check: dict[str, Any] = {}
    if namespace._health_cmd is not None:
        check["test"] = ["CMD-SHELL", namespace._health_cmd]
    for key in ("interval", "timeout", "start_period", "retries"):
        value = getattr(namespace, f"_{key}")
        if value is not None:
            check[key] = value
    if not namespace._no_healthcheck:
        return check or None
    if check:
        msg = "invalid docker run options: --no-healthcheck conflicts with --health-* options"
        raise InvalidArgument(msg)
    return {"test": ["NONE"]}
