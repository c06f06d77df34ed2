"""Saving and loading images through archive files (``docker save`` format), for any engine.

:class:`ImageArchiveMixin` decides what to save and which loaded image stands for the one
loading it; the backend's subclass supplies the engine calls (``_save_archive``,
``_load_archive``, ``_loaded_id``, ``_tag_loaded``, ``_copy_to_image``) and its image
class (``_image_class``, ``_never_pull``).
"""

from __future__ import annotations

import enum
import os
from typing import TYPE_CHECKING, Any, Self

from conu.exceptions import ImageNotFound, InvalidArgument

if TYPE_CHECKING:
    from conu.utils.reference import Reference

__all__ = ["ImageArchiveMixin"]


class ImageArchiveMixin:
    """``save_to``, ``load_from`` and ``load_from_file`` of an image class."""

    if TYPE_CHECKING:
        reference: Reference | None
        _id: str | None
        _inspect_data: dict[str, Any] | None

        def get_id(self) -> str: ...

        def get_full_name(self) -> str: ...

    # -- what the backend supplies --------------------------------------------------------

    @classmethod
    def _image_class(cls) -> type[Any]:
        """Return the backend's image class (the other end of a copy)."""
        raise NotImplementedError

    @classmethod
    def _never_pull(cls) -> enum.Enum:
        """Return the backend's ``NEVER`` pull policy."""
        raise NotImplementedError

    @classmethod
    def _load_archive(cls, path: str | os.PathLike[str]) -> list[str]:
        """Load archive ``path``; return what it held: names, or ``sha256:…`` ids."""
        raise NotImplementedError

    def _save_archive(self, reference: str, path: str | os.PathLike[str]) -> None:
        """Write image ``reference`` (name or id) as an archive to ``path``."""
        raise NotImplementedError

    def _copy_to_image(self, image: Any) -> None:
        """Copy this image to ``image``, another image of the backend."""
        raise NotImplementedError

    def _loaded_id(self, loaded: str) -> str:
        """Return the id of image ``loaded`` (a name or an id an archive held)."""
        raise NotImplementedError

    def _tag_loaded(self, ident: str, loaded: str, wanted: str) -> None:
        """Give image ``ident`` (loaded as ``loaded``) this image's name ``wanted``."""
        raise NotImplementedError

    @staticmethod
    def _loaded_is(loaded: str, wanted: str) -> bool:
        """Tell whether a name the engine reports as loaded is the name ``wanted``."""
        return loaded == wanted

    @staticmethod
    def _loaded_identifier(loaded: str) -> str:
        """Return the identifier of an unnamed loaded image from its ``sha256:…`` id."""
        return loaded

    # -- the shared logic -----------------------------------------------------------------

    def save_to(self, image: Any) -> None:
        """Save this image: to an archive file (a path), or to another image.

        Given a path, the image is written as a ``docker save`` archive. Given an image of
        the same backend, this image is copied to it (see the backend's image class).

        Raises:
            InvalidArgument: ``image`` is neither a path nor an image of the backend.
        """
        image_class = self._image_class()
        if isinstance(image, image_class):
            self._copy_to_image(image)
            image._inspect_data = None
        elif isinstance(image, str | os.PathLike):
            named = self.reference is not None and self.reference.digest is None
            self._save_archive(self.get_full_name() if named else self.get_id(), image)
        else:
            msg = f"cannot save to {image!r}: give a path or a {image_class.__name__}"
            raise InvalidArgument(msg)

    def load_from(self, image: Any) -> None:
        """Load this image: from an archive file (a path), or from another image.

        From an archive holding this image's name, that image is taken; from an archive
        holding a single image, that image is taken and given this image's name.

        Raises:
            InvalidArgument: ``image`` is neither a path nor an image of the backend.
            ImageNotFound: the archive holds several images, none of this name.
        """
        image_class = self._image_class()
        if isinstance(image, image_class):
            image.save_to(self)
        elif isinstance(image, str | os.PathLike):
            self._adopt(self._load_archive(image), os.fspath(image))
        else:
            msg = f"cannot load from {image!r}: give a path or a {image_class.__name__}"
            raise InvalidArgument(msg)
        self._inspect_data = None

    def _adopt(self, loaded: list[str], source: str) -> None:
        """Become the image of ``loaded`` (what an archive held) that stands for this one."""
        wanted = self.get_full_name() if self.reference else None
        matching = [name for name in loaded if wanted and self._loaded_is(name, wanted)]
        if not matching and len(loaded) != 1:
            msg = f"archive {source!r} holds {loaded}, none of them {wanted or self._id!r}"
            raise ImageNotFound(msg)
        picked = (matching or loaded)[0]
        ident = self._loaded_id(picked)
        if wanted is not None and not matching:
            self._tag_loaded(ident, picked, wanted)
        self._id = ident

    @classmethod
    def load_from_file(cls, file_path: str) -> Self:
        """Load an image archive (``docker save`` format) and return its (first) image,
        as an instance of this class."""
        first = cls._load_archive(file_path)[0]
        make: Any = cls
        never = cls._never_pull()
        if first.startswith("sha256:"):
            return make(None, identifier=cls._loaded_identifier(first), pull_policy=never)
        return make(first, pull_policy=never)
