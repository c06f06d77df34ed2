"""Small host-side helpers: running commands, probing ports, temporary paths, references.

Importing this module is cheap on purpose: it needs the standard library only. Helpers that
need more (image references use attrs) import it when they are called.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import string
import tempfile
from typing import Any

from conu.exceptions import CommandDoesNotExistException, InvalidArgument

__all__ = [
    "CommandDoesNotExistException",
    "are_we_root",
    "chcon_command_exists",
    "check_docker_command_works",
    "check_podman_command_works",
    "check_port",
    "command_exists",
    "convert_kv_to_dict",
    "get_selinux_status",
    "getenforce_command_exists",
    "graceful_get",
    "is_selinux_disabled",
    "mkdtemp",
    "mkstemp",
    "oc_command_exists",
    "parse_reference",
    "random_str",
    "random_tmp_filename",
    "run_cmd",
    "s2i_command_exists",
    "setfacl_command_exists",
]

logger = logging.getLogger(__name__)

_TMP_PREFIX = "conu-"

# Running host commands lives in conu.utils.commands; conu 1.0 imported it from here.
from conu.utils.commands import (  # noqa: E402
    chcon_command_exists,
    check_docker_command_works,
    check_podman_command_works,
    command_exists,
    getenforce_command_exists,
    oc_command_exists,
    run_cmd,
    s2i_command_exists,
    setfacl_command_exists,
)


def check_port(port: int | str, host: str, timeout: float = 10) -> bool:
    """Tell whether a TCP connection to ``host``:``port`` can be opened.

    Args:
        port: the TCP port, 1-65535.
        host: a hostname, an IPv4 or an IPv6 address.
        timeout: seconds to wait for the connection.

    Returns:
        True if the connection was accepted, False if it was refused, timed out or the host
        could not be resolved or reached.

    Raises:
        InvalidArgument: ``port`` is not a valid port number.
    """
    number = _port_number(port)
    logger.debug("trying to connect to %r port %d", host, number)
    try:
        with socket.create_connection((host, number), timeout=timeout):
            return True
    except OSError as exc:
        logger.debug("cannot connect to %r port %d: %s", host, number, exc)
        return False


def _port_number(port: int | str) -> int:
    """Return ``port`` as an int in 1-65535, or raise InvalidArgument (also for a wrong type,
    as conu 1.0 did)."""
    from conu.utils.validate import port_number

    try:
        return port_number(port)
    except TypeError as exc:
        raise InvalidArgument(str(exc)) from exc


def random_str(size: int = 10) -> str:
    """Return a random string of ``size`` lowercase ASCII letters."""
    return "".join(secrets.choice(string.ascii_lowercase) for _ in range(size))


def random_tmp_filename() -> str:
    """Return a file name (no directory): ``conu-`` followed by 32 random lowercase letters."""
    return _TMP_PREFIX + random_str(32)


def graceful_get(d: Any, *keys: Any, default: Any = None) -> Any:
    """Index into nested mappings and sequences, giving ``default`` where a step fails.

    Args:
        d: the outermost mapping (or sequence); a falsy value gives ``default``.
        *keys: the keys or list indexes to follow, outermost first.
        default: what to return when ``d`` is falsy or a step fails.

    Returns:
        The value found, e.g. ``"c"`` for ``{"a": [{1: 2}, {"b": "c"}]}`` and keys
        ``"a", 1, "b"``.
    """
    if not d:
        return default
    value = d
    for key in keys:
        try:
            value = value[key]
        except (IndexError, KeyError, AttributeError, TypeError):
            return default
    return value


def get_selinux_status() -> str:
    """Return the host's SELinux mode: ``"Enforcing"``, ``"Permissive"`` or ``"Disabled"``.

    Raises:
        CommandDoesNotExistException: ``getenforce`` is not installed.
    """
    getenforce_command_exists()
    output = run_cmd(["getenforce"], return_output=True)
    status = str(output).strip()
    logger.debug("SELinux is %r", status)
    return status


def is_selinux_disabled() -> bool:
    """Return True if SELinux is disabled on the host (see :func:`get_selinux_status`)."""
    return get_selinux_status() == "Disabled"


def mkstemp(dir: str | None = None) -> tuple[int, str]:
    """Create a temporary file named ``conu-...``; return its open descriptor and path."""
    return tempfile.mkstemp(prefix=_TMP_PREFIX, dir=dir)


def mkdtemp() -> str:
    """Create a temporary directory named ``conu-...`` and return its path."""
    return tempfile.mkdtemp(prefix=_TMP_PREFIX)


def convert_kv_to_dict(text: str) -> dict[str, str]:
    """Turn ``key=value`` lines (as in os-release or ``env`` output) into a dict.

    Blank lines and ``#`` comments are skipped; values are kept as written, quotes included.

    Args:
        text: the lines.

    Returns:
        The keys mapped to their values, e.g. ``{"A": "1"}`` for ``"A=1\\n"``.

    Raises:
        InvalidArgument: a line has no ``=``.
    """
    result = {}
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        key, sep, value = stripped.partition("=")
        if not sep:
            msg = f"line {line!r} is not in the form key=value"
            raise InvalidArgument(msg)
        result[key] = value
    return result


def are_we_root() -> bool:
    """Return True if this process runs with effective uid 0."""
    return os.geteuid() == 0


def parse_reference(reference: str) -> tuple[str, str]:
    """Split an image reference into repository (with registry) and tag.

    Args:
        reference: e.g. ``"registry.example.org:5000/fedora:27"``.

    Returns:
        ``(repository, tag)``; the tag is ``"latest"`` when none is given. For a reference
        with a digest the second item is the digest (``"sha256:..."``), as in docker-py's
        ``parse_repository_tag``; a tag next to a digest is dropped, as the digest decides.

    Raises:
        InvalidReference: the reference is malformed.
    """
    from conu.utils.reference import Reference  # attrs is imported only when needed

    parsed = Reference.parse(reference)
    if parsed.digest is not None:
        return parsed.name, parsed.digest
    return parsed.name, parsed.tag or "latest"
