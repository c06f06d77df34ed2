"""Filesystems of podman containers and images, unpacked from a streamed ``podman export``.

``podman export`` writes the container's root filesystem as a tar stream; it is extracted as
it arrives by :func:`conu.utils.archive.extract_tar_stream`, which trusts no member name,
link or device. An image is exported through a helper container that is created, never
started, and always removed. Paths given to the filesystem are resolved inside its root
(:class:`conu.apidefs.filesystem.Filesystem`), so symlinks never lead to host files.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from conu.backend.common.filesystem import ContainerFilesystem, ImageFilesystem
from conu_podman import files
from conu_podman.helper import helper_container

if TYPE_CHECKING:
    from conu_podman.container import PodmanContainer
    from conu_podman.image import PodmanImage

__all__ = ["PodmanContainerFS", "PodmanImageFS"]


class PodmanContainerFS(ContainerFilesystem):
    """The filesystem of a :class:`~conu_podman.PodmanContainer` (running or not), as a
    context manager; ``mount_point``: host directory to unpack into (temporary if None)."""

    backend_name = "podman"
    container: PodmanContainer

    def _populate(self) -> None:
        files.export_into(self.container.get_id(), self.mount_point)


class PodmanImageFS(ImageFilesystem):
    """The filesystem of a :class:`~conu_podman.PodmanImage`, as a context manager (the
    image is never run); ``mount_point``: host directory to unpack into (temporary if None)."""

    backend_name = "podman"
    image: PodmanImage

    def _populate(self) -> None:
        with helper_container(self.image.get_id()) as helper:
            files.export_into(helper, self.mount_point)
