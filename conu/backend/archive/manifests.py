"""The images an archive lists, and the config and layers of one of them.

Two layouts are read:

* ``docker save`` (*docker-archive*): ``manifest.json`` lists the images, each with its config
  file, its ``RepoTags`` and its layer tars, oldest first;
* OCI image layout (a directory, or *oci-archive*: the same packed in a tar): ``index.json``
  lists manifests or image indexes by digest, named by the annotations
  ``org.opencontainers.image.ref.name`` (a tag or a full name) or ``io.containerd.image.name``;
  an image index is followed to the manifest of the wanted platform.

A tar holding both (Docker 25 and later write both) is read as a docker-archive, whose names are
complete. Every blob read through a descriptor is checked against the descriptor's digest.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from typing import Any, TypeGuard

import attrs

from conu.backend.archive.platforms import Platform, choose
from conu.backend.archive.source import ArchiveSource, DirectorySource
from conu.exceptions import InvalidArgument, InvalidReference
from conu.utils.reference import Reference

__all__ = [
    "Candidate",
    "ImageManifest",
    "Layer",
    "archive_format",
    "familiar",
    "list_candidates",
    "resolve",
]

DOCKER_ARCHIVE = "docker-archive"
OCI_LAYOUT = "oci"
OCI_ARCHIVE = "oci-archive"
REF_NAME = "org.opencontainers.image.ref.name"
CONTAINERD_NAME = "io.containerd.image.name"
_INDEX_TYPES = {
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
}
_DIGEST = re.compile(r"(sha256:[0-9a-f]{64}|sha512:[0-9a-f]{128})")
_MAX_NESTING = 4


@attrs.frozen
class Layer:
    """One layer file of an image, oldest first in :attr:`ImageManifest.layers`."""

    name: str
    """Its file in the archive."""
    digest: str | None = None
    """The digest of that file as the manifest gives it (OCI); None for docker-archive."""


@attrs.frozen
class Candidate:
    """One image an archive lists, before a platform is chosen for it."""

    names: tuple[str, ...]
    """``repository:tag`` names."""
    refs: tuple[str, ...]
    """Every string that names it in the archive (names, tags of OCI annotations)."""
    digests: tuple[str, ...] = ()
    """Digests that name it: its manifest's (OCI), its config's (docker-archive)."""
    descriptor: Mapping[str, Any] | None = None
    """OCI: its entry of ``index.json``."""
    manifest: ImageManifest | None = None
    """docker-archive: its config and layers."""

    def describe(self) -> str:
        """Say how the archive names it (its names, else its digest or config)."""
        if self.refs:
            return ", ".join(self.refs)
        if self.descriptor is not None:
            return str(self.descriptor.get("digest"))
        return f"config {self.manifest.config if self.manifest else '?'} (no name)"


@attrs.frozen
class ImageManifest:
    """One image of the archive: its config file and its layer files."""

    config: str
    """Its config file in the archive."""
    layers: tuple[Layer, ...]
    """Its layers, oldest first."""
    config_digest: str | None = None
    """The config's digest as the manifest gives it (OCI)."""
    digest: str | None = None
    """The manifest's digest (OCI)."""
    annotations: Mapping[str, str] = attrs.field(factory=dict)
    """The manifest's and its index entry's annotations (OCI)."""


def archive_format(source: ArchiveSource) -> str:
    """Return ``"docker-archive"``, ``"oci"`` (a layout directory) or ``"oci-archive"``.

    Raises:
        InvalidArgument: the archive has neither ``manifest.json`` nor ``index.json``.
    """
    if source.exists("manifest.json"):
        return DOCKER_ARCHIVE
    if source.exists("index.json"):
        return OCI_LAYOUT if isinstance(source, DirectorySource) else OCI_ARCHIVE
    msg = (
        f"{source.path!r} is not an image archive: it has neither manifest.json (docker save)"
        " nor index.json (OCI layout)"
    )
    raise InvalidArgument(msg)


def list_candidates(source: ArchiveSource, fmt: str) -> list[Candidate]:
    """Return the images archive ``source`` of format ``fmt`` lists.

    Raises:
        InvalidArgument: its list is not what the format says.
    """
    if fmt == DOCKER_ARCHIVE:
        return _docker_candidates(source)
    index = source.read_json("index.json")
    entries = index.get("manifests") if isinstance(index, dict) else None
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise _malformed(source, "index.json", "'manifests' is not a list of descriptors")
    found = []
    for entry in entries:
        annotations = entry.get("annotations") or {}
        refs = [annotations[k] for k in (CONTAINERD_NAME, REF_NAME) if annotations.get(k)]
        names = tuple(dict.fromkeys(familiar(r) for r in refs if _is_name(r)))
        refs += names
        digests = (str(entry.get("digest")),)
        found.append(Candidate(names, tuple(dict.fromkeys(refs)), digests, descriptor=entry))
    return found


def _docker_candidates(source: ArchiveSource) -> list[Candidate]:
    manifest = source.read_json("manifest.json")
    if not isinstance(manifest, list):
        raise _malformed(source, "manifest.json", "it is not a list")
    found = []
    for entry in manifest:
        if not isinstance(entry, dict):
            raise _malformed(source, "manifest.json", f"entry {entry!r} is not an object")
        config, layers, tags = entry.get("Config"), entry.get("Layers"), entry.get("RepoTags") or []
        if not isinstance(config, str) or not _strings(layers) or not _strings(tags):
            raise _malformed(source, "manifest.json", f"entry {entry!r} is not an image")
        image = ImageManifest(config, tuple(Layer(name) for name in layers))
        hex_digits = config.rsplit("/", 1)[-1].removesuffix(".json")
        digests = (f"sha256:{hex_digits}",) if _DIGEST.fullmatch(f"sha256:{hex_digits}") else ()
        names = tuple(dict.fromkeys(familiar(tag) for tag in tags))
        found.append(Candidate(names, (*tags, *names), digests, manifest=image))
    return found


def resolve(source: ArchiveSource, candidate: Candidate, platform: Platform) -> ImageManifest:
    """Return the image ``candidate`` stands for, following image indexes to ``platform``.

    Raises:
        ImageNotFound: an image index has no manifest for ``platform``.
        InvalidArgument: a blob is missing, damaged or not what its descriptor says.
    """
    if candidate.manifest is not None:
        return candidate.manifest
    descriptor = candidate.descriptor or {}
    annotations = dict(descriptor.get("annotations") or {})
    for _ in range(_MAX_NESTING):
        document = read_blob_json(source, descriptor)
        if descriptor.get("mediaType") in _INDEX_TYPES or "manifests" in document:
            entries = document.get("manifests")
            if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
                raise _malformed(source, str(descriptor.get("digest")), "bad 'manifests'")
            descriptor = choose(entries, platform, source.path)
            continue
        return _image_manifest(source, document, str(descriptor["digest"]), annotations)
    msg = f"image archive {source.path!r} nests image indexes deeper than {_MAX_NESTING}"
    raise InvalidArgument(msg)


def blob_name(source: ArchiveSource, digest: Any) -> str:
    """Return the file of blob ``digest`` (``blobs/sha256/<hex>``).

    Raises:
        InvalidArgument: ``digest`` is not a sha256 or sha512 digest.
    """
    if not isinstance(digest, str) or not _DIGEST.fullmatch(digest):
        msg = f"image archive {source.path!r} names a blob by an invalid digest: {digest!r}"
        raise InvalidArgument(msg)
    algorithm, _, hex_digits = digest.partition(":")
    return f"blobs/{algorithm}/{hex_digits}"


def read_blob(source: ArchiveSource, digest: Any) -> bytes:
    """Return the (small) blob ``digest``, checked against its digest.

    Raises:
        InvalidArgument: it is missing, too large or its content has another digest.
    """
    name = blob_name(source, digest)
    data = source.read_bytes(name)
    algorithm, _, expected = str(digest).partition(":")
    if hashlib.new(algorithm, data).hexdigest() != expected:
        msg = f"blob {digest} of image archive {source.path!r} is damaged (digest mismatch)"
        raise InvalidArgument(msg)
    return data


def read_blob_json(source: ArchiveSource, descriptor: Mapping[str, Any]) -> dict[str, Any]:
    """Return the JSON object the descriptor points to (its digest checked)."""
    digest = descriptor.get("digest")
    document = source.parse_json(blob_name(source, digest), read_blob(source, digest))
    if not isinstance(document, dict):
        raise _malformed(source, str(digest), "it is not a JSON object")
    return document


def _image_manifest(
    source: ArchiveSource, document: Mapping[str, Any], digest: str, annotations: dict[str, str]
) -> ImageManifest:
    config, layers = document.get("config"), document.get("layers")
    if not isinstance(config, dict) or not isinstance(layers, list):
        raise _malformed(source, digest, "it is neither an image manifest nor an image index")
    names = []
    for layer in layers:
        if not isinstance(layer, dict):
            raise _malformed(source, digest, f"layer {layer!r} is not a descriptor")
        names.append(Layer(blob_name(source, layer.get("digest")), str(layer.get("digest"))))
    return ImageManifest(
        config=blob_name(source, config.get("digest")),
        layers=tuple(names),
        config_digest=str(config.get("digest")),
        digest=digest,
        annotations={**annotations, **(document.get("annotations") or {})},
    )


def familiar(name: str) -> str:
    """Return ``name`` as Docker shows it: without ``docker.io/`` (and ``library/`` after it)."""
    for registry in ("docker.io/", "index.docker.io/"):
        if name.startswith(registry):
            rest = name[len(registry) :]
            short = rest.removeprefix("library/")
            return short if "/" not in short.split(":")[0].split("@")[0] else rest
    return name


def _is_name(text: str) -> bool:
    """Tell whether an annotation is a full image name rather than a bare tag."""
    if not any(mark in text for mark in "/:@"):
        return False
    try:
        Reference.parse(text)
    except InvalidReference:
        return False
    return True


def _strings(value: Any) -> TypeGuard[list[str]]:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def _malformed(source: ArchiveSource, name: str, problem: str) -> InvalidArgument:
    return InvalidArgument(f"{name} of image archive {source.path!r} is malformed: {problem}")
