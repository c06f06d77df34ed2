"""Files of a container through an engine's archive primitives, for every backend.

The engine resolves every component but the last inside the container's root; a final
symlink is followed here, with the same rule (an absolute target restarts at the root, ``..``
stops there), so nothing ever reads the host file of the same name. Archives coming back are
extracted with :func:`conu.utils.archive.extract_tar_stream`, which trusts no member name,
link or device.
"""

from __future__ import annotations

import contextlib
import os
import posixpath
import stat
import tarfile
import tempfile
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from conu.apidefs.metadata import PathInfo, PathKind
from conu.exceptions import ConuException, InvalidArgument, NotFound
from conu.utils.archive import IterStream, extract_tar_stream, tar_path

if TYPE_CHECKING:
    from conu.apidefs.engine import Engine

__all__ = [
    "TAR_KINDS",
    "absolute",
    "copy_from",
    "copy_to",
    "link_step",
    "list_names",
    "path_info_of",
    "read_bytes",
    "refusal",
    "walk",
]

_KIND_NAMES = {PathKind.FILE: "a regular file", PathKind.DIRECTORY: "a directory"}
MAX_LINKS = 40
"""Symlinks followed in a row before a path counts as a loop (Linux's limit)."""
TAR_KINDS = {
    tarfile.REGTYPE: (PathKind.FILE, stat.S_IFREG),
    tarfile.AREGTYPE: (PathKind.FILE, stat.S_IFREG),
    tarfile.CONTTYPE: (PathKind.FILE, stat.S_IFREG),
    tarfile.DIRTYPE: (PathKind.DIRECTORY, stat.S_IFDIR),
    tarfile.SYMTYPE: (PathKind.SYMLINK, stat.S_IFLNK),
    tarfile.LNKTYPE: (PathKind.HARDLINK, stat.S_IFREG),
    tarfile.CHRTYPE: (PathKind.OTHER, stat.S_IFCHR),
    tarfile.BLKTYPE: (PathKind.OTHER, stat.S_IFBLK),
    tarfile.FIFOTYPE: (PathKind.OTHER, stat.S_IFIFO),
}
"""What a tar member's type is, as a path kind and ``st_mode`` type bits."""


def absolute(path: str, argument: str = "path") -> str:
    """Check that ``path`` is a non-empty str and return it absolute (``/`` prepended).

    Raises:
        InvalidArgument: it is not.
    """
    if not isinstance(path, str) or not path:
        msg = f"{argument} must be a non-empty str, not {path!r}"
        raise InvalidArgument(msg)
    return path if path.startswith("/") else "/" + path


@contextlib.contextmanager
def _archive_of(
    engine: Engine, cid: str, path: str, kind: PathKind, verb: str
) -> Iterator[tuple[tarfile.TarFile, tarfile.TarInfo]]:
    """Yield the open tar stream of ``path`` (a final symlink followed inside the root) and
    its first member, which is of ``kind``; the stream is positioned after that member.

    One archive read in the common case: the stream shows what the path is, and a link is
    followed by reading the archive of its target instead.

    Raises:
        ConuException: ``path`` does not exist (or leads nowhere: a dangling link, a loop),
            or is not of ``kind``.
    """
    current = posixpath.normpath(absolute(path))
    for _ in range(MAX_LINKS):
        try:
            stream = IterStream(engine.get_archive(cid, current))
        except NotFound:
            break
        with stream, tarfile.open(fileobj=stream, mode="r|") as tar:
            first = tar.next()
            if first is not None and first.issym():
                current = link_step(current, first.linkname)
                continue
            if first is None or _kind(first) is not kind:
                raise refusal(path, verb, kind, exists=first is not None)
            yield tar, first
            return
    raise refusal(path, verb, kind, exists=False)


def link_step(current: str, target: str) -> str:
    """Where a final symlink at ``current`` leads, as conu follows it: ``target`` joined to
    the directory of ``current`` as written, normalized (``..`` stays at ``/``)."""
    joined = posixpath.join(posixpath.dirname(current), target)
    return "/" + posixpath.normpath(joined).lstrip("/")


def refusal(path: str, verb: str, kind: PathKind, *, exists: bool) -> ConuException:
    """The error of a read, listing or walk (``verb``) of ``path``, which is not there (or
    leads nowhere), or ``exists`` but is not of ``kind`` (a file or a directory)."""
    what = f"is not {_KIND_NAMES[kind]}" if exists else "does not exist"
    return ConuException(f"cannot {verb} {path!r}: it {what}")


def _kind(member: tarfile.TarInfo) -> PathKind:
    if member.isdir():
        return PathKind.DIRECTORY
    return PathKind.FILE if member.isreg() else PathKind.OTHER


def read_bytes(engine: Engine, cid: str, path: str) -> bytes:
    """Return the contents of regular file ``path`` (symlinks followed inside the root).

    Raises:
        ConuException: ``path`` does not exist or is not a regular file.
    """
    with _archive_of(engine, cid, path, PathKind.FILE, "read") as (tar, member):
        extracted = tar.extractfile(member)
        assert extracted is not None
        return extracted.read()


def list_names(engine: Engine, cid: str, path: str) -> list[str]:
    """Return the sorted names in directory ``path`` (symlinks followed inside the root).

    Raises:
        ConuException: ``path`` does not exist or is not a directory.
    """
    names = []
    with _archive_of(engine, cid, path, PathKind.DIRECTORY, "list") as (tar, first):
        for member in tar:
            relative = _below(first, member)
            if relative and "/" not in relative:
                names.append(relative)
    return sorted(names)


def _below(first: tarfile.TarInfo, member: tarfile.TarInfo) -> str | None:
    """``member``'s path relative to the archived directory ``first`` (None: not below it).
    Engines name the members ``dir/...``, or ``/...`` after an empty name for the root."""
    top = first.name.strip("/")
    name = member.name.strip("/")
    if not top:
        return name or None
    return name[len(top) + 1 :] or None if name.startswith(top + "/") else None


def walk(
    engine: Engine, cid: str, directory: str, read: Callable[[str], bool]
) -> Iterator[tuple[str, PathInfo, bytes | None]]:
    """Everything below ``directory`` in one archive read (a final symlink followed inside
    the root): ``(relative path, PathInfo, contents if regular and read(relative path))``.

    Raises:
        ConuException: ``directory`` does not exist or is not a directory.
    """
    with _archive_of(engine, cid, directory, PathKind.DIRECTORY, "walk") as (tar, first):
        for member in tar:
            relative = _below(first, member)
            if relative is None:
                continue  # not below the directory (never sent by an engine)
            data = None
            if member.isreg() and read(relative):
                extracted = tar.extractfile(member)
                data = extracted.read() if extracted is not None else None
            yield relative, path_info_of(member), data


def path_info_of(member: tarfile.TarInfo) -> PathInfo:
    """Describe a path as ``lstat`` would, from its header in an engine's archive."""
    kind, type_bits = TAR_KINDS.get(member.type, (PathKind.OTHER, 0))
    return PathInfo(
        name=posixpath.basename(member.name.rstrip("/")),
        kind=kind,
        mode=type_bits | (member.mode & 0o7777),
        uid=member.uid,
        gid=member.gid,
        size=0 if kind in (PathKind.DIRECTORY, PathKind.SYMLINK) else member.size,
        link_target=member.linkname or None,
    )


_STAT_KINDS = (
    (stat.S_ISREG, PathKind.FILE),
    (stat.S_ISDIR, PathKind.DIRECTORY),
    (stat.S_ISLNK, PathKind.SYMLINK),
)


def lstat_info(host_path: str, name: str) -> PathInfo:
    """Describe ``host_path``, a path on this host, as ``lstat`` does, named ``name``.

    Raises:
        OSError: ``lstat`` failed (``FileNotFoundError`` when nothing is there).
    """
    found = os.lstat(host_path)
    kind = next((k for check, k in _STAT_KINDS if check(found.st_mode)), PathKind.OTHER)
    return PathInfo(
        name=name,
        kind=kind,
        mode=found.st_mode,
        uid=found.st_uid,
        gid=found.st_gid,
        size=0 if kind in (PathKind.DIRECTORY, PathKind.SYMLINK) else found.st_size,
        link_target=os.readlink(host_path) if kind is PathKind.SYMLINK else None,
    )


def copy_from(engine: Engine, cid: str, src: str, dest: str) -> None:
    """Copy ``src`` of the container to ``dest`` on the host, as ``docker cp`` does.

    Into an existing directory ``dest`` the copy keeps ``src``'s base name; otherwise it is
    named ``dest``, whose parent directory must exist. A final symlink is copied as a link.

    Raises:
        NotFound: ``src`` does not exist in the container.
        ConuException: the parent of ``dest`` does not exist.
    """
    src = absolute(src, "src")
    info = engine.stat_path(cid, src)
    if info is None:
        msg = f"cannot copy {src!r}: no such file or directory in container {cid[:12]!r}"
        raise NotFound(msg)
    target = os.path.join(dest, info.name) if os.path.isdir(dest) else dest
    parent = os.path.dirname(os.path.abspath(target))
    if not os.path.isdir(parent):
        msg = f"cannot copy {src!r} to {dest!r}: directory {parent!r} does not exist"
        raise ConuException(msg)
    stream = engine.get_archive(cid, src)
    if info.kind is PathKind.DIRECTORY:
        extract_tar_stream(stream, target, strip_components=1)
        return
    with tempfile.TemporaryDirectory(dir=parent, prefix=".conu-copy-") as tmp:
        extract_tar_stream(stream, tmp)
        os.replace(os.path.join(tmp, info.name), target)


def copy_to(engine: Engine, cid: str, src: str, dest: str) -> None:
    """Copy host file or directory ``src`` to ``dest`` in the container, as ``docker cp`` does.

    Raises:
        ConuException: ``src`` does not exist on the host.
        NotFound: the directory ``dest`` (or its parent) does not exist in the container.
    """
    if not isinstance(src, str) or not os.path.lexists(src):
        msg = f"cannot copy {src!r} to the container: no such file or directory on the host"
        raise ConuException(msg)
    dest = absolute(dest, "dest")
    found = engine.stat_path(cid, dest, follow=True)
    if found is not None and found.kind is PathKind.DIRECTORY:
        directory, name = dest, os.path.basename(os.path.normpath(src))
    else:
        directory, name = os.path.dirname(dest.rstrip("/")) or "/", os.path.basename(dest)
    with tar_path(src, arcname=name) as data:
        engine.put_archive(cid, directory, data.read())
