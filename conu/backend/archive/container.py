"""Containers of the archive backend: read-only views of an image's root, never started."""

from __future__ import annotations

from typing import ClassVar

from conu.apidefs.container import Container
from conu.backend.archive.engine import ArchiveEngine

__all__ = ["ArchiveContainer"]


class ArchiveContainer(Container):
    """A view of an image read from an archive (see :mod:`conu.backend.archive.views`).

    Its files can be checked, copied out and mounted; starting, executing, logs, signals and
    ports raise :class:`~conu.exceptions.UnsupportedOperation`.

    Args:
        image: the :class:`~conu.backend.archive.image.ArchiveImage` it shows, or None.
        container_id: the view's id (or None with ``name``).
        name: the view's name.
    """

    backend_name: ClassVar[str] = "archive"
    engine_class = ArchiveEngine
