"""Files and commands of an image, without running the image's own command.

File checks read the image's layers when the engine offers them on this host
(:meth:`~conu.apidefs.engine.Engine.image_layers`, :mod:`conu.apidefs.layers`): no container.
Otherwise a *helper container* is created from the image (never started for file checks),
asked through the engine's archive primitives (same answers), and always force-removed, even
when the check fails: one path costs a create, a stat or an archive read, and a remove,
whatever the size of the image. :meth:`ImageFilesMixin.run_command` runs a command in a fresh
container of the image instead.
"""

from __future__ import annotations

import contextlib
import errno
import stat
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, cast

from conu.apidefs import files, layers
from conu.apidefs.backend import Capability
from conu.apidefs.filesystem import ImageFilesystem, is_present_as
from conu.apidefs.metadata import CommandResult, PathInfo
from conu.apidefs.specs import RunSpec
from conu.exceptions import (
    CommandDoesNotExistException,
    UnsupportedOperation,
)
from conu.labels import session_labels
from conu.utils.validate import command_list, timeout_seconds

if TYPE_CHECKING:
    from conu.apidefs.engine import Engine

__all__ = ["NEVER_RUN", "RUN_TIMEOUT", "ImageFilesMixin"]


class _SharedHelper:
    """The helper container an image's file checks share inside ``shared_helper()``."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.depth = 0
        self.container: str | None = None


NEVER_RUN = ("/.conu-never-run",)
"""Entrypoint of helper containers that are only created: the image needs no CMD."""
RUN_TIMEOUT = 300
"""Seconds a command run in a helper container (e.g. ``rpm -qa``) may take by default."""


class ImageFilesMixin:
    """File checks, mounts, commands and package checks of an image."""

    filesystem_class: ClassVar[type[ImageFilesystem]] = ImageFilesystem
    """The class :meth:`mount` returns."""

    if TYPE_CHECKING:

        def _engine(self, operation: str) -> Engine: ...

        def get_id(self) -> str: ...

        def get_full_name(self) -> str: ...

        def _unsupported(self, operation: str) -> UnsupportedOperation: ...

        def _same(self, identifier: str) -> Any: ...

    @contextlib.contextmanager
    def helper_container(self, spec: RunSpec | None = None, *, keep: bool = False) -> Iterator[str]:
        """Create a container of this image (never started unless the caller starts it),
        labelled with the session; yield its id and always remove it afterwards (inside
        :meth:`shared_helper`, the shared one is yielded for the default spec).

        Args:
            spec: what to create; by default a container without network whose entrypoint
                does not exist (the image needs no command).
            keep: leave it in place (the session's cleanup removes it).
        """
        engine = self._engine("helper_container")
        shared = self._helper_share()
        if spec is None and shared.depth:
            with shared.lock:
                if shared.container is None:
                    shared.container = engine.create_container(self._helper_spec())
                cid = shared.container
            yield cid
            return
        cid = engine.create_container(spec or self._helper_spec())
        try:
            yield cid
        finally:
            if not keep:
                engine.remove_container(cid, force=True, volumes=True)

    def _helper_spec(self) -> RunSpec:
        return RunSpec(
            image=self.get_id(), entrypoint=NEVER_RUN, labels=session_labels(), network="none"
        )

    def _helper_share(self) -> _SharedHelper:
        return cast(
            "_SharedHelper", self.__dict__.setdefault("_conu_shared_helper", _SharedHelper())
        )

    @contextlib.contextmanager
    def shared_helper(self) -> Iterator[None]:
        """Within this block, the file checks of this image (``file_is_present``,
        ``read_file``, ``path_info``, ``list_directory``..., from any thread) share one
        helper container, created on first use and removed when the outermost block ends:
        a thousand lookups cost one create and one remove. Blocks nest."""
        shared = self._helper_share()
        with shared.lock:
            shared.depth += 1
        try:
            yield
        finally:
            with shared.lock:
                shared.depth -= 1
                cid, shared.container = (
                    (shared.container, None) if shared.depth == 0 else (None, shared.container)
                )
            if cid is not None:
                self._engine("shared_helper").remove_container(cid, force=True, volumes=True)

    def _layers(self, operation: str) -> layers.LayerView | None:
        return self._engine(operation).image_layers(self.get_id())

    def _stat(self, path: str, *, follow: bool) -> PathInfo | None:
        path = files.absolute(path)
        view = self._layers("path_info")
        if view is not None:
            return view.stat(path) if follow else view.lstat(path)
        with self.helper_container() as cid:
            return self._engine("path_info").stat_path(cid, path, follow=follow)

    def file_is_present(self, file_path: str) -> bool:
        """Tell whether ``file_path`` is a regular file in the image, without running it.

        Symlinks are followed inside the image, never on the host.

        Raises:
            WrongFileType: it exists but is not a regular file (an ``OSError`` too).
        """
        found = self._stat(file_path, follow=True)
        mode = None if found is None else found.mode
        return is_present_as(file_path, mode, stat.S_ISREG, errno.EISDIR, "a regular file")

    def directory_is_present(self, directory_path: str) -> bool:
        """Tell whether ``directory_path`` is a directory in the image, without running it.

        Raises:
            WrongFileType: it exists but is not a directory (an ``OSError`` too).
        """
        found = self._stat(directory_path, follow=True)
        mode = None if found is None else found.mode
        return is_present_as(directory_path, mode, stat.S_ISDIR, errno.ENOTDIR, "a directory")

    def read_file(self, file_path: str) -> str:
        """Return the text (UTF-8) of ``file_path`` in the image, without running it.

        Raises:
            ConuException: the file does not exist or is not a regular file.
        """
        view = self._layers("read_file")
        if view is not None:
            return layers.read_bytes(view, file_path).decode("utf-8", errors="replace")
        with self.helper_container() as cid:
            data = files.read_bytes(self._engine("read_file"), cid, file_path)
        return data.decode("utf-8", errors="replace")

    def path_info(self, path: str) -> PathInfo | None:
        """Describe ``path`` in the image without running it, as ``lstat`` would (a final
        symlink is described, not followed; links before it resolve inside the image).

        Returns:
            the :class:`~conu.apidefs.metadata.PathInfo`, or None when the path does not exist.
        """
        return self._stat(path, follow=False)

    def list_directory(self, path: str) -> list[str]:
        """Return the names in directory ``path`` of the image (links followed inside it).

        Raises:
            ConuException: the path does not exist or is not a directory.
        """
        view = self._layers("list_directory")
        if view is not None:
            return layers.list_names(view, path)
        with self.helper_container() as cid:
            return files.list_names(self._engine("list_directory"), cid, path)

    def walk(
        self, directory: str, read: Callable[[str], bool] = lambda _path: False
    ) -> Iterator[tuple[str, PathInfo, bytes | None]]:
        """Walk ``directory`` of the image in one archive read, or one pass over the layers
        the engine offers (a final symlink followed inside the image): yield ``(path
        relative to it, what it is as lstat says, contents or None)`` for everything below
        it; the contents of the regular files whose relative path ``read`` accepts are read
        on the way.

        Raises:
            ConuException: ``directory`` does not exist or is not a directory.
        """
        view = self._layers("walk")
        if view is not None:
            yield from layers.walk(view, directory, read)
            return
        with self.helper_container() as cid:
            yield from files.walk(self._engine("walk"), cid, directory, read)

    def mount(self, mount_point: str | None = None) -> ImageFilesystem:
        """Return the image's filesystem; its files appear on the host inside a ``with``
        block, exported from a container of it that is never started and streamed to disk."""
        return self.filesystem_class(self, mount_point=mount_point)

    def mount_image(self, mount_point: str | None = None) -> ImageFilesystem:
        """Alias of :meth:`mount`."""
        return self.mount(mount_point)

    def get_selinux_context(self, file_path: str) -> bytes:
        """Return the SELinux context of ``file_path`` (use :meth:`mount` and its method)."""
        raise self._unsupported("get_selinux_context")

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
        keep: bool = False,
        engine_options: dict[str, Any] | None = None,
    ) -> CommandResult:
        """Run ``command`` in a fresh container of the image and return its outcome.

        The image's entrypoint is not used: ``command[0]`` is the executable. The container
        has the engine's default network and is removed afterwards; with ``commit=True`` it
        is first committed to a new image (labelled with the session) returned in
        :attr:`~conu.apidefs.metadata.CommandResult.image`. On an engine without
        ``Capability.LOG_STREAMS`` (Kubernetes keeps one log per container), stderr is merged
        into stdout, as with a TTY.

        Args:
            command: the executable and its arguments.
            env: environment added to the image's.
            user: run as this user (``name``, ``uid`` or ``uid:gid``).
            privileged: run privileged.
            tty: allocate a TTY (stderr is then merged into stdout).
            cap_add: Linux capabilities to add.
            binds: bind mounts, ``host_path:container_path[:ro]``.
            timeout: seconds the command may run.
            commit: commit the container to a new image after the command.
            keep: leave the container in place afterwards (the session's cleanup removes it).
            engine_options: the engine's own options of the container (``RunSpec``).

        Raises:
            CommandDoesNotExistException: ``command[0]`` is not in the image.
            ProbeTimeout: the command still ran after ``timeout`` seconds.
        """
        argv = command_list(command)
        timeout = timeout_seconds(timeout, allow_none=False, positive=True) or RUN_TIMEOUT
        spec = RunSpec(
            image=self.get_id(),
            entrypoint=argv[:1],
            command=argv[1:],
            env=env or {},
            user=user,
            privileged=privileged,
            tty=tty,
            cap_add=cap_add,
            binds=binds,
            labels=session_labels(),
            engine_options=engine_options or {},
        )
        engine = self._engine("run_command")
        with self.helper_container(spec, keep=keep) as cid:
            try:
                engine.start_container(cid)
            except CommandDoesNotExistException as exc:
                msg = f"command {argv[0]!r} does not exist in image {self.get_full_name()!r}"
                raise CommandDoesNotExistException(msg) from exc
            code = engine.wait_container(cid, timeout)
            if Capability.LOG_STREAMS in engine.capabilities:
                stdout = b"".join(engine.container_logs(cid, stdout=True, stderr=False))
                stderr = b"".join(engine.container_logs(cid, stdout=False, stderr=True))
            else:  # the engine keeps one log (Kubernetes): stderr is in stdout
                stdout, stderr = b"".join(engine.container_logs(cid)), b""
            image = None
            if commit:
                image = self._same(engine.commit_container(cid, labels=session_labels()))
        return CommandResult(exit_code=code, stdout=stdout, stderr=stderr, image=image)
