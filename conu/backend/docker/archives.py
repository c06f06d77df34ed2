"""Image archives (``docker save`` / ``docker load`` format) through the engine's API.

Archives are streamed between the engine and a file on the host in chunks; an image is
never held in memory. A save writes a temporary file next to the target and renames it,
so a failed save leaves nothing behind.
"""

from __future__ import annotations

import os
import tempfile
from typing import TYPE_CHECKING, Any

from conu.backend.docker.client import translate_errors
from conu.backend.docker.events import consume
from conu.backend.docker.skopeo import skopeo_copy
from conu.exceptions import EngineError, ImageNotFound, InvalidArgument

if TYPE_CHECKING:
    from conu.backend.docker.image import DockerImage
    from conu.utils.reference import Reference

__all__ = ["ArchiveMixin", "load_archive", "save_archive"]

_LOADED_NAME = "Loaded image: "
_LOADED_ID = "Loaded image ID: "


def save_archive(client: Any, reference: str, path: str | os.PathLike[str]) -> str:
    """Write image ``reference`` (name or id) as an archive to ``path``; return the path.

    Raises:
        InvalidArgument: the directory of ``path`` does not exist.
        ImageNotFound: the engine does not hold the image.
    """
    target = os.path.abspath(os.fspath(path))
    directory = os.path.dirname(target)
    if not os.path.isdir(directory):
        msg = f"cannot save image {reference!r} to {target!r}: no directory {directory!r}"
        raise InvalidArgument(msg)
    fd, partial = tempfile.mkstemp(dir=directory, prefix=".conu-save-", suffix=".tar")
    try:
        with (
            os.fdopen(fd, "wb") as out,
            translate_errors(f"save image {reference!r}", not_found=ImageNotFound),
        ):
            for chunk in client.get_image(reference):
                out.write(chunk)
        os.replace(partial, target)
    except BaseException:
        os.unlink(partial)
        raise
    return target


def load_archive(client: Any, path: str | os.PathLike[str]) -> list[str]:
    """Load the images of archive ``path`` into the engine.

    Returns:
        What the engine loaded: ``repo:tag`` names, or ``sha256:…`` ids of unnamed images.

    Raises:
        InvalidArgument: ``path`` is not a file.
        EngineError: the engine rejected the archive.
    """
    source = os.fspath(path)
    if not os.path.isfile(source):
        msg = f"cannot load images from {source!r}: no such file"
        raise InvalidArgument(msg)
    loaded: list[str] = []

    def collect(events: Any) -> Any:
        for event in events:
            text = str(event.get("stream") or "").strip()
            for prefix in (_LOADED_NAME, _LOADED_ID):
                if text.startswith(prefix):
                    loaded.append(text[len(prefix) :])
            yield event

    what = f"load images from {source!r}"
    with open(source, "rb") as data, translate_errors(what):
        consume(collect(client.load_image(data, quiet=False)), what, EngineError)
    if not loaded:
        msg = f"{what}: the engine reported no image"
        raise EngineError(msg)
    return loaded


class ArchiveMixin:
    """Saving and loading of :class:`~conu.DockerImage`: archive files, or skopeo copies."""

    if TYPE_CHECKING:
        d: Any
        reference: Reference | None
        _id: str | None
        _inspect_data: dict[str, Any] | None

        def get_id(self) -> str: ...

        def get_full_name(self) -> str: ...

    def save_to(self, image: DockerImage | str | os.PathLike[str]) -> None:
        """Save this image: to an archive file (a path), or to another image with skopeo.

        Given a path, the image is written as a ``docker save`` archive, streamed to disk.
        Given a :class:`DockerImage`, this image is copied to its name, tag, transport and
        path (see :meth:`using_transport`).

        Raises:
            InvalidArgument: ``image`` is neither a path nor a DockerImage.
            CommandDoesNotExistException: skopeo is needed and not installed.
        """
        from conu.backend.docker.image import DockerImage

        if isinstance(image, DockerImage):
            skopeo_copy(self, image)  # type: ignore[arg-type]
            image._inspect_data = None
        elif isinstance(image, str | os.PathLike):
            named = self.reference is not None and self.reference.digest is None
            save_archive(self.d, self.get_full_name() if named else self.get_id(), image)
        else:
            msg = f"cannot save to {image!r}: give a path or a DockerImage"
            raise InvalidArgument(msg)

    def load_from(self, image: DockerImage | str | os.PathLike[str]) -> None:
        """Load this image: from an archive file (a path), or from another image with skopeo.

        From an archive holding this image's name, that image is taken; from an archive
        holding a single image, that image is taken and given this image's name.

        Raises:
            InvalidArgument: ``image`` is neither a path nor a DockerImage.
            ImageNotFound: the archive holds several images, none of this name.
        """
        from conu.backend.docker.image import DockerImage

        if isinstance(image, DockerImage):
            image.save_to(self)  # type: ignore[arg-type]
        elif isinstance(image, str | os.PathLike):
            self._adopt(load_archive(self.d, image), os.fspath(image))
        else:
            msg = f"cannot load from {image!r}: give a path or a DockerImage"
            raise InvalidArgument(msg)
        self._inspect_data = None

    def _adopt(self, loaded: list[str], source: str) -> None:
        """Become the image of ``loaded`` (what an archive held) that stands for this one."""
        wanted = self.get_full_name() if self.reference else None
        if wanted not in loaded and len(loaded) != 1:
            msg = f"archive {source!r} holds {loaded}, none of them {wanted or self._id!r}"
            raise ImageNotFound(msg)
        picked = wanted if wanted in loaded else loaded[0]
        with translate_errors(f"inspect loaded image {picked!r}", not_found=ImageNotFound):
            ident = self.d.inspect_image(picked)["Id"]
        if self.reference is not None and picked != wanted:
            with translate_errors(f"tag {picked!r} as {wanted!r}", not_found=ImageNotFound):
                self.d.tag(ident, self.reference.name, tag=self.reference.tag)
        self._id = ident

    @classmethod
    def load_from_file(cls, file_path: str) -> DockerImage:
        """Load an image archive (``docker save`` format) and return its (first) image,
        as an instance of this class."""
        from conu.backend.docker.client import get_client
        from conu.backend.docker.image import DockerImagePullPolicy

        first = load_archive(get_client(), file_path)[0]
        make: Any = cls
        never = DockerImagePullPolicy.NEVER
        if first.startswith("sha256:"):
            return make(None, identifier=first, pull_policy=never)
        return make(first, pull_policy=never)
