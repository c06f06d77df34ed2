"""The podman backend, over the podman command line (podman is daemonless)."""

from __future__ import annotations

from conu.apidefs.backend import Backend
from conu.backend.podman.container import PodmanContainer
from conu.backend.podman.engine import PodmanEngine
from conu.backend.podman.image import PodmanImage

__all__ = ["PodmanBackend"]


class PodmanBackend(Backend):
    """Podman, through its command line.

    Args:
        logging_level: level for the ``conu`` logger.
        logging_kwargs: further arguments for :func:`conu.apidefs.backend.set_logging`.
        cleanup: list of :class:`~conu.apidefs.backend.CleanupPolicy` applied when the
            context manager exits; cleanup only touches what this session created.
    """

    name = "podman"
    engine_class = PodmanEngine
    ContainerClass = PodmanContainer
    ImageClass = PodmanImage

    def get_version(self) -> str:
        """Return the version of podman, e.g. ``"4.3.1"``.

        Raises:
            CommandDoesNotExistException: podman is not installed.
        """
        return self.engine.version()  # type: ignore[attr-defined]
