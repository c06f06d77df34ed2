"""Docker's init layer: what the engine adds above the image in every container it creates.

Before a container is first started (conu's helper containers never are), its files are the
image's plus this layer (moby's ``daemon/initlayer``), so the archive endpoint shows it:
``/.dockerenv``, ``/etc/hosts``, ``/etc/hostname`` and ``/etc/resolv.conf`` are empty files,
``/etc/mtab`` a symlink to ``/proc/mounts``, and ``/dev/console``, ``/dev/pts``, ``/dev/shm``,
``/proc`` and ``/sys`` are there. :func:`apply` makes the same paths in a view of the image's
layers (:class:`~conu.backend.docker.overlay.OverlayView`), so that it answers as the
helper container does.
"""

from __future__ import annotations

import stat
from collections.abc import Callable

__all__ = ["INIT_LAYER", "apply"]

INIT_LAYER = (
    ("/dev/pts", "dir"),
    ("/dev/shm", "dir"),
    ("/proc", "dir"),
    ("/sys", "dir"),
    ("/.dockerenv", "file"),
    ("/etc/resolv.conf", "file"),
    ("/etc/hosts", "file"),
    ("/etc/hostname", "file"),
    ("/dev/console", "file"),
    ("/etc/mtab", "/proc/mounts"),
)
"""Each path, and what the engine makes there: a directory, an empty file, or a symlink to
the target given. A directory already there is kept (what is in it too); anything else is
replaced, and a non-directory on the way to the path is replaced by a directory. What the
engine makes is root's, mode 0755 (0777 for the link)."""
_MODES = {"dir": stat.S_IFDIR | 0o755, "file": stat.S_IFREG | 0o755}


def apply(is_dir: Callable[[str], bool], make: Callable[[str, int, str | None], None]) -> None:
    """Make the init layer's paths over an image's files.

    Args:
        is_dir: whether a path (no symlink in it) is a directory now (False when it is
            something else or nothing).
        make: make ``(path, st_mode, symlink target or None)``, root's, hiding what was
            there; it is seen by the next ``is_dir``.
    """
    for path, what in INIT_LAYER:
        parts = path.split("/")[1:]
        for depth in range(1, len(parts)):
            above = "/" + "/".join(parts[:depth])
            if not is_dir(above):
                make(above, _MODES["dir"], None)
        if not is_dir(path):
            link = None if what in _MODES else what
            make(path, _MODES.get(what, stat.S_IFLNK | 0o777), link)
