"""A volume to mount into a container: ``host_path:container_path[:mode]``."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from conu.exceptions import InvalidArgument

if TYPE_CHECKING:
    from conu.utils.filesystem import Directory

__all__ = ["Volume"]


class Volume:
    """A volume for ``docker run -v``: a target, optionally a source and a mode.

    Args:
        target: the path inside the container.
        source: the host path or a :class:`Directory` (a path is wrapped in a Directory that
            is not initialized).
        mode: e.g. ``"Z"``, ``"ro"``.
    """

    def __init__(
        self,
        target: str,
        source: Directory | str | os.PathLike[str] | None = None,
        mode: str | None = None,
    ) -> None:
        self.target = target
        self.source = _as_directory(source)
        self.mode = mode

    @classmethod
    def create_from_tuple(cls, volume: Any) -> Volume:
        """Make a Volume from a spec.

        Args:
            volume: ``"target"``, ``(target,)``, ``(source, target)`` or
                ``(source, target, mode)`` as a tuple or list; the source may be a Directory.
                A Volume is returned as it is.

        Returns:
            The volume.

        Raises:
            InvalidArgument: the spec has another shape or a part of the wrong type.
        """
        if isinstance(volume, Volume):
            return volume
        if isinstance(volume, str):
            return cls(target=volume)
        if not isinstance(volume, tuple | list) or not 1 <= len(volume) <= 3:
            msg = (
                f"volume {volume!r} is not 'target', (target,), (source, target)"
                " or (source, target, mode)"
            )
            raise InvalidArgument(msg)
        if len(volume) == 1:
            return cls(target=_volume_part(volume, volume[0], "target"))
        from conu.utils.filesystem import Directory

        source = volume[0]
        if not isinstance(source, Directory):
            source = _volume_part(volume, source, "source")
        target = _volume_part(volume, volume[1], "target")
        mode = _volume_part(volume, volume[2], "mode") if len(volume) == 3 else None
        return cls(target=target, source=source, mode=mode)

    def __str__(self) -> str:
        text = self.target
        if self.source is not None:
            text = f"{self.source.path}:{text}"
        if self.mode:
            text = f"{text}:{self.mode}"
        return text

    def __repr__(self) -> str:
        return f"Volume(target={self.target!r}, source={self.source!r}, mode={self.mode!r})"


def _as_directory(source: Directory | str | os.PathLike[str] | None) -> Directory | None:
    """Wrap a host path in a (not initialized) Directory; an empty path means no source."""
    from conu.utils.filesystem import Directory

    if source is None or isinstance(source, Directory):
        return source
    path = os.fspath(source)
    return Directory(path) if path else None


def _volume_part(volume: Sequence[Any], value: Any, what: str) -> str:
    """Return one part of a volume spec, which must be a non-empty path or string."""
    if isinstance(value, os.PathLike):
        value = os.fspath(value)
    if not isinstance(value, str) or not value:
        msg = f"volume {volume!r}: {what} {value!r} is not a non-empty string"
        raise InvalidArgument(msg)
    return value
