"""The abstract filesystem of a container or an image, unpacked under a host directory.

Every path a user gives is a path *inside* the container: it is resolved under the mount
point as the container would resolve it (absolute symlinks restart at the container's root,
``..`` stops there), so no method ever reads a host file outside the mount point.
"""

from __future__ import annotations

import errno
import os
import shutil
import stat
import tempfile
from types import TracebackType
from typing import IO, Any

from conu.exceptions import ConuException, UnsupportedOperation, WrongFileType
from conu.labels import tmp_prefix
from conu.utils.rootfs import resolve_in_root

__all__ = ["ContainerFilesystem", "Filesystem", "ImageFilesystem", "is_present_as"]


class Filesystem:
    """Files of a container or image, readable under :attr:`mount_point`.

    Use it as a context manager: entering makes the files available, leaving removes a
    temporary mount point (a mount point given by the caller stays, with its contents).

    Args:
        object_instance: the container or image.
        mount_point: host directory to use; a temporary one under /var/tmp by default.
    """

    backend_name = "<abstract_backend>"
    tmp_parent = "/var/tmp"  # not a tmpfs on most systems: images can be large

    def __init__(self, object_instance: Any, mount_point: str | None = None) -> None:
        if mount_point is not None and not isinstance(mount_point, str | os.PathLike):
            msg = f"mount_point must be a path or None, not {type(mount_point).__name__}"
            raise TypeError(msg)
        self.obj = object_instance
        self._mount_point = os.fspath(mount_point) if mount_point is not None else None
        self.mount_point_provided = bool(mount_point)

    def _unsupported(self, operation: str) -> UnsupportedOperation:
        return UnsupportedOperation(self.backend_name, f"{type(self).__name__}.{operation}")

    @property
    def mount_point(self) -> str:
        """Host directory holding the files; created on first access when not given."""
        if self._mount_point is None:
            parent = self.tmp_parent if os.path.isdir(self.tmp_parent) else None
            self._mount_point = tempfile.mkdtemp(prefix=tmp_prefix(), dir=parent)
        return self._mount_point

    def _populate(self) -> None:
        """Make the files available under :attr:`mount_point` (backends override this)."""

    def __enter__(self) -> Filesystem:
        os.makedirs(self.mount_point, mode=0o700, exist_ok=True)
        try:
            self._populate()
        except BaseException:
            self._release()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._release()

    def _release(self) -> None:
        if self.mount_point_provided or self._mount_point is None:
            return
        from conu.utils.archive import remove_tree

        remove_tree(self._mount_point)
        self._mount_point = None

    def p(self, path: str) -> str:
        """Return the host path of container path ``path``, resolved inside the mount point."""
        return resolve_in_root(self.mount_point, path)

    def copy_to(self, src: str, dest: str) -> None:
        """Copy into the filesystem; images are immutable, so no backend supports this."""
        raise self._unsupported("copy_to")

    def copy_from(self, src: str, dest: str) -> None:
        """Copy file or directory ``src`` of the container to ``dest`` on the host.

        A file may go into an existing directory ``dest``; a directory is copied to ``dest``,
        which must not exist.

        Raises:
            ConuException: ``src`` does not exist.
            FileExistsError: ``src`` is a directory and ``dest`` exists.
        """
        host_src = self.p(src)
        if os.path.isdir(host_src):
            shutil.copytree(host_src, dest, symlinks=True)
        elif os.path.isfile(host_src):
            # Named after ``src``, not after what a symlink resolves to (as ``cp`` does).
            name = os.path.basename(src.rstrip("/"))
            shutil.copy2(host_src, os.path.join(dest, name) if os.path.isdir(dest) else dest)
        else:
            msg = f"{src!r} does not exist in {self.obj}"
            raise ConuException(msg)

    def read_file(self, file_path: str) -> str:
        """Return the text of ``file_path``.

        Raises:
            ConuException: the file does not exist or cannot be read.
        """
        try:
            with open(self.p(file_path), encoding="utf-8", errors="replace") as f:
                return f.read()
        except OSError as exc:
            msg = f"cannot read {file_path!r} of {self.obj}: {exc.strerror}"
            raise ConuException(msg) from exc

    def get_file(self, file_path: str, mode: str = "r") -> IO[Any]:
        """Open ``file_path`` and return the file object; the caller closes it.

        Its ``name`` is the host path of ``file_path`` as requested (under the mount point),
        even when a symlink led elsewhere inside the root.
        """
        opened = open(self.p(file_path), mode)  # noqa: SIM115  # the caller closes it
        raw: Any = getattr(getattr(opened, "buffer", opened), "raw", opened)
        raw.name = os.path.join(self.mount_point, file_path.lstrip("/"))
        return opened

    def file_is_present(self, file_path: str) -> bool:
        """Tell whether ``file_path`` is a regular file (following symlinks inside the root).

        Raises:
            WrongFileType: it exists but is not a regular file (an ``OSError`` too).
        """
        return self._is_present(file_path, stat.S_ISREG, errno.EISDIR, "a regular file")

    def directory_is_present(self, directory_path: str) -> bool:
        """Tell whether ``directory_path`` is a directory (following symlinks inside the root).

        Raises:
            WrongFileType: it exists but is not a directory (an ``OSError`` too).
        """
        return self._is_present(directory_path, stat.S_ISDIR, errno.ENOTDIR, "a directory")

    def _is_present(self, path: str, check: Any, err: int, kind: str) -> bool:
        try:
            mode = os.stat(self.p(path)).st_mode
        except FileNotFoundError:
            return False
        return is_present_as(path, mode, check, err, kind)

    def get_selinux_context(self, file_path: str) -> bytes:
        """Return the ``security.selinux`` extended attribute of ``file_path``.

        Raises:
            ConuException: the file has no SELinux label (SELinux is off on this host).
        """
        try:
            return os.getxattr(self.p(file_path), "security.selinux")
        except OSError as exc:
            msg = f"no SELinux context for {file_path!r}: {exc.strerror}"
            raise ConuException(msg) from exc


def is_present_as(path: str, mode: int | None, check: Any, err: int, kind: str) -> bool:
    """Tell whether ``path`` exists, given its ``st_mode`` (None when it does not exist).

    Args:
        path: the path, for the message.
        mode: its ``st_mode`` (symlinks followed), or None.
        check: ``stat.S_ISREG`` or ``stat.S_ISDIR``.
        err: the errno of the error: ``EISDIR`` or ``ENOTDIR``.
        kind: what it should be, for the message: ``"a regular file"``, ``"a directory"``.

    Raises:
        WrongFileType: it exists and ``check(mode)`` is false (an ``OSError`` too).
    """
    if mode is None:
        return False
    if not check(mode):
        raise WrongFileType(err, f"{path!r} exists but is not {kind}", path)
    return True


class ContainerFilesystem(Filesystem):
    """The filesystem of a container (running or not), unpacked from the engine's export.

    Args:
        container: the container.
        mount_point: host directory to unpack into; a temporary one (removed on exit) if None.
    """

    def __init__(self, container: Any, mount_point: str | None = None) -> None:
        super().__init__(container, mount_point=mount_point)
        self.container = container
        self.backend_name = container.backend_name

    def _populate(self) -> None:
        from conu.utils.archive import extract_tar_stream

        stream = self.container.engine.export_container(self.container.get_id())
        extract_tar_stream(stream, self.mount_point)


class ImageFilesystem(Filesystem):
    """The filesystem of an image, unpacked from the export of a container of it that is
    created but never started (the image is never run).

    Args:
        image: the image.
        mount_point: host directory to unpack into; a temporary one (removed on exit) if None.
    """

    def __init__(self, image: Any, mount_point: str | None = None) -> None:
        super().__init__(image, mount_point=mount_point)
        self.image = image
        self.backend_name = image.backend_name

    def _populate(self) -> None:
        from conu.utils.archive import extract_tar_stream

        with self.image.helper_container() as cid:
            extract_tar_stream(self.image.engine.export_container(cid), self.mount_point)
