"""Docker images: identity, registry operations, builds, archives and running containers.

File checks and mounts live in :mod:`~conu.backend.docker.image_files`, skopeo copies in
:mod:`~conu.backend.docker.skopeo`; :class:`DockerImage` combines them.
"""

from __future__ import annotations

import enum
import os
from typing import TYPE_CHECKING, Any

from conu.apidefs.image import Image, S2Image
from conu.apidefs.metadata import ImageMetadata
from conu.backend.common.image import NamedImageMixin, check_image_arguments, reference_of
from conu.backend.docker import running
from conu.backend.docker.archives import ArchiveMixin
from conu.backend.docker.client import get_client, translate_errors
from conu.backend.docker.events import consume
from conu.backend.docker.image_files import ImageFilesMixin
from conu.backend.docker.s2i import BUILD_TIMEOUT, run_s2i
from conu.backend.docker.skopeo import SkopeoMixin, SkopeoTransport
from conu.backend.docker.utils import inspect_to_metadata
from conu.exceptions import (
    BuildFailed,
    ConuException,
    ImageNotFound,
    InvalidArgument,
    RegistryError,
)

if TYPE_CHECKING:
    from conu.backend.docker.container import DockerContainer

__all__ = ["DockerImage", "DockerImagePullPolicy", "S2IDockerImage"]


class DockerImagePullPolicy(enum.Enum):
    """When :class:`DockerImage` pulls the image at construction."""

    NEVER = 0
    IF_NOT_PRESENT = 1
    ALWAYS = 2


class DockerImage(NamedImageMixin, ImageFilesMixin, ArchiveMixin, SkopeoMixin, Image):
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

    def __init__(
        self,
        repository: str | None,
        tag: str | None = "latest",
        identifier: str | None = None,
        pull_policy: DockerImagePullPolicy = DockerImagePullPolicy.IF_NOT_PRESENT,
    ) -> None:
        self.reference = check_image_arguments(
            repository, tag, identifier, pull_policy, DockerImagePullPolicy
        )
        name = self.reference.name if self.reference else None
        super().__init__(name, self.reference.tag if self.reference else tag)
        self._id = identifier
        self.d = get_client()
        self.pull_policy = pull_policy
        self._inspect_data: dict[str, Any] | None = None
        self.metadata = ImageMetadata()
        self.path: str | None = None
        self._transport: SkopeoTransport | None = None
        self._apply_pull_policy(pull_policy)

    # -- identity (get_id, get_full_name, is_present: NamedImageMixin) --------------------

    def inspect(self, refresh: bool = True) -> dict[str, Any]:
        """Return ``docker inspect`` of the image (cached unless ``refresh``).

        Raises:
            ImageNotFound: the engine does not hold the image.
        """
        if refresh or self._inspect_data is None:
            with translate_errors(f"inspect image {self._ref()!r}", not_found=ImageNotFound):
                self._inspect_data = self.d.inspect_image(self._ref())
        return self._inspect_data

    def get_metadata(self) -> ImageMetadata:
        """Return fresh metadata (labels, env, command, ports, digests…); also a mapping."""
        return inspect_to_metadata(self.metadata, self.inspect(refresh=True))

    def get_layer_ids(self, rev: bool = True) -> list[str]:
        """Return the ids of the image's layers, newest first (oldest first with ``rev=False``).

        Layers built elsewhere and pulled have no id in the engine: they are ``"<missing>"``.
        """
        with translate_errors(f"read history of {self._ref()!r}", not_found=ImageNotFound):
            history = self.d.history(self.get_id())
        ids = [str(layer["Id"]) for layer in history]
        return ids if rev else ids[::-1]

    def layers(self, rev: bool = True) -> list[DockerImage]:
        """Return the image's layers as images (those the engine still has an id for)."""
        ids = [i for i in self.get_layer_ids(rev) if i != "<missing>"]
        return [
            DockerImage(None, identifier=i, pull_policy=DockerImagePullPolicy.NEVER) for i in ids
        ]

    # -- registry -------------------------------------------------------------------------

    def pull(self) -> None:
        """Pull the image (by tag or digest) from its registry.

        Raises:
            ImageNotFound: the registry has no such image.
            RegistryError: the registry refused or cannot be reached. Both messages name the
                reference and the registry's reason.
        """
        ref = self._pull_reference()
        what = f"pull {self.get_full_name()!r}"
        with translate_errors(what, not_found=ImageNotFound, api_error=RegistryError):
            events = self.d.pull(
                ref.name, tag=ref.digest or ref.tag or "latest", stream=True, decode=True
            )
            consume(events, what, RegistryError)
        self._inspect_data = None

    def push(self, repository: str | None = None, tag: str | None = None) -> DockerImage:
        """Push the image (tagged first as ``repository:tag`` when given) and return it.

        Raises:
            RegistryError: the registry refused the push or cannot be reached.
        """
        image = self._push_target(repository, tag)
        assert image.reference is not None
        what = f"push {image.get_full_name()!r}"
        with translate_errors(what, not_found=ImageNotFound, api_error=RegistryError):
            events = self.d.push(image.reference.name, tag=image.tag, stream=True, decode=True)
            consume(events, what, RegistryError)
        return image

    def tag_image(self, repository: str | None = None, tag: str | None = None) -> DockerImage:
        """Tag the image as ``repository:tag`` (defaults: this repository, ``latest``).

        Raises:
            ValueError: neither ``repository`` nor ``tag`` is given (InvalidArgument).
            InvalidReference: the new name is malformed.
        """
        target = self._tag_target(repository, tag)
        with translate_errors(f"tag {self._ref()!r} as {str(target)!r}", not_found=ImageNotFound):
            self.d.tag(self.get_id(), target.name, tag=target.tag)
        return DockerImage(
            target.name,
            tag=target.tag,
            identifier=self.get_id(),
            pull_policy=DockerImagePullPolicy.NEVER,
        )

    def rmi(self, force: bool = False, via_name: bool = False, *, prune: bool = True) -> None:
        """Remove the image, by id or, with ``via_name``, only this name.

        With ``prune=False`` untagged parents are kept (see :meth:`Image.rmi`).
        """
        ref = self.get_full_name() if via_name else self.get_id()
        with translate_errors(f"remove image {ref!r}", not_found=ImageNotFound):
            self.d.remove_image(ref, force=force, noprune=not prune)
        self._forget_removed()

    @classmethod
    def build(
        cls,
        path: str,
        tag: str | None = None,
        dockerfile: str | None = None,
        *,
        labels: dict[str, str] | None = None,
        nocache: bool = False,
        timeout: float = BUILD_TIMEOUT,
    ) -> DockerImage:
        """Build an image from the context directory ``path`` and return it.

        Args:
            path: the build context (a directory).
            tag: name the image ``tag`` (``repository[:tag]``).
            dockerfile: the Dockerfile's path within the context (``Dockerfile`` by default).
            labels: labels to add to the image.
            nocache: build every step afresh. An image whose layers come from the cache
                shares them with other images: removing it can remove layers a concurrent
                build is using (the engine prunes untagged parents).
            timeout: seconds the engine may stay silent during the build.

        Raises:
            InvalidArgument: ``path`` is not a directory.
            BuildFailed: the build failed; the message has the builder's last output.
        """
        if not path or not os.path.isdir(path):
            msg = f"build needs the path of a build context directory, not {path!r}"
            raise InvalidArgument(msg)
        reference = reference_of(tag, None) if tag else None
        what = f"build {path!r}"
        client = get_client()
        with translate_errors(what, api_error=BuildFailed, timeout=timeout):
            events = client.build(
                path=path,
                tag=str(reference) if reference else None,
                dockerfile=dockerfile,
                rm=True,
                forcerm=True,
                labels=labels,
                nocache=nocache,
                timeout=timeout,
                decode=True,
            )
            ids = consume(events, what, BuildFailed)
        if not ids:
            msg = f"{what}: the engine reported no image id"
            raise BuildFailed(msg)
        name, tag_ = (reference.name, reference.tag) if reference else (None, None)
        return cls(name, tag=tag_, identifier=ids[-1], pull_policy=DockerImagePullPolicy.NEVER)

    # -- running containers -------------------------------------------------------------

    @staticmethod
    def get_volume_options(volumes: Any) -> list[str]:
        """Turn volume specs (``"/t"``, ``(src, tgt)``, ``(src, tgt, mode)``) into ``-v`` args."""
        return running.volume_options(volumes)

    def run_via_binary(
        self,
        run_command_instance: Any = None,
        command: list[str] | None = None,
        volumes: Any = None,
        additional_opts: list[str] | None = None,
        **kwargs: Any,
    ) -> DockerContainer:
        """Run a container in the background with the docker command-line client.

        Raises:
            ContainerFailed: ``docker run`` failed (e.g. the command does not exist).
        """
        builder = running.make_builder(run_command_instance, command, additional_opts)
        return running.run_detached(self, builder, volumes)

    def run_via_binary_in_foreground(
        self,
        run_command_instance: Any = None,
        command: list[str] | None = None,
        volumes: Any = None,
        additional_opts: list[str] | None = None,
        popen_params: dict[str, Any] | None = None,
        container_name: str | None = None,
    ) -> DockerContainer:
        """Run a container with ``docker run`` kept in the foreground as a Popen.

        Pass ``additional_opts=["-i"]`` and ``popen_params={"stdin": subprocess.PIPE}`` to
        write to its stdin with :meth:`DockerContainer.write_to_stdin`.
        """
        builder = running.make_builder(run_command_instance, command, additional_opts)
        return running.run_foreground(self, builder, volumes, popen_params, container_name)

    def create_container(self, container_params: Any = None) -> DockerContainer:
        """Create (not start) a container through the API from DockerContainerParameters."""
        return running.create(self, container_params)

    def run_via_api(self, container_params: Any = None) -> DockerContainer:
        """Create a container through the API and start it in the background."""
        container = running.create(self, container_params)
        try:
            container.start()
        except ConuException:
            container.delete(force=True)
            raise
        return container


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
