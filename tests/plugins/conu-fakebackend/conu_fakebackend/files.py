"""The file primitives: paths resolved inside the container's root, archives in and out."""

from __future__ import annotations

import os
import posixpath
import stat
from collections.abc import Iterator, Mapping

from conu.apidefs.metadata import PathInfo, PathKind
from conu.exceptions import ContainerNotFound, NotFound, UnsafePath
from conu.utils.archive import extract_tar_stream
from conu.utils.rootfs import resolve_in_root
from conu_fakebackend import layers as fs
from conu_fakebackend.containers import EngineState
from conu_fakebackend.images import make_image

__all__ = ["FileOps"]

_KINDS = {
    stat.S_IFREG: PathKind.FILE,
    stat.S_IFDIR: PathKind.DIRECTORY,
    stat.S_IFLNK: PathKind.SYMLINK,
}


class FileOps(EngineState):
    """Files of a container, created or running: its root directory on the host."""

    def _root(self, container_id: str) -> str:
        with self._lock:
            return self._box(container_id).root

    def stat_path(self, container_id: str, path: str, *, follow: bool = False) -> PathInfo | None:
        """``lstat`` of ``path`` inside the root (``follow``: of what its links lead to)."""
        try:
            host = _resolve(self._root(container_id), path, follow=follow)
        except ContainerNotFound:
            raise
        except NotFound:
            return None
        st = os.lstat(host)
        kind = _KINDS.get(stat.S_IFMT(st.st_mode), PathKind.OTHER)
        return PathInfo(
            name=posixpath.basename(posixpath.normpath(path)) or "/",
            kind=kind,
            mode=st.st_mode,
            uid=st.st_uid,
            gid=st.st_gid,
            size=st.st_size if kind is PathKind.FILE else 0,
            link_target=os.readlink(host) if kind is PathKind.SYMLINK else None,
        )

    def get_archive(self, container_id: str, path: str) -> Iterator[bytes]:
        """Tar ``path`` as ``name``, ``name/child``... (a final link as a link). Raises NotFound."""
        host = _resolve(self._root(container_id), path, follow=False)
        return fs.chunks(fs.tar_tree(host, posixpath.basename(posixpath.normpath(path)) or "."))

    def put_archive(self, container_id: str, directory: str, data: bytes) -> None:
        """Extract ``data`` safely into ``directory``. Raises NotFound when it is no directory."""
        host = _resolve(self._root(container_id), directory, follow=True)
        if not stat.S_ISDIR(os.lstat(host).st_mode):
            msg = f"{directory!r} is not a directory in the container"
            raise NotFound(msg)
        extract_tar_stream(data, host)

    def export_container(self, container_id: str) -> Iterator[bytes]:
        """Tar the whole root filesystem."""
        return fs.chunks(fs.tar_tree(self._root(container_id), ""))

    def commit_container(self, container_id: str, *, labels: Mapping[str, str]) -> str:
        """Add what changed since creation as a layer to a new unnamed image with ``labels``."""
        with self._lock:
            box = self._box(container_id)
        layer, _ = fs.diff_layer(box.root, box.index)
        config = dict(box.image.config)
        config["Labels"] = {**(config.get("Labels") or {}), **labels}
        image = make_image(config, [*box.image.layers, layer], parent=box.image.id)
        with self._lock:
            return self._images.add(image).id


def _resolve(root: str, path: str, *, follow: bool) -> str:
    """Return the host path of container path ``path`` (links resolved inside ``root``).

    Raises:
        NotFound: nothing is there, or resolving it loops.
    """
    try:
        host = resolve_in_root(root, path, follow_last=follow)
        os.lstat(host)
    except (OSError, UnsafePath) as exc:
        msg = f"no such file or directory in the container: {path!r}"
        raise NotFound(msg) from exc
    return host
