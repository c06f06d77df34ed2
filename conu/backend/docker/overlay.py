"""An image's files read straight from overlay2's layer directories, as Docker shows them.

``docker image inspect`` names the ``diff`` directory of each layer of an image in its
``GraphDriver`` data: ``UpperDir`` on top, then ``LowerDir`` (``a:b:...``) down to the base
(:func:`~conu.backend.docker.layer_access.layer_dirs`). :class:`OverlayView` merges them as
overlayfs does: a path is looked up layer by layer from the top; a character device 0/0 (a
*whiteout*) deletes the name from the layers below; a non-directory hides everything below
it; a directory merges with the directories of the same path below until one has the
``trusted.overlay.opaque`` attribute (``y``: what lies below is hidden) or a layer has a
non-directory there.

The view answers as Docker's archive endpoint does about a never-started container of the
image (conu's helper container): it adds Docker's init layer
(:mod:`~conu.backend.docker.init_layer`) and resolves paths as the engine does, inside the
image's root (:func:`conu.utils.rootfs.resolve_components`). No symlink is ever followed on
the host: files are opened with ``O_NOFOLLOW`` in directories the view looked up itself.
"""

from __future__ import annotations

import os
import posixpath
import stat
from collections.abc import Callable, Iterator, Sequence

import attrs

from conu.apidefs.layers import LayerView
from conu.apidefs.metadata import PathInfo, PathKind
from conu.backend.docker import init_layer
from conu.exceptions import ConuException, UnsafePath
from conu.utils.rootfs import resolve_components

__all__ = ["OPAQUE", "Node", "OverlayView"]

OPAQUE = "trusted.overlay.opaque"
"""The extended attribute (value ``y``) of a directory that hides the layers below it."""
_KINDS = {stat.S_IFREG: PathKind.FILE, stat.S_IFDIR: PathKind.DIRECTORY}
_KINDS[stat.S_IFLNK] = PathKind.SYMLINK
_NODE_CACHE = 2048
_NOT_A_DIRECTORY = object()


@attrs.frozen
class Node:
    """One path of the merged layers: what ``lstat`` says of it, and where it lies."""

    mode: int
    uid: int = 0
    gid: int = 0
    size: int = 0
    host: str | None = None
    """The file in its layer (None: made by the init layer)."""
    dirs: tuple[str, ...] = ()
    """A directory's directories in the layers, merged, top first."""
    link: str | None = None
    """A symlink's target."""
    inode: tuple[int, int] | None = None
    """A regular file's device and inode when it has several names (hard links)."""

    @property
    def is_dir(self) -> bool:
        """Whether it is a directory."""
        return stat.S_ISDIR(self.mode)


def _layer_node(host: str, st: os.stat_result, dirs: tuple[str, ...] = ()) -> Node:
    link = os.readlink(host) if stat.S_ISLNK(st.st_mode) else None
    inode = (st.st_dev, st.st_ino) if stat.S_ISREG(st.st_mode) and st.st_nlink > 1 else None
    return Node(st.st_mode, st.st_uid, st.st_gid, st.st_size, host, dirs, link, inode)


def _hides(st: os.stat_result) -> bool:
    """Whether a layer's entry is a whiteout."""
    return stat.S_ISCHR(st.st_mode) and st.st_rdev == 0


def _opaque(host: str) -> bool:
    try:
        return os.getxattr(host, OPAQUE, follow_symlinks=False) == b"y"
    except OSError:  # no such attribute
        return False


def _visible(entry: os.DirEntry[str]) -> bool:
    """Whether a layer's entry is a name of the merged directory's archive (not a whiteout,
    not a socket: Docker's archives leave sockets out)."""
    if entry.is_symlink() or entry.is_dir() or entry.is_file():  # a link is never followed
        return True
    st = entry.stat(follow_symlinks=False)
    return not (_hides(st) or stat.S_ISSOCK(st.st_mode))


def _request(path: str) -> tuple[str, bool, str]:
    """Read ``path`` as Docker's archive endpoint does: ``(the path cleaned, whether it must
    be a directory (a final ``/`` or ``/.``), the name its archive gives it)``."""
    clean = "/" + posixpath.normpath("/" + path).lstrip("/")
    dot = posixpath.basename(path.rstrip("/")) == "."
    return clean, dot or path.endswith("/"), "." if dot else posixpath.basename(clean)


def _info(node: Node, name: str) -> PathInfo:
    kind = _KINDS.get(stat.S_IFMT(node.mode), PathKind.OTHER)
    size = node.size if kind is PathKind.FILE else 0
    return PathInfo(name, kind, node.mode, node.uid, node.gid, size, node.link)


class OverlayView(LayerView):
    """The merged layers of one image, plus Docker's init layer.

    Args:
        layers: the layers' ``diff`` directories, top first.
    """

    def __init__(self, layers: Sequence[str]) -> None:
        self.layers = tuple(layers)
        # The root is the container's own (empty) layer's: 0755, root's.
        self._root = Node(mode=stat.S_IFDIR | 0o755, dirs=self.layers)
        self._made: dict[str, Node] = {}
        self._added: dict[str, set[str]] = {}
        self._nodes: dict[str, object] = {}
        init_layer.apply(self._is_dir, self._make)

    def _is_dir(self, path: str) -> bool:
        found = self._node(path)
        return found is not None and found.is_dir

    def _make(self, path: str, mode: int, link: str | None) -> None:
        directory, name = posixpath.split(path)
        self._made[path] = Node(mode=mode, link=link)
        self._added.setdefault(directory, set()).add(name)
        self._nodes.clear()

    # -- lookups --------------------------------------------------------------------------

    def _child(self, path: str, parent: Node, name: str) -> Node | None:
        """Look ``name`` up in directory ``parent`` (at ``path``'s parent) as overlayfs does."""
        made = self._made.get(path)
        if made is not None:
            return made
        top: os.stat_result | None = None
        dirs: list[str] = []
        for directory in parent.dirs:
            host = os.path.join(directory, name)
            try:
                st = os.lstat(host)
            except FileNotFoundError:
                continue
            if _hides(st) or (dirs and not stat.S_ISDIR(st.st_mode)):
                break
            if not stat.S_ISDIR(st.st_mode):
                return _layer_node(host, st)
            top = top or st
            dirs.append(host)
            if _opaque(host):
                break
        return None if top is None else _layer_node(dirs[0], top, tuple(dirs))

    def _node(self, path: str) -> Node | None:
        """The node at resolved ``path``; None when nothing is there.

        Raises:
            NotADirectoryError: a component above it is not a directory.
        """
        if path == "/":
            return self._root
        found = self._nodes.get(path, self)
        if found is self:
            parent = self._node(posixpath.dirname(path))
            if parent is None:
                found = None
            elif not parent.is_dir:
                found = _NOT_A_DIRECTORY
            else:
                found = self._child(path, parent, posixpath.basename(path))
            if len(self._nodes) >= _NODE_CACHE:
                self._nodes.clear()
            self._nodes[path] = found
        if found is _NOT_A_DIRECTORY:
            raise NotADirectoryError(path)
        return found  # type: ignore[return-value]

    def _read_link(self, parts: list[str]) -> str | None:
        found = self._node("/" + "/".join(parts))
        return None if found is None else found.link

    def _find(self, path: str, *, follow: bool) -> tuple[Node, str, str] | None:
        """``(node, resolved path, archive name)`` of ``path``; None when nothing is there
        (a component above is a file, or a link loops: even a final link, which Docker's
        stat resolves to its end)."""
        clean, directory, name = _request(path)
        try:
            parts = resolve_components(clean, self._read_link, follow_last=follow or directory)
            where = "/" + "/".join(parts)
            found = self._node(where)
            if found is not None and found.link is not None:  # the engine resolves it too
                resolve_components(clean, self._read_link)
        except (NotADirectoryError, UnsafePath):
            return None
        if found is None or (directory and not found.is_dir):
            return None
        return found, where, name

    # -- the view -------------------------------------------------------------------------

    def lstat(self, path: str) -> PathInfo | None:
        """Describe ``path`` (a final symlink not followed), as Docker's archive does; a
        socket is not there (archives leave sockets out)."""
        found = self._find(path, follow=False)
        if found is None or stat.S_ISSOCK(found[0].mode):
            return None
        return _info(found[0], found[2])

    def stat(self, path: str) -> PathInfo | None:
        """Describe what ``path`` leads to, as Docker's path stat does."""
        found = self._find(path, follow=True)
        return None if found is None else _info(found[0], found[2])

    def _found(self, path: str, test: Callable[[int], bool], kind: str) -> tuple[Node, str, str]:
        found = self._find(path, follow=False)
        if found is None or not test(found[0].mode):
            msg = f"no {kind} at {path!r} in the image's layers"
            raise ConuException(msg)
        return found

    def read(self, path: str) -> bytes:
        """Return the contents of the regular file at ``path``.

        Raises:
            ConuException: no regular file is there (or it cannot be read).
        """
        return _contents(self._found(path, stat.S_ISREG, "a regular file")[0], path)

    def names(self, path: str) -> list[str]:
        """Return the names in the directory at ``path``: those of its directories in the
        layers, whiteouts and sockets left out, and those the init layer adds.

        Raises:
            ConuException: no directory is there.
        """
        node, where, _name = self._found(path, stat.S_ISDIR, "a directory")
        return list(self._names(where, node))

    def _names(self, where: str, node: Node) -> set[str]:
        shown: dict[str, bool] = {}
        for directory in node.dirs:
            try:
                with os.scandir(directory) as entries:
                    for entry in entries:
                        shown.setdefault(entry.name, _visible(entry))
            except OSError as exc:  # the image was removed meanwhile
                raise ConuException(f"cannot list {where!r} in the image's layers: {exc}") from exc
        return {name for name, visible in shown.items() if visible} | self._added.get(where, set())

    def walk(
        self, path: str, read: Callable[[str], bool]
    ) -> Iterator[tuple[str, PathInfo, bytes | None]]:
        """Yield everything below the directory at ``path`` in the order of Docker's archive
        (each directory's names sorted as bytes, a directory before what it holds); a file
        met again under another name is a hard link to the archive name it had first.

        Raises:
            ConuException: no directory is there.
        """
        node, where, name = self._found(path, stat.S_ISDIR, "a directory")
        first: dict[tuple[int, int], str] = {}
        for relative, child in self._below(where, node, ""):
            info = _info(child, posixpath.basename(relative))
            member = f"{name}/{relative}"  # the archive's name; "/..." for the root's
            if child.inode is not None and first.setdefault(child.inode, member) != member:
                info = attrs.evolve(
                    info, kind=PathKind.HARDLINK, size=0, link_target=first[child.inode]
                )
            wanted = info.kind is PathKind.FILE and read(relative)
            yield relative, info, _contents(child, relative) if wanted else None

    def _below(self, where: str, node: Node, relative: str) -> Iterator[tuple[str, Node]]:
        for name in sorted(self._names(where, node), key=os.fsencode):
            path = where.rstrip("/") + "/" + name
            child = self._child(path, node, name)
            if child is None:
                continue
            below = f"{relative}/{name}" if relative else name
            yield below, child
            if child.is_dir:
                yield from self._below(path, child, below)


def _contents(node: Node, path: str) -> bytes:
    if node.host is None:
        return b""  # an empty file of the init layer
    try:
        fd = os.open(node.host, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
        with os.fdopen(fd, "rb") as file:
            return file.read()
    except OSError as exc:
        msg = f"cannot read {path!r} from the image's layers: {exc.strerror}"
        raise ConuException(msg) from exc
