"""Host file trees: made writable, removed, and archived for ``put_archive``.

Trees extracted by :func:`conu.utils.archive.extract_tar_stream` keep the image's directory
modes, so they may hold read-only directories that :func:`shutil.rmtree` cannot empty;
:func:`remove_tree` copes with them. Symbolic links are never followed. :func:`tar_path` makes
the archive that sends a host file or directory into a container.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import tarfile
import tempfile
from collections.abc import Callable
from typing import IO

__all__ = ["make_tree_writable", "remove_tree", "tar_path"]

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
"""Open a directory, never through a symbolic link."""
_SPOOL_MAX = 16 * 1024 * 1024


def make_tree_writable(path: str | os.PathLike[str]) -> None:
    """Give the owner full access to every directory of the tree at ``path``.

    Symbolic links are never followed: a link to a host directory is left alone, and ``path``
    itself is left alone when it is a link or not a directory.

    Args:
        path: the top of the tree, e.g. a directory filled by :func:`extract_tar_stream`.

    Raises:
        OSError: a directory cannot be changed (it belongs to another user, for instance).
    """
    if not stat.S_ISDIR(os.lstat(path).st_mode):
        return
    _make_dir_usable(os.fspath(path), None)
    top_fd = os.open(path, _DIR_FLAGS)
    try:
        _make_children_writable(top_fd)
    finally:
        os.close(top_fd)


def _make_dir_usable(name: str, parent_fd: int | None) -> None:
    """Add u+rwx to the directory ``name``, which the caller saw as a directory, not a link."""
    # Linux has no chmod that refuses links; the caller's lstat rules them out, and nobody else
    # writes into a tree conu extracted for itself.
    mode = stat.S_IMODE(os.stat(name, dir_fd=parent_fd, follow_symlinks=False).st_mode)
    if mode & stat.S_IRWXU != stat.S_IRWXU:
        os.chmod(name, mode | stat.S_IRWXU, dir_fd=parent_fd)


def _make_children_writable(dir_fd: int) -> None:
    """Apply :func:`_make_dir_usable` to every directory below the open ``dir_fd``."""
    with os.scandir(dir_fd) as entries:
        subdirs = [entry.name for entry in entries if entry.is_dir(follow_symlinks=False)]
    for name in subdirs:
        _make_dir_usable(name, dir_fd)
        child_fd = os.open(name, _DIR_FLAGS, dir_fd=dir_fd)
        try:
            _make_children_writable(child_fd)
        finally:
            os.close(child_fd)


def remove_tree(path: str | os.PathLike[str]) -> None:
    """Remove the tree at ``path`` even when it holds read-only directories.

    A missing ``path`` is not an error, and a symbolic link is removed, not followed.

    Args:
        path: the file, link or directory to remove.

    Raises:
        OSError: something in the tree cannot be removed.
    """
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return
    if not stat.S_ISDIR(mode):
        os.unlink(path)
        return
    make_tree_writable(path)
    # rmtree works through directory descriptors on Linux, so it never follows a link either.
    shutil.rmtree(path)


def tar_path(
    src: str | os.PathLike[str], *, arcname: str | None = None, uid: int = 0, gid: int = 0
) -> IO[bytes]:
    """Make a tar archive of a host file or directory, for ``put_archive``.

    The archive lives in a spooled temporary file (in memory while small, on disk beyond
    16 MiB); the caller closes it. Symbolic links are archived as links, not followed.

    Args:
        src: the host file or directory.
        arcname: the name of ``src`` inside the archive; its base name by default.
        uid: the owner the entries get in the container; root by default, like ``docker cp``.
        gid: the group the entries get in the container.

    Returns:
        A binary file object positioned at the start of the archive.
    """
    name = arcname if arcname is not None else os.path.basename(os.path.normpath(src))
    with contextlib.ExitStack() as on_error:
        spool = on_error.enter_context(
            tempfile.SpooledTemporaryFile(max_size=_SPOOL_MAX, mode="w+b")
        )
        with tarfile.open(fileobj=spool, mode="w", format=tarfile.PAX_FORMAT) as tar:
            tar.add(os.fspath(src), arcname=name, filter=_owned_by(uid, gid))
        # Success: the caller owns the spool now, so it must not be closed on the way out.
        on_error.pop_all()
    spool.seek(0)
    return spool


def _owned_by(uid: int, gid: int) -> Callable[[tarfile.TarInfo], tarfile.TarInfo]:
    """Return a tarfile filter giving every entry the owner ``uid:gid``."""

    def set_owner(info: tarfile.TarInfo) -> tarfile.TarInfo:
        info.uid, info.gid = uid, gid
        # Extractors that map names (GNU tar does) would otherwise apply the host's names.
        info.uname = info.gname = ""
        return info

    return set_owner
