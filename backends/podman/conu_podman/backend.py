"""The podman backend."""

from __future__ import annotations

import logging
from typing import Any, ClassVar

from conu.apidefs.backend import Backend, Capability, CleanupPolicy
from conu.labels import SESSION_ID
from conu.utils.reference import Reference
from conu_podman import engine, sweep
from conu_podman.container import PodmanContainer
from conu_podman.image import PodmanImage, PodmanImagePullPolicy
from conu_podman.utils import container_metadata, image_metadata, image_names

__all__ = ["PodmanBackend"]


class PodmanBackend(Backend):
    """Podman, through its command line (daemonless: nothing to start or connect to).

    Args:
        logging_level: level for the ``conu`` logger.
        logging_kwargs: further arguments for :func:`conu.apidefs.backend.set_logging`.
        cleanup: list of :class:`CleanupPolicy` applied when the context manager exits;
            ``[CleanupPolicy.NOTHING]`` by default. Cleanup only touches what this session
            created.

    Raises:
        CommandDoesNotExistException: podman is not installed.
    """

    name = "podman"
    ContainerClass = PodmanContainer
    ImageClass = PodmanImage
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {
            Capability.EXEC,
            Capability.LOGS_FOLLOW,
            Capability.COPY,
            Capability.MOUNT,
            Capability.PORTS,
            Capability.RUN_VIA_BINARY,
            Capability.IMAGE_FILES,
            Capability.PULL_PUSH,
            Capability.BUILD,
            Capability.PID,
        }
    )
    """Everything but STDIN: containers run in the background only (no foreground run)."""

    def __init__(
        self,
        logging_level: int = logging.INFO,
        logging_kwargs: dict[str, Any] | None = None,
        cleanup: list[CleanupPolicy] | None = None,
    ) -> None:
        super().__init__(logging_level, logging_kwargs, cleanup)
        engine.argv([])  # fail now, with a clear message, when podman is missing

    def __enter__(self) -> PodmanBackend:
        super().__enter__()
        return self

    def list_containers(self) -> list[PodmanContainer]:  # type: ignore[override]
        """Return every container podman knows, running or not, with ``metadata`` filled."""
        entries = engine.run_json(["ps", "--all", "--format", "json"], what="list containers")
        return [_container_from_list(entry) for entry in entries or []]

    def list_images(self) -> list[PodmanImage]:  # type: ignore[override]
        """Return every image podman holds, with ``metadata`` filled from the list."""
        entries = engine.run_json(["images", "--format", "json"], what="list images")
        return [_image_from_list(entry) for entry in entries or []]

    def cleanup_containers(self) -> None:
        """Remove (forcibly, with anonymous volumes) the containers this session created."""
        sweep.remove_containers(SESSION_ID)

    def cleanup_volumes(self) -> None:
        """Remove the volumes (and networks) this session created."""
        sweep.remove_networks(SESSION_ID)
        sweep.remove_volumes(SESSION_ID)

    def cleanup_images(self) -> None:
        """Remove the images that carry this session's label (all their names)."""
        sweep.remove_images(SESSION_ID)

    def remove_session_resources(self, session: str) -> dict[str, int]:
        """Remove everything session ``session`` created: containers, networks, volumes and
        images carrying its label. Returns how many of each kind were found."""
        return sweep.sweep(session)

    def list_sessions(self) -> dict[str, str]:
        """Return the sessions with resources in podman: id → owner (``host/pid``)."""
        return sweep.list_sessions()


def _container_from_list(entry: dict[str, Any]) -> PodmanContainer:
    never = PodmanImagePullPolicy.NEVER
    image = PodmanImage(None, identifier=str(entry["ImageID"]), pull_policy=never)
    name = (entry.get("Names") or [""])[0] or None
    container = PodmanContainer(image, str(entry["Id"]), name=name)
    container_metadata(container.metadata, entry, image)
    return container


def _image_from_list(entry: dict[str, Any]) -> PodmanImage:
    names = image_names(entry)
    repository, tag = None, None
    if names:
        reference = Reference.parse(names[0])
        repository, tag = reference.name, reference.tag
    never = PodmanImagePullPolicy.NEVER
    image = PodmanImage(repository, tag=tag, identifier=str(entry["Id"]), pull_policy=never)
    image_metadata(image.metadata, entry)
    return image
