"""Opening one image of an archive: which archive, which image, its config; its root on demand.

:func:`open_image` reads only small documents (the archive's list of images, a manifest, the
config); layers are read when :func:`extract` builds the image's root, once per image id for
the process (:data:`conu.backend.archive.root.ROOTS`).
"""

from __future__ import annotations

import functools
import os

import attrs

from conu.apidefs.specs import ImageInfo
from conu.backend.archive.config import ImageConfig
from conu.backend.archive.layers import LayerFile
from conu.backend.archive.manifests import (
    DOCKER_ARCHIVE,
    ImageManifest,
    archive_format,
    list_candidates,
    read_blob,
    resolve,
)
from conu.backend.archive.platforms import Platform
from conu.backend.archive.root import ROOTS, ExtractedRoot
from conu.backend.archive.selection import select, split_reference
from conu.backend.archive.source import open_source

__all__ = ["OpenedImage", "extract", "open_image", "source_key"]


@attrs.frozen
class OpenedImage:
    """One image of an archive, its config read."""

    reference: str
    """The reference it was opened by (``PATH``, ``PATH:TAG``, ``PATH@NAME``)."""
    path: str
    """The archive's absolute path."""
    format: str
    """``docker-archive``, ``oci`` or ``oci-archive``."""
    manifest: ImageManifest
    """Its config and layer files."""
    config: ImageConfig
    """Its config."""
    info: ImageInfo
    """What :meth:`~conu.backend.archive.engine.ArchiveEngine.inspect_image` reports."""

    @property
    def id(self) -> str:
        """The image id: the digest of its config."""
        return self.config.id


def source_key(reference: str) -> tuple[str, str | None, int, int]:
    """Return what identifies the image ``reference`` names as it is now on the host: the
    archive's path, the selector, and the archive's modification time and size (so a
    rewritten archive is read again).

    Raises:
        InvalidArgument: ``reference`` is not a non-empty str.
        ImageNotFound: no archive is at its path.
    """
    path, selector = split_reference(reference)
    marker = os.path.join(path, "index.json") if os.path.isdir(path) else path
    try:
        st = os.stat(marker)
    except OSError:
        st = os.stat(path)
    return os.path.abspath(path), selector, st.st_mtime_ns, st.st_size


def open_image(reference: str, platform: Platform) -> OpenedImage:
    """Read the image ``reference`` names: its manifest and its config.

    Args:
        reference: ``PATH``, ``PATH:TAG`` or ``PATH@NAME`` (see
            :mod:`conu.backend.archive.selection`).
        platform: the platform to choose in an image index.

    Raises:
        ImageNotFound: no archive is there, or it holds no such image (or no image for
            ``platform``).
        InvalidArgument: the archive is not one, is damaged, or holds several images and
            ``reference`` names none of them.
    """
    path, selector = split_reference(reference)
    with open_source(path) as source:
        fmt = archive_format(source)
        candidate = select(list_candidates(source, fmt), selector, path)
        manifest = resolve(source, candidate, platform)
        if manifest.config_digest is not None:
            data = read_blob(source, manifest.config_digest)
        else:
            data = source.read_bytes(manifest.config)
    where = f"{manifest.config!r} of image archive {path!r}"
    config = ImageConfig.parse(data, where=where, layers=len(manifest.layers))
    origin = {
        "Path": os.path.abspath(path),
        "Format": fmt,
        "Reference": reference,
        "ManifestDigest": manifest.digest,
        "Annotations": dict(manifest.annotations),
    }
    if fmt != DOCKER_ARCHIVE:
        origin["Platform"] = str(platform)
    info = config.info(candidate.names, origin)
    return OpenedImage(reference, os.path.abspath(path), fmt, manifest, config, info)


def extract(image: OpenedImage, parent: str | None = None) -> ExtractedRoot:
    """Return the extracted root of ``image``, building it on first use in the process.

    Args:
        image: the image.
        parent: where a new extraction's temporary directory goes (the system's temporary
            directory by default).

    Raises:
        InvalidArgument: a layer is missing, damaged or cannot be applied.
        UnsafePath: a layer would write outside the root.
    """

    def build() -> ExtractedRoot:
        with open_source(image.path) as source:
            layers = [
                LayerFile(
                    functools.partial(source.open, layer.name),
                    diff_id,
                    f"{layer.name!r} of image archive {image.path!r}",
                )
                for layer, diff_id in zip(image.manifest.layers, image.config.diff_ids, strict=True)
            ]
            return ExtractedRoot.build(layers, parent=parent)

    return ROOTS.get(image.id, build)
