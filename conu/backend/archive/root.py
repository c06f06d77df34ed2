"""An image's merged root, extracted once on the host, read as an engine reads a container.

:class:`ExtractedRoot` answers the file primitives of the engine interface: ``stat_path``
(:meth:`~ExtractedRoot.stat`), ``get_archive`` (:meth:`~ExtractedRoot.archive`) and
``export_container`` (:meth:`~ExtractedRoot.export`). Paths are resolved with
:func:`conu.utils.rootfs.resolve_in_root`, exactly as for the other backends' filesystems: an
absolute link restarts at the image's root, ``..`` stops there, a loop ends the walk. What a
path *is* (type, mode, owner, size, device) comes from the layers' headers
(:class:`~conu.backend.archive.index.PathIndex`), file contents from the extracted tree.

:data:`ROOTS` keeps one extraction per image id for the whole process, in a temporary directory
named ``conu-<session>-archive-…`` (so ``conu cleanup`` and the watchdog find what a killed
session left), and removes them all at interpreter exit.
"""

from __future__ import annotations

import atexit
import os
import posixpath
import shutil
import stat
import tarfile
import tempfile
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import IO

from conu.apidefs.metadata import PathInfo, PathKind
from conu.backend.archive.index import Entry, PathIndex
from conu.backend.archive.layers import LayerFile, apply_layer
from conu.exceptions import NotFound, UnsafePath
from conu.labels import tmp_prefix
from conu.utils.archive import remove_tree
from conu.utils.rootfs import resolve_in_root
from conu.utils.streams import CHUNK_SIZE

__all__ = ["ROOTS", "ExtractedRoot", "RootCache"]

_SPOOL_MAX = 16 * 1024 * 1024
_DEVICE_TYPES = {stat.S_IFCHR: tarfile.CHRTYPE, stat.S_IFBLK: tarfile.BLKTYPE}


class ExtractedRoot:
    """The merged layers of one image under ``directory/root``, with their index.

    Args:
        directory: the host directory that holds ``root`` (removed by :meth:`remove`).
        index: what the layers say about every path.
    """

    def __init__(self, directory: str, index: PathIndex) -> None:
        self.directory = directory
        self.root = os.path.join(directory, "root")
        self.index = index
        self.owner = os.getpid()
        """The process that extracted it (and removes it)."""

    @classmethod
    def build(cls, layers: Sequence[LayerFile], *, parent: str | None = None) -> ExtractedRoot:
        """Apply ``layers`` (oldest first) in a new temporary directory; return the root.

        Args:
            layers: the image's layers.
            parent: where the temporary directory goes; the system's temporary directory
                by default.

        Raises:
            InvalidArgument: a layer is damaged or cannot be applied (nothing is left).
            UnsafePath: a layer would write outside the root (nothing is left).
        """
        directory = tempfile.mkdtemp(prefix=tmp_prefix() + "archive-", dir=parent)
        try:
            index = PathIndex()
            root = os.path.join(directory, "root")
            os.mkdir(root, 0o755)
            for layer in layers:
                apply_layer(root, index, layer)
        except BaseException:
            remove_tree(directory)
            raise
        return cls(directory, index)

    def remove(self) -> None:
        """Remove the extracted tree from the host."""
        remove_tree(self.directory)

    def lookup(self, path: str, *, follow: bool) -> tuple[str, Entry] | None:
        """Resolve image path ``path``; return its root-relative path and entry, or None
        when nothing is there (or, with ``follow``, a final link dangles or loops)."""
        try:
            host = resolve_in_root(self.root, path, follow_last=follow)
            if not follow:  # a path that is a symlink loop is not there, as for Docker
                resolve_in_root(self.root, path, follow_last=True)
        except (OSError, UnsafePath):
            return None
        rel = os.path.relpath(host, self.root)
        rel = "" if rel == "." else rel.replace(os.sep, "/")
        entry = self.index.get(rel)
        if entry is None or (path.endswith("/") and entry.kind is not PathKind.DIRECTORY):
            return None
        return rel, entry

    def stat(self, path: str, *, follow: bool = False) -> PathInfo | None:
        """Describe ``path`` as ``lstat`` in the image would (``follow``: as ``stat``)."""
        found = self.lookup(path, follow=follow)
        if found is None:
            return None
        entry = found[1]
        return PathInfo(
            name=posixpath.basename(posixpath.normpath(path)),
            kind=entry.kind,
            mode=entry.mode,
            uid=entry.uid,
            gid=entry.gid,
            size=entry.size,
            link_target=entry.link_target,
        )

    def archive(self, path: str) -> Iterator[bytes]:
        """Return a tar stream of ``path`` named by its base name (a final link as a link,
        a directory with everything below it), as ``docker cp`` makes it.

        Raises:
            NotFound: nothing is at ``path``.
        """
        found = self.lookup(path, follow=False)
        if found is None:
            msg = f"no such file or directory in the image: {path!r}"
            raise NotFound(msg)
        name = posixpath.basename(posixpath.normpath(path)) or "."
        return _chunks(self._tar(found[0], name))

    def export(self) -> Iterator[bytes]:
        """Return the whole filesystem as a tar stream, as ``docker export`` makes it."""
        return _chunks(self._tar("", ""))

    def _tar(self, rel: str, name: str) -> IO[bytes]:
        """Archive ``rel`` and what is below it as ``name``... (top left out when ``name`` is
        empty) into a spooled file, positioned at its start."""
        spool = tempfile.SpooledTemporaryFile(max_size=_SPOOL_MAX, mode="w+b")  # noqa: SIM115
        try:
            with tarfile.open(fileobj=spool, mode="w", format=tarfile.PAX_FORMAT) as tar:
                seen: dict[tuple[int, int], str] = {}
                for path, node in self.index.walk(rel):
                    below = path[len(rel) :].lstrip("/") if rel else path
                    arcname = "/".join(filter(None, (name, below)))
                    if arcname:
                        self._add(tar, path, arcname, node.entry, seen)
        except BaseException:
            spool.close()
            raise
        spool.seek(0)
        return spool

    def _add(
        self,
        tar: tarfile.TarFile,
        rel: str,
        arcname: str,
        entry: Entry,
        seen: dict[tuple[int, int], str],
    ) -> None:
        """Add one path: its header from ``entry``, its data from the extracted tree."""
        info = tarfile.TarInfo(arcname)
        info.mode, info.uid, info.gid = entry.mode & 0o7777, entry.uid, entry.gid
        info.mtime = entry.mtime
        if entry.kind is PathKind.DIRECTORY:
            info.type = tarfile.DIRTYPE
        elif entry.kind is PathKind.SYMLINK:
            info.type, info.linkname = tarfile.SYMTYPE, entry.link_target or ""
        elif entry.kind is PathKind.OTHER:
            info.type = _DEVICE_TYPES.get(stat.S_IFMT(entry.mode), tarfile.FIFOTYPE)
            info.devmajor, info.devminor = entry.device or (0, 0)
        else:
            fd = os.open(os.path.join(self.root, rel), os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
            with os.fdopen(fd, "rb") as file:
                st = os.fstat(file.fileno())
                key = (st.st_dev, st.st_ino)
                if st.st_nlink > 1 and key in seen:
                    info.type, info.linkname = tarfile.LNKTYPE, seen[key]
                    tar.addfile(info)
                    return
                seen[key] = arcname
                info.size = st.st_size
                tar.addfile(info, file)
            return
        tar.addfile(info)

    def link_into(self, dest: str) -> None:
        """Make the image's files appear under ``dest``: directories and links made anew,
        regular files hard-linked to the extracted ones (copied when they cannot be), no
        device nodes. The files are shared with the extraction: treat them as read-only."""
        modes = []
        for path, node in self.index.walk():
            entry, target = node.entry, os.path.join(dest, path)
            if entry.kind is PathKind.DIRECTORY:
                os.makedirs(target, 0o755, exist_ok=True)
                if path:  # the mount point keeps its own mode
                    modes.append((target, entry.mode & 0o777))
            elif entry.kind is PathKind.SYMLINK:
                os.symlink(entry.link_target or "", target)
            elif entry.kind is PathKind.FILE:
                source = os.path.join(self.root, path)
                try:
                    os.link(source, target, follow_symlinks=False)
                except OSError:
                    shutil.copy2(source, target, follow_symlinks=False)
        for target, mode in reversed(modes):  # deepest first: read-only ones filled already
            os.chmod(target, mode)


def _chunks(stream: IO[bytes]) -> Iterator[bytes]:
    """Yield ``stream`` in chunks, then close it."""
    with stream:
        while chunk := stream.read(CHUNK_SIZE):
            yield chunk


class RootCache:
    """One :class:`ExtractedRoot` per image id for the process, built on first use."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._roots: dict[str, ExtractedRoot] = {}
        self._building: dict[str, threading.Lock] = {}

    def get(self, image_id: str, build: Callable[[], ExtractedRoot]) -> ExtractedRoot:
        """Return the root of ``image_id``, calling ``build`` when there is none yet.

        Concurrent callers for one image wait for a single extraction; other images are
        extracted in parallel.
        """
        with self._lock:
            if image_id in self._roots:
                return self._roots[image_id]
            building = self._building.setdefault(image_id, threading.Lock())
        with building:
            with self._lock:
                if image_id in self._roots:
                    return self._roots[image_id]
            root = build()
            with self._lock:
                self._roots[image_id] = root
                self._building.pop(image_id, None)
            return root

    def clear(self) -> int:
        """Remove every extracted root from the host; return how many there were.

        A forked child that exits forgets its parent's roots without removing them.
        """
        with self._lock:
            roots, self._roots = list(self._roots.values()), {}
        for root in roots:
            if root.owner == os.getpid():
                root.remove()
        return len(roots)


ROOTS = RootCache()
"""The process's extracted roots, removed at interpreter exit."""
atexit.register(ROOTS.clear)
