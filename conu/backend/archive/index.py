"""What the layers say about every path of the merged root: type, mode, owner, size, link.

Files extracted on the host are owned by whoever extracts them and lose their setuid, setgid and
sticky bits, and device nodes are not created at all (see :mod:`conu.utils.archive`). The
:class:`PathIndex` keeps what the image's tar headers say instead, so that a stat answers what
the engine would, and so that a device node is described as what it is although it has no file
on the host. The on-disk tree and the index always hold the same names, devices apart.
"""

from __future__ import annotations

import stat
import tarfile
from collections.abc import Iterator

import attrs

from conu.apidefs.files import TAR_KINDS
from conu.apidefs.metadata import PathKind

__all__ = ["Entry", "Node", "PathIndex", "entry_of", "split"]


@attrs.frozen
class Entry:
    """One path of the image, as its layer's tar header describes it."""

    kind: PathKind
    """FILE (hard links too), DIRECTORY, SYMLINK or OTHER (devices and fifos)."""
    mode: int
    """``st_mode``: type bits and permission bits, setuid, setgid and sticky included."""
    uid: int = 0
    """Owner's user id."""
    gid: int = 0
    """Owner's group id."""
    size: int = 0
    """Size in bytes of a regular file; 0 otherwise."""
    mtime: int = 0
    """Modification time (seconds since the epoch)."""
    link_target: str | None = None
    """Where a symbolic link points, as written."""
    device: tuple[int, int] | None = None
    """Major and minor numbers of a character or block device."""


DIRECTORY = Entry(PathKind.DIRECTORY, stat.S_IFDIR | 0o755)
"""A directory no header described (a parent created implicitly), as engines make them."""


def entry_of(member: tarfile.TarInfo) -> Entry | None:
    """Describe a layer member; None for a hard link (it takes its target's entry)."""
    if member.islnk():
        return None
    kind, type_bits = TAR_KINDS.get(member.type, (PathKind.FILE, stat.S_IFREG))
    # Linux gives every symbolic link the mode 0777, whatever the header says.
    perms = 0o777 if kind is PathKind.SYMLINK else member.mode & 0o7777
    device = (member.devmajor, member.devminor) if member.ischr() or member.isblk() else None
    return Entry(
        kind=kind,
        mode=type_bits | perms,
        uid=member.uid,
        gid=member.gid,
        size=member.size if kind is PathKind.FILE else 0,
        mtime=int(member.mtime),
        link_target=member.linkname if kind is PathKind.SYMLINK else None,
        device=device,
    )


def split(rel: str) -> list[str]:
    """Split a root-relative, ``/``-separated path into its components (``""``: none)."""
    return [part for part in rel.split("/") if part and part != "."]


@attrs.define(eq=False, slots=True)
class Node:
    """A path of the tree and, for a directory, its children by name."""

    entry: Entry
    children: dict[str, Node] | None = None


class PathIndex:
    """The merged tree of an image's layers, by root-relative path (``""`` is the root)."""

    def __init__(self) -> None:
        self.root = Node(DIRECTORY, {})

    def node(self, rel: str) -> Node | None:
        """Return the node at ``rel``; None when a component is missing or not a directory.

        No symbolic link is followed: callers resolve paths on the extracted tree first.
        """
        node = self.root
        for part in split(rel):
            if node.children is None:
                return None
            found = node.children.get(part)
            if found is None:
                return None
            node = found
        return node

    def get(self, rel: str) -> Entry | None:
        """Return the entry at ``rel``, or None."""
        node = self.node(rel)
        return None if node is None else node.entry

    def is_directory(self, rel: str) -> bool:
        """Tell whether ``rel`` is a directory reached through directories only."""
        node = self.node(rel)
        return node is not None and node.children is not None

    def put(self, rel: str, entry: Entry) -> None:
        """Record ``entry`` at ``rel``, creating missing parent directories.

        A directory replacing a directory keeps its children; anything else replaces the node
        (a file over a directory drops the directory's subtree, as engines do).
        """
        parts = split(rel)
        if not parts:
            self.root.entry = entry
            return
        parent = self._parent(parts)
        old = parent.get(parts[-1])
        if entry.kind is PathKind.DIRECTORY:
            children = old.children if old is not None and old.children is not None else {}
            parent[parts[-1]] = Node(entry, children)
        else:
            parent[parts[-1]] = Node(entry)

    def _parent(self, parts: list[str]) -> dict[str, Node]:
        """Return the children of the parent of ``parts``, creating directories on the way."""
        node = self.root
        for part in parts[:-1]:
            assert node.children is not None
            child = node.children.get(part)
            if child is None or child.children is None:
                child = node.children[part] = Node(DIRECTORY, {})
            node = child
        assert node.children is not None
        return node.children

    def remove(self, rel: str) -> None:
        """Forget ``rel`` and everything below it (nothing happens when it is absent)."""
        parts = split(rel)
        if not parts:
            return
        parent = self.node("/".join(parts[:-1]))
        if parent is not None and parent.children is not None:
            parent.children.pop(parts[-1], None)

    def clear(self, rel: str) -> list[str]:
        """Forget the children of directory ``rel``; return their names."""
        node = self.node(rel)
        if node is None or node.children is None:
            return []
        names = list(node.children)
        node.children.clear()
        return names

    def children(self, rel: str) -> list[tuple[str, Node]]:
        """Return the children of directory ``rel`` sorted by name (none for a non-directory)."""
        node = self.node(rel)
        if node is None or node.children is None:
            return []
        return sorted(node.children.items())

    def walk(self, rel: str = "") -> Iterator[tuple[str, Node]]:
        """Yield ``(path, node)`` for ``rel`` and everything below it, parents first."""
        node = self.node(rel)
        if node is None:
            return
        stack = [("/".join(split(rel)), node)]
        while stack:
            path, current = stack.pop()
            yield path, current
            for name, child in sorted((current.children or {}).items(), reverse=True):
                stack.append((f"{path}/{name}" if path else name, child))
