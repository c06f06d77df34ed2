"""Filesystems of a container or an image; a backend supplies only how to unpack them.

A backend subclasses :class:`ContainerFilesystem` or :class:`ImageFilesystem` and implements
``_populate``: unpack the root filesystem into ``self.mount_point``; it may narrow the type
of ``container`` or ``image`` with a class-level annotation. The constructors keep conu's
keyword names (``container=``, ``image=``).
"""

from __future__ import annotations

from typing import Any

from conu.apidefs.filesystem import Filesystem

__all__ = ["ContainerFilesystem", "ImageFilesystem"]


class ContainerFilesystem(Filesystem):
    """The filesystem of a container (running or not), as a context manager.

    Args:
        container: the container.
        mount_point: host directory to unpack into; a temporary one (removed on exit) if None.
    """

    def __init__(self, container: Any, mount_point: str | None = None) -> None:
        super().__init__(container, mount_point=mount_point)
        self.container = container


class ImageFilesystem(Filesystem):
    """The filesystem of an image, as a context manager (the image is never run).

    Args:
        image: the image.
        mount_point: host directory to unpack into; a temporary one (removed on exit) if None.
    """

    def __init__(self, image: Any, mount_point: str | None = None) -> None:
        super().__init__(image, mount_point=mount_point)
        self.image = image
