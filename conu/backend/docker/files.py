"""Files of a container through the engine's archive API (no ``docker cp`` subprocess).

The engine resolves paths inside the container's root (symlinks included), so nothing here
ever looks at the host file of the same name. Archives coming back are extracted with
:func:`conu.utils.archive.extract_tar_stream`, which trusts no member name, link or device.
"""

from __future__ import annotations

import base64
import json
import os
import stat
import tarfile
import tempfile
from typing import Any, Protocol

import attrs

from conu.apidefs.metadata import PathInfo, PathKind
from conu.backend.docker.client import translate_errors
from conu.exceptions import ConuException, InvalidArgument, NotFound
from conu.utils.archive import IterStream, extract_tar_stream, tar_path

__all__ = [
    "PathStat",
    "copy_from",
    "copy_to",
    "list_names",
    "path_info",
    "read_path",
    "resolve_path",
    "stat_path",
]

# Go's os.FileMode type bits, as the engine reports them.
_MODE_DIR = 1 << 31
_MODE_SYMLINK = 1 << 27
_SYMLINK_LOOP = b"too many links"
_MODE_TYPE = _MODE_DIR | _MODE_SYMLINK | (1 << 26) | (1 << 25) | (1 << 24) | (1 << 21) | (1 << 19)


class _HasClient(Protocol):
    d: Any

    def get_id(self) -> str: ...


@attrs.frozen
class PathStat:
    """What the engine says about one path in a container."""

    name: str
    """Base name of the path."""
    mode: int
    """Go ``os.FileMode`` bits."""
    size: int
    """Size in bytes."""
    link_target: str
    """For a symlink: the absolute path it resolves to inside the container."""

    @property
    def is_dir(self) -> bool:
        """True for a directory."""
        return bool(self.mode & _MODE_DIR)

    @property
    def is_symlink(self) -> bool:
        """True for a symbolic link."""
        return bool(self.mode & _MODE_SYMLINK)

    @property
    def is_file(self) -> bool:
        """True for a regular file."""
        return not self.mode & _MODE_TYPE


def _check_path(path: str, argument: str) -> str:
    if not isinstance(path, str) or not path:
        msg = f"{argument} must be a non-empty str, not {path!r}"
        raise InvalidArgument(msg)
    return path if path.startswith("/") else "/" + path


def stat_path(owner: _HasClient, path: str, *, follow: bool = True) -> PathStat | None:
    """Return the stat of ``path`` in the container, or None when it does not exist.

    Args:
        owner: the container (anything with a docker client ``d`` and ``get_id()``).
        path: absolute path in the container.
        follow: for a symlink, return the stat of what it resolves to (None when dangling).
    """
    found = resolve_path(owner, path) if follow else _head_stat(owner, _check_path(path, "path"))
    return found[1] if isinstance(found, tuple) else found


def resolve_path(owner: _HasClient, path: str) -> tuple[str, PathStat] | None:
    """Return ``(path symlinks resolved inside the container, its stat)``, None if missing."""
    path = _check_path(path, "path")
    stat = _head_stat(owner, path)
    if stat is not None and stat.is_symlink:
        # The engine resolves the whole link chain within the container's root at once.
        path = stat.link_target
        stat = _head_stat(owner, path) if path else None
    return (path, stat) if stat is not None and not stat.is_symlink else None


def _head_stat(owner: _HasClient, path: str) -> PathStat | None:
    client, cid = owner.d, owner.get_id()
    url = client._url("/containers/{0}/archive", cid)
    with translate_errors(f"stat {path!r} in {cid[:12]!r}"):
        response = client.head(url, params={"path": path})
        if response.status_code == 404:
            return None
        if response.status_code >= 500:
            # A HEAD carries no reason: ask again with a GET, whose error has one.
            retry = client._get(url, params={"path": path}, stream=True)
            reason = retry.raw.read(4096) if retry.status_code >= 500 else b""
            retry.close()
            if _SYMLINK_LOOP in reason:
                return None  # a symbolic link loop leads nowhere, like a dangling link
        client._raise_for_status(response)
    raw = json.loads(base64.b64decode(response.headers["X-Docker-Container-Path-Stat"]))
    return PathStat(raw["name"], int(raw["mode"]), int(raw["size"]), raw.get("linkTarget", ""))


def _get_archive(owner: _HasClient, path: str) -> tuple[Any, dict[str, Any]]:
    cid = owner.get_id()
    with translate_errors(f"copy {path!r} from container {cid[:12]!r}", not_found=NotFound):
        return owner.d.get_archive(cid, path)


def read_path(owner: _HasClient, path: str) -> bytes:
    """Return the contents of regular file ``path`` (symlinks followed inside the container).

    Raises:
        ConuException: ``path`` does not exist or is not a regular file.
    """
    found = resolve_path(owner, path)
    if found is None or not found[1].is_file:
        kind = "does not exist" if found is None else "is not a regular file"
        msg = f"cannot read {path!r}: it {kind}"
        raise ConuException(msg)
    chunks, _ = _get_archive(owner, found[0])
    with tarfile.open(fileobj=IterStream(chunks), mode="r|") as tar:
        for member in tar:
            extracted = tar.extractfile(member) if member.isfile() else None
            if extracted is not None:
                return extracted.read()
    msg = f"the engine returned no file for {path!r}"
    raise ConuException(msg)


def copy_from(owner: _HasClient, src: str, dest: str) -> None:
    """Copy ``src`` of the container to ``dest`` on the host, as ``docker cp`` does.

    Into an existing directory ``dest`` the copy keeps ``src``'s base name; otherwise it is
    named ``dest``, whose parent directory must exist.

    Raises:
        NotFound: ``src`` does not exist in the container.
        ConuException: the parent of ``dest`` does not exist.
    """
    src = _check_path(src, "src")
    stream, stat = _get_archive(owner, src)
    target = os.path.join(dest, stat["name"]) if os.path.isdir(dest) else dest
    parent = os.path.dirname(os.path.abspath(target))
    if not os.path.isdir(parent):
        msg = f"cannot copy {src!r} to {dest!r}: directory {parent!r} does not exist"
        raise ConuException(msg)
    if int(stat["mode"]) & _MODE_DIR:
        extract_tar_stream(stream, target, strip_components=1)
        return
    with tempfile.TemporaryDirectory(dir=parent, prefix=".conu-copy-") as tmp:
        extract_tar_stream(stream, tmp)
        os.replace(os.path.join(tmp, stat["name"]), target)


def copy_to(owner: _HasClient, src: str, dest: str) -> None:
    """Copy host file or directory ``src`` to ``dest`` in the container, as ``docker cp`` does.

    Raises:
        ConuException: ``src`` does not exist on the host.
        NotFound: the directory ``dest`` (or its parent) does not exist in the container.
    """
    if not isinstance(src, str) or not os.path.lexists(src):
        msg = f"cannot copy {src!r} to the container: no such file or directory on the host"
        raise ConuException(msg)
    dest = _check_path(dest, "dest")
    stat = stat_path(owner, dest)
    if stat is not None and stat.is_dir:
        directory, name = dest, os.path.basename(os.path.normpath(src))
    else:
        directory, name = os.path.dirname(dest.rstrip("/")) or "/", os.path.basename(dest)
    cid = owner.get_id()
    what = f"copy {src!r} to {dest!r} in container {cid[:12]!r}"
    with tar_path(src, arcname=name) as data, translate_errors(what):
        owner.d.put_archive(cid, directory, data)


_KINDS = {
    tarfile.REGTYPE: (PathKind.FILE, stat.S_IFREG),
    tarfile.AREGTYPE: (PathKind.FILE, stat.S_IFREG),
    tarfile.DIRTYPE: (PathKind.DIRECTORY, stat.S_IFDIR),
    tarfile.SYMTYPE: (PathKind.SYMLINK, stat.S_IFLNK),
    tarfile.LNKTYPE: (PathKind.HARDLINK, stat.S_IFREG),
    tarfile.CHRTYPE: (PathKind.OTHER, stat.S_IFCHR),
    tarfile.BLKTYPE: (PathKind.OTHER, stat.S_IFBLK),
    tarfile.FIFOTYPE: (PathKind.OTHER, stat.S_IFIFO),
}


def path_info(owner: _HasClient, path: str) -> PathInfo | None:
    """Describe ``path`` as ``lstat`` would (from its archive header), None if missing.

    Only the first header of the archive is read; the rest is never transferred.
    """
    path = _check_path(path, "path")
    client, cid = owner.d, owner.get_id()
    with translate_errors(f"read {path!r} in {cid[:12]!r}"):
        url = client._url("/containers/{0}/archive", cid)
        response = client._get(url, params={"path": path}, stream=True)
        try:
            if response.status_code == 404:
                return None
            client._raise_for_status(response)
            chunks = response.iter_content(chunk_size=64 * 1024)
            with tarfile.open(fileobj=IterStream(chunks), mode="r|") as tar:
                member = tar.next()
        finally:
            response.close()
    if member is None:
        return None
    kind, type_bits = _KINDS.get(member.type, (PathKind.OTHER, 0))
    return PathInfo(
        name=os.path.basename(member.name.rstrip("/")),
        kind=kind,
        mode=type_bits | (member.mode & 0o7777),
        uid=member.uid,
        gid=member.gid,
        size=member.size,
        link_target=member.linkname or None,
    )


def list_names(owner: _HasClient, path: str) -> list[str]:
    """Return the names in directory ``path`` (symlinks followed inside the container).

    Raises:
        ConuException: ``path`` does not exist or is not a directory.
    """
    found = resolve_path(owner, path)
    if found is None or not found[1].is_dir:
        kind = "does not exist" if found is None else "is not a directory"
        msg = f"cannot list {path!r}: it {kind}"
        raise ConuException(msg)
    chunks, _ = _get_archive(owner, found[0])
    names = []
    with tarfile.open(fileobj=IterStream(chunks), mode="r|") as tar:
        for member in tar:
            parts = member.name.rstrip("/").split("/")
            if len(parts) == 2:
                names.append(parts[1])
    return sorted(names)
