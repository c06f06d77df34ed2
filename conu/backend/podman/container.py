"""Podman containers: the generic container over :class:`PodmanEngine`."""

from __future__ import annotations

from conu.apidefs.container import Container
from conu.backend.podman.engine import PodmanEngine
from conu.backend.podman.filesystem import PodmanContainerFS

__all__ = ["PodmanContainer"]


class PodmanContainer(Container):
    """A podman container (see :class:`conu.apidefs.container.Container`).

    Args:
        image: the :class:`~conu.PodmanImage` it runs, or None to look it up.
        container_id: the container's id (or None with ``name``).
        name: the container's name.
        popen_instance: the ``podman run`` process of a container started in the foreground.
    """

    backend_name = "podman"
    engine_class = PodmanEngine
    filesystem_class = PodmanContainerFS
