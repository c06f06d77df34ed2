"""``docker run`` options that map exactly onto the engine's API.

``DockerImage.run_via_binary`` runs ``docker run -d <options> <image> <command>``. When every
option is one whose effect on the created container is known exactly (the table below), the
same container is created and started through the API instead: no client process, and the
image's own engine (``DOCKER_HOST``...) rather than the client's. Anything else (an option
conu does not know or cannot reproduce exactly, pflag syntax argparse reads differently, a
value conu's parser reads more leniently than the client) returns None, and the client runs.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Sequence
from typing import Any

import attrs

from conu.apidefs.specs import RunSpec
from conu.exceptions import InvalidArgument

__all__ = ["FORCE_CLI_VARIABLE", "run_spec"]

FORCE_CLI_VARIABLE = "CONU_RUN_VIA_BINARY"
"""Set to ``cli`` to always run the docker client in ``run_via_binary``."""

# Option string → whether it takes a value. Only options whose API translation
# (conu.backend.docker.container_parameters.to_api_kwargs) is what the docker client sends.
_FLAGS = [
    "-i",
    "--interactive",
    "-d",
    "--detach",
    "-t",
    "--tty",
    "--init",
    "--privileged",
    "-P",
    "--publish-all",
    "--read-only",
    "--rm",
    "--no-healthcheck",
]
_VALUED = [
    "--entrypoint",
    "-h",
    "--hostname",
    "--name",
    "--ipc",
    "--network",
    "--runtime",
    "--stop-signal",
    "-u",
    "--user",
    "-w",
    "--workdir",
    "--pids-limit",
    "-e",
    "--env",
    "--cap-add",
    "--cap-drop",
    "--dns",
    "--group-add",
    "-v",
    "--volume",
    "-l",
    "--label",
    "-p",
    "--publish",
    "--health-cmd",
    "--health-interval",
    "--health-timeout",
    "--health-start-period",
    "--health-retries",
]
_TAKES_VALUE = {**dict.fromkeys(_FLAGS, False), **dict.fromkeys(_VALUED, True)}
# What the client sends in HostConfig for the options it was not given (the API's defaults
# differ only in how inspect shows them: null, "" instead of [], "no").
_CLIENT_EMPTY_LISTS = (
    "BlkioDeviceReadBps",
    "BlkioDeviceReadIOps",
    "BlkioDeviceWriteBps",
    "BlkioDeviceWriteIOps",
    "BlkioWeightDevice",
    "Devices",
    "Dns",
    "DnsOptions",
    "DnsSearch",
    "Ulimits",
)
_CLIENT_HOST_DEFAULTS: dict[str, Any] = {
    **{field: () for field in _CLIENT_EMPTY_LISTS},
    "PortBindings": {},
    "RestartPolicy": {"Name": "no", "MaximumRetryCount": 0},
}
_DURATIONS = ("--health-interval", "--health-timeout", "--health-start-period")
_NUMBER = r"(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)"
_GO_DURATION = re.compile(rf"0|(?:{_NUMBER}(?:ns|us|\u00b5s|\u03bcs|ms|s|m|h))+")


def _pairs(options: Sequence[str]) -> Iterator[tuple[str, str | None] | None]:
    """Yield ``(option, value)`` as the docker client reads ``options`` (value None for a
    flag); None for anything this module does not read exactly as the client."""
    tokens = iter(options)
    for token in tokens:
        if token.startswith("--"):
            name, equals, value = token.partition("=")
            takes = _TAKES_VALUE.get(name)
            if takes is None or (equals and not takes):
                yield None
            elif takes:
                yield name, value if equals else _separate_value(tokens)
            else:
                yield name, None
        elif token.startswith("-") and len(token) > 1:
            yield from _shorts(token[1:], tokens)
        else:
            yield None  # the client would take it for the image


def _shorts(letters: str, tokens: Iterator[str]) -> Iterator[tuple[str, str | None] | None]:
    """Combined short options (``-it``, ``-eA=b``, ``-e A=b``)."""
    for index, letter in enumerate(letters):
        name = f"-{letter}"
        takes = _TAKES_VALUE.get(name)
        rest = letters[index + 1 :]
        if takes is None or rest.startswith("="):  # pflag's -e=V / -d=true read differently
            yield None
            return
        if takes:
            yield name, rest or _separate_value(tokens)
            return
        yield name, None


def _separate_value(tokens: Iterator[str]) -> str | None:
    value = next(tokens, None)
    # argparse refuses a value that looks like an option; the client takes it
    return None if value is None or value.startswith("-") else value


def _exact(options: Sequence[str]) -> bool:
    for pair in _pairs(options):
        if pair is None:
            return False
        name, value = pair
        if value is None and _TAKES_VALUE[name]:
            return False
        if name in ("-e", "--env") and (value or "=").startswith("="):
            return False  # the client's own error
        if name in _DURATIONS and not _GO_DURATION.fullmatch(value or ""):
            return False  # conu also reads bare seconds; the client does not
    return True


def _environment(entries: list[str]) -> list[str]:
    """``-e NAME`` takes this process's value of NAME when it has one, as the client does;
    otherwise ``NAME`` stays alone (the engine then unsets the image's value)."""
    found = []
    for entry in entries:
        if "=" not in entry and entry in os.environ:
            entry = f"{entry}={os.environ[entry]}"
        found.append(entry)
    return found


def _capabilities(names: list[str] | None) -> list[str] | None:
    """Capability names as the client sends them: upper case, ``CAP_`` prefixed (but
    ``ALL``), each once."""
    if not names:
        return names
    found = [name.upper() for name in names]
    found = [n if n == "ALL" or n.startswith("CAP_") else f"CAP_{n}" for n in found]
    return list(dict.fromkeys(found))


def run_spec(image_id: str, options: Sequence[str], command: Sequence[str]) -> RunSpec | None:
    """Return the container ``docker run -d <options> <image_id> <command>`` would create,
    labelled with the session as ``run_via_binary`` labels it; None when the options do not
    map exactly (or ``$CONU_RUN_VIA_BINARY`` is ``cli``), and the client must run."""
    from conu.backend.docker.container_parameters import parse_run_options, session_run_spec

    if os.environ.get(FORCE_CLI_VARIABLE) == "cli" or not _exact(options):
        return None
    try:
        params = parse_run_options(options, command)
        spec = session_run_spec(image_id, params)
    except InvalidArgument:
        return None  # e.g. a port range: the client reads more than conu's parser
    create, host = spec.engine_options["create"], spec.engine_options["host_config"]
    # the client passes --entrypoint as one executable ("" resets the image's), declares
    # only anonymous volumes (binds are binds) and takes -e NAME from this process
    create["entrypoint"] = None if params.entrypoint is None else [params.entrypoint]
    create["volumes"] = [v for v in params.volumes or () if ":" not in v] or None
    create["environment"] = _environment(list(params.env_variables or ())) or None
    host["cap_add"] = _capabilities(host.get("cap_add"))
    host["cap_drop"] = _capabilities(host.get("cap_drop"))
    return attrs.evolve(
        spec, engine_options={**spec.engine_options, "host_config_defaults": _CLIENT_HOST_DEFAULTS}
    )
