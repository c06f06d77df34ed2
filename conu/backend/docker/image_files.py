"""Files and tools of a Docker image, read without running the image's own command.

A *helper container* is created from the image (never started for file checks), asked
through the archive API, and always force-removed, even when the check fails. Asking for
one path therefore costs one create, one or two HEAD/GET requests and one remove, whatever
the size of the image: nothing exports the whole filesystem.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from conu.apidefs.metadata import CommandResult, PathInfo
from conu.backend.common.image_files import ImageFileChecksMixin, mode_of
from conu.backend.docker import files
from conu.backend.docker.client import translate_errors
from conu.exceptions import (
    CommandDoesNotExistException,
    ContainerNotFound,
    EngineError,
    ImageNotFound,
)
from conu.labels import session_labels
from conu.utils.validate import command_list, timeout_seconds

if TYPE_CHECKING:
    from conu.backend.docker.filesystem import DockerImageViaArchiveFS

__all__ = ["HelperContainer", "ImageFilesMixin", "helper_container", "run_in_image"]

NEVER_RUN = ["/.conu-never-run"]
"""Entrypoint of helper containers that are only created: the image needs no CMD."""
RUN_TIMEOUT = 300
"""Seconds a tool run in a helper container (e.g. ``rpm -qa``) may take."""
_MISSING_EXECUTABLE = ("executable file not found", "no such file or directory")


class HelperContainer:
    """What :mod:`conu.backend.docker.files` needs of a container: a client and an id."""

    def __init__(self, client: Any, cid: str) -> None:
        self.d = client
        self.cid = cid

    def get_id(self) -> str:
        """Return the container's id."""
        return self.cid


@contextlib.contextmanager
def helper_container(
    client: Any,
    image_id: str,
    entrypoint: list[str] | None = None,
    command: Sequence[str] = (),
    **create: Any,
) -> Iterator[HelperContainer]:
    """Create a container of ``image_id`` labelled with the session; always removed after.

    Args:
        client: the docker API client.
        image_id: the image.
        entrypoint: what it would run; by default a path that does not exist, as the
            container is only created.
        command: arguments to the entrypoint.
        create: more arguments of ``create_container`` (no network unless told).
    """
    with translate_errors(f"create a helper container of {image_id!r}", not_found=ImageNotFound):
        created = client.create_container(
            image_id,
            entrypoint=entrypoint or NEVER_RUN,
            command=list(command),
            labels=session_labels(),
            **{"network_disabled": True, **create},
        )
    helper = HelperContainer(client, created["Id"])
    try:
        yield helper
    finally:
        with translate_errors(f"remove helper container {helper.cid[:12]!r}"):
            client.remove_container(helper.cid, force=True, v=True)


def run_in_image(
    client: Any,
    image_id: str,
    argv: list[str],
    timeout: float = RUN_TIMEOUT,
    *,
    network: bool = False,
    commit: bool = False,
    **options: Any,
) -> CommandResult:
    """Run ``argv`` in a helper container of ``image_id`` (entrypoint replaced) and wait.

    Args:
        client: the docker API client.
        image_id: the image.
        argv: the executable and its arguments.
        timeout: seconds the command may run.
        network: give the container the default network (none by default).
        commit: commit the container to a new image, labelled with the session.
        options: ``env``, ``user``, ``privileged``, ``tty``, ``cap_add``, ``binds``
            (see :meth:`conu.apidefs.image.Image.run_command`).

    Raises:
        CommandDoesNotExistException: ``argv[0]`` is not in the image.
        ProbeTimeout: it still ran after ``timeout`` seconds.
    """
    argv = command_list(argv)
    timeout = timeout_seconds(timeout, allow_none=False, positive=True) or RUN_TIMEOUT
    create = _create_options(client, network, **options)
    with helper_container(client, image_id, argv[:1], argv[1:], **create) as helper:
        _start(client, helper.cid, argv, image_id)
        what = f"wait for {argv[0]!r} in image {image_id!r}"
        with translate_errors(what, not_found=ContainerNotFound, timeout=timeout):
            code = int(client.wait(helper.cid, timeout=timeout)["StatusCode"])
            stdout = client.logs(helper.cid, stdout=True, stderr=False)
            stderr = client.logs(helper.cid, stdout=False, stderr=True)
        image = _commit(client, helper.cid) if commit else None
    return CommandResult(exit_code=code, stdout=stdout, stderr=stderr, image=image)


def _create_options(
    client: Any,
    network: bool,
    env: dict[str, str] | None = None,
    user: str | None = None,
    privileged: bool = False,
    tty: bool = False,
    cap_add: Sequence[str] = (),
    binds: Sequence[str] = (),
) -> dict[str, Any]:
    host_config = client.create_host_config(
        privileged=privileged,
        cap_add=list(cap_add) or None,
        binds=list(binds) or None,
    )
    return {
        "environment": env or None,
        "user": user,
        "tty": tty,
        "host_config": host_config,
        "network_disabled": not network,
    }


def _start(client: Any, cid: str, argv: list[str], image_id: str) -> None:
    try:
        with translate_errors(f"start {argv[0]!r} in image {image_id!r}"):
            client.start(cid)
    except EngineError as exc:
        if any(hint in str(exc).lower() for hint in _MISSING_EXECUTABLE):
            msg = f"command {argv[0]!r} does not exist in image {image_id!r}"
            raise CommandDoesNotExistException(msg) from exc
        raise


def _commit(client: Any, cid: str) -> Any:
    """Commit container ``cid`` to a new, unnamed image carrying the session's labels."""
    from conu.backend.docker.image import DockerImage, DockerImagePullPolicy

    changes = [f'LABEL "{key}"="{value}"' for key, value in session_labels().items()]
    with translate_errors(f"commit container {cid[:12]!r}"):
        image_id = client.commit(cid, changes=changes)["Id"]
    return DockerImage(None, identifier=image_id, pull_policy=DockerImagePullPolicy.NEVER)


class ImageFilesMixin(ImageFileChecksMixin):
    """File checks, mounts and package checks of :class:`~conu.DockerImage`."""

    _RPM_STDERR_IS_LISTED = True

    if TYPE_CHECKING:
        d: Any

        def get_id(self) -> str: ...

    def _stat_mode(self, path: str) -> int | None:
        with helper_container(self.d, self.get_id()) as helper:
            found = files.stat_path(helper, path)
        return None if found is None else mode_of(found.is_file, found.is_dir)

    def _read_bytes(self, path: str) -> bytes:
        with helper_container(self.d, self.get_id()) as helper:
            return files.read_path(helper, path)

    def _run_rpm(self, argv: list[str], timeout: float) -> CommandResult:
        return run_in_image(self.d, self.get_id(), argv, timeout)

    def path_info(self, path: str) -> PathInfo | None:
        """Describe ``path`` in the image as ``lstat`` would, or None; the image is not run."""
        with helper_container(self.d, self.get_id()) as helper:
            return files.path_info(helper, path)

    def list_directory(self, path: str) -> list[str]:
        """Return the names in directory ``path`` of the image; the image is not run.

        Raises:
            ConuException: the path does not exist or is not a directory.
        """
        with helper_container(self.d, self.get_id()) as helper:
            return files.list_names(helper, path)

    def run_command(
        self,
        command: list[str],
        *,
        timeout: float = RUN_TIMEOUT,
        commit: bool = False,
        **options: Any,
    ) -> CommandResult:
        """Run ``command`` in a fresh container of the image (entrypoint replaced), with the
        default network, and return its exit code, stdout and stderr.

        See :meth:`conu.apidefs.image.Image.run_command` for ``options`` (``env``, ``user``,
        ``privileged``, ``tty``, ``cap_add``, ``binds``) and ``commit``.
        """
        return run_in_image(
            self.d, self.get_id(), command, timeout, network=True, commit=commit, **options
        )

    def mount(self, mount_point: str | None = None) -> DockerImageViaArchiveFS:
        """Return the image's filesystem; its files appear on the host inside a ``with`` block.

        The image is exported through a created (never started) container and streamed to
        disk, never held in memory.
        """
        from conu.backend.docker.filesystem import DockerImageViaArchiveFS

        return DockerImageViaArchiveFS(self, mount_point=mount_point)
