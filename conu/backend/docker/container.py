"""Docker containers: the generic container over :class:`DockerEngine`, plus Docker's extras."""

from __future__ import annotations

import subprocess
from typing import TYPE_CHECKING, Any

from conu.apidefs.container import Container
from conu.backend.docker.engine import DockerEngine
from conu.backend.docker.filesystem import DockerContainerFS
from conu.backend.docker.run_builder import DockerRunBuilder
from conu.exceptions import ConuException

if TYPE_CHECKING:
    from conu.apidefs.engine import Engine
    from conu.backend.docker.image import DockerImage

__all__ = ["ConuException", "DockerContainer", "DockerRunBuilder"]


class DockerContainer(Container):
    """A Docker container.

    Args:
        image: the :class:`~conu.DockerImage` it runs, or None to look it up.
        container_id: the container's id (or None with ``name``).
        name: the container's name.
        popen_instance: the ``docker run`` process of a container started in the foreground.
    """

    backend_name = "docker"
    engine_class = DockerEngine
    filesystem_class = DockerContainerFS

    def __init__(
        self,
        image: DockerImage | None,
        container_id: str | None,
        name: str | None = None,
        popen_instance: subprocess.Popen[bytes] | None = None,
        *,
        engine: Engine | None = None,
    ) -> None:
        super().__init__(image, container_id, name, popen_instance, engine=engine)

    @property
    def d(self) -> Any:
        """The low-level docker client (``docker.APIClient``), as in conu 1.0."""
        return self.engine.client  # type: ignore[attr-defined]

    def execute(  # type: ignore[override]  # conu 1.0's Docker-specific keywords
        self,
        command: list[str],
        blocking: bool = True,
        exec_create_kwargs: dict[str, Any] | None = None,
        exec_start_kwargs: dict[str, Any] | None = None,
    ) -> Any:
        """Run ``command`` in the running container.

        Args:
            command: the executable and its arguments.
            blocking: wait for it; otherwise return an iterator over its output.
            exec_create_kwargs: more arguments of docker-py's ``exec_create()``.
            exec_start_kwargs: more arguments of docker-py's ``exec_start()``.

        Returns:
            with ``blocking``, the list of output chunks (bytes, stdout and stderr merged);
            otherwise an iterator over them (the exit code is then not checked).

        Raises:
            CommandFailed: the command exited non-zero or does not exist (exit code in the
                message and in ``exit_code``).
            Conflict: the container is not running.
        """
        return super().execute(
            command,
            blocking,
            create=exec_create_kwargs or {},
            start=exec_start_kwargs or {},
        )

    def mount(self, mount_point: str | None = None) -> DockerContainerFS:
        """Return the container's filesystem; use it as a context manager."""
        return DockerContainerFS(self, mount_point=mount_point)
