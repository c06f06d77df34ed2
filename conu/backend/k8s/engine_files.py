"""Files of pods, through ``exec`` as ``kubectl cp`` does: ``stat`` and ``tar`` run in the
container (which must run, and have ``sh``, ``stat`` and ``tar``: busybox has them).

Paths resolve inside the container, by its own kernel: links never lead to the host.
"""

from __future__ import annotations

import posixpath
import stat as st
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from conu.apidefs.metadata import PathInfo, PathKind
from conu.backend.k8s.engine_exec import _STDERR, _STDOUT, _Exec
from conu.exceptions import ConuException, EngineError, InvalidArgument, NotFound
from conu.utils.streams import resume

__all__ = ["FilesMixin", "path_info"]

_MISSING = 44
"""Exit code of the helper scripts when the path is not there."""
_STAT = 'stat -c "%f %u %g %s" -- "$1" || exit 44; if [ -L "$1" ]; then readlink -- "$1"; fi'
_STAT_FOLLOW = 'stat -L -c "%f %u %g %s" -- "$1" || exit 44'
_TAR_OUT = '{ [ -e "$1" ] || [ -L "$1" ]; } || exit 44; cd -- "$2" && exec tar cf - -- "$3"'
_TAR_IN = '[ -d "$1" ] || exit 44; head -c "$2" | tar xf - -C "$1"'
# The exec protocol of Kubernetes < 1.29 cannot close stdin: ``head`` reads exactly the
# archive's bytes and ends the pipe, so tar sees the end of its input.


def _absolute(path: str) -> str:
    if not isinstance(path, str) or not path.startswith("/"):
        msg = f"path must be an absolute path in the container, not {path!r}"
        raise InvalidArgument(msg)
    return posixpath.normpath(path) if path != "/" else "/"


def _kind(mode: int) -> PathKind:
    if st.S_ISDIR(mode):
        return PathKind.DIRECTORY
    if st.S_ISREG(mode):
        return PathKind.FILE
    if st.S_ISLNK(mode):
        return PathKind.SYMLINK
    return PathKind.OTHER


def path_info(path: str, output: bytes) -> PathInfo:
    """Return the :class:`PathInfo` of ``path`` from the helper's ``stat`` line (and the
    ``readlink`` line of a link)."""
    lines = output.decode("utf-8", "surrogateescape").split("\n")
    raw_mode, uid, gid, size = lines[0].split()
    mode = int(raw_mode, 16)
    kind = _kind(mode)
    return PathInfo(
        name=posixpath.basename(path) or "/",
        kind=kind,
        mode=mode,
        uid=int(uid),
        gid=int(gid),
        size=int(size) if kind is PathKind.FILE else 0,
        link_target=lines[1] if kind is PathKind.SYMLINK and len(lines) > 1 else None,
    )


def _failure(what: str, code: int | None, stderr: bytes) -> ConuException:
    text = stderr.decode("utf-8", "replace").strip()
    if code in (126, 127):
        msg = f"cannot {what}: the container lacks sh, stat or tar ({text})"
        return EngineError(msg)
    return EngineError(f"cannot {what}: exit code {code}: {text}")


class FilesMixin:
    """``stat``, archives in and out."""

    open_exec: Callable[..., Any]

    def _script(
        self, container_id: str, script: str, args: Sequence[str], *, stdin: bytes | None = None
    ) -> _Exec:
        command = ["sh", "-c", script, "sh", *args]
        return _Exec(self.open_exec(container_id, command, stdin=stdin is not None), stdin)

    def stat_path(self, container_id: str, path: str, *, follow: bool = False) -> PathInfo | None:
        """Describe ``path`` with ``stat`` in the running container.

        Raises:
            Conflict: the container does not run.
            EngineError: it has no ``sh`` or ``stat``.
        """
        path = _absolute(path)
        run = self._script(container_id, _STAT_FOLLOW if follow else _STAT, [path])
        out = b"".join(run.chunks((_STDOUT,)))
        if run.code == _MISSING:
            return None
        if run.code != 0:
            raise _failure(f"stat {path!r}", run.code, run.ws.read_channel(_STDERR) or b"")
        return path_info(path, out.rstrip(b"\n"))

    def get_archive(self, container_id: str, path: str) -> Iterator[bytes]:
        """Return ``tar`` of ``path`` made in the running container (a final link as a link).

        Raises:
            NotFound: nothing is at ``path``.
            Conflict: the container does not run.
        """
        path = _absolute(path)
        parent, name = posixpath.split(path) if path != "/" else ("/", ".")
        run = self._script(container_id, _TAR_OUT, [path, parent or "/", name])
        chunks = run.chunks((_STDOUT,))
        first = next(chunks, b"")
        if not first:
            if run.code == _MISSING:
                raise NotFound(f"no such file or directory {path!r} in pod {container_id!r}")
            if run.code != 0:
                raise _failure(f"archive {path!r}", run.code, run.ws.read_channel(_STDERR) or b"")
        return resume(first, chunks)

    def put_archive(self, container_id: str, directory: str, data: bytes) -> None:
        """Extract the tar archive ``data`` into ``directory`` with ``tar`` in the container.

        Raises:
            NotFound: ``directory`` does not exist in the container.
            Conflict: the container does not run.
        """
        directory = _absolute(directory)
        data = bytes(data)
        run = self._script(container_id, _TAR_IN, [directory, str(len(data))], stdin=data)
        for _ in run.chunks((_STDOUT,)):
            pass
        if run.code == _MISSING:
            raise NotFound(f"no directory {directory!r} in pod {container_id!r}")
        if run.code != 0:
            raise _failure(
                f"extract into {directory!r}", run.code, run.ws.read_channel(_STDERR) or b""
            )
