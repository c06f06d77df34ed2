"""Checking the PGP signatures of RPM packages, as ``rpm -qa`` reports them."""

from __future__ import annotations

import re
from collections.abc import Iterable

from conu.exceptions import PackageSignatureException

__all__ = ["RPM_QUERY_FORMAT", "check_signatures"]

RPM_QUERY_FORMAT = "%{NAME} %{SIGPGP:pgpsig}\n"
"""``rpm -qa --qf`` format giving one ``<name> <signature>`` line per package."""

_KEY_ID = re.compile(r"Key ID ([0-9a-fA-F]+)")
_ALWAYS_ALLOWED = "gpg-pubkey"
_SHOWN = 10


def check_signatures(pkg_list: Iterable[str], allowed_keys: Iterable[str]) -> None:
    """Check that every package line is signed with one of ``allowed_keys``.

    Args:
        pkg_list: lines of ``rpm -qa --qf RPM_QUERY_FORMAT``; blank lines are ignored and
            ``gpg-pubkey`` entries (the keys themselves) always pass.
        allowed_keys: key ids, matched case-insensitively.

    Raises:
        PackageSignatureException: a line is unparseable, a package is unsigned, or it is
            signed with a key not allowed. The message lists the offending packages.
    """
    allowed = {key.lower() for key in allowed_keys}
    problems = [p for p in (_problem(line, allowed) for line in pkg_list) if p]
    if problems:
        shown = "; ".join(problems[:_SHOWN])
        more = f" (and {len(problems) - _SHOWN} more)" if len(problems) > _SHOWN else ""
        msg = f"{len(problems)} package(s) fail the signature check: {shown}{more}"
        raise PackageSignatureException(msg)


def _problem(line: str, allowed: set[str]) -> str | None:
    """Describe what is wrong with one package line, or return None."""
    line = line.strip()
    if not line:
        return None
    name, _space, signature = line.partition(" ")
    if name == _ALWAYS_ALLOWED:
        return None
    if not signature:
        return f"cannot parse {line!r}"
    match = _KEY_ID.search(signature)
    if match is None:
        return f"{name} is not signed ({signature.strip()})"
    key = match.group(1).lower()
    if key not in allowed:
        return f"{name} is signed with key {key}, which is not allowed"
    return None
