"""The image primitives of the engine interface (see :mod:`conu.apidefs.engine`)."""

from __future__ import annotations

import abc
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import os

    from conu.apidefs.layers import LayerView
    from conu.apidefs.specs import BuildSpec, ImageInfo
    from conu.exceptions import UnsupportedOperation
    from conu.utils.reference import Reference

__all__ = ["ImagePrimitives"]


class ImagePrimitives(abc.ABC):
    """Images of an engine: the part of :class:`~conu.apidefs.engine.Engine` about them."""

    @abc.abstractmethod
    def unsupported(self, operation: str) -> UnsupportedOperation:
        """Return the error for ``operation``, which this engine does not offer."""

    @abc.abstractmethod
    def inspect_image(self, reference: str) -> ImageInfo:
        """Describe the image (by id or name). Raises ImageNotFound."""

    @abc.abstractmethod
    def list_images(self, labels: Mapping[str, str] | None = None) -> list[ImageInfo]:
        """Return every image the engine holds; only those carrying ``labels`` if given."""

    def pull_image(self, reference: Reference) -> None:
        """Pull ``reference`` (by tag or digest).

        Raises:
            ImageNotFound: the registry has no such image.
            RegistryError: the registry refused or cannot be reached.
        """
        raise self.unsupported("pull_image")

    def push_image(self, reference: Reference) -> None:
        """Push the image named ``reference``. Raises RegistryError."""
        raise self.unsupported("push_image")

    @abc.abstractmethod
    def tag_image(self, image: str, target: Reference) -> None:
        """Give image ``image`` (id or name) the name ``target``. Raises ImageNotFound."""

    @abc.abstractmethod
    def remove_image(self, reference: str, *, force: bool = False, prune: bool = True) -> None:
        """Remove the image (an id: all its names; a name: that name).

        Args:
            reference: id or name.
            force: even if containers use it or it has several names.
            prune: also remove untagged parents nothing else uses.

        Raises:
            ImageNotFound: no such image.
            Conflict: it is in use and ``force`` is False.
        """

    def build_image(self, spec: BuildSpec) -> str:
        """Build an image; return its id.

        Raises:
            BuildFailed: the build failed (the message has the builder's last output).
        """
        raise self.unsupported("build_image")

    def save_image(self, reference: str) -> Iterator[bytes]:
        """Return image ``reference`` as a ``docker save`` archive stream. Raises ImageNotFound."""
        raise self.unsupported("save_image")

    def load_image(self, path: str | os.PathLike[str]) -> list[str]:
        """Load the images of a ``docker save`` archive; return what it held: ``repo:tag``
        names, or ``sha256:…`` ids of unnamed images."""
        raise self.unsupported("load_image")

    def image_history(self, reference: str) -> list[str]:
        """Return the ids of the image's layers, newest first (``"<missing>"`` for layers
        built elsewhere)."""
        raise self.unsupported("image_history")

    def image_layers(self, image_id: str) -> LayerView | None:
        """Return a read-only view of image ``image_id``'s files, read from the engine's
        storage on this host, or None: there is none, and conu's file checks of the image
        ask a helper container instead (create, archive read, remove).

        Optional: the default is None. An engine returns a view only when reading its storage
        is safe and answers exactly what its archive primitives answer about a container of
        the image that was created and never started (the same
        :class:`~conu.apidefs.metadata.PathInfo`, the same missing paths, the same
        contents), and only while the image exists: for an image that is gone it returns
        None, so that the helper container's creation raises
        :class:`~conu.exceptions.ImageNotFound` as before.

        Args:
            image_id: the image's id, as :meth:`inspect_image` reports it.

        Returns:
            the :class:`~conu.apidefs.layers.LayerView`, or None.
        """
        return None
