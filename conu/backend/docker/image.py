"""Docker images: the generic image over :class:`DockerEngine`, plus Docker's extras (the
low-level client ``d``, ``DockerContainerParameters`` for ``run_via_api``, skopeo, s2i)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from conu.apidefs.image import Image, S2Image, reference_of
from conu.apidefs.specs import PullPolicy, RunSpec
from conu.backend.docker.container import DockerContainer
from conu.backend.docker.container_parameters import (
    DockerContainerParameters,
    session_run_spec,
)
from conu.backend.docker.engine import DockerEngine
from conu.backend.docker.filesystem import DockerImageViaArchiveFS
from conu.backend.docker.run_builder import DockerRunBuilder
from conu.backend.docker.s2i import BUILD_TIMEOUT, run_s2i
from conu.backend.docker.skopeo import SkopeoMixin, SkopeoTransport, skopeo_copy

if TYPE_CHECKING:
    from conu.apidefs.engine import Engine

__all__ = ["DockerImage", "DockerImagePullPolicy", "S2IDockerImage"]

DockerImagePullPolicy = PullPolicy
"""conu 1.0's name of :class:`conu.apidefs.specs.PullPolicy` (the same enum)."""


class DockerImage(SkopeoMixin, Image):
    """A Docker image.

    Args:
        repository: ``[registry[:port]/]name``; a ``:tag`` or ``@digest`` in it is honoured.
            None for an image known only by ``identifier``.
        tag: the tag (``"latest"`` by default).
        identifier: the image id, when known.
        pull_policy: when to pull at construction.

    Raises:
        InvalidReference: ``repository`` or ``tag`` is malformed (before any engine call).
        ConuException: ``tag`` is not a str, or ``pull_policy`` not a DockerImagePullPolicy.
        RegistryError, ImageNotFound: the pull the policy asks for failed.
    """

    backend_name = "docker"
    engine_class = DockerEngine
    container_class = DockerContainer
    run_builder_class = DockerRunBuilder
    filesystem_class = DockerImageViaArchiveFS
    _RPM_STDERR_IS_LISTED: ClassVar[bool] = True

    def __init__(
        self,
        repository: str | None,
        tag: str | None = "latest",
        identifier: str | None = None,
        pull_policy: PullPolicy = PullPolicy.IF_NOT_PRESENT,
        *,
        engine: Engine | None = None,
    ) -> None:
        self.path: str | None = None
        pulled = isinstance(pull_policy, PullPolicy) and pull_policy is not PullPolicy.NEVER
        self._transport: SkopeoTransport | None = SkopeoTransport.DOCKER_DAEMON if pulled else None
        super().__init__(repository, tag, identifier, pull_policy, engine=engine)

    @property
    def d(self) -> Any:
        """The low-level docker client (``docker.APIClient``), as in conu 1.0."""
        return self._engine("d").client  # type: ignore[attr-defined]

    def pull(self) -> None:
        """Pull the image (by tag or digest) from its registry; skopeo then finds it in the
        engine.

        Raises:
            ImageNotFound: the registry has no such image.
            RegistryError: the registry refused or cannot be reached. Both messages name the
                reference and the registry's reason.
        """
        super().pull()
        self._transport = SkopeoTransport.DOCKER_DAEMON

    @classmethod
    def build(  # a longer default timeout
        cls,
        path: str,
        tag: str | None = None,
        dockerfile: str | None = None,
        *,
        labels: dict[str, str] | None = None,
        nocache: bool = False,
        timeout: float = BUILD_TIMEOUT,
    ) -> DockerImage:
        """Build an image from the context directory ``path`` (see :meth:`Image.build`)."""
        return super().build(path, tag, dockerfile, labels=labels, nocache=nocache, timeout=timeout)

    def _run_spec(self, container_params: Any) -> RunSpec:
        """Accept conu 1.0's ``DockerContainerParameters`` (all of its options reach the
        engine) besides a RunSpec."""
        if container_params is None or isinstance(container_params, RunSpec):
            return super()._run_spec(container_params)
        if not isinstance(container_params, DockerContainerParameters):
            kind = type(container_params).__name__
            msg = f"container_params must be DockerContainerParameters, not {kind}"
            raise TypeError(msg)
        return session_run_spec(self.get_id(), container_params)

    def create_container(self, container_params: Any = None) -> DockerContainer:
        """Create (not start) a container through the API from DockerContainerParameters."""
        return super().create_container(container_params)  # type: ignore[return-value]

    def run_via_api(self, container_params: Any = None) -> DockerContainer:
        """Create a container through the API and start it in the background."""
        return super().run_via_api(container_params)  # type: ignore[return-value]

    def _copy_to_image(self, image: Any) -> None:
        """Copy this image with skopeo to ``image``'s name, tag, transport and path (see
        :meth:`using_transport`); CommandDoesNotExistException without skopeo."""
        skopeo_copy(self, image)


class S2IDockerImage(DockerImage, S2Image):
    """A Docker image that is a source-to-image builder (needs the ``s2i`` binary)."""

    def extend(
        self,
        source: str,
        new_image_name: str,
        s2i_args: list[str] | None = None,
        timeout: float = BUILD_TIMEOUT,
    ) -> S2IDockerImage:
        """Build ``new_image_name`` from the sources ``source`` with this builder image.

        Raises:
            CommandDoesNotExistException: s2i is not installed.
            CommandFailed: ``s2i build`` failed (a ConuException).
        """
        target = reference_of(new_image_name, "latest")
        run_s2i(["build", *(s2i_args or []), source, self.get_full_name(), str(target)], timeout)
        return S2IDockerImage(target.name, tag=target.tag)

    def usage(self, timeout: float = 300) -> str:
        """Return the output of ``s2i usage`` for this image."""
        return run_s2i(["usage", self.get_full_name()], timeout)
