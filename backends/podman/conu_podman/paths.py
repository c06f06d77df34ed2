"""Describing and listing paths of a (helper) container: ``lstat`` and directory listings.

``podman cp`` follows a final symlink and archives every file as owned by root, so it can
answer "is this a file or a directory" but not ``lstat``. :func:`path_info` therefore reads
the container's root filesystem through ``podman mount`` (rootful podman): the path is
resolved inside the mounted root by :func:`conu.utils.rootfs.resolve_in_root` (links before
the last component resolve inside the container, never on the host) and ``lstat``-ed. A
directory listing streams the directory's ``podman cp`` archive, which works rootless too.
"""

from __future__ import annotations

import contextlib
import os
import posixpath
import stat
import tarfile
from collections.abc import Iterator

from conu.apidefs.metadata import PathInfo, PathKind
from conu.exceptions import ContainerNotFound, ConuException, NotFound, UnsupportedOperation
from conu.utils.rootfs import resolve_in_root
from conu_podman import engine
from conu_podman.files import COPY_TIMEOUT, check_path
from conu_podman.stream import open_stream

__all__ = ["list_names", "mounted", "path_info"]

_KINDS = (
    (stat.S_ISREG, PathKind.FILE),
    (stat.S_ISDIR, PathKind.DIRECTORY),
    (stat.S_ISLNK, PathKind.SYMLINK),
)


@contextlib.contextmanager
def mounted(container: str) -> Iterator[str]:
    """Mount the root filesystem of ``container`` on the host; yield where it is.

    Raises:
        UnsupportedOperation: podman runs rootless, where its mounts are invisible here.
        ContainerNotFound: the container does not exist.
    """
    if os.geteuid() != 0:
        raise UnsupportedOperation("podman", "path_info (needs rootful podman for podman mount)")
    what = f"mount container {container[:12]!r}"
    root = engine.run(["mount", container], what=what).stdout.decode().strip()
    try:
        yield root
    finally:
        engine.run(["umount", container], what=f"unmount container {container[:12]!r}")


def path_info(container: str, path: str) -> PathInfo | None:
    """Describe ``path`` in ``container`` as ``lstat`` would; None when it does not exist.

    Raises:
        UnsupportedOperation: podman runs rootless.
        ContainerNotFound: the container does not exist.
    """
    path = check_path(path, "path")
    with mounted(container) as root:
        host_path = resolve_in_root(root, path, follow_last=False)
        try:
            found = os.lstat(host_path)
        except (FileNotFoundError, NotADirectoryError):
            return None
        target = os.readlink(host_path) if stat.S_ISLNK(found.st_mode) else None
    kind = next((k for check, k in _KINDS if check(found.st_mode)), PathKind.OTHER)
    sized = kind in (PathKind.FILE, PathKind.OTHER)
    return PathInfo(
        name=posixpath.basename(path.rstrip("/")) or "/",
        kind=kind,
        mode=found.st_mode,
        uid=found.st_uid,
        gid=found.st_gid,
        size=found.st_size if sized else 0,
        link_target=target,
    )


def list_names(container: str, path: str) -> list[str]:
    """Return the sorted names in directory ``path`` (symlinks followed inside the container).

    Raises:
        ConuException: ``path`` does not exist or is not a directory.
        ContainerNotFound: the container does not exist.
    """
    path = check_path(path, "path")
    what = f"list {path!r} in container {container[:12]!r}"
    names: list[str] = []
    try:
        with (
            open_stream(["cp", f"{container}:{path}", "-"], what=what, timeout=COPY_TIMEOUT) as s,
            tarfile.open(fileobj=s.stdout, mode="r|") as tar,
        ):
            names = _children(tar, at_root=posixpath.normpath(path) == "/", path=path)
    except ContainerNotFound:
        raise
    except NotFound as exc:
        msg = f"cannot list {path!r}: it does not exist"
        raise ConuException(msg) from exc
    return sorted(names)


def _children(tar: tarfile.TarFile, *, at_root: bool, path: str) -> list[str]:
    """The names one level below the archive's top (``podman cp /`` archives no top)."""
    depth = 0 if at_root else 1
    names = []
    for number, member in enumerate(tar):
        if number == 0 and not at_root and not member.isdir():
            msg = f"cannot list {path!r}: it is not a directory"
            raise ConuException(msg)
        parts = member.name.strip("/").split("/")
        if len(parts) == depth + 1:
            names.append(parts[-1])
    return names
