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

from conu.exceptions import EngineError, ImageNotFound, InvalidArgument
from conu_podman import engine

if TYPE_CHECKING:
    from conu.utils.reference import Reference
    from conu_podman.image import PodmanImage

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


def _matches(loaded: str, wanted: str) -> bool:
    """Tell whether a loaded name is ``wanted`` (podman prefixes local names ``localhost/``)."""
    return loaded in (wanted, _LOCAL_PREFIX + wanted)


class ArchiveMixin:
    """Saving and loading of :class:`~conu_podman.PodmanImage` to and from archive files."""

    if TYPE_CHECKING:
        reference: Reference | None
        _id: str | None
        _inspect_data: dict[str, Any] | None

        def get_id(self) -> str: ...

        def get_full_name(self) -> str: ...

        def tag_image(self, repository: str | None = None, tag: str | None = None) -> Any: ...

    def save_to(self, image: PodmanImage | str | os.PathLike[str]) -> None:
        """Save this image to an archive file (a path), or give it another image's name.

        Given a path, the image is written as a ``docker save`` archive. Given a
        :class:`~conu_podman.PodmanImage`, this image is tagged with that image's name (both
        live in podman's storage: the copy is a new name).

        Raises:
            InvalidArgument: ``image`` is neither a path nor a PodmanImage.
        """
        from conu_podman.image import PodmanImage

        if isinstance(image, PodmanImage):
            if image.reference is None:
                msg = f"cannot copy to {image!r}: it has no name"
                raise InvalidArgument(msg)
            self.tag_image(image.reference.name, image.tag)
            image._inspect_data = None
            image._id = None
        elif isinstance(image, str | os.PathLike):
            named = self.reference is not None and self.reference.digest is None
            save_archive(self.get_full_name() if named else self.get_id(), image)
        else:
            msg = f"cannot save to {image!r}: give a path or a PodmanImage"
            raise InvalidArgument(msg)

    def load_from(self, image: PodmanImage | str | os.PathLike[str]) -> None:
        """Load this image from an archive file (a path), or from another PodmanImage.

        From an archive holding this image's name, that image is taken; from an archive
        holding a single image, that image is taken and given this image's name.

        Raises:
            InvalidArgument: ``image`` is neither a path nor a PodmanImage.
            ImageNotFound: the archive holds several images, none of this name.
        """
        from conu_podman.image import PodmanImage

        if isinstance(image, PodmanImage):
            image.save_to(self)  # type: ignore[arg-type]
        elif isinstance(image, str | os.PathLike):
            self._adopt(load_archive(image), os.fspath(image))
        else:
            msg = f"cannot load from {image!r}: give a path or a PodmanImage"
            raise InvalidArgument(msg)
        self._inspect_data = None

    def _adopt(self, loaded: list[str], source: str) -> None:
        """Become the image of ``loaded`` (what an archive held) that stands for this one."""
        wanted = self.get_full_name() if self.reference else None
        matching = [name for name in loaded if wanted and _matches(name, wanted)]
        if not matching and len(loaded) != 1:
            msg = f"archive {source!r} holds {loaded}, none of them {wanted or self._id!r}"
            raise ImageNotFound(msg)
        picked = (matching or loaded)[0]
        found = engine.run_json(["image", "inspect", picked], what=f"inspect image {picked!r}")
        ident = str(found[0]["Id"])
        if self.reference is not None and not matching:
            engine.run(["tag", ident, str(wanted)], what=f"tag {picked!r} as {wanted!r}")
        self._id = ident

    @classmethod
    def load_from_file(cls, file_path: str) -> PodmanImage:
        """Load an image archive (``docker save`` format) and return its (first) image, as an
        instance of this class."""
        from conu_podman.image import PodmanImagePullPolicy

        first = load_archive(file_path)[0]
        make: Any = cls
        never = PodmanImagePullPolicy.NEVER
        if first.startswith("sha256:"):
            return make(None, identifier=first.split(":", 1)[1], pull_policy=never)
        return make(first, pull_policy=never)
