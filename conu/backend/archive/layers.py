"""Applying an image's layers, oldest first, onto one root directory and its :class:`PathIndex`.

Each layer is read twice. The first pass reads only its headers, checks the digest of its
uncompressed bytes against the config's diff id (a damaged or substituted layer is refused
before anything is written) and collects whiteouts: ``.wh.NAME`` removes ``NAME`` of the lower
layers, ``.wh..wh..opq`` empties its directory of what the lower layers put there, and a
non-directory replaces a lower directory entirely, as engines apply layers. The second pass
extracts the layer with :func:`conu.utils.archive.extract_tar_stream`, which never writes
outside the root, keeps symbolic and hard links and creates no device node; the
:class:`~conu.backend.archive.index.PathIndex` records what the headers say, devices included.

Whiteouts are resolved through the index, never through links on disk: a whiteout under a path
whose parent is not a real directory of the lower layers removes nothing, and a removal never
follows a link (:func:`conu.utils.tree.remove_tree`).
"""

from __future__ import annotations

import gzip
import hashlib
import os
import posixpath
import tarfile
import zlib
from collections.abc import Callable, Iterator
from typing import IO, NamedTuple, cast

from conu.apidefs.metadata import PathKind
from conu.backend.archive.index import Entry, PathIndex, entry_of, split
from conu.exceptions import ConuException, InvalidArgument, UnsafePath
from conu.utils.archive import extract_tar_stream, make_tree_writable, remove_tree
from conu.utils.streams import CHUNK_SIZE, IterStream

__all__ = ["LayerFile", "Member", "apply_layer", "scan_layer", "uncompressed"]

WHITEOUT = ".wh."
OPAQUE = ".wh..wh..opq"
_GZIP_MAGIC = b"\x1f\x8b"
_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
_READ_ERRORS = (tarfile.TarError, EOFError, OSError, zlib.error)


class LayerFile(NamedTuple):
    """A layer to apply: how to open its file, the digest of its content, what to call it."""

    open: Callable[[], IO[bytes]]
    """Open the layer's file (compressed or not) from the start; the caller closes it."""
    diff_id: str
    """The digest of its uncompressed tar, from the image config."""
    where: str
    """How messages name it (the archive and the layer's file)."""


class Member(NamedTuple):
    """What the first pass keeps of one layer member."""

    rel: str
    """Its root-relative path, normalised."""
    entry: Entry | None
    """What its header says; None for a hard link."""
    link: str | None
    """The root-relative path a hard link names."""

    @property
    def is_directory(self) -> bool:
        """Whether the member is a directory."""
        return self.entry is not None and self.entry.kind is PathKind.DIRECTORY


def uncompressed(raw: IO[bytes], where: str) -> IO[bytes]:
    """Return the plain tar stream of layer file ``raw`` (gzip is undone, plain tar kept).

    Raises:
        InvalidArgument: the layer is compressed with zstd, which conu does not read.
    """
    head = raw.read(4)
    raw.seek(0)
    if head.startswith(_GZIP_MAGIC):
        return cast("IO[bytes]", gzip.GzipFile(fileobj=raw, mode="rb"))
    if head == _ZSTD_MAGIC:
        raw.close()
        msg = f"layer {where} is compressed with zstd; conu reads plain and gzip layers only"
        raise InvalidArgument(msg)
    return raw


def _normal(name: str) -> str:
    """The root-relative path of a member name (``..`` stays at the root)."""
    return posixpath.normpath("/" + name).lstrip("/")


def _hashed(stream: IO[bytes], digest: hashlib._Hash) -> Iterator[bytes]:
    while chunk := stream.read(CHUNK_SIZE):
        digest.update(chunk)
        yield chunk


def scan_layer(layer: LayerFile) -> list[Member]:
    """Read the headers of ``layer`` and check its digest; return its members in order.

    Raises:
        InvalidArgument: the layer cannot be read, or its content has another digest.
    """
    algorithm, _, expected = layer.diff_id.partition(":")
    try:
        digest = hashlib.new(algorithm)
    except ValueError as exc:
        msg = f"layer {layer.where} has a diff id of unknown algorithm: {layer.diff_id!r}"
        raise InvalidArgument(msg) from exc
    members: list[Member] = []
    try:
        with layer.open() as raw, uncompressed(raw, layer.where) as plain:
            chunks = _hashed(plain, digest)
            with tarfile.open(fileobj=IterStream(chunks), mode="r|") as tar:
                while (member := tar.next()) is not None:
                    tar.members.clear()  # type: ignore[attr-defined]  # keep memory flat
                    link = _normal(member.linkname) if member.islnk() else None
                    members.append(Member(_normal(member.name), entry_of(member), link))
            for _ in chunks:  # the end-of-archive padding belongs to the digest too
                pass
    except _READ_ERRORS as exc:
        msg = f"layer {layer.where} is damaged: {exc}"
        raise InvalidArgument(msg) from exc
    if digest.hexdigest() != expected:
        msg = (
            f"layer {layer.where} is damaged: its content is {algorithm}:{digest.hexdigest()},"
            f" the image config says {layer.diff_id}"
        )
        raise InvalidArgument(msg)
    return members


def apply_layer(root: str, index: PathIndex, layer: LayerFile) -> None:
    """Apply ``layer`` onto ``root`` and ``index`` (see the module docstring).

    Raises:
        InvalidArgument: the layer is damaged or cannot be applied.
        UnsafePath: a member would land outside the root or be written through a link.
    """
    members = scan_layer(layer)
    markers = _apply_whiteouts(root, index, members)
    try:
        with layer.open() as raw, uncompressed(raw, layer.where) as plain:
            extract_tar_stream(plain, root)
    except UnsafePath as exc:
        msg = f"layer {layer.where}: {exc}"
        raise UnsafePath(msg) from exc
    except (ConuException, *_READ_ERRORS) as exc:
        msg = f"layer {layer.where} cannot be applied: {exc}"
        raise InvalidArgument(msg) from exc
    for rel in markers:
        remove_tree(os.path.join(root, rel))
    _record(index, members)
    make_tree_writable(root)  # the next layer, and reads, may need read-only directories


def _apply_whiteouts(root: str, index: PathIndex, members: list[Member]) -> list[str]:
    """Remove what the layer's whiteouts and replacements hide; return the marker paths."""
    markers = []
    for member in members:
        rel = member.rel
        parent, leaf = posixpath.split(rel)
        if leaf == OPAQUE:
            markers.append(rel)
            if index.is_directory(parent):
                for name in index.clear(parent):
                    remove_tree(os.path.join(root, parent, name))
        elif leaf.startswith(WHITEOUT):
            markers.append(rel)
            _remove(root, index, posixpath.join(parent, leaf[len(WHITEOUT) :]))
        elif not member.is_directory and index.is_directory(rel) and split(rel):
            _remove(root, index, rel)  # a file, link or device over a lower directory
    return markers


def _remove(root: str, index: PathIndex, rel: str) -> None:
    """Remove ``rel`` from disk and index when it is reached through real directories."""
    parent = posixpath.dirname(rel)
    if split(rel) and index.is_directory(parent) and index.get(rel) is not None:
        index.remove(rel)
        remove_tree(os.path.join(root, rel))


def _record(index: PathIndex, members: list[Member]) -> None:
    """Record the layer's members in the index, in archive order (markers left out)."""
    for rel, entry, link in members:
        if posixpath.basename(rel).startswith(WHITEOUT):
            continue
        if entry is None:  # a hard link: the same file as its target
            entry = index.get(link or "")
            if entry is None or entry.kind is not PathKind.FILE:
                continue
        index.put(rel, entry)
