"""File and package checks of an image, built on a few primitives each backend supplies.

:class:`ImageFileChecksMixin` gives ``file_is_present``, ``directory_is_present``,
``read_file`` and ``has_pkgs_signed_with``; the image class implements ``_stat_mode`` (a
stat of one path), ``_read_bytes`` (the bytes of one file) and ``_run_rpm`` (a command run
in a fresh container of the image), without running the image's own command.
"""

from __future__ import annotations

import errno
import stat
from typing import TYPE_CHECKING, ClassVar

from conu.apidefs.filesystem import is_present_as
from conu.exceptions import CommandFailed, InvalidArgument
from conu.utils.rpms import RPM_QUERY_FORMAT, check_signatures

if TYPE_CHECKING:
    from conu.apidefs.metadata import CommandResult

__all__ = ["ImageFileChecksMixin", "mode_of"]


class ImageFileChecksMixin:
    """``file_is_present``, ``directory_is_present``, ``read_file``, ``has_pkgs_signed_with``."""

    _RPM_STDERR_IS_LISTED: ClassVar[bool] = False
    """Whether ``rpm -qa``'s stderr lines are checked as package lines too (Docker's)."""

    if TYPE_CHECKING:

        def get_full_name(self) -> str: ...

    def _stat_mode(self, path: str) -> int | None:
        """Return the ``st_mode`` of ``path`` in the image (symlinks followed inside it), or
        None when it does not exist."""
        raise NotImplementedError

    def _read_bytes(self, path: str) -> bytes:
        """Return the contents of regular file ``path`` in the image.

        Raises:
            ConuException: the file does not exist or is not a regular file.
        """
        raise NotImplementedError

    def _run_rpm(self, argv: list[str], timeout: float) -> CommandResult:
        """Run ``argv`` (``rpm -qa ...``) in a fresh container of the image and wait."""
        raise NotImplementedError

    def file_is_present(self, file_path: str) -> bool:
        """Tell whether ``file_path`` is a regular file in the image, without running it.

        Symlinks are followed inside the image, never on the host.

        Raises:
            WrongFileType: it exists but is not a regular file (an ``OSError`` too).
        """
        mode = self._stat_mode(file_path)
        return is_present_as(file_path, mode, stat.S_ISREG, errno.EISDIR, "a regular file")

    def directory_is_present(self, directory_path: str) -> bool:
        """Tell whether ``directory_path`` is a directory in the image, without running it.

        Raises:
            WrongFileType: it exists but is not a directory (an ``OSError`` too).
        """
        mode = self._stat_mode(directory_path)
        return is_present_as(directory_path, mode, stat.S_ISDIR, errno.ENOTDIR, "a directory")

    def read_file(self, file_path: str) -> str:
        """Return the text (UTF-8) of ``file_path`` in the image, without running it.

        Raises:
            ConuException: the file does not exist or is not a regular file.
        """
        return self._read_bytes(file_path).decode("utf-8", errors="replace")

    def has_pkgs_signed_with(self, allowed_keys: list[str], timeout: float = 300) -> bool:
        """Check that every RPM package in the image is signed with one of ``allowed_keys``.

        Runs ``rpm -qa`` in a helper container of the image (needs ``rpm`` in the image) and
        waits for it to exit before reading its output.

        Args:
            allowed_keys: key ids (hex, any case), e.g. ``["f55ad3fb5323552a"]``.
            timeout: seconds ``rpm`` may take.

        Returns:
            True.

        Raises:
            InvalidArgument: ``allowed_keys`` is not a non-empty list.
            CommandDoesNotExistException: the image has no ``rpm``.
            CommandFailed: ``rpm`` failed.
            PackageSignatureException: a package is unsigned or signed with another key.
        """
        if not isinstance(allowed_keys, list) or not allowed_keys:
            msg = f"allowed_keys must be a non-empty list of key ids, not {allowed_keys!r}"
            raise InvalidArgument(msg)
        result = self._run_rpm(["rpm", "-qa", "--qf", RPM_QUERY_FORMAT], timeout)
        code, output = result.exit_code, result.stdout + result.stderr
        if code != 0:
            reason = output.decode("utf-8", errors="replace")
            msg = f"rpm -qa failed in image {self.get_full_name()!r} (exit code {code}): {reason}"
            raise CommandFailed(msg, exit_code=code, output=output)
        listed = output if self._RPM_STDERR_IS_LISTED else result.stdout
        check_signatures(listed.decode("utf-8", errors="replace").splitlines(), allowed_keys)
        return True


def mode_of(is_file: bool, is_dir: bool) -> int:
    """Return an ``st_mode`` type for a path that is a regular file, a directory, or other."""
    if is_file:
        return stat.S_IFREG
    return stat.S_IFDIR if is_dir else 0
