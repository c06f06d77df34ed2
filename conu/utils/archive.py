"""Tar streams from a container engine, extracted safely, and tars made to send back.

Archives come from images conu does not trust, so extraction guarantees that nothing is created
or written outside the destination directory:

* member names are made relative and normalised; a name whose ``..`` leaves the destination
  raises :class:`~conu.exceptions.UnsafePath` naming the member, since skipping it silently
  would hide a hostile archive and give a tree that is not the image's;
* directories are walked one component at a time with ``O_NOFOLLOW``, so a member written
  "through" a symbolic link extracted earlier raises UnsafePath instead of landing where the
  link points; files are created with ``O_EXCL | O_NOFOLLOW``;
* symbolic links are created exactly as archived: their targets are container paths, resolved
  later inside the root by :func:`conu.utils.rootfs.resolve_in_root`;
* a hard link must name a member extracted earlier from the same archive; anything else
  (``/etc/shadow`` of the host, ``../outside``) raises UnsafePath;
* character and block devices and fifos are skipped (logged at debug level): a filesystem check
  on them then says "absent", never "a regular file";
* setuid, setgid and sticky bits are dropped, ownership is left to the current user, other mode
  bits and modification times are kept; directory modes are applied last, deepest first, so a
  read-only directory such as ``usr/bin`` (0o555) can be filled first and still ends 0o555;
* file data is copied in 1 MiB chunks and all-zero chunks become holes, so memory stays bounded
  and a multi-gigabyte zero file stays sparse on disk.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import stat
import tarfile
from collections.abc import Iterable
from typing import IO, TYPE_CHECKING

import attrs

from conu.exceptions import ConuException, UnsafePath
from conu.utils.streams import CHUNK_SIZE, IterStream, as_stream
from conu.utils.tree import _DIR_FLAGS, make_tree_writable, remove_tree, tar_path

if TYPE_CHECKING:
    pass

__all__ = ["IterStream", "extract_tar_stream", "make_tree_writable", "remove_tree", "tar_path"]

logger = logging.getLogger(__name__)

MAX_DEPTH = 256
"""Deepest member accepted: removal walks trees recursively, one descriptor per level."""

_FILE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC


def extract_tar_stream(
    source: bytes | IO[bytes] | Iterable[bytes],
    dest: str | os.PathLike[str],
    *,
    strip_components: int = 0,
) -> list[str]:
    """Extract a tar stream into ``dest`` without ever writing outside it.

    The archive (plain tar, as engines stream it) is read once, front to back, and never held
    whole in memory; the module docstring says what is extracted and how. On error the part
    already extracted stays in ``dest``; remove it with :func:`remove_tree`.

    Args:
        source: the archive, as bytes, a binary file object or an iterator of byte chunks
            (what docker-py's ``get_archive`` and ``export`` return).
        dest: the directory to extract into; created if missing. It should be new or empty: a
            read-only directory left there by an earlier extraction cannot be filled again.
        strip_components: leading name components to drop from every member, like tar's
            option of that name: ``get_archive("/etc")`` yields ``etc/hosts`` and with 1 it
            lands as ``dest/hosts``. A directory member stripped to nothing gives its mode to
            ``dest``; other members stripped to nothing are skipped.

    Returns:
        The names (relative to ``dest``, ``/``-separated) of the entries created, in archive
        order; skipped devices and fifos are not listed.

    Raises:
        UnsafePath: a member's name leaves ``dest``, a member would be written through a
            symbolic link, or a hard link names something not extracted before it.
        ConuException: the stream is not a valid archive, or a member cannot be placed (its
            parent is a file, it would replace a non-empty directory, it is nested too deep).
        OSError: the host refused an operation (disk full, ``dest`` not writable).
    """
    os.makedirs(dest, exist_ok=True)
    root_fd = os.open(dest, _DIR_FLAGS)
    try:
        extractor = _Extractor(root_fd, strip_components)
        with as_stream(source) as stream:
            extractor.run(stream)
        extractor.apply_directory_modes()
        return extractor.names
    finally:
        os.close(root_fd)


def _normalise(name: str, strip: int, member: str) -> str | None:
    """Make an archive name relative and lexically normal; None if stripped away entirely.

    Raises:
        UnsafePath: the name's ``..`` components climb above the archive's root.
    """
    parts: list[str] = []
    for part in name.split("/"):
        if part == "..":
            if not parts:
                msg = f"archive member {member!r} points outside the destination ({name!r})"
                raise UnsafePath(msg)
            parts.pop()
        elif part not in ("", "."):
            parts.append(part)
    if len(parts) > MAX_DEPTH + strip:
        msg = f"archive member {member!r} is nested deeper than {MAX_DEPTH} directories"
        raise ConuException(msg)
    if strip and len(parts) < strip:
        return None
    return "/".join(parts[strip:])


@attrs.define
class _Extractor:
    """The state of one extraction: the open destination and what was created so far."""

    root_fd: int
    strip: int
    names: list[str] = attrs.Factory(list)
    seen: set[str] = attrs.Factory(set)
    dir_modes: dict[str, tuple[int, float]] = attrs.Factory(dict)

    def run(self, stream: IterStream) -> None:
        """Extract every member of the tar ``stream``."""
        try:
            with tarfile.open(fileobj=stream, mode="r|", bufsize=CHUNK_SIZE) as tar:
                while (member := tar.next()) is not None:
                    # Streaming mode still keeps every header read; drop them so memory does
                    # not grow with the number of members.
                    tar.members.clear()  # type: ignore[attr-defined]
                    self._extract(tar, member)
        except tarfile.TarError as exc:
            msg = f"the stream is not a valid tar archive: {exc}"
            raise ConuException(msg) from exc

    def _extract(self, tar: tarfile.TarFile, member: tarfile.TarInfo) -> None:
        """Create one member, or skip it when it is a device, a fifo or stripped away."""
        name = _normalise(member.name, self.strip, member.name)
        if name is None or member.isdev():
            logger.debug("skipping archive member %r (type %r)", member.name, member.type)
            return
        if not name:
            if member.isdir():
                self.dir_modes[""] = (member.mode & 0o777, member.mtime)
            else:
                logger.debug("skipping archive member %r: stripped to nothing", member.name)
            return
        parent, _, leaf = name.rpartition("/")
        parent_fd = self._open_dirs(parent, member.name, create=True)
        try:
            _clear_leaf(parent_fd, leaf, member)
            self._create(tar, member, parent_fd, leaf, name)
        finally:
            os.close(parent_fd)
        self.names.append(name)
        self.seen.add(name)

    def _create(
        self, tar: tarfile.TarFile, member: tarfile.TarInfo, parent_fd: int, leaf: str, name: str
    ) -> None:
        """Create ``leaf`` in the open directory ``parent_fd`` from ``member``."""
        if member.isdir():
            with contextlib.suppress(FileExistsError):
                os.mkdir(leaf, 0o755, dir_fd=parent_fd)
            self.dir_modes[name] = (member.mode & 0o777, member.mtime)
        elif member.issym():
            os.symlink(member.linkname, leaf, dir_fd=parent_fd)
            _set_mtime(leaf, member.mtime, dir_fd=parent_fd)
        elif member.islnk():
            self._link(member, parent_fd, leaf)
        else:
            data = tar.extractfile(member)
            fd = os.open(leaf, _FILE_FLAGS, 0o600, dir_fd=parent_fd)
            try:
                if data is not None:
                    _copy_sparse(data, fd)
                os.fchmod(fd, member.mode & 0o777)
                _set_mtime(fd, member.mtime)
            finally:
                os.close(fd)

    def _link(self, member: tarfile.TarInfo, parent_fd: int, leaf: str) -> None:
        """Hard-link ``leaf`` to a member extracted earlier, refusing any other target."""
        target = _normalise(member.linkname, self.strip, member.name)
        if not target or target not in self.seen:
            msg = (
                f"hard link {member.name!r} points to {member.linkname!r},"
                " which is not a member extracted before it"
            )
            raise UnsafePath(msg)
        target_dir, _, target_leaf = target.rpartition("/")
        target_fd = self._open_dirs(target_dir, member.name, create=False)
        try:
            os.link(
                target_leaf,
                leaf,
                src_dir_fd=target_fd,
                dst_dir_fd=parent_fd,
                follow_symlinks=False,
            )
        finally:
            os.close(target_fd)

    def _open_dirs(self, path: str, member: str, *, create: bool) -> int:
        """Open the directory ``path`` below the root, never following a symbolic link."""
        fd = os.dup(self.root_fd)
        try:
            for part in filter(None, path.split("/")):
                child = _open_child_dir(fd, part, member, create=create)
                os.close(fd)
                fd = child
        except BaseException:
            os.close(fd)
            raise
        return fd

    def apply_directory_modes(self) -> None:
        """Give directories their archived modes and times, deepest first, the root last."""
        by_depth = sorted(self.dir_modes, key=lambda name: (-name.count("/"), name == ""))
        for name in by_depth:
            mode, mtime = self.dir_modes[name]
            try:
                fd = self._open_dirs(name, name, create=False)
            except (ConuException, OSError):
                logger.debug("directory %r was replaced later in the archive", name)
                continue
            try:
                os.fchmod(fd, mode)
                _set_mtime(fd, mtime)
            finally:
                os.close(fd)


def _open_child_dir(parent_fd: int, part: str, member: str, *, create: bool) -> int:
    """Open (or create) the directory ``part`` in ``parent_fd``, refusing symbolic links."""
    try:
        return os.open(part, _DIR_FLAGS, dir_fd=parent_fd)
    except FileNotFoundError:
        if not create:
            raise
    except OSError as exc:
        # O_NOFOLLOW makes a symbolic link fail with ELOOP; a file fails with ENOTDIR.
        if exc.errno not in (errno.ELOOP, errno.ENOTDIR):
            raise
        raise _not_a_directory(parent_fd, part, member) from exc
    os.mkdir(part, 0o755, dir_fd=parent_fd)
    return os.open(part, _DIR_FLAGS, dir_fd=parent_fd)


def _not_a_directory(parent_fd: int, part: str, member: str) -> ConuException:
    """Build the error for a member whose parent component ``part`` is not a directory."""
    st = os.stat(part, dir_fd=parent_fd, follow_symlinks=False)
    if stat.S_ISLNK(st.st_mode):
        msg = f"archive member {member!r} would be written through the symbolic link {part!r}"
        return UnsafePath(msg)
    msg = f"archive member {member!r} needs {part!r} to be a directory, but it is not"
    return ConuException(msg)


def _clear_leaf(parent_fd: int, leaf: str, member: tarfile.TarInfo) -> None:
    """Remove what already sits at ``leaf`` so the member can replace it, as tar does.

    A directory is kept for a directory member (it is only updated) and removed only if empty.
    """
    try:
        st = os.stat(leaf, dir_fd=parent_fd, follow_symlinks=False)
    except FileNotFoundError:
        return
    if not stat.S_ISDIR(st.st_mode):
        os.unlink(leaf, dir_fd=parent_fd)
    elif not member.isdir():
        try:
            os.rmdir(leaf, dir_fd=parent_fd)
        except OSError as exc:
            msg = f"archive member {member.name!r} would replace a non-empty directory"
            raise ConuException(msg) from exc


def _copy_sparse(data: IO[bytes], fd: int) -> None:
    """Copy ``data`` to ``fd`` in bounded chunks, seeking over all-zero chunks to make holes."""
    while chunk := data.read(CHUNK_SIZE):
        if chunk.count(0) == len(chunk):
            os.lseek(fd, len(chunk), os.SEEK_CUR)
            continue
        view = memoryview(chunk)
        while view:
            view = view[os.write(fd, view) :]
    # A trailing hole is only a seek so far; truncating gives the file its full size.
    os.ftruncate(fd, os.lseek(fd, 0, os.SEEK_CUR))


def _set_mtime(target: int | str, mtime: float, *, dir_fd: int | None = None) -> None:
    """Set access and modification times of an open fd, or of a link name in ``dir_fd``."""
    # A time the filesystem cannot store must not fail the extraction: times are informative.
    with contextlib.suppress(OSError, OverflowError, ValueError):
        if isinstance(target, int):
            os.utime(target, (mtime, mtime))
        else:
            os.utime(target, (mtime, mtime), dir_fd=dir_fd, follow_symlinks=False)
