"""Files of a podman container through ``podman cp`` and ``podman export`` tar streams.

``podman cp <container>:<path> -`` writes a tar archive of one path to stdout, resolving
symbolic links *inside* the container's root (an absolute link target restarts at the
container's ``/``), so nothing here ever looks at the host file of the same name. To learn
what a path is, only the archive's first header is read and podman is stopped: the cost
does not grow with what lies below the path. Archives are extracted with
:func:`conu.utils.archive.extract_tar_stream`, which trusts no member name, link or device.
"""

from __future__ import annotations

import io
import itertools
import os
import posixpath
import tarfile
import tempfile
from collections.abc import Iterator
from typing import IO, cast

from conu.exceptions import (
    ContainerNotFound,
    ConuException,
    ImageNotFound,
    InvalidArgument,
    NotFound,
)
from conu.utils.archive import extract_tar_stream
from conu_podman import engine
from conu_podman.stream import PodmanStream, open_stream

__all__ = [
    "COPY_TIMEOUT",
    "EXPORT_TIMEOUT",
    "check_path",
    "copy_from",
    "copy_to",
    "export_into",
    "read_path",
    "stat_path",
]

COPY_TIMEOUT = 300.0
"""Seconds one ``podman cp`` may take."""
EXPORT_TIMEOUT = 900.0
"""Seconds ``podman export`` of a whole container may take."""


class _Recorder(io.RawIOBase):
    """A reader that keeps a copy of everything read, so it can be replayed."""

    def __init__(self, source: IO[bytes]) -> None:
        super().__init__()
        self.source = source
        self.seen = bytearray()

    def readable(self) -> bool:
        """Tell that the stream can be read (always True)."""
        return True

    def read(self, size: int = -1, /) -> bytes:
        """Read up to ``size`` bytes from the source, remembering them."""
        data = self.source.read(size)
        self.seen += data
        return data


def check_path(path: str, argument: str) -> str:
    """Return ``path`` made absolute in the container.

    Raises:
        InvalidArgument: ``path`` is not a non-empty str (``argument`` names it).
    """
    if not isinstance(path, str) or not path:
        msg = f"{argument} must be a non-empty str, not {path!r}"
        raise InvalidArgument(msg)
    return path if path.startswith("/") else "/" + path


def _cp_args(container: str, path: str) -> list[str]:
    return ["cp", f"{container}:{path}", "-"]


def _first_member(tar: tarfile.TarFile) -> tarfile.TarInfo:
    """Return the first member of the streamed archive ``tar``.

    Raises:
        ConuException: the archive holds no member.
    """
    member = tar.next()
    if member is None:
        msg = "podman returned an empty archive"
        raise ConuException(msg)
    return member


def _root_directory() -> tarfile.TarInfo:
    """``podman cp`` archives the children of ``/`` without ``/`` itself: describe it."""
    info = tarfile.TarInfo("/")
    info.type = tarfile.DIRTYPE
    return info


def stat_path(container: str, path: str) -> tarfile.TarInfo | None:
    """Return the tar header of ``path`` in ``container`` (symlinks resolved), None if missing.

    Args:
        container: the container's id or name (created, running or stopped).
        path: absolute path in the container.

    Raises:
        ContainerNotFound: the container does not exist.
    """
    path = check_path(path, "path")
    if posixpath.normpath(path) == "/":
        return _root_directory()
    what = f"stat {path!r} in container {container[:12]!r}"
    try:
        with (
            open_stream(_cp_args(container, path), what=what, timeout=COPY_TIMEOUT) as stream,
            tarfile.open(fileobj=stream.stdout, mode="r|") as tar,
        ):
            member = _first_member(tar)
            stream.stop()
    except (ContainerNotFound, ImageNotFound):
        raise
    except NotFound:
        return None
    return member


def read_path(container: str, path: str) -> bytes:
    """Return the contents of regular file ``path`` (symlinks followed inside the container).

    Raises:
        ConuException: ``path`` does not exist or is not a regular file.
        ContainerNotFound: the container does not exist.
    """
    path = check_path(path, "path")
    what = f"read {path!r} in container {container[:12]!r}"
    try:
        with (
            open_stream(_cp_args(container, path), what=what, timeout=COPY_TIMEOUT) as stream,
            tarfile.open(fileobj=stream.stdout, mode="r|") as tar,
        ):
            member = _first_member(tar)
            data = tar.extractfile(member) if member.isfile() else None
            content = data.read() if data is not None else None
            stream.stop()
    except (ContainerNotFound, ImageNotFound):
        raise
    except NotFound as exc:
        msg = f"cannot read {path!r}: it does not exist"
        raise ConuException(msg) from exc
    if content is None:
        msg = f"cannot read {path!r}: it is not a regular file"
        raise ConuException(msg)
    return content


def _replay(stream: PodmanStream) -> tuple[tarfile.TarInfo, Iterator[bytes]]:
    """Read the first header of the archive on ``stream``; return it and the whole archive
    again as chunks (what was read to find the header, then the rest)."""
    recorder = _Recorder(stream.stdout)
    with tarfile.open(fileobj=cast("IO[bytes]", recorder), mode="r|") as tar:
        member = _first_member(tar)
    return member, itertools.chain([bytes(recorder.seen)], stream.chunks())


def copy_from(container: str, src: str, dest: str) -> None:
    """Copy ``src`` of the container to ``dest`` on the host, as ``docker cp`` does.

    Into an existing directory ``dest`` the copy keeps ``src``'s base name; otherwise it is
    named ``dest``, whose parent directory must exist. A directory is merged into an
    existing one.

    Raises:
        NotFound: ``src`` does not exist in the container.
        ContainerNotFound: the container does not exist.
        ConuException: the parent directory of ``dest`` does not exist.
    """
    src = check_path(src, "src")
    what = f"copy {src!r} from container {container[:12]!r}"
    with open_stream(_cp_args(container, src), what=what, timeout=COPY_TIMEOUT) as stream:
        member, chunks = _replay(stream)
        name = posixpath.basename(src.rstrip("/")) or posixpath.basename(member.name)
        target = os.path.join(dest, name) if os.path.isdir(dest) else dest
        parent = os.path.dirname(os.path.abspath(target))
        if not os.path.isdir(parent):
            msg = f"cannot copy {src!r} to {dest!r}: directory {parent!r} does not exist"
            raise ConuException(msg)
        if member.isdir():
            extract_tar_stream(chunks, target, strip_components=1)
            return
        with tempfile.TemporaryDirectory(dir=parent, prefix=".conu-copy-") as tmp:
            extract_tar_stream(chunks, tmp)
            os.replace(os.path.join(tmp, posixpath.normpath(member.name).lstrip("/")), target)


def copy_to(container: str, src: str, dest: str) -> None:
    """Copy host file or directory ``src`` to ``dest`` in the container, as ``docker cp`` does.

    Into an existing directory ``dest`` the copy keeps ``src``'s base name; otherwise it is
    named ``dest``, whose parent directory must exist.

    Raises:
        ConuException: ``src`` does not exist on the host.
        NotFound: the directory ``dest`` (or its parent) does not exist in the container.
    """
    if not isinstance(src, str) or not os.path.lexists(src):
        msg = f"cannot copy {src!r} to the container: no such file or directory on the host"
        raise ConuException(msg)
    dest = check_path(dest, "dest")
    what = f"copy {src!r} to {dest!r} in container {container[:12]!r}"
    engine.run(["cp", src, f"{container}:{dest}"], what=what, timeout=COPY_TIMEOUT)


def export_into(container: str, mount_point: str, timeout: float = EXPORT_TIMEOUT) -> None:
    """Stream ``podman export`` of ``container`` into the host directory ``mount_point``.

    The archive is extracted as it arrives; the filesystem is never held in memory.

    Raises:
        ContainerNotFound: the container does not exist.
        UnsafePath: the archive tries to write outside ``mount_point``.
    """
    what = f"export container {container[:12]!r}"
    with open_stream(["export", container], what=what, timeout=timeout) as stream:
        extract_tar_stream(stream.chunks(), mount_point)
