"""The Docker backend."""

from __future__ import annotations

import logging
from typing import Any, ClassVar

from conu.apidefs.backend import Backend, Capability, CleanupPolicy
from conu.backend.docker import sweep
from conu.backend.docker.client import get_client, translate_errors
from conu.backend.docker.container import DockerContainer
from conu.backend.docker.image import DockerImage, DockerImagePullPolicy
from conu.backend.docker.utils import inspect_to_container_metadata, inspect_to_metadata
from conu.exceptions import RegistryError
from conu.labels import session_filter
from conu.utils import parse_reference
from conu.utils.reference import Reference

__all__ = ["DockerBackend", "parse_reference"]


class DockerBackend(Backend):
    """The Docker engine, through the docker SDK (``DOCKER_HOST`` and TLS honoured).

    Args:
        logging_level: level for the ``conu`` logger.
        logging_kwargs: further arguments for :func:`conu.apidefs.backend.set_logging`.
        cleanup: list of :class:`CleanupPolicy` applied when the context manager exits;
            ``[CleanupPolicy.NOTHING]`` by default. Cleanup only touches what this session
            created.

    Raises:
        EngineUnreachable: the engine does not answer.
    """

    name = "docker"
    ContainerClass = DockerContainer
    ImageClass = DockerImage
    capabilities: ClassVar[frozenset[Capability]] = frozenset(Capability)

    def __init__(
        self,
        logging_level: int = logging.INFO,
        logging_kwargs: dict[str, Any] | None = None,
        cleanup: list[CleanupPolicy] | None = None,
    ) -> None:
        super().__init__(logging_level, logging_kwargs, cleanup)
        self.d = get_client()

    def __enter__(self) -> DockerBackend:
        super().__enter__()
        return self

    def list_containers(self) -> list[DockerContainer]:  # type: ignore[override]
        """Return every container of the engine, running or not, with ``metadata`` filled."""
        with translate_errors("list containers"):
            entries = self.d.containers(all=True)
        return [self._container_from_list(entry) for entry in entries]

    def _container_from_list(self, entry: dict[str, Any]) -> DockerContainer:
        image = DockerImage(
            None, identifier=entry["ImageID"], pull_policy=DockerImagePullPolicy.NEVER
        )
        name = (entry.get("Names") or [""])[0].lstrip("/") or None
        container = DockerContainer(image, entry["Id"], name=name)
        inspect_to_container_metadata(container.metadata, entry, image)
        return container

    def list_images(self) -> list[DockerImage]:  # type: ignore[override]
        """Return every image of the engine, with ``metadata`` filled from the list."""
        with translate_errors("list images"):
            entries = self.d.images()
        return [_image_from_list(entry) for entry in entries]

    def cleanup_containers(self) -> None:
        """Remove (forcibly, with anonymous volumes) the containers this session created."""
        sweep.remove_containers(self.d, session_filter())

    def cleanup_volumes(self) -> None:
        """Remove the volumes (and networks) this session created."""
        sweep.remove_networks(self.d, session_filter())
        sweep.remove_volumes(self.d, session_filter())

    def cleanup_images(self) -> None:
        """Remove the images that carry this session's label (all their names)."""
        sweep.remove_images(self.d, session_filter())

    def remove_session_resources(self, session: str) -> dict[str, int]:
        """Remove everything session ``session`` created: containers, networks, volumes and
        images carrying its label. Returns how many of each kind were found."""
        return sweep.sweep(self.d, session)

    def list_sessions(self) -> dict[str, str]:
        """Return the sessions with resources on the engine: id → owner (``host/pid``)."""
        return sweep.list_sessions(self.d)

    def login(
        self,
        username: str,
        password: str | None = None,
        email: str | None = None,
        registry: str | None = None,
        reauth: bool = False,
        dockercfg_path: str | None = None,
    ) -> None:
        """Log in to a registry for later pulls and pushes.

        Raises:
            RegistryError: the registry refused the credentials.
        """
        with translate_errors(
            f"log in to {registry or 'the default registry'!r}", api_error=RegistryError
        ):
            self.d.login(
                username,
                password=password,
                email=email,
                registry=registry,
                reauth=reauth,
                dockercfg_path=dockercfg_path,
            )


def _image_from_list(entry: dict[str, Any]) -> DockerImage:
    tags = [t for t in entry.get("RepoTags") or [] if t != "<none>:<none>"]
    repository, tag = None, None
    if tags:
        reference = Reference.parse(tags[0])
        repository, tag = reference.name, reference.tag
    image = DockerImage(
        repository, tag=tag, identifier=entry["Id"], pull_policy=DockerImagePullPolicy.NEVER
    )
    inspect_to_metadata(image.metadata, entry)
    image.metadata.image_names = tags
    return image
