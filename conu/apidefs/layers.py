"""Image files read from the engine's own storage, without a helper container.

An engine whose image layers lie on this host, readable by this process, may offer a
:class:`LayerView` of an image (:meth:`~conu.apidefs.engine.Engine.image_layers`); the file
checks of :class:`~conu.apidefs.image_files.ImageFilesMixin` then read the layers instead of
creating a container of the image, asking its archive primitives and removing it. A view
answers exactly what those primitives answer about a container of the image that was created
and never started (its paths, kinds, modes, owners, sizes, contents, what is missing); the
functions here follow a final symlink over a view as :mod:`conu.apidefs.files` follows it over
archives, so that both routes give the same answers and raise the same errors.
"""

from __future__ import annotations

import abc
import posixpath
from collections.abc import Callable, Iterator

from conu.apidefs import files
from conu.apidefs.metadata import PathInfo, PathKind

__all__ = ["LayerView", "list_names", "read_bytes", "walk"]


class LayerView(abc.ABC):
    """A read-only view of an image's files, as a never-started container of it shows them.

    Paths are absolute paths in the image. Every component but the last resolves inside the
    image's root (an absolute symlink restarts at that root, ``..`` stops there); a path
    through a regular file, or through a symlink loop, is not there. A view never follows a
    link to a host file.
    """

    @abc.abstractmethod
    def lstat(self, path: str) -> PathInfo | None:
        """Describe ``path`` as :meth:`~conu.apidefs.engine.Engine.stat_path` describes it in
        such a container (``follow=False``): a final symlink is described, not followed.

        Returns:
            the :class:`~conu.apidefs.metadata.PathInfo`, or None when nothing is there.
        """

    @abc.abstractmethod
    def stat(self, path: str) -> PathInfo | None:
        """Describe what ``path`` leads to (a final symlink followed inside the image), as
        ``stat_path(..., follow=True)`` does; None when nothing is there, or the link dangles
        or loops. Only the ``mode`` is used (presence checks)."""

    @abc.abstractmethod
    def read(self, path: str) -> bytes:
        """Return the contents of the regular file that :meth:`lstat` finds at ``path``.

        Raises:
            ConuException: no regular file is there.
        """

    @abc.abstractmethod
    def names(self, path: str) -> list[str]:
        """Return the names in the directory that :meth:`lstat` finds at ``path`` (any
        order), those an archive of it would hold.

        Raises:
            ConuException: no directory is there.
        """

    @abc.abstractmethod
    def walk(
        self, path: str, read: Callable[[str], bool]
    ) -> Iterator[tuple[str, PathInfo, bytes | None]]:
        """Yield everything below the directory that :meth:`lstat` finds at ``path``, as
        the members of its archive after the first: ``(path relative to it, PathInfo as
        :func:`~conu.apidefs.files.path_info_of` gives it, contents or None)``, in the
        archive's order, a hard link to a file met before as
        :attr:`~conu.apidefs.metadata.PathKind.HARDLINK`; the contents of the regular files
        whose relative path ``read`` accepts are read.

        Raises:
            ConuException: no directory is there.
        """


def _final(view: LayerView, path: str, kind: PathKind, verb: str) -> str:
    """The path of ``kind`` that ``path`` names, a final symlink followed as
    :mod:`conu.apidefs.files` follows it in an archive.

    Raises:
        ConuException: ``path`` does not exist (or leads nowhere), or is not of ``kind``.
    """
    current = posixpath.normpath(files.absolute(path))
    for _ in range(files.MAX_LINKS):
        info = view.lstat(current)
        if info is None:
            break
        if info.kind is PathKind.SYMLINK:
            current = files.link_step(current, info.link_target or "")
            continue
        if info.kind is not kind:
            raise files.refusal(path, verb, kind, exists=True)
        return current
    raise files.refusal(path, verb, kind, exists=False)


def read_bytes(view: LayerView, path: str) -> bytes:
    """Return the contents of regular file ``path`` (symlinks followed inside the image).

    Raises:
        ConuException: ``path`` does not exist or is not a regular file.
    """
    return view.read(_final(view, path, PathKind.FILE, "read"))


def list_names(view: LayerView, path: str) -> list[str]:
    """Return the sorted names in directory ``path`` (symlinks followed inside the image).

    Raises:
        ConuException: ``path`` does not exist or is not a directory.
    """
    return sorted(view.names(_final(view, path, PathKind.DIRECTORY, "list")))


def walk(
    view: LayerView, directory: str, read: Callable[[str], bool]
) -> Iterator[tuple[str, PathInfo, bytes | None]]:
    """Everything below ``directory`` (a final symlink followed inside the image), as
    :func:`conu.apidefs.files.walk` gives it.

    Raises:
        ConuException: ``directory`` does not exist or is not a directory.
    """
    yield from view.walk(_final(view, directory, PathKind.DIRECTORY, "walk"), read)
