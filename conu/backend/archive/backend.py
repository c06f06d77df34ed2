"""The archive backend: images read from archives on disk, with no container engine."""

from __future__ import annotations

from typing import ClassVar

from conu.apidefs.backend import Backend
from conu.apidefs.container import Container
from conu.apidefs.image import Image
from conu.apidefs.metadata import image_metadata
from conu.apidefs.specs import PullPolicy
from conu.backend.archive.container import ArchiveContainer
from conu.backend.archive.engine import ArchiveEngine
from conu.backend.archive.image import ArchiveImage
from conu.backend.archive.root import ROOTS

__all__ = ["ArchiveBackend"]


class ArchiveBackend(Backend):
    """Images in ``docker save`` archives, OCI layouts and OCI archives, read-only.

    Args:
        logging_level: level for the ``conu`` logger.
        logging_kwargs: further arguments for :func:`conu.apidefs.backend.set_logging`.
        cleanup: list of :class:`~conu.apidefs.backend.CleanupPolicy`; ``TMP_DIRS`` (or
            ``EVERYTHING``) also removes the images extracted in this process (they are
            extracted again when asked about).
    """

    name: ClassVar[str] = "archive"
    engine_class = ArchiveEngine
    ContainerClass: ClassVar[type[Container]] = ArchiveContainer
    ImageClass: ClassVar[type[Image]] = ArchiveImage

    def list_images(self) -> list[Image]:
        """List the images opened so far in this process, each named by its archive."""
        engine = self._engine("list_images")
        found: list[Image] = []
        for info in engine.list_images():
            reference = (info.raw.get("Archive") or {}).get("Reference")
            image = ArchiveImage(reference, None, info.id, PullPolicy.NEVER, engine=engine)
            image_metadata(image.metadata, info)
            found.append(image)
        return found

    def _clean_tmp_dirs(self) -> None:
        """Remove this backend's temporary directory and the extracted images."""
        super()._clean_tmp_dirs()
        ROOTS.clear()
