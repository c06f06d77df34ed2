"""Where an image archive's files are read from: a tar file, or an OCI layout directory.

``docker save`` archives and OCI archives are tar files whose members (``manifest.json``,
``index.json``, configs, layers) are read in place, never unpacked to disk; an OCI image layout
is a directory. Both are :class:`ArchiveSource`: files named by their path inside the archive.
Names come from documents in the archive, so a directory source confines them to the layout
(:func:`conu.utils.rootfs.resolve_in_root`), and a tar source only ever reads members of the
archive (its symbolic and hard links followed inside it, a bounded number of times).
"""

from __future__ import annotations

import abc
import json
import os
import posixpath
import stat
import tarfile
from typing import IO, Any

from conu.exceptions import ImageNotFound, InvalidArgument, UnsafePath
from conu.utils.rootfs import resolve_in_root

__all__ = ["ArchiveSource", "DirectorySource", "TarSource", "open_source"]

MAX_DOCUMENT = 16 * 1024 * 1024
"""Largest JSON document (manifest, index, config) read from an archive, in bytes."""
_MAX_LINKS = 40


class ArchiveSource(abc.ABC):
    """The files of one image archive.

    Args:
        path: the archive on the host.
    """

    def __init__(self, path: str) -> None:
        self.path = path

    @abc.abstractmethod
    def exists(self, name: str) -> bool:
        """Tell whether the archive holds a regular file ``name``."""

    @abc.abstractmethod
    def open(self, name: str) -> IO[bytes]:
        """Open the regular file ``name`` for reading; the caller closes it.

        Raises:
            InvalidArgument: the archive has no such file.
        """

    def close(self) -> None:  # noqa: B027  # a directory holds nothing open
        """Release what the source holds open."""

    def __enter__(self) -> ArchiveSource:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def missing(self, name: str) -> InvalidArgument:
        """Return the error for a file ``name`` the archive's documents name but it lacks."""
        msg = f"image archive {self.path!r} is incomplete: it has no {name!r}"
        return InvalidArgument(msg)

    def read_json(self, name: str) -> Any:
        """Return the JSON document ``name``.

        Raises:
            InvalidArgument: it is missing, larger than :data:`MAX_DOCUMENT` or not JSON.
        """
        with self.open(name) as file:
            data = file.read(MAX_DOCUMENT + 1)
        if len(data) > MAX_DOCUMENT:
            msg = f"{name!r} of image archive {self.path!r} is larger than {MAX_DOCUMENT} bytes"
            raise InvalidArgument(msg)
        return self.parse_json(name, data)

    def parse_json(self, name: str, data: bytes) -> Any:
        """Decode the JSON document ``name``. Raises InvalidArgument when it is not JSON."""
        try:
            return json.loads(data)
        except (UnicodeDecodeError, ValueError) as exc:
            msg = f"{name!r} of image archive {self.path!r} is not valid JSON: {exc}"
            raise InvalidArgument(msg) from exc

    def read_bytes(self, name: str) -> bytes:
        """Return the bytes of a small document ``name`` (at most :data:`MAX_DOCUMENT`)."""
        with self.open(name) as file:
            data = file.read(MAX_DOCUMENT + 1)
        if len(data) > MAX_DOCUMENT:
            msg = f"{name!r} of image archive {self.path!r} is larger than {MAX_DOCUMENT} bytes"
            raise InvalidArgument(msg)
        return data


class DirectorySource(ArchiveSource):
    """An OCI image layout directory."""

    def _host(self, name: str) -> str | None:
        try:
            host = resolve_in_root(self.path, name)
            mode = os.stat(host).st_mode
        except (OSError, UnsafePath):
            return None
        return host if stat.S_ISREG(mode) else None

    def exists(self, name: str) -> bool:
        """Tell whether the layout holds a regular file ``name``."""
        return self._host(name) is not None

    def open(self, name: str) -> IO[bytes]:
        """Open ``name`` of the layout (links resolved inside the layout)."""
        host = self._host(name)
        if host is None:
            raise self.missing(name)
        return open(host, "rb")  # the caller closes it


class TarSource(ArchiveSource):
    """A tar file (``docker save`` or OCI archive, possibly compressed as a whole).

    Raises:
        InvalidArgument: the file is not a tar archive.
    """

    def __init__(self, path: str) -> None:
        super().__init__(path)
        try:
            self._tar = tarfile.open(path, mode="r:*")  # noqa: SIM115  # closed by close()
        except (tarfile.TarError, EOFError, OSError) as exc:
            msg = f"{path!r} is not an image archive (a tar file or an OCI layout): {exc}"
            raise InvalidArgument(msg) from exc
        try:
            self._members = {_clean(m.name): m for m in self._tar.getmembers()}
        except (tarfile.TarError, EOFError, OSError) as exc:
            self._tar.close()
            msg = f"image archive {path!r} is damaged: {exc}"
            raise InvalidArgument(msg) from exc

    def close(self) -> None:
        """Close the tar file."""
        self._tar.close()

    def _regular(self, name: str) -> tarfile.TarInfo | None:
        """Return the regular member ``name`` stands for (links followed inside the tar)."""
        member = self._members.get(_clean(name))
        for _ in range(_MAX_LINKS):
            if member is None or member.isreg():
                return member
            if member.issym():
                target = posixpath.join(posixpath.dirname(member.name), member.linkname)
            elif member.islnk():
                target = member.linkname
            else:
                return None
            member = self._members.get(_clean(target))
        return None

    def exists(self, name: str) -> bool:
        """Tell whether the tar holds a regular file ``name``."""
        return self._regular(name) is not None

    def open(self, name: str) -> IO[bytes]:
        """Open member ``name`` (read in place from the tar file)."""
        member = self._regular(name)
        if member is None:
            raise self.missing(name)
        file = self._tar.extractfile(member)
        if file is None:  # pragma: no cover - a regular member always has a file object
            raise self.missing(name)
        return file


def _clean(name: str) -> str:
    """Normalise a member name: no ``./`` prefix, no trailing ``/``; ``..`` stays at the top."""
    return posixpath.normpath("/" + name).lstrip("/")


def open_source(path: str) -> ArchiveSource:
    """Open the archive at ``path``: a directory is an OCI layout, anything else a tar file.

    Raises:
        ImageNotFound: nothing is at ``path``.
        InvalidArgument: it is neither a directory nor a tar file.
    """
    try:
        mode = os.stat(path).st_mode
    except OSError as exc:
        msg = f"no image archive at {path!r}: {exc.strerror}"
        raise ImageNotFound(msg) from exc
    if stat.S_ISDIR(mode):
        return DirectorySource(path)
    if not stat.S_ISREG(mode):
        msg = f"{path!r} is neither an image archive file nor an OCI layout directory"
        raise InvalidArgument(msg)
    return TarSource(path)
