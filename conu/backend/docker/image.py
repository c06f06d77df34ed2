"""Docker images: identity, registry operations, files, and running containers."""

from __future__ import annotations

import contextlib
import enum
import logging
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from conu.apidefs.image import Image, S2Image
from conu.apidefs.metadata import ImageMetadata
from conu.backend.docker import files, running
from conu.backend.docker.client import get_client, translate_errors
from conu.backend.docker.utils import inspect_to_metadata
from conu.exceptions import (
    BuildFailed,
    ConuException,
    ImageNotFound,
    InvalidArgument,
    RegistryError,
    WrongFileType,
)
from conu.labels import session_labels
from conu.utils.reference import Reference

if TYPE_CHECKING:
    from conu.backend.docker.container import DockerContainer
    from conu.backend.docker.filesystem import DockerImageViaArchiveFS

__all__ = ["DockerImage", "DockerImagePullPolicy", "S2IDockerImage"]

logger = logging.getLogger(__name__)


class DockerImagePullPolicy(enum.Enum):
    """When :class:`DockerImage` pulls the image at construction."""

    NEVER = 0
    IF_NOT_PRESENT = 1
    ALWAYS = 2


class DockerImage(Image):
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
    """

    backend_name = "docker"

    def __init__(
        self,
        repository: str | None,
        tag: str | None = "latest",
        identifier: str | None = None,
        pull_policy: DockerImagePullPolicy = DockerImagePullPolicy.IF_NOT_PRESENT,
    ) -> None:
        if tag is not None and not isinstance(tag, str):
            msg = f"tag must be a str or None, not {type(tag).__name__}"
            raise ConuException(msg)
        if not isinstance(pull_policy, DockerImagePullPolicy):
            msg = f"pull_policy must be a DockerImagePullPolicy, not {pull_policy!r}"
            raise ConuException(msg)
        self.reference = _reference(repository, tag) if repository is not None else None
        if repository is None and not identifier:
            msg = "an image needs a repository or an identifier"
            raise InvalidArgument(msg)
        name = self.reference.name if self.reference else None
        super().__init__(name, self.reference.tag if self.reference else tag)
        self._id = identifier
        self.d = get_client()
        self.pull_policy = pull_policy
        self._inspect_data: dict[str, Any] | None = None
        self.metadata = ImageMetadata()
        self.path: str | None = None
        self._apply_pull_policy()

    def _apply_pull_policy(self) -> None:
        policy = self.pull_policy
        if policy is DockerImagePullPolicy.NEVER:
            return
        if policy is DockerImagePullPolicy.ALWAYS or not self.is_present():
            self.pull()

    def __str__(self) -> str:
        return self.get_full_name()

    # -- identity -------------------------------------------------------------------------

    def get_full_name(self) -> str:
        """Return ``repository:tag`` (``repository@digest``; the id for an unnamed image)."""
        if self.reference is None:
            return str(self._id)
        return str(self.reference)

    def _ref(self) -> str:
        return self._id or self.get_full_name()

    def get_id(self) -> str:
        """Return the full image id, ``sha256:<hex>``."""
        if self._id is None:
            self._id = self.inspect(refresh=False)["Id"]
        return self._id

    def inspect(self, refresh: bool = True) -> dict[str, Any]:
        """Return ``docker inspect`` of the image (cached unless ``refresh``).

        Raises:
            ImageNotFound: the engine does not hold the image.
        """
        if refresh or self._inspect_data is None:
            with translate_errors(f"inspect image {self._ref()!r}", not_found=ImageNotFound):
                self._inspect_data = self.d.inspect_image(self._ref())
        return self._inspect_data

    def is_present(self) -> bool:
        """Tell whether the engine holds this image."""
        try:
            self.inspect()
        except ImageNotFound:
            return False
        return True

    def get_metadata(self) -> ImageMetadata:
        """Return fresh metadata (labels, env, command, ports, digests…); also a mapping."""
        return inspect_to_metadata(self.metadata, self.inspect(refresh=True))

    def get_layer_ids(self, rev: bool = True) -> list[str]:
        """Return the ids of the image's layers, newest first (oldest first with ``rev=False``)."""
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
        """Pull the image from its registry.

        Raises:
            RegistryError: the registry refused, or has no such image (message names both the
                reference and the registry's reason).
        """
        if self.reference is None:
            msg = f"image {self._id!r} has no repository to pull from"
            raise InvalidArgument(msg)
        ref = self.reference
        what = f"pull {self.get_full_name()!r}"
        with translate_errors(what, not_found=ImageNotFound, api_error=RegistryError):
            tag = ref.digest or ref.tag or "latest"
            events = self.d.pull(ref.name, tag=tag, stream=True, decode=True)
            _consume(events, what, RegistryError)
        self._inspect_data = None

    def push(self, repository: str | None = None, tag: str | None = None) -> DockerImage:
        """Push the image (tagged first as ``repository:tag`` when given) and return it.

        Raises:
            RegistryError: the registry refused the push.
        """
        image = self.tag_image(repository, tag) if repository or tag else self
        what = f"push {image.get_full_name()!r}"
        with translate_errors(what, not_found=ImageNotFound, api_error=RegistryError):
            name = image.reference.name if image.reference else image.get_full_name()
            events = self.d.push(name, tag=image.tag, stream=True, decode=True)
            _consume(events, what, RegistryError)
        return image

    def tag_image(self, repository: str | None = None, tag: str | None = None) -> DockerImage:
        """Tag the image as ``repository:tag`` (defaults: this repository, ``latest``).

        Raises:
            ValueError: neither ``repository`` nor ``tag`` is given.
        """
        if not repository and not tag:
            msg = "tag_image needs a repository or a tag"
            raise ValueError(msg)
        target = _reference(repository or self.name or "", tag or "latest")
        with translate_errors(f"tag {self._ref()!r} as {str(target)!r}", not_found=ImageNotFound):
            self.d.tag(self.get_id(), target.name, tag=target.tag)
        return DockerImage(
            target.name,
            tag=target.tag,
            identifier=self.get_id(),
            pull_policy=DockerImagePullPolicy.NEVER,
        )

    def rmi(self, force: bool = False, via_name: bool = False) -> None:
        """Remove the image, by id or, with ``via_name``, only this name."""
        ref = self.get_full_name() if via_name else self.get_id()
        with translate_errors(f"remove image {ref!r}", not_found=ImageNotFound):
            self.d.remove_image(ref, force=force)
        self._inspect_data = None

    @classmethod
    def build(cls, path: str, tag: str | None = None, dockerfile: str | None = None) -> DockerImage:
        """Build an image from directory ``path`` and return it.

        Raises:
            BuildFailed: the build failed; the message has the builder's last output.
        """
        if not path:
            msg = "build needs the path of a build context"
            raise InvalidArgument(msg)
        reference = _reference(tag, None) if tag else None
        what = f"build {path!r}"
        client = get_client()
        with translate_errors(what, api_error=BuildFailed):
            events = client.build(
                path=path,
                tag=str(reference) if reference else None,
                dockerfile=dockerfile,
                rm=True,
                forcerm=True,
                decode=True,
            )
            image_id = _consume(events, what, BuildFailed)
        if not image_id:
            msg = f"{what}: the engine reported no image id"
            raise BuildFailed(msg)
        name, tag_ = (reference.name, reference.tag) if reference else (None, None)
        return cls(name, tag=tag_, identifier=image_id, pull_policy=DockerImagePullPolicy.NEVER)

    # -- files ----------------------------------------------------------------------------

    @contextlib.contextmanager
    def _helper_container(self) -> Iterator[_Helper]:
        """Yield a created, never started container of this image; always removed after."""
        with translate_errors(
            f"create a helper container of {self._ref()!r}", not_found=ImageNotFound
        ):
            created = self.d.create_container(
                self.get_id(),
                entrypoint=["/.conu-never-run"],
                command=[],
                labels=session_labels(),
                network_disabled=True,
            )
        helper = _Helper(self.d, created["Id"])
        try:
            yield helper
        finally:
            with translate_errors(f"remove helper container {helper.cid[:12]!r}"):
                self.d.remove_container(helper.cid, force=True, v=True)

    def file_is_present(self, file_path: str) -> bool:
        """Tell whether ``file_path`` is a regular file in the image, without running it.

        Raises:
            WrongFileType: it exists but is not a regular file (an ``OSError`` too).
        """
        with self._helper_container() as helper:
            stat = files.stat_path(helper, file_path)
        if stat is not None and not stat.is_file:
            raise WrongFileType(21, f"{file_path!r} exists but is not a regular file", file_path)
        return stat is not None

    def directory_is_present(self, directory_path: str) -> bool:
        """Tell whether ``directory_path`` is a directory in the image, without running it.

        Raises:
            WrongFileType: it exists but is not a directory (an ``OSError`` too).
        """
        with self._helper_container() as helper:
            stat = files.stat_path(helper, directory_path)
        if stat is not None and not stat.is_dir:
            raise WrongFileType(
                20, f"{directory_path!r} exists but is not a directory", directory_path
            )
        return stat is not None

    def read_file(self, file_path: str) -> str:
        """Return the text of ``file_path`` in the image, without running it.

        Raises:
            ConuException: the file does not exist or is not a regular file.
        """
        with self._helper_container() as helper:
            return files.read_path(helper, file_path).decode("utf-8", errors="replace")

    def mount(self, mount_point: str | None = None) -> DockerImageViaArchiveFS:
        """Return the image's filesystem; its files appear inside a ``with`` block."""
        from conu.backend.docker.filesystem import DockerImageViaArchiveFS

        return DockerImageViaArchiveFS(self, mount_point=mount_point)

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


class _Helper:
    """What :mod:`conu.backend.docker.files` needs of a container: a client and an id."""

    def __init__(self, client: Any, cid: str) -> None:
        self.d = client
        self.cid = cid

    def get_id(self) -> str:
        return self.cid


def _reference(repository: str, tag: str | None) -> Reference:
    reference = Reference.parse(repository)
    if reference.tag or reference.digest or not tag:
        return reference
    return Reference.parse(f"{reference.name}:{tag}")


def _consume(events: Any, what: str, error: type[ConuException]) -> str | None:
    """Log a JSON event stream of the engine; raise ``error`` on an error event.

    Returns:
        the image id the stream announced (builds), else None.
    """
    image_id = None
    last: list[str] = []
    for event in events:
        if "error" in event:
            detail = (event.get("errorDetail") or {}).get("message") or event["error"]
            tail = "".join(last[-5:]).strip()
            msg = f"cannot {what}: {str(detail).strip()}" + (f"\n{tail}" if tail else "")
            raise error(msg)
        text = event.get("stream") or event.get("status") or ""
        if text:
            last.append(text if text.endswith("\n") else text + "\n")
            logger.info("%s", text.rstrip())
        image_id = (event.get("aux") or {}).get("ID") or image_id
    return image_id
