"""Filesystems of podman containers and images, unpacked from the engine's exports."""

from __future__ import annotations

from conu.apidefs.filesystem import ContainerFilesystem, ImageFilesystem

__all__ = ["PodmanContainerFS", "PodmanImageFS"]


class PodmanContainerFS(ContainerFilesystem):
    """The filesystem of a :class:`~conu.PodmanContainer`, as a context manager."""

    backend_name = "podman"


class PodmanImageFS(ImageFilesystem):
    """The filesystem of a :class:`~conu.PodmanImage`, as a context manager (never run)."""

    backend_name = "podman"
