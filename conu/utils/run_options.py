"""The ``docker run`` option parser (podman's ``run`` takes the same options) and its value
parsers, shared by every backend that reads run options.

:mod:`conu.backend.docker.container_parameters` builds on it for the Docker API; the generic
``run_via_binary`` of engines without a command-line client reads the options with it. The parser
raises :class:`~conu.exceptions.InvalidArgument` naming the option instead of exiting, and the
value parsers here check ports, durations, integers and labels.
"""

from __future__ import annotations

import argparse
import functools
import ipaddress
import re
from collections.abc import Callable, Sequence
from fractions import Fraction
from typing import Any, NoReturn, TypeAlias

from conu.exceptions import InvalidArgument

__all__ = ["PROTOCOLS", "PortBinding", "parse_options", "port_number"]

PortBinding: TypeAlias = int | tuple[str, int | None] | None
"""Host side of one published port, in docker-py's ``port_bindings`` format."""

PROTOCOLS = ("tcp", "udp", "sctp")
"""Port protocols docker knows."""


def parse_options(options: Sequence[str]) -> dict[str, Any]:
    """Parse ``docker run`` options into keyword arguments of ``DockerContainerParameters``.

    Args:
        options: the options, already checked to be strings.

    Returns:
        Every constructor argument the options determine, all but ``command``.

    Raises:
        InvalidArgument: an option has a malformed value (an integer, port, duration or label).
    """
    namespace, _unknown = _parser().parse_known_args(list(options))
    fields = {key: value for key, value in vars(namespace).items() if not key.startswith("_")}
    labels = dict(namespace._labels) if namespace._labels else None
    return {
        **fields,
        "labels": labels,
        "port_mappings": _port_mappings(namespace._ports),
        "healthcheck": _healthcheck(namespace),
    }


def port_number(text: str, what: str, spec: str) -> int:
    """Read a port number, 1 to 65535.

    Args:
        text: the number as written.
        what: what the number is, for the error message (``"host port"``).
        spec: the whole value it comes from, for the error message.

    Returns:
        The port.

    Raises:
        InvalidArgument: ``text`` is not a number from 1 to 65535.
    """
    if re.fullmatch(r"[0-9]{1,5}", text) and 1 <= int(text) <= 65535:
        return int(text)
    msg = f"invalid {what} {text!r} in port mapping {spec!r}: expected 1 to 65535"
    raise InvalidArgument(msg)


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


def _parse_port_spec(spec: str) -> tuple[str, PortBinding]:
    """Read a ``-p`` value: ``[[ip:]hostPort:]containerPort[/proto]``, IPv6 in brackets.

    Returns:
        The container port as written and its host binding (None means a random host port).
    """
    ip, host, container = _split_port_spec(spec)
    port, slash, protocol = container.partition("/")
    port_number(port, "container port", spec)
    if slash and protocol not in PROTOCOLS:
        msg = f"unknown protocol {protocol!r} in port mapping {spec!r}, expected one of {PROTOCOLS}"
        raise InvalidArgument(msg)
    # docker run reads host port 0 like an empty one: any free port
    any_port = not host or (host.isdigit() and int(host) == 0)
    host_port = None if any_port else port_number(host, "host port", spec)
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
