"""The abstract image: what every backend's image offers."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from conu.exceptions import UnsupportedOperation

if TYPE_CHECKING:
    from conu.apidefs.container import Container
    from conu.apidefs.filesystem import Filesystem
    from conu.apidefs.metadata import CommandResult, ImageMetadata, PathInfo

__all__ = ["Image", "S2Image"]


class Image:
    """A container image of some backend.

    The generic class is also a plain name holder: a container whose image is unknown to
    conu refers to ``Image(name)``.

    Args:
        image_reference: the repository (``registry/name``), or None for an image known by id.
        tag: the tag, or None.
    """

    backend_name = "<abstract_backend>"

    def __init__(self, image_reference: str | None, tag: str | None = None) -> None:
        self.name = image_reference
        self.tag = tag
        self._metadata: ImageMetadata | None = None
        self._id: str | None = None

    def _unsupported(self, operation: str) -> UnsupportedOperation:
        return UnsupportedOperation(self.backend_name, f"{type(self).__name__}.{operation}")

    def __repr__(self) -> str:
        return f"{type(self).__name__}(repository={self.name!r}, tag={self.tag!r})"

    def get_full_name(self) -> str:
        """Return ``repository:tag``."""
        raise self._unsupported("get_full_name")

    def get_id(self) -> str:
        """Return the engine's unique identifier of the image."""
        raise self._unsupported("get_id")

    def is_present(self) -> bool:
        """Tell whether the engine holds this image."""
        raise self._unsupported("is_present")

    def pull(self) -> None:
        """Pull the image from its registry.

        Raises:
            RegistryError: the registry refused or does not have it.
        """
        raise self._unsupported("pull")

    def push(self, repository: str | None = None, tag: str | None = None) -> Image:
        """Push the image (tagged first as ``repository:tag`` when given) and return it.

        Raises:
            RegistryError: the registry refused the push.
        """
        raise self._unsupported("push")

    def tag_image(self, repository: str | None = None, tag: str | None = None) -> Image:
        """Give the image another name, ``repository:tag``, and return it under that name.

        Raises:
            ValueError: neither ``repository`` nor ``tag`` is given.
        """
        raise self._unsupported("tag_image")

    @classmethod
    def build(
        cls,
        path: str,
        tag: str | None = None,
        dockerfile: str | None = None,
        *,
        labels: dict[str, str] | None = None,
        nocache: bool = False,
    ) -> Image:
        """Build an image from the context directory ``path`` and return it.

        Args:
            path: the build context.
            tag: name the image ``repository[:tag]``.
            dockerfile: the Dockerfile's path within the context.
            labels: labels to add to the image.
            nocache: build every step afresh (an image that shares no cached layer can be
                removed without touching another build's layers).

        Raises:
            BuildFailed: the build failed.
        """
        raise UnsupportedOperation(cls.backend_name, f"{cls.__name__}.build")

    def get_layer_ids(self, rev: bool = True) -> list[str]:
        """Return the ids of the image's layers, newest first (oldest first with ``rev=False``)."""
        raise self._unsupported("get_layer_ids")

    def layers(self, rev: bool = True) -> Sequence[Image]:
        """Return the image's layers as images."""
        raise self._unsupported("layers")

    def save_to(self, image: Any) -> None:
        """Save the image to an archive file (a path) or copy it to another image."""
        raise self._unsupported("save_to")

    def load_from(self, image: Any) -> None:
        """Load the image from an archive file (a path) or copy it from another image."""
        raise self._unsupported("load_from")

    def has_pkgs_signed_with(self, allowed_keys: list[str]) -> bool:
        """Check that every RPM package in the image is signed with one of ``allowed_keys``.

        Raises:
            CommandDoesNotExistException: the image has no ``rpm``.
            PackageSignatureException: a package is unsigned or signed with another key.
        """
        raise self._unsupported("has_pkgs_signed_with")

    @classmethod
    def load_from_file(cls, file_path: str) -> Image:
        """Load an image from an image archive on the host and return it."""
        raise UnsupportedOperation(cls.backend_name, f"{cls.__name__}.load_from_file")

    def inspect(self, refresh: bool = True) -> dict[str, Any]:
        """Return the engine's document describing this image.

        Raises:
            ImageNotFound: the engine does not hold the image.
        """
        raise self._unsupported("inspect")

    def get_metadata(self) -> ImageMetadata:
        """Return fresh :class:`~conu.apidefs.metadata.ImageMetadata` of this image."""
        raise self._unsupported("get_metadata")

    def rmi(self, force: bool = False, via_name: bool = False, *, prune: bool = True) -> None:
        """Remove the image (by id, or by name when ``via_name``).

        Args:
            force: remove it even if containers use it or it has several names.
            via_name: remove only this name.
            prune: also remove untagged parent images nothing else uses (the engine's
                default). Pass False for an image derived from one that must stay, even if
                that one has no name (e.g. an image committed from a container of it).
        """
        raise self._unsupported("rmi")

    def mount(self, mount_point: str | None = None) -> Filesystem:
        """Return the image's filesystem, available inside a ``with`` block."""
        raise self._unsupported("mount")

    def mount_image(self, mount_point: str | None = None) -> Filesystem:
        """Alias of :meth:`mount`."""
        return self.mount(mount_point)

    def file_is_present(self, file_path: str) -> bool:
        """Tell whether ``file_path`` is a regular file in the image, without running it.

        Raises:
            IOError: the path exists but is not a regular file.
        """
        raise self._unsupported("file_is_present")

    def directory_is_present(self, directory_path: str) -> bool:
        """Tell whether ``directory_path`` is a directory in the image, without running it.

        Raises:
            IOError: the path exists but is not a directory.
        """
        raise self._unsupported("directory_is_present")

    def read_file(self, file_path: str) -> str:
        """Return the text of ``file_path`` in the image, without running it.

        Raises:
            ConuException: the file does not exist or cannot be read.
        """
        raise self._unsupported("read_file")

    def path_info(self, path: str) -> PathInfo | None:
        """Describe ``path`` in the image without running it, as ``lstat`` would (a final
        symlink is described, not followed; links before it resolve inside the image).

        Returns:
            the :class:`~conu.apidefs.metadata.PathInfo`, or None when the path does not exist.
        """
        raise self._unsupported("path_info")

    def list_directory(self, path: str) -> list[str]:
        """Return the names in directory ``path`` of the image (links followed inside it).

        Raises:
            ConuException: the path does not exist or is not a directory.
        """
        raise self._unsupported("list_directory")

    def run_command(
        self,
        command: list[str],
        *,
        env: dict[str, str] | None = None,
        user: str | None = None,
        privileged: bool = False,
        tty: bool = False,
        cap_add: Sequence[str] = (),
        binds: Sequence[str] = (),
        timeout: float = 300,
        commit: bool = False,
    ) -> CommandResult:
        """Run ``command`` in a fresh container of the image and return its outcome.

        The image's entrypoint is not used: ``command[0]`` is the executable. The container
        is removed afterwards; with ``commit=True`` it is first committed to a new image
        (labelled with the session) returned in :attr:`CommandResult.image`.

        Args:
            command: the executable and its arguments.
            env: environment added to the image's.
            user: run as this user (``name``, ``uid`` or ``uid:gid``).
            privileged: run privileged.
            tty: allocate a TTY (stderr is then merged into stdout).
            cap_add: Linux capabilities to add.
            binds: bind mounts, ``host_path:container_path[:ro]``.
            timeout: seconds the command may run.
            commit: commit the container to a new image after the command.

        Raises:
            CommandDoesNotExistException: ``command[0]`` is not in the image.
            ProbeTimeout: the command still ran after ``timeout`` seconds.
        """
        raise self._unsupported("run_command")

    def get_selinux_context(self, file_path: str) -> bytes:
        """Return the SELinux context of ``file_path`` in the image."""
        raise self._unsupported("get_selinux_context")

    def run_via_binary(self, *args: Any, **kwargs: Any) -> Container:
        """Run a container from this image with the engine's command-line client."""
        raise self._unsupported("run_via_binary")

    def run_via_api(self, container_params: Any = None) -> Container:
        """Create a container from this image through the engine's API."""
        raise self._unsupported("run_via_api")

    def create_container(self, container_params: Any = None) -> Container:
        """Create (not start) a container from this image."""
        raise self._unsupported("create_container")

    def run_in_pod(self, namespace: str = "default") -> Any:
        """Run the image in a Kubernetes pod (not part of this distribution)."""
        raise self._unsupported("run_in_pod")


class S2Image:
    """Mixin of images that are source-to-image builders."""

    backend_name = "<abstract_backend>"

    def extend(self, source: str, new_image_name: str, s2i_args: list[str] | None = None) -> Any:
        """Build ``new_image_name`` from ``source`` with this builder image.

        Raises:
            ConuException: ``s2i build`` failed.
        """
        raise UnsupportedOperation(self.backend_name, f"{type(self).__name__}.extend")

    def usage(self) -> str:
        """Return the output of ``s2i usage`` for this image."""
        raise UnsupportedOperation(self.backend_name, f"{type(self).__name__}.usage")
