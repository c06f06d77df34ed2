"""The Docker backend."""

from __future__ import annotations

import logging
from typing import Any

from conu.apidefs.backend import Backend, CleanupPolicy
from conu.backend.docker.container import DockerContainer
from conu.backend.docker.engine import DockerEngine
from conu.backend.docker.image import DockerImage
from conu.utils import parse_reference

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
    engine_class = DockerEngine
    ContainerClass = DockerContainer
    ImageClass = DockerImage

    def __init__(
        self,
        logging_level: int = logging.INFO,
        logging_kwargs: dict[str, Any] | None = None,
        cleanup: list[CleanupPolicy] | None = None,
    ) -> None:
        super().__init__(logging_level, logging_kwargs, cleanup)
        self.d = self.engine.client  # type: ignore[attr-defined]

    def __enter__(self) -> DockerBackend:
        super().__enter__()
        return self

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
        self.engine.login(  # type: ignore[attr-defined]
            username,
            password=password,
            email=email,
            registry=registry,
            reauth=reauth,
            dockercfg_path=dockercfg_path,
        )
