"""The filesystem of an archive image on the host: its extracted root, linked into place."""

from __future__ import annotations

import tempfile
from typing import Any

from conu.apidefs.filesystem import ImageFilesystem

__all__ = ["ArchiveImageFilesystem"]


class ArchiveImageFilesystem(ImageFilesystem):
    """An image's files under a mount point, made from the image's extracted root.

    Directories and symbolic links are made anew and regular files are hard links to the
    extracted files (copies when the mount point is on another filesystem), so mounting costs
    no copy of the data; treat the files as read-only. Device nodes are not created.

    Args:
        image: the :class:`~conu.backend.archive.image.ArchiveImage`.
        mount_point: host directory to fill; a temporary one (removed on exit) if None.
    """

    tmp_parent = tempfile.gettempdir()  # next to the extracted roots: hard links work

    def __init__(self, image: Any, mount_point: str | None = None) -> None:
        super().__init__(image, mount_point=mount_point)

    def _populate(self) -> None:
        self.image.extracted_root().link_into(self.mount_point)
