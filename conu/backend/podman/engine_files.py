"""Files of podman containers: ``lstat``, tar archives in and out, export and commit."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping

from conu.apidefs.metadata import PathInfo
from conu.backend.podman import cli, mounts
from conu.backend.podman.convert import with_algorithm
from conu.backend.podman.stream import streamed
from conu.exceptions import InvalidArgument, UnsupportedOperation
from conu.utils.streams import resume

__all__ = ["COPY_TIMEOUT", "EXPORT_TIMEOUT", "FilesMixin"]

COPY_TIMEOUT = 300.0
"""Seconds one ``podman cp`` may take."""
EXPORT_TIMEOUT = 900.0
"""Seconds ``podman export`` of a whole container may take."""


def _absolute(path: str) -> str:
    """Return ``path``, checked to be absolute.

    Raises:
        InvalidArgument: it is not an absolute path.
    """
    if not isinstance(path, str) or not path.startswith("/"):
        msg = f"path must be an absolute path in the container, not {path!r}"
        raise InvalidArgument(msg)
    return path


def _rootful() -> bool:
    return os.geteuid() == 0


class FilesMixin:
    """Files primitives of :class:`~conu.backend.podman.engine.PodmanEngine`."""

    def stat_path(self, container_id: str, path: str, *, follow: bool = False) -> PathInfo | None:
        """Describe ``path`` from ``podman mount`` of the container (it need not run).

        ``podman cp`` would follow a final link and report every owner as root, so the
        root filesystem is mounted instead: rootful podman only.

        Raises:
            UnsupportedOperation: podman runs rootless.
            ContainerNotFound: no such container.
        """
        _absolute(path)
        if not _rootful():
            raise UnsupportedOperation("podman", "stat_path (rootless: no podman mount)")
        with mounts.mounted(container_id) as root:
            return mounts.path_info(root, path, follow=follow)

    def get_archive(self, container_id: str, path: str) -> Iterator[bytes]:
        """Return a tar stream of ``path``.

        Rootful: built from ``podman mount``, a final symlink kept as a link and owners
        kept. Rootless: ``podman cp``, which follows a final link and reports root as owner.

        Raises:
            NotFound: nothing is at ``path``.
        """
        _absolute(path)
        what = f"copy {path!r} from container {container_id[:12]!r}"
        if not _rootful():
            args = ["cp", f"{container_id}:{path}", "-"]
            return streamed(args, what=what, timeout=COPY_TIMEOUT)
        chunks = mounts.tar_chunks(container_id, path)
        first = next(chunks, b"")  # mount now, so a missing path raises here
        return resume(first, chunks)

    def put_archive(self, container_id: str, directory: str, data: bytes) -> None:
        """Extract ``data`` into ``directory`` with ``podman cp - <container>:<directory>``.

        Raises:
            NotFound: ``directory`` does not exist in the container.
        """
        _absolute(directory)
        what = f"copy an archive to {directory!r} in container {container_id[:12]!r}"
        args = ["cp", "-", f"{container_id}:{directory}"]
        cli.run(args, what=what, timeout=COPY_TIMEOUT, stdin=bytes(data))

    def export_container(self, container_id: str) -> Iterator[bytes]:
        """Return ``podman export`` of the container as a tar stream."""
        what = f"export container {container_id[:12]!r}"
        return streamed(["export", container_id], what=what, timeout=EXPORT_TIMEOUT)

    def commit_container(self, container_id: str, *, labels: Mapping[str, str]) -> str:
        """Commit with ``podman commit`` (labels as ``LABEL`` changes); return the image id."""
        changes = [
            arg
            for key, value in labels.items()
            for arg in ("--change", f"LABEL {json.dumps(key)}={json.dumps(value)}")
        ]
        args = ["commit", "--quiet", *changes, container_id]
        done = cli.run(args, what=f"commit container {container_id[:12]!r}")
        return with_algorithm(cli.last_line(done.stdout))
