"""Saving and loading images through archive files (``docker save`` format), for every engine.

Archives are streamed between the engine and a file on the host in chunks; an image is
never held in memory. A save writes a temporary file next to the target and renames it, so
a failed save leaves nothing behind.
"""

from __future__ import annotations

import os
import tempfile
from typing import TYPE_CHECKING, Any, ClassVar, Self

from conu.apidefs.specs import PullPolicy
from conu.exceptions import ImageNotFound, InvalidArgument, UnsupportedOperation

if TYPE_CHECKING:
    from conu.apidefs.engine import Engine
    from conu.apidefs.specs import ImageInfo
    from conu.utils.reference import Reference

__all__ = ["ImageArchivesMixin"]


class ImageArchivesMixin:
    """``save_to``, ``load_from`` and ``load_from_file`` of an image."""

    if TYPE_CHECKING:
        reference: Reference | None
        engine: Engine | None
        engine_class: ClassVar[Any]
        _id: str | None
        _info: ImageInfo | None

        def _engine(self, operation: str) -> Engine: ...

        def get_id(self) -> str: ...

        def get_full_name(self) -> str: ...

        def _unsupported(self, operation: str) -> UnsupportedOperation: ...

    def _copy_to_image(self, image: Any) -> None:
        """Copy this image to ``image``, another image of the backend (Docker: skopeo)."""
        raise self._unsupported("save_to(image)")

    def save_to(self, image: Any) -> None:
        """Save this image: to an archive file (a path), or to another image.

        Given a path, the image is written as a ``docker save`` archive. Given an image of
        the same class, this image is copied to it (where the backend can).

        Raises:
            InvalidArgument: ``image`` is neither a path nor an image of the backend, or the
                directory of the path does not exist.
            ImageNotFound: the engine does not hold this image.
        """
        self._engine("save_to")
        if isinstance(image, type(self)):
            self._copy_to_image(image)
            image._info = None
        elif isinstance(image, str | os.PathLike):
            named = self.reference is not None and self.reference.digest is None
            self._save_archive(self.get_full_name() if named else self.get_id(), image)
        else:
            msg = f"cannot save to {image!r}: give a path or a {type(self).__name__}"
            raise InvalidArgument(msg)

    def _save_archive(self, reference: str, path: str | os.PathLike[str]) -> None:
        target = os.path.abspath(os.fspath(path))
        directory = os.path.dirname(target)
        if not os.path.isdir(directory):
            msg = f"cannot save image {reference!r} to {target!r}: no directory {directory!r}"
            raise InvalidArgument(msg)
        fd, partial = tempfile.mkstemp(dir=directory, prefix=".conu-save-", suffix=".tar")
        try:
            with os.fdopen(fd, "wb") as out:
                for chunk in self._engine("save_to").save_image(reference):
                    out.write(chunk)
            os.replace(partial, target)
        except BaseException:
            os.unlink(partial)
            raise

    def load_from(self, image: Any) -> None:
        """Load this image: from an archive file (a path), or from another image.

        From an archive holding this image's name, that image is taken; from an archive
        holding a single image, that image is taken and given this image's name.

        Raises:
            InvalidArgument: ``image`` is neither a path nor an image of the backend, or the
                path is not a file.
            ImageNotFound: the archive holds several images, none of this name.
        """
        self._engine("load_from")
        if isinstance(image, type(self)):
            image.save_to(self)
        elif isinstance(image, str | os.PathLike):
            self._adopt(_load(self._engine("load_from"), image), os.fspath(image))
        else:
            msg = f"cannot load from {image!r}: give a path or a {type(self).__name__}"
            raise InvalidArgument(msg)
        self._info = None

    def _adopt(self, loaded: list[str], source: str) -> None:
        """Become the image of ``loaded`` (what an archive held) that stands for this one."""
        wanted = self.get_full_name() if self.reference else None
        matching = [name for name in loaded if wanted and _same_name(name, wanted)]
        if not matching and len(loaded) != 1:
            msg = f"archive {source!r} holds {loaded}, none of them {wanted or self._id!r}"
            raise ImageNotFound(msg)
        picked = (matching or loaded)[0]
        engine = self._engine("load_from")
        ident = engine.inspect_image(picked).id
        if self.reference is not None and not matching:
            engine.tag_image(ident, self.reference)
        self._id = ident

    @classmethod
    def load_from_file(cls, file_path: str) -> Self:
        """Load an image archive (``docker save`` format) and return its (first) image, as
        an instance of this class."""
        if cls.engine_class is None:
            raise UnsupportedOperation("<abstract_backend>", f"{cls.__name__}.load_from_file")
        engine = cls.engine_class.default()
        first = _load(engine, file_path)[0]
        make: Any = cls
        if first.startswith("sha256:"):
            return make(None, identifier=first, pull_policy=PullPolicy.NEVER, engine=engine)
        return make(first, pull_policy=PullPolicy.NEVER, engine=engine)


def _load(engine: Engine, path: str | os.PathLike[str]) -> list[str]:
    source = os.fspath(path)
    if not os.path.isfile(source):
        msg = f"cannot load images from {source!r}: no such file"
        raise InvalidArgument(msg)
    return engine.load_image(source)


def _same_name(loaded: str, wanted: str) -> bool:
    """Tell whether a name an engine reports as loaded is ``wanted`` (podman prefixes short
    names with ``localhost/``)."""
    return loaded == wanted or loaded == f"localhost/{wanted}"
