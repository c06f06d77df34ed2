"""Images in memory: layers, a Docker-style config document, names; ``docker save`` archives.

An image's id is the digest of its config document, as Docker computes it, so an image saved
and loaded again keeps its id. The store is not thread-safe: the engine holds its lock.
"""

from __future__ import annotations

import copy
import gzip
import hashlib
import io
import json
import os
import platform
import re
import tarfile
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import attrs

from conu.apidefs.specs import ImageInfo
from conu.exceptions import ConuException, ImageNotFound, InvalidReference
from conu.utils.reference import Reference
from conu_fakebackend.layers import layer_id

__all__ = [
    "ImageStore",
    "StoredImage",
    "empty_config",
    "image_info",
    "make_image",
    "normalise_name",
    "now",
    "read_archive",
]

_HEX_PREFIX = re.compile(r"(?:sha256:)?([0-9a-f]{4,64})")
_ARCH = {"x86_64": "amd64", "aarch64": "arm64"}


def now() -> str:
    """Return the current time as Docker writes it (RFC 3339, UTC)."""
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


def empty_config() -> dict[str, Any]:
    """Return the config of ``FROM scratch``."""
    return {
        "Env": [],
        "Cmd": None,
        "Entrypoint": None,
        "WorkingDir": "",
        "User": "",
        "Labels": {},
        "ExposedPorts": {},
        "Volumes": {},
    }


def normalise_name(text: str) -> str:
    """Return ``repository:tag`` for a name (``:latest`` when it has no tag or digest).

    Raises:
        InvalidReference: ``text`` is not an image reference.
    """
    reference = Reference.parse(text)
    if reference.tag is None and reference.digest is None:
        reference = reference.with_tag("latest")
    return str(reference)


@attrs.define(eq=False)
class StoredImage:
    """One image: its config document (the bytes its id digests) and its layers."""

    id: str
    blob: bytes
    layers: list[bytes]
    parent: str | None = None
    names: list[str] = attrs.Factory(list)
    document: dict[str, Any] = attrs.Factory(dict)

    @property
    def config(self) -> dict[str, Any]:
        """The ``config`` section: Env, Cmd, Entrypoint, Labels, ExposedPorts..."""
        return self.document.get("config") or {}


def make_image(
    config: Mapping[str, Any],
    layers: list[bytes],
    *,
    parent: str | None = None,
    created: str | None = None,
) -> StoredImage:
    """Build the config document of ``config`` and ``layers``; the image id digests it."""
    document = {
        "architecture": _ARCH.get(platform.machine(), platform.machine()),
        "os": "linux",
        "created": created or now(),
        "config": copy.deepcopy(dict(config)),
        "rootfs": {"type": "layers", "diff_ids": [layer_id(layer) for layer in layers]},
    }
    blob = json.dumps(document, sort_keys=True, separators=(",", ":")).encode()
    return _stored(blob, layers, parent)


def _stored(blob: bytes, layers: list[bytes], parent: str | None) -> StoredImage:
    document = json.loads(blob)
    image_id = "sha256:" + hashlib.sha256(blob).hexdigest()
    return StoredImage(image_id, blob, layers, parent, document=document)


@attrs.define
class ImageStore:
    """Images by id, and the id each ``repository:tag`` name points to."""

    images: dict[str, StoredImage] = attrs.Factory(dict)
    names: dict[str, str] = attrs.Factory(dict)

    def name_of(self, reference: str) -> str | None:
        """Return the normalised name ``reference`` is, if it is a known name."""
        try:
            name = normalise_name(reference)
        except InvalidReference:
            return None
        return name if name in self.names else None

    def lookup(self, reference: str) -> StoredImage:
        """Find an image by id, ``repository[:tag]`` or unique id prefix. Raises ImageNotFound."""
        if reference in self.images:
            return self.images[reference]
        name = self.name_of(reference)
        if name is not None:
            return self.images[self.names[name]]
        match = _HEX_PREFIX.fullmatch(reference)
        if match:
            found = [i for i in self.images if i.removeprefix("sha256:").startswith(match[1])]
            if len(found) == 1:
                return self.images[found[0]]
        msg = f"no such image: {reference!r}"
        raise ImageNotFound(msg)

    def add(self, image: StoredImage, names: Sequence[str] = ()) -> StoredImage:
        """Store ``image`` (or find the identical one already there) and give it ``names``."""
        stored = self.images.setdefault(image.id, image)
        for name in names:
            self.tag(stored, name)
        return stored

    def tag(self, image: StoredImage, name: str) -> None:
        """Point ``name`` at ``image``, taking it from any image that had it."""
        previous = self.names.get(name)
        if previous is not None and previous in self.images:
            self.images[previous].names.remove(name)
        self.names[name] = image.id
        image.names.append(name)

    def untag(self, image: StoredImage, name: str) -> None:
        """Remove ``name`` from ``image``."""
        image.names.remove(name)
        del self.names[name]

    def delete(self, image: StoredImage) -> None:
        """Forget ``image`` and all its names."""
        for name in list(image.names):
            self.untag(image, name)
        self.images.pop(image.id, None)

    def save(self, image: StoredImage, name: str | None) -> bytes:
        """Return a ``docker save`` archive of ``image``, tagged ``name`` (an id: untagged)."""
        hex_id = image.id.removeprefix("sha256:")
        layer_paths = [f"{layer_id(layer)[7:]}/layer.tar" for layer in image.layers]
        manifest = [
            {
                "Config": f"{hex_id}.json",
                "RepoTags": [name] if name else None,
                "Layers": layer_paths,
            }
        ]
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
            _add_bytes(tar, f"{hex_id}.json", image.blob)
            for path, layer in dict(zip(layer_paths, image.layers, strict=True)).items():
                _add_bytes(tar, path.replace("/layer.tar", "/VERSION"), b"1.0")
                _add_bytes(tar, path, layer)
            _add_bytes(tar, "manifest.json", json.dumps(manifest).encode())
        return buffer.getvalue()


def read_archive(path: str | os.PathLike[str]) -> Iterator[tuple[StoredImage, list[str]]]:
    """Read the images of a ``docker save`` archive (Docker or OCI layout), with their names.

    Raises:
        ConuException: the file is not such an archive.
    """
    try:
        with tarfile.open(path, mode="r:*") as tar:

            def read(member: str) -> bytes:
                file = tar.extractfile(member)
                if file is None:
                    msg = f"{member!r} is not a file"
                    raise ConuException(msg)
                data = file.read()
                return gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data

            manifest = json.loads(read("manifest.json"))
            loaded = []
            for entry in manifest:
                layers = [read(layer) for layer in entry["Layers"]]
                loaded.append((_stored(read(entry["Config"]), layers, None), entry.get("RepoTags")))
    except (OSError, KeyError, TypeError, ValueError, tarfile.TarError) as exc:
        msg = f"{os.fspath(path)!r} is not a docker save archive: {exc}"
        raise ConuException(msg) from exc
    for image, names in loaded:
        yield image, [normalise_name(name) for name in names or ()]


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o644
    tar.addfile(info, io.BytesIO(data))


def image_info(image: StoredImage) -> ImageInfo:
    """Describe ``image`` as :class:`ImageInfo`, ``raw`` shaped like ``docker image inspect``."""
    config = image.config
    raw = {
        "Id": image.id,
        "RepoTags": list(image.names),
        "RepoDigests": [],
        "Parent": image.parent or "",
        "Created": image.document.get("created"),
        "Config": copy.deepcopy(config),
        "Architecture": image.document.get("architecture"),
        "Os": image.document.get("os"),
        "Size": sum(len(layer) for layer in image.layers),
        "RootFS": {"Type": "layers", "Layers": [layer_id(layer) for layer in image.layers]},
    }
    return ImageInfo(
        id=image.id,
        names=image.names,
        labels=config.get("Labels") or {},
        env=config.get("Env") or (),
        command=config.get("Cmd"),
        entrypoint=config.get("Entrypoint"),
        working_dir=config.get("WorkingDir") or None,
        user=config.get("User") or None,
        exposed_ports=sorted(config.get("ExposedPorts") or {}),
        volumes=sorted(config.get("Volumes") or {}),
        created=image.document.get("created"),
        raw=raw,
    )
