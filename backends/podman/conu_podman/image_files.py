"""Files and tools of a podman image, read without running the image's own command.

A helper container (:mod:`conu_podman.helper`) is created from the image, never started
for file checks, asked through ``podman cp`` and always force-removed, even when the check
fails. Asking whether one path is a file or a directory reads one tar header: nothing
exports the whole filesystem.
"""

from __future__ import annotations

import errno
import tarfile
from collections.abc import Sequence
from typing import TYPE_CHECKING

from conu.apidefs.metadata import CommandResult, PathInfo
from conu.exceptions import CommandFailed, InvalidArgument, WrongFileType
from conu.utils.rpms import RPM_QUERY_FORMAT, check_signatures
from conu_podman import files, paths
from conu_podman.helper import helper_container
from conu_podman.image_commands import RUN_TIMEOUT, run_command

if TYPE_CHECKING:
    from conu_podman.filesystem import PodmanImageFS

__all__ = ["ImageFilesMixin"]


class ImageFilesMixin:
    """File checks, mounts and package checks of :class:`~conu_podman.PodmanImage`."""

    if TYPE_CHECKING:

        def get_id(self) -> str: ...

        def get_full_name(self) -> str: ...

    def _stat(self, path: str) -> tarfile.TarInfo | None:
        with helper_container(self.get_id()) as helper:
            return files.stat_path(helper, path)

    def file_is_present(self, file_path: str) -> bool:
        """Tell whether ``file_path`` is a regular file in the image, without running it.

        Symlinks are followed inside the image, never on the host.

        Raises:
            WrongFileType: it exists but is not a regular file (an ``OSError`` too).
        """
        found = self._stat(file_path)
        if found is not None and not found.isfile():
            msg = f"{file_path!r} exists but is not a regular file"
            raise WrongFileType(errno.EISDIR, msg, file_path)
        return found is not None

    def directory_is_present(self, directory_path: str) -> bool:
        """Tell whether ``directory_path`` is a directory in the image, without running it.

        Raises:
            WrongFileType: it exists but is not a directory (an ``OSError`` too).
        """
        found = self._stat(directory_path)
        if found is not None and not found.isdir():
            msg = f"{directory_path!r} exists but is not a directory"
            raise WrongFileType(errno.ENOTDIR, msg, directory_path)
        return found is not None

    def read_file(self, file_path: str) -> str:
        """Return the text (UTF-8) of ``file_path`` in the image, without running it.

        Raises:
            ConuException: the file does not exist or is not a regular file.
        """
        with helper_container(self.get_id()) as helper:
            return files.read_path(helper, file_path).decode("utf-8", errors="replace")

    def path_info(self, path: str) -> PathInfo | None:
        """Describe ``path`` in the image as ``lstat`` would (a final symlink is described,
        not followed), or return None when it does not exist; the image is not run.

        The entries of the path's directory that come before it are streamed past.
        """
        with helper_container(self.get_id()) as helper:
            return paths.path_info(helper, path)

    def list_directory(self, path: str) -> list[str]:
        """Return the sorted names in directory ``path`` of the image; the image is not run.

        Raises:
            ConuException: the path does not exist or is not a directory.
        """
        with helper_container(self.get_id()) as helper:
            return paths.list_names(helper, path)

    def run_command(
        self,
        command: list[str],
        *,
        env: dict[str, str] | None = None,
        user: str | None = None,
        privileged: bool = False,
        tty: bool = False,
        cap_add: Sequence[str] = (),
        binds: Sequence[str] = (),
        timeout: float = RUN_TIMEOUT,
        commit: bool = False,
    ) -> CommandResult:
        """Run ``command`` in a fresh container of the image (entrypoint replaced, no
        network) and return its exit code, stdout and stderr; see
        :func:`conu_podman.image_commands.run_command`.

        Raises:
            CommandDoesNotExistException: ``command[0]`` is not in the image.
            ProbeTimeout: the command still ran after ``timeout`` seconds.
        """
        return run_command(
            self.get_id(),
            command,
            env=env,
            user=user,
            privileged=privileged,
            tty=tty,
            cap_add=cap_add,
            binds=binds,
            timeout=timeout,
            commit=commit,
        )

    def mount(self, mount_point: str | None = None) -> PodmanImageFS:
        """Return the image's filesystem; its files appear on the host inside a ``with`` block.

        The image is exported through a created (never started) container and streamed to
        disk, never held in memory.
        """
        from conu_podman.filesystem import PodmanImageFS

        return PodmanImageFS(self, mount_point=mount_point)  # type: ignore[arg-type]

    def has_pkgs_signed_with(self, allowed_keys: list[str], timeout: float = RUN_TIMEOUT) -> bool:
        """Check that every RPM package in the image is signed with one of ``allowed_keys``.

        Runs ``rpm -qa`` in a helper container of the image (no network) and waits for it.

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
        argv = ["rpm", "-qa", "--qf", RPM_QUERY_FORMAT]
        done = run_command(self.get_id(), argv, timeout=timeout)
        text = done.stdout.decode("utf-8", errors="replace")
        if done.exit_code != 0:
            output = done.stdout + done.stderr
            reason = output.decode("utf-8", errors="replace")
            msg = f"rpm -qa failed in image {self.get_full_name()!r} (exit code {done.exit_code})"
            raise CommandFailed(f"{msg}: {reason}", exit_code=done.exit_code, output=output)
        check_signatures(text.splitlines(), allowed_keys)
        return True
