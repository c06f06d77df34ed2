"""Image archives (``docker save`` / ``docker load`` format) through the engine's API.

Archives are streamed between the engine and a file on the host in chunks; an image is
never held in memory. A save writes a temporary file next to the target and renames it,
so a failed save leaves nothing behind.
"""

from __future__ import annotations

import os
import tempfile
from typing import TYPE_CHECKING, Any

from conu.backend.common.archives import ImageArchiveMixin
from conu.backend.docker.client import translate_errors
from conu.backend.docker.events import consume
from conu.backend.docker.skopeo import skopeo_copy
from conu.exceptions import EngineError, ImageNotFound, InvalidArgument

if TYPE_CHECKING:
    from conu.backend.docker.image import DockerImage, DockerImagePullPolicy

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


class ArchiveMixin(ImageArchiveMixin):
    """Saving and loading of :class:`~conu.DockerImage`: archive files, or skopeo copies."""

    if TYPE_CHECKING:
        d: Any

    @classmethod
    def _image_class(cls) -> type[DockerImage]:
        from conu.backend.docker.image import DockerImage

        return DockerImage

    @classmethod
    def _never_pull(cls) -> DockerImagePullPolicy:
        from conu.backend.docker.image import DockerImagePullPolicy

        return DockerImagePullPolicy.NEVER

    @classmethod
    def _load_archive(cls, path: str | os.PathLike[str]) -> list[str]:
        from conu.backend.docker.client import get_client

        return load_archive(get_client(), path)

    def _save_archive(self, reference: str, path: str | os.PathLike[str]) -> None:
        save_archive(self.d, reference, path)

    def _copy_to_image(self, image: DockerImage) -> None:
        """Copy this image with skopeo to ``image``'s name, tag, transport and path (see
        :meth:`using_transport`); CommandDoesNotExistException without skopeo."""
        skopeo_copy(self, image)  # type: ignore[arg-type]

    def _loaded_id(self, loaded: str) -> str:
        with translate_errors(f"inspect loaded image {loaded!r}", not_found=ImageNotFound):
            return str(self.d.inspect_image(loaded)["Id"])

    def _tag_loaded(self, ident: str, loaded: str, wanted: str) -> None:
        assert self.reference is not None
        with translate_errors(f"tag {loaded!r} as {wanted!r}", not_found=ImageNotFound):
            self.d.tag(ident, self.reference.name, tag=self.reference.tag)
