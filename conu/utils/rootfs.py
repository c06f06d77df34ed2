"""Resolving container paths inside a root directory mounted on the host.

A container's filesystem extracted under ``root`` is full of symbolic links written for the
container: ``/etc/localtime -> /usr/share/zoneinfo/UTC`` means ``root/usr/share/...`` here, not
the host's file. :func:`resolve_in_root` walks a path the way the kernel would for a process
chrooted at ``root``, so every answer conu gives is about the container's file and never about
a host file that an untrusted image pointed at.
"""

from __future__ import annotations

import collections
import errno
import os
from collections.abc import Callable

from conu.exceptions import UnsafePath

__all__ = ["MAX_SYMLINK_EXPANSIONS", "is_within", "resolve_components", "resolve_in_root"]

MAX_SYMLINK_EXPANSIONS = 40
"""How many symbolic links one resolution may expand; Linux gives up (ELOOP) at the same count."""

# readlink() fails with these when the component is not a link or does not exist: the component
# is then taken literally, exactly like the kernel does for a missing final component.
_LITERAL_ERRNOS = frozenset({errno.EINVAL, errno.ENOENT, errno.ENOTDIR})


def is_within(root: str | os.PathLike[str], path: str | os.PathLike[str]) -> bool:
    """Tell whether ``path`` is ``root`` itself or lies below it, comparing names only.

    No symbolic link is followed: this checks where a host path string points, which is what
    :func:`resolve_in_root` produces.

    Args:
        root: the directory that must contain ``path``.
        path: the host path to check; a relative one is taken from the current directory.

    Returns:
        True when ``path`` is inside ``root``.
    """
    abs_root = os.path.abspath(root)
    abs_path = os.path.abspath(path)
    return os.path.commonpath([abs_root, abs_path]) == abs_root


def resolve_in_root(root: str | os.PathLike[str], path: str, *, follow_last: bool = True) -> str:
    """Resolve a container path to the host path it names, as a process chrooted at ``root``.

    Components are walked one by one. ``..`` at the root stays at the root, an absolute link
    target restarts from ``root`` and a relative one from the link's directory. Components that
    do not exist are kept as they are, so the result may name a missing file.

    Args:
        root: the host directory holding the container's filesystem.
        path: the path as the container sees it; a relative one is taken from ``/``.
        follow_last: when False the last component is not resolved even if it is a link, the
            way ``lstat`` treats it. A trailing ``/`` forces it to be resolved anyway.

    Returns:
        An absolute host path inside ``root``.

    Raises:
        UnsafePath: more than :data:`MAX_SYMLINK_EXPANSIONS` links had to be expanded (a loop),
            or, defensively, the result would lie outside ``root``.
        OSError: a component cannot be examined (a directory without search permission).
    """
    host_root = os.path.abspath(root)

    def read_link(parts: list[str]) -> str | None:
        return _read_link(os.path.join(host_root, *parts))

    where = f" in {host_root!r}"
    follow_last = follow_last or path.endswith("/")
    resolved = resolve_components(path, read_link, follow_last=follow_last, where=where)
    return _confined(host_root, resolved, path)


def resolve_components(
    path: str,
    read_link: Callable[[list[str]], str | None],
    *,
    follow_last: bool = True,
    where: str = "",
) -> list[str]:
    """Resolve a container path to its components, as a process chrooted at its root would.

    The walk of :func:`resolve_in_root`, over any tree: ``read_link`` is asked about each
    component (given all components up to it, already resolved) and returns the target when
    it is a symbolic link, None otherwise (a missing component is kept as it is). ``..`` at
    the root stays at the root, an absolute target restarts from the root and a relative one
    from the link's directory.

    Args:
        path: the path as the container sees it; a relative one is taken from ``/``.
        read_link: the target of the link the components name, or None.
        follow_last: resolve the last component too when it is a link.
        where: what the tree is, for the message (``" in '/mnt/root'"``).

    Returns:
        The resolved components (none for the root).

    Raises:
        UnsafePath: more than :data:`MAX_SYMLINK_EXPANSIONS` links had to be expanded.
        OSError: what ``read_link`` raises.
    """
    pending = collections.deque(_components(path))
    resolved: list[str] = []
    expansions = 0
    while pending:
        part = pending.popleft()
        if part == "..":
            if resolved:
                resolved.pop()
            continue
        target = read_link([*resolved, part]) if pending or follow_last else None
        if target is None:
            resolved.append(part)
            continue
        expansions += 1
        if expansions > MAX_SYMLINK_EXPANSIONS:
            msg = f"too many levels of symbolic links resolving {path!r}{where}"
            raise UnsafePath(msg)
        if target.startswith("/"):
            resolved.clear()
        pending.extendleft(reversed(_components(target)))
    return resolved


def _components(path: str) -> list[str]:
    """Split a container path into its meaningful components (no empty ones, no ``.``)."""
    return [part for part in path.split("/") if part not in ("", ".")]


def _read_link(host_path: str) -> str | None:
    """Return the target of ``host_path`` when it is a symbolic link, None otherwise."""
    try:
        return os.readlink(host_path)
    except OSError as exc:
        if exc.errno in _LITERAL_ERRNOS:
            return None
        raise


def _confined(host_root: str, resolved: list[str], path: str) -> str:
    """Join the resolved components onto the root, refusing anything that left it."""
    host_path = os.path.join(host_root, *resolved)
    # The walk cannot climb above the root, but a mistake here would let an image read host
    # files, so the invariant is checked rather than trusted.
    if not is_within(host_root, host_path):
        msg = f"container path {path!r} resolved to {host_path!r}, outside {host_root!r}"
        raise UnsafePath(msg)
    return host_path
