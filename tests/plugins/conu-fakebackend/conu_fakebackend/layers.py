"""Root directories on the host: built from layers, compared with an earlier state, archived.

A layer is a plain tar of what changed, as in ``docker save``: new and changed entries, and
an empty ``.wh.<name>`` entry for each removed one (``.wh..wh..opq`` empties a directory).
Every name is resolved inside the root (:func:`conu.utils.rootfs.resolve_in_root`) and every
archive is extracted with :func:`conu.utils.archive.extract_tar_stream`, so nothing outside
the root is ever read or written through a link an image planted.
"""

from __future__ import annotations

import hashlib
import io
import os
import posixpath
import stat
import tarfile
import tempfile
from collections.abc import Iterator
from typing import IO

from conu.utils.archive import extract_tar_stream, remove_tree
from conu.utils.rootfs import resolve_in_root

__all__ = [
    "Index",
    "apply_layer",
    "chunks",
    "diff_layer",
    "index_tree",
    "layer_id",
    "materialise",
    "tar_tree",
]

Index = dict[str, tuple[int, ...]]
"""Relative path → what ``lstat`` says about it (type, owner, size, times, inode)."""

WHITEOUT = ".wh."
OPAQUE = ".wh..wh..opq"
CHUNK_SIZE = 1024 * 1024
_SPOOL_MAX = 16 * 1024 * 1024


def layer_id(layer: bytes) -> str:
    """Return the ``sha256:`` digest of an uncompressed layer (its diff id)."""
    return "sha256:" + hashlib.sha256(layer).hexdigest()


def materialise(root: str, layers: list[bytes]) -> None:
    """Create the directory ``root`` and apply ``layers`` to it, oldest first."""
    os.mkdir(root, 0o755)
    for layer in layers:
        apply_layer(root, layer)


def apply_layer(root: str, layer: bytes) -> None:
    """Extract one layer onto ``root``, removing what its whiteouts name first."""
    with tarfile.open(fileobj=io.BytesIO(layer), mode="r:") as tar:
        names = [posixpath.normpath("/" + name) for name in tar.getnames()]
    markers = []
    for name in names:
        parent, leaf = posixpath.split(name)
        if leaf == OPAQUE:
            directory = resolve_in_root(root, parent)
            if os.path.isdir(directory) and not os.path.islink(directory):
                for child in os.listdir(directory):
                    remove_tree(os.path.join(directory, child))
        elif leaf.startswith(WHITEOUT):
            target = resolve_in_root(
                root, posixpath.join(parent, leaf[len(WHITEOUT) :]), follow_last=False
            )
            if os.path.abspath(target) != os.path.abspath(root):
                remove_tree(target)
        else:
            continue
        markers.append(name)
    extract_tar_stream(layer, root)
    for name in markers:
        remove_tree(resolve_in_root(root, name, follow_last=False))


def index_tree(root: str) -> Index:
    """Describe every entry below ``root`` (links not followed), for :func:`diff_layer`."""
    found: Index = {}

    def walk(path: str, rel: str) -> None:
        with os.scandir(path) as entries:
            listed = list(entries)
        for entry in listed:
            st = entry.stat(follow_symlinks=False)
            name = f"{rel}/{entry.name}" if rel else entry.name
            found[name] = (
                st.st_mode,
                st.st_uid,
                st.st_gid,
                st.st_size,
                st.st_mtime_ns,
                st.st_ctime_ns,
                st.st_ino,
            )
            if stat.S_ISDIR(st.st_mode):
                walk(entry.path, name)

    walk(root, "")
    return found


def diff_layer(root: str, before: Index) -> tuple[bytes, Index]:
    """Archive what changed in ``root`` since ``before``; return the layer and the new index."""
    after = index_tree(root)
    gone = {
        name
        for name, old in before.items()
        if name not in after or stat.S_IFMT(after[name][0]) != stat.S_IFMT(old[0])
    }
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name in sorted(gone):
            if posixpath.dirname(name) in gone:
                continue  # removed with its parent
            parent, leaf = posixpath.split(name)
            tar.addfile(tarfile.TarInfo(posixpath.join(parent, WHITEOUT + leaf)))
        for name in sorted(after):
            if before.get(name) != after[name]:
                tar.add(os.path.join(root, name), arcname=name, recursive=False)
    return buffer.getvalue(), after


def tar_tree(host_path: str, arcname: str) -> IO[bytes]:
    """Archive ``host_path`` (a final link as a link) as ``arcname``, ``arcname/child``...

    With an empty ``arcname`` the top entry is left out and its children are named from it,
    as ``docker export`` does. Returns a spooled file positioned at the start.
    """
    spool = tempfile.SpooledTemporaryFile(max_size=_SPOOL_MAX, mode="w+b")  # noqa: SIM115
    try:
        with tarfile.open(fileobj=spool, mode="w", format=tarfile.PAX_FORMAT) as tar:
            _add(tar, host_path, arcname)
    except BaseException:
        spool.close()
        raise
    spool.seek(0)
    return spool


def _add(tar: tarfile.TarFile, path: str, name: str) -> None:
    """Add ``path`` and, for a directory that is not a link, everything below it."""
    if name:
        tar.add(path, arcname=name, recursive=False)
    if stat.S_ISDIR(os.lstat(path).st_mode):
        for child in sorted(os.listdir(path)):
            _add(tar, os.path.join(path, child), f"{name}/{child}" if name else child)


def chunks(stream: IO[bytes]) -> Iterator[bytes]:
    """Yield ``stream`` in chunks of at most 1 MiB, then close it."""
    with stream:
        while chunk := stream.read(CHUNK_SIZE):
            yield chunk
