"""A container's root filesystem through ``podman mount`` (rootful podman): ``lstat`` of a
path and tar archives that keep links, owners and modes as they are.

Paths are resolved inside the mounted root by :func:`conu.utils.rootfs.resolve_in_root`, so
links before the last component resolve inside the container, never on the host. Mounting
works on created, never started containers; podman counts mounts, so unmounting never
pulls the root from under a running container or a concurrent caller.
"""

from __future__ import annotations

import contextlib
import logging
import os
import posixpath
import tarfile
import threading
from collections.abc import Iterator

from conu.apidefs.files import lstat_info
from conu.apidefs.metadata import PathInfo, PathKind
from conu.backend.podman import cli
from conu.exceptions import ConuException, NotFound, UnsafePath
from conu.utils.rootfs import resolve_in_root

__all__ = ["mounted", "path_info", "tar_chunks"]

logger = logging.getLogger(__name__)

_CHUNK = 64 * 1024


@contextlib.contextmanager
def mounted(container_id: str) -> Iterator[str]:
    """Mount the root filesystem of ``container_id``; yield where it is on the host.

    Raises:
        ContainerNotFound: the container does not exist.
    """
    what = f"mount container {container_id[:12]!r}"
    root = cli.last_line(cli.run(["mount", container_id], what=what).stdout)
    try:
        yield root
    finally:
        unmount = f"unmount container {container_id[:12]!r}"
        try:
            cli.run(["umount", container_id], what=unmount)
        except ConuException:  # removed meanwhile: nothing stays mounted
            logger.debug("cannot %s", unmount, exc_info=True)


def _host_path(root: str, path: str, *, follow: bool) -> str | None:
    """The host path of container ``path`` under ``root``; None when nothing is there."""
    try:
        host = resolve_in_root(root, path, follow_last=follow)
    except UnsafePath:  # a symlink loop
        return None
    except OSError:
        return None
    return host if os.path.lexists(host) else None


def path_info(root: str, path: str, *, follow: bool) -> PathInfo | None:
    """Describe ``path`` of the filesystem mounted at ``root`` as ``lstat`` (or, with
    ``follow``, ``stat`` inside the root) would; None when nothing is there."""
    host = _host_path(root, path, follow=follow)
    if host is None:
        return None
    found = lstat_info(host, posixpath.basename(path.rstrip("/")) or "/")
    if follow and found.kind is PathKind.SYMLINK:
        return None  # a dangling link inside the root
    return found


def _anonymous(member: tarfile.TarInfo) -> tarfile.TarInfo:
    """Drop the user and group names the host would give the container's ids."""
    member.uname = member.gname = ""
    return member


def _write_tar(host: str, arcname: str, fd: int, problems: list[BaseException]) -> None:
    """Write a tar archive of ``host`` (links kept as links) to pipe ``fd``."""
    try:
        with (
            os.fdopen(fd, "wb") as out,
            tarfile.open(fileobj=out, mode="w|", format=tarfile.PAX_FORMAT) as tar,
        ):
            tar.add(host, arcname=arcname, recursive=True, filter=_anonymous)
    except BrokenPipeError:  # the reader stopped early
        pass
    except Exception as exc:
        problems.append(exc)


def tar_chunks(container_id: str, path: str) -> Iterator[bytes]:
    """Yield a tar archive of ``path`` in the container (a final symlink as a link).

    The container stays mounted while the archive is read.

    Raises:
        NotFound: nothing is at ``path``.
    """
    with mounted(container_id) as root:
        host = _host_path(root, path, follow=False)
        if host is None:
            msg = f"cannot archive {path!r} of container {container_id[:12]!r}: no such path"
            raise NotFound(msg)
        arcname = posixpath.basename(path.rstrip("/")) or "."
        read_fd, write_fd = os.pipe()
        problems: list[BaseException] = []
        writer = threading.Thread(
            target=_write_tar, args=(host, arcname, write_fd, problems), daemon=True
        )
        writer.start()
        try:
            with os.fdopen(read_fd, "rb") as pipe:
                while chunk := pipe.read(_CHUNK):
                    yield chunk
        finally:  # the pipe is closed: a writer still at work gets EPIPE and ends
            writer.join()
    if problems:
        msg = f"cannot archive {path!r} of container {container_id[:12]!r}: {problems[0]}"
        raise ConuException(msg) from problems[0]
