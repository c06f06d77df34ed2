"""Filesystems of Docker containers and images, unpacked from the engine's exports.

No host command is needed: the engine streams the root filesystem as a tar archive, which
is extracted without trusting member names, links or device nodes.
"""

from __future__ import annotations

from conu.apidefs.filesystem import ContainerFilesystem, ImageFilesystem

__all__ = ["DockerContainerFS", "DockerContainerViaExportFS", "DockerImageViaArchiveFS"]


class DockerContainerFS(ContainerFilesystem):
    """The filesystem of a :class:`~conu.DockerContainer` (running or not), as a context
    manager; ``mount_point``: host directory to unpack into (a temporary one if None)."""

    backend_name = "docker"


DockerContainerViaExportFS = DockerContainerFS
"""conu 1.0's name of :class:`DockerContainerFS`."""


class DockerImageViaArchiveFS(ImageFilesystem):
    """The filesystem of a :class:`~conu.DockerImage`, as a context manager (the image is
    never run); ``mount_point``: host directory to unpack into (a temporary one if None)."""

    backend_name = "docker"
