"""Filesystems of Docker containers and images, unpacked through the engine's API.

No host command is needed: the engine streams the root filesystem as a tar archive, which
is extracted without trusting member names, links or device nodes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from conu.backend.common.filesystem import ContainerFilesystem, ImageFilesystem
from conu.backend.docker.client import translate_errors
from conu.backend.docker.image_files import helper_container
from conu.exceptions import ContainerNotFound
from conu.utils.archive import extract_tar_stream

if TYPE_CHECKING:
    from conu.backend.docker.container import DockerContainer
    from conu.backend.docker.image import DockerImage

__all__ = ["DockerContainerFS", "DockerContainerViaExportFS", "DockerImageViaArchiveFS"]


def _export_into(client: Any, container_id: str, mount_point: str) -> None:
    with translate_errors(f"export container {container_id[:12]!r}", not_found=ContainerNotFound):
        stream = client.export(container_id)
        extract_tar_stream(stream, mount_point)


class DockerContainerFS(ContainerFilesystem):
    """The filesystem of a :class:`~conu.DockerContainer` (running or not), as a context
    manager; ``mount_point``: host directory to unpack into (a temporary one if None)."""

    backend_name = "docker"
    container: DockerContainer

    def _populate(self) -> None:
        _export_into(self.container.d, self.container.get_id(), self.mount_point)


DockerContainerViaExportFS = DockerContainerFS
"""conu 1.0's name of :class:`DockerContainerFS`."""


class DockerImageViaArchiveFS(ImageFilesystem):
    """The filesystem of a :class:`~conu.DockerImage`, as a context manager (the image is
    never run); ``mount_point``: host directory to unpack into (a temporary one if None)."""

    backend_name = "docker"
    image: DockerImage

    def _populate(self) -> None:
        with helper_container(self.image.d, self.image.get_id()) as helper:
            _export_into(self.image.d, helper.get_id(), self.mount_point)
