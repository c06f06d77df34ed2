"""Files and tools of a podman image, read without running the image's own command.

A helper container (:mod:`conu_podman.helper`) is created from the image, never started
for file checks, asked through ``podman cp`` and always force-removed, even when the check
fails. Asking whether one path is a file or a directory reads one tar header: nothing
exports the whole filesystem.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from conu.apidefs.metadata import CommandResult, PathInfo
from conu.backend.common.image_files import ImageFileChecksMixin, mode_of
from conu_podman import files, paths
from conu_podman.helper import helper_container
from conu_podman.image_commands import RUN_TIMEOUT, run_command

if TYPE_CHECKING:
    from conu_podman.filesystem import PodmanImageFS

__all__ = ["ImageFilesMixin"]


class ImageFilesMixin(ImageFileChecksMixin):
    """File checks, mounts and package checks of :class:`~conu_podman.PodmanImage`."""

    if TYPE_CHECKING:

        def get_id(self) -> str: ...

    def _stat_mode(self, path: str) -> int | None:
        with helper_container(self.get_id()) as helper:
            found = files.stat_path(helper, path)
        return None if found is None else mode_of(found.isfile(), found.isdir())

    def _read_bytes(self, path: str) -> bytes:
        with helper_container(self.get_id()) as helper:
            return files.read_path(helper, path)

    def _run_rpm(self, argv: list[str], timeout: float) -> CommandResult:
        return run_command(self.get_id(), argv, timeout=timeout)

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
        """Run ``command`` in a fresh container of the image (entrypoint replaced, default
        network, as with Docker) and return its exit code, stdout and stderr; see
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
            network=True,  # as Docker's run_command: setup steps may need the network
        )

    def mount(self, mount_point: str | None = None) -> PodmanImageFS:
        """Return the image's filesystem; its files appear on the host inside a ``with`` block.

        The image is exported through a created (never started) container and streamed to
        disk, never held in memory.
        """
        from conu_podman.filesystem import PodmanImageFS

        return PodmanImageFS(self, mount_point=mount_point)
