"""File primitives of :class:`~conu.backend.docker.engine.DockerEngine`: the archive API.

The engine resolves paths inside the container's root (symlinks included), and works on
containers that do not run. docker-py calls: raw HEAD/GET of ``/containers/{id}/archive``
(:func:`~conu.backend.docker.engine_boundary.archive_probe`), ``get_archive``,
``put_archive``, ``export`` and ``commit``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from conu.apidefs.metadata import PathInfo, PathKind
from conu.backend.docker.engine_boundary import DockerBoundary, archive_probe, no_such_path
from conu.backend.docker.engine_mapping import path_info, stat_info
from conu.exceptions import ContainerNotFound, EngineError, InvalidArgument, NotFound

__all__ = ["FilePrimitives", "label_changes"]

_GO_SYMLINK = 1 << 27
"""Go's ``os.ModeSymlink`` bit in the engine's path stat."""


def _absolute(path: str) -> str:
    if not isinstance(path, str) or not path:
        msg = f"path must be a non-empty str, not {path!r}"
        raise InvalidArgument(msg)
    return path if path.startswith("/") else "/" + path


def _quoted(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def label_changes(labels: Mapping[str, str]) -> list[str]:
    """Return the Dockerfile changes (``LABEL "k"="v"``) that give an image ``labels``."""
    return [f"LABEL {_quoted(key)}={_quoted(value)}" for key, value in labels.items()]


class FilePrimitives(DockerBoundary):
    """Paths, archives, exports and commits of containers."""

    def _probe(self, container_id: str, path: str, *, head: bool) -> Any:
        what = f"stat {path!r} in container {container_id[:12]!r}"
        probe = archive_probe
        # Every 404 about a path is "nothing there" (None): one left means no container.
        return self._call(
            what, probe, self.client, container_id, path, head=head, not_found=ContainerNotFound
        )

    def stat_path(self, container_id: str, path: str, *, follow: bool = False) -> PathInfo | None:
        """Describe absolute ``path`` in the container's filesystem (it need not run).

        Without ``follow`` one GET, read to its first tar header, describes the path as
        ``lstat`` would. With ``follow`` the engine's path stat (a HEAD, an order of
        magnitude cheaper than a GET) answers, the engine resolving a symlink chain inside
        the root (its ``linkTarget``); that stat has no owner, so ``uid`` and ``gid`` are
        None.

        Args:
            container_id: the container.
            path: an absolute path.
            follow: resolve a final symlink too (inside the root) and describe its target.

        Returns:
            the path's :class:`~conu.apidefs.metadata.PathInfo`; None when nothing is there,
            when the path is (or, with ``follow``, leads to) a symlink loop, or with
            ``follow`` when the link dangles.

        Raises:
            ContainerNotFound: no such container.
        """
        path = _absolute(path)
        if not follow:
            member = self._probe(container_id, path, head=False)
            return None if member is None else path_info(member)
        found = self._probe(container_id, path, head=True)
        if found is not None and int(found["mode"]) & _GO_SYMLINK:
            target = found.get("linkTarget") or ""
            found = self._probe(container_id, target, head=True) if target else None
        info = None if found is None else stat_info(found)
        return None if info is None or info.kind is PathKind.SYMLINK else info

    def get_archive(self, container_id: str, path: str) -> Iterator[bytes]:
        """Return a tar stream of ``path`` (a final symlink as a link), like ``docker cp``.

        Raises:
            NotFound: nothing is at ``path`` (a path through a regular file or a symlink loop
                included, as for :meth:`stat_path`).
            ContainerNotFound: no such container.
        """
        what = f"copy {path!r} from container {container_id[:12]!r}"

        def archive() -> Iterator[bytes]:
            chunks, _stat = self.client.get_archive(container_id, _absolute(path))
            return iter(chunks)

        try:
            return self._stream(what, archive, prime=False)
        except EngineError as exc:
            reason = getattr(exc.__cause__, "explanation", None) or ""
            reason = reason if isinstance(reason, bytes) else str(reason).encode()
            if type(exc) is EngineError and no_such_path(reason):
                raise NotFound(str(exc)) from exc.__cause__
            raise

    def put_archive(self, container_id: str, directory: str, data: bytes) -> None:
        """Extract the tar archive ``data`` into ``directory`` of the container.

        Raises:
            NotFound: ``directory`` does not exist in the container.
            ContainerNotFound: no such container.
        """
        what = f"copy an archive to {directory!r} in container {container_id[:12]!r}"
        self._call(what, self.client.put_archive, container_id, _absolute(directory), data)

    def export_container(self, container_id: str) -> Iterator[bytes]:
        """Return the container's whole filesystem as a tar stream.

        Raises:
            ContainerNotFound: no such container.
        """
        what = f"export container {container_id[:12]!r}"
        return self._stream(what, self.client.export, container_id, not_found=ContainerNotFound)

    def commit_container(self, container_id: str, *, labels: Mapping[str, str]) -> str:
        """Commit the container to a new, unnamed image with ``labels``; return its id.

        Raises:
            ContainerNotFound: no such container.
        """
        what = f"commit container {container_id[:12]!r}"
        commit = self.client.commit
        changes = label_changes(labels)
        done = self._call(what, commit, container_id, changes=changes, not_found=ContainerNotFound)
        return str(done["Id"])
