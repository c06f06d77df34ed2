"""Platforms (``os/architecture[/variant]``) and choosing one entry of an image index.

An OCI layout may list a multi-platform image as an image index: one manifest per platform,
each described by its ``platform`` object, plus attestations (platform ``unknown/unknown``).
The backend follows the index to the manifest of one platform, ``linux/amd64`` unless the
caller names another.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from conu.exceptions import ImageNotFound, InvalidArgument

__all__ = ["Platform", "choose"]


@attrs.frozen
class Platform:
    """An ``os/architecture[/variant]`` an image index entry is chosen by."""

    os: str
    architecture: str
    variant: str | None = None

    @classmethod
    def parse(cls, text: str) -> Platform:
        """Parse ``linux/amd64`` or ``linux/arm64/v8``.

        Raises:
            InvalidArgument: ``text`` is not of that form.
        """
        parts = text.split("/") if isinstance(text, str) else []
        if len(parts) not in (2, 3) or not all(parts):
            msg = f"platform must be 'os/architecture[/variant]', not {text!r}"
            raise InvalidArgument(msg)
        return cls(parts[0], parts[1], parts[2] if len(parts) == 3 else None)

    def matches(self, described: Mapping[str, Any]) -> bool:
        """Tell whether a descriptor's ``platform`` object names this platform (a variant
        it leaves out matches any)."""
        if described.get("os") != self.os or described.get("architecture") != self.architecture:
            return False
        return self.variant is None or described.get("variant") in (self.variant, None)

    def __str__(self) -> str:
        return "/".join(filter(None, (self.os, self.architecture, self.variant)))


def choose(
    entries: Sequence[Mapping[str, Any]], platform: Platform, path: str
) -> Mapping[str, Any]:
    """Pick the entry of an image index (of archive ``path``) that is for ``platform``.

    An index of a single entry that names no platform gives that entry. Among matching
    entries, one of exactly the variant asked for is preferred.

    Raises:
        ImageNotFound: no entry is for ``platform`` (the message lists those there are).
    """
    matching = [e for e in entries if platform.matches(e.get("platform") or {})]
    if not matching and len(entries) == 1 and not entries[0].get("platform"):
        matching = list(entries)
    if not matching:
        held = [_described(e.get("platform")) for e in entries if e.get("platform")]
        msg = (
            f"image archive {path!r} has no image for platform {platform}"
            f" (it has: {', '.join(held) or 'none'}); choose another platform"
        )
        raise ImageNotFound(msg)
    exact = [e for e in matching if (e.get("platform") or {}).get("variant") == platform.variant]
    return (exact or matching)[0]


def _described(platform: Any) -> str:
    """Say which platform a descriptor's ``platform`` object names."""
    described = platform if isinstance(platform, Mapping) else {}
    parts = [str(described.get(key) or "?") for key in ("os", "architecture")]
    return "/".join([*parts, str(described["variant"])] if described.get("variant") else parts)
