"""The Docker backend."""

from __future__ import annotations

import contextlib
import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Any, ClassVar

from conu.apidefs.backend import Backend, Capability, CleanupPolicy
from conu.backend.docker.client import get_client, translate_errors
from conu.backend.docker.container import DockerContainer
from conu.backend.docker.image import DockerImage, DockerImagePullPolicy
from conu.backend.docker.utils import inspect_to_container_metadata, inspect_to_metadata
from conu.exceptions import Conflict, NotFound, RegistryError
from conu.labels import session_filter
from conu.utils import parse_reference
from conu.utils.reference import Reference

__all__ = ["DockerBackend", "parse_reference"]

CLEANUP_THREADS = 8


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
        with translate_errors("list this session's containers"):
            ids = [c["Id"] for c in self.d.containers(all=True, filters=session_filter())]
        self._remove_all(ids, self.d.remove_container, force=True, v=True)

    def cleanup_volumes(self) -> None:
        """Remove the volumes this session created."""
        with translate_errors("list this session's volumes"):
            volumes = self.d.volumes(filters=session_filter()).get("Volumes") or []
        self._remove_all([v["Name"] for v in volumes], self.d.remove_volume, force=True)

    def cleanup_images(self) -> None:
        """Remove the images that carry this session's label (all their names).

        Newest first and one at a time: an image built on another inherits its labels, and
        the engine refuses to remove a parent before its children.
        """
        with translate_errors("list this session's images"):
            entries = self.d.images(filters=session_filter())
        for entry in sorted(entries, key=lambda e: e.get("Created") or 0, reverse=True):
            with contextlib.suppress(NotFound), translate_errors(f"remove image {entry['Id']!r}"):
                self.d.remove_image(entry["Id"], force=True)

    @staticmethod
    def _remove_all(ids: list[str], remove: Any, **kwargs: Any) -> None:
        def one(ident: str) -> None:
            try:
                with translate_errors(f"remove {ident[:12]!r}"):
                    remove(ident, **kwargs)
            except NotFound:
                pass  # already gone (e.g. a container started with --rm)
            except Conflict as exc:
                # the engine is removing it already (an exited --rm container)
                if "already in progress" not in str(exc):
                    raise

        if not ids:
            return
        with ThreadPoolExecutor(min(CLEANUP_THREADS, len(ids))) as pool:
            list(pool.map(one, ids))

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
