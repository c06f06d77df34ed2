"""Image archives (``docker save`` format) with ``podman save`` and ``podman load``.

Podman writes the archive itself, straight to disk; conu never holds an image in memory. A
save goes to a temporary file next to the target, renamed once complete, so a failed save
leaves nothing behind.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from typing import TYPE_CHECKING, Any

from conu.backend.common.archives import ImageArchiveMixin
from conu.exceptions import EngineError, InvalidArgument
from conu_podman import engine

if TYPE_CHECKING:
    from conu_podman.image import PodmanImage, PodmanImagePullPolicy

__all__ = ["ARCHIVE_TIMEOUT", "ArchiveMixin", "load_archive", "save_archive"]

ARCHIVE_TIMEOUT = 900.0
"""Seconds one ``podman save`` or ``podman load`` may take."""
_LOADED = ("Loaded image: ", "Loaded image(s): ")
_LOCAL_PREFIX = "localhost/"


def save_archive(reference: str, path: str | os.PathLike[str]) -> str:
    """Write image ``reference`` (name or id) as a docker-archive to ``path``; return the path.

    Raises:
        InvalidArgument: the directory of ``path`` does not exist.
        ImageNotFound: podman does not hold the image.
    """
    target = os.path.abspath(os.fspath(path))
    directory = os.path.dirname(target)
    if not os.path.isdir(directory):
        msg = f"cannot save image {reference!r} to {target!r}: no directory {directory!r}"
        raise InvalidArgument(msg)
    scratch = tempfile.mkdtemp(dir=directory, prefix=".conu-save-")
    try:
        partial = os.path.join(scratch, "image.tar")
        args = ["save", "--format", "docker-archive", "--output", partial, reference]
        engine.run(args, what=f"save image {reference!r}", timeout=ARCHIVE_TIMEOUT)
        os.replace(partial, target)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return target


def load_archive(path: str | os.PathLike[str]) -> list[str]:
    """Load the images of archive ``path`` into podman.

    Returns:
        What podman loaded: ``repo:tag`` names, or ``sha256:…`` ids of unnamed images.

    Raises:
        InvalidArgument: ``path`` is not a file.
        EngineError: podman rejected the archive.
    """
    source = os.fspath(path)
    if not os.path.isfile(source):
        msg = f"cannot load images from {source!r}: no such file"
        raise InvalidArgument(msg)
    what = f"load images from {source!r}"
    done = engine.run(["load", "--input", source], what=what, timeout=ARCHIVE_TIMEOUT)
    loaded: list[str] = []
    for line in done.stdout.decode("utf-8", "replace").splitlines():
        for prefix in _LOADED:
            if line.startswith(prefix):
                loaded += [name.strip() for name in line[len(prefix) :].split(",")]
    if not loaded:
        msg = f"cannot {what}: podman reported no image"
        raise EngineError(msg)
    return loaded


class ArchiveMixin(ImageArchiveMixin):
    """Saving and loading of :class:`~conu_podman.PodmanImage` to and from archive files."""

    if TYPE_CHECKING:

        def tag_image(self, repository: str | None = None, tag: str | None = None) -> Any: ...

    @classmethod
    def _image_class(cls) -> type[PodmanImage]:
        from conu_podman.image import PodmanImage

        return PodmanImage

    @classmethod
    def _never_pull(cls) -> PodmanImagePullPolicy:
        from conu_podman.image import PodmanImagePullPolicy

        return PodmanImagePullPolicy.NEVER

    @classmethod
    def _load_archive(cls, path: str | os.PathLike[str]) -> list[str]:
        return load_archive(path)

    def _save_archive(self, reference: str, path: str | os.PathLike[str]) -> None:
        save_archive(reference, path)

    def _copy_to_image(self, image: PodmanImage) -> None:
        """Tag this image with ``image``'s name: both live in podman's storage, the copy is
        a new name.

        Raises:
            InvalidArgument: ``image`` has no name.
        """
        if image.reference is None:
            msg = f"cannot copy to {image!r}: it has no name"
            raise InvalidArgument(msg)
        self.tag_image(image.reference.name, image.tag)
        image._id = None

    @staticmethod
    def _loaded_is(loaded: str, wanted: str) -> bool:
        """Tell whether a loaded name is ``wanted`` (podman prefixes local names ``localhost/``)."""
        return loaded in (wanted, _LOCAL_PREFIX + wanted)

    @staticmethod
    def _loaded_identifier(loaded: str) -> str:
        return loaded.split(":", 1)[1]  # podman knows images by their bare hex id

    def _loaded_id(self, loaded: str) -> str:
        found = engine.run_json(["image", "inspect", loaded], what=f"inspect image {loaded!r}")
        return str(found[0]["Id"])

    def _tag_loaded(self, ident: str, loaded: str, wanted: str) -> None:
        engine.run(["tag", ident, wanted], what=f"tag {loaded!r} as {wanted!r}")
