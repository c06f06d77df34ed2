"""The abstract backend: one container engine, its cleanup policy and its capabilities."""

from __future__ import annotations

import contextlib
import enum
import logging
import os
import shutil
import tempfile
from types import TracebackType
from typing import TYPE_CHECKING, Any, ClassVar

from conu.apidefs.specs import PullPolicy
from conu.exceptions import ConuException, UnsupportedOperation
from conu.labels import SESSION_ID, sessions_of, tmp_prefix

if TYPE_CHECKING:
    from conu.apidefs.container import Container
    from conu.apidefs.engine import Engine
    from conu.apidefs.image import Image

__all__ = ["Backend", "Capability", "CleanupPolicy", "get_backend_tmpdir", "set_logging"]

logger = logging.getLogger("conu")


class CleanupPolicy(enum.Enum):
    """What a backend removes when its context manager exits."""

    NOTHING = 0
    EVERYTHING = 1
    CONTAINERS = 2
    VOLUMES = 3
    IMAGES = 4
    TMP_DIRS = 5


class Capability(enum.Enum):
    """Optional features a backend declares; suites skip on these, never on failures."""

    EXEC = "exec"
    LOGS_FOLLOW = "logs_follow"
    COPY = "copy"
    MOUNT = "mount"
    PORTS = "ports"
    STDIN = "stdin"
    RUN_VIA_BINARY = "run_via_binary"
    IMAGE_FILES = "image_files"
    PULL_PUSH = "pull_push"
    BUILD = "build"
    PID = "pid"
    COMMIT = "commit"
    """A container can be committed to an image (``run_command(commit=True)``)."""
    LOG_STREAMS = "log_streams"
    """Logs can be read per stream: stdout apart from stderr."""
    SIGNALS = "signals"
    """``kill()`` delivers any signal, at once."""


def set_logging(
    logger_name: str = "conu",
    level: int = logging.INFO,
    handler_class: type[logging.Handler] = logging.StreamHandler,
    handler_kwargs: dict[str, Any] | None = None,
    format: str = "%(asctime)s.%(msecs).03d %(filename)-17s %(levelname)-6s %(message)s",
    date_format: str = "%H:%M:%S",
) -> logging.Logger:
    """Set the level of logger ``logger_name`` and give it one handler of ``handler_class``.

    A handler is added only when none of that class is attached yet, so calling this
    repeatedly never duplicates log lines.

    Returns:
        The configured logger.
    """
    log = logging.getLogger(logger_name)
    log.setLevel(level)
    if not any(isinstance(h, handler_class) for h in log.handlers):
        handler = handler_class(**(handler_kwargs or {}))
        handler.setFormatter(logging.Formatter(format, date_format))
        log.addHandler(handler)
    return log


_global_tmpdir: str | None = None


def get_backend_tmpdir() -> str:
    """Return conu 1.0's process-wide temporary directory (prefix ``conu-``), creating it."""
    global _global_tmpdir
    if _global_tmpdir is None:
        _global_tmpdir = tempfile.mkdtemp(prefix=tmp_prefix())
    return _global_tmpdir


def _policies(cleanup: Any) -> list[CleanupPolicy]:
    """Check the ``cleanup`` argument: a list of CleanupPolicy (None for NOTHING)."""
    if not cleanup:
        return [CleanupPolicy.NOTHING]
    if isinstance(cleanup, str | CleanupPolicy) or not isinstance(cleanup, list | tuple | set):
        msg = f"cleanup must be a list of CleanupPolicy, not {type(cleanup).__name__}: {cleanup!r}"
        raise TypeError(msg)
    wrong = [p for p in cleanup if not isinstance(p, CleanupPolicy)]
    if wrong:
        msg = f"cleanup must hold only CleanupPolicy members, not {wrong[0]!r}"
        raise TypeError(msg)
    return list(cleanup)


class Backend:
    """One container engine.

    A backend is a context manager: on exit it removes what its ``cleanup`` policies name,
    and only what this process's session created (resources carry the session's label).

    Args:
        logging_level: level for the ``conu`` logger.
        logging_kwargs: further arguments for :func:`set_logging`.
        cleanup: list of :class:`CleanupPolicy`; ``[CleanupPolicy.NOTHING]`` by default.

    Raises:
        ConuException: NOTHING is combined with other policies.
    """

    name: ClassVar[str] = "<abstract_backend>"
    engine_class: ClassVar[type[Engine] | None] = None
    """The engine class; the backend drives its shared instance."""
    ContainerClass: ClassVar[type[Container]]
    ImageClass: ClassVar[type[Image]]

    def __init__(
        self,
        logging_level: int = logging.INFO,
        logging_kwargs: dict[str, Any] | None = None,
        cleanup: list[CleanupPolicy] | None = None,
    ) -> None:
        self.tmpdir: str | None = None
        self.logging_level = logging_level
        self.logger = set_logging(level=logging_level, **(logging_kwargs or {}))
        self.cleanup = _policies(cleanup)
        if CleanupPolicy.NOTHING in self.cleanup and len(self.cleanup) > 1:
            msg = f"CleanupPolicy.NOTHING cannot be combined with other policies: {self.cleanup}"
            raise ConuException(msg)
        from conu._version import __version__

        self.logger.info("conu has initiated, welcome to the party!")
        self.logger.debug("conu version: %s", __version__)

    def _unsupported(self, operation: str) -> UnsupportedOperation:
        return UnsupportedOperation(self.name, f"{type(self).__name__}.{operation}")

    @property
    def engine(self) -> Engine:
        """The engine this backend drives (the process's shared one of ``engine_class``).

        Raises:
            UnsupportedOperation: the generic ``Backend`` has no engine.
        """
        return self._engine("engine")

    def _engine(self, operation: str) -> Engine:
        if self.engine_class is None:
            raise self._unsupported(operation)
        return self.engine_class.default()

    def list_containers(self) -> list[Container]:
        """List the containers the engine knows, running or not.

        Returns:
            list of ``ContainerClass`` instances with their ``metadata`` filled.
        """
        from conu.apidefs.metadata import container_metadata

        engine = self._engine("list_containers")
        found = []
        for info in engine.list_containers():
            ident = info.image_id or info.image
            image = (
                self.ImageClass(None, None, ident, PullPolicy.NEVER, engine=engine)
                if ident
                else None
            )
            container = self.ContainerClass(image, info.id, name=info.name, engine=engine)
            container_metadata(container.metadata, info, image)
            found.append(container)
        return found

    def list_images(self) -> list[Image]:
        """List the images the engine holds.

        Returns:
            list of ``ImageClass`` instances with their ``metadata`` filled.
        """
        from conu.apidefs.metadata import image_metadata
        from conu.utils.reference import Reference

        engine = self._engine("list_images")
        found = []
        for info in engine.list_images():
            repository, tag = None, None
            if info.names:
                reference = Reference.parse(info.names[0])
                repository, tag = reference.name, reference.tag
            image = self.ImageClass(repository, tag, info.id, PullPolicy.NEVER, engine=engine)
            image_metadata(image.metadata, info)
            found.append(image)
        return found

    def cleanup_containers(self) -> None:
        """Remove the containers this session created (forcibly, with anonymous volumes)."""
        self._engine("cleanup_containers").remove_session(SESSION_ID, kinds=("containers",))

    def cleanup_volumes(self) -> None:
        """Remove the volumes (and networks) this session created."""
        engine = self._engine("cleanup_volumes")
        engine.remove_session(SESSION_ID, kinds=("networks", "volumes"))

    def cleanup_images(self) -> None:
        """Remove the images that carry this session's label (all their names)."""
        self._engine("cleanup_images").remove_session(SESSION_ID, kinds=("images",))

    def remove_session_resources(self, session: str) -> dict[str, int]:
        """Remove everything session ``session`` created (containers, networks, volumes,
        images carrying its label); return how many of each kind were found."""
        return self._engine("remove_session_resources").remove_session(session)

    def list_sessions(self) -> dict[str, str]:
        """Return the sessions that have resources on the engine: id → owner (``host/pid``)."""
        return sessions_of(self._engine("list_sessions").list_session_labels())

    @property
    def capabilities(self) -> frozenset[Capability]:
        """What this backend offers (its engine's capabilities, computed per engine)."""
        return self.engine.capabilities if self.engine_class is not None else frozenset()

    def _clean(self) -> None:
        """Apply the cleanup policies (conu 1.0's fixture calls this directly)."""
        policies = set(self.cleanup)
        if CleanupPolicy.EVERYTHING in policies:
            policies |= {
                CleanupPolicy.CONTAINERS,
                CleanupPolicy.VOLUMES,
                CleanupPolicy.IMAGES,
                CleanupPolicy.TMP_DIRS,
            }
        # Containers first: volumes and images in use by them cannot be removed before.
        if CleanupPolicy.CONTAINERS in policies:
            self.cleanup_containers()
        if CleanupPolicy.VOLUMES in policies:
            self.cleanup_volumes()
        if CleanupPolicy.IMAGES in policies:
            self.cleanup_images()
        if CleanupPolicy.TMP_DIRS in policies:
            self._clean_tmp_dirs()

    def _clean_tmp_dirs(self) -> None:
        """Remove this backend's temporary directory; errors are logged, not raised."""
        if self.tmpdir is None:
            return
        try:
            shutil.rmtree(self.tmpdir)
        except OSError as exc:
            self.logger.warning("cannot remove temporary directory %r: %s", self.tmpdir, exc)
        self.tmpdir = None

    def get_tmpdir(self) -> str:
        """Return this backend's temporary directory, creating it on first use."""
        if self.tmpdir is None:
            self.tmpdir = tempfile.mkdtemp(prefix=tmp_prefix())
        return self.tmpdir

    def __enter__(self) -> Backend:
        """Enter; with a cleanup policy, also start the session's watchdog, so that the
        policy holds even if the process is killed (see :mod:`conu.watchdog`)."""
        self.get_tmpdir()
        if self.cleanup != [CleanupPolicy.NOTHING]:
            from conu.watchdog import ensure_started

            ensure_started(self.name)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Apply the cleanup policies; an empty temporary directory is removed whatever they
        say (nothing is lost, and no ``conu-*`` directory piles up in the temp dir)."""
        self._clean()
        if self.tmpdir is not None:
            with contextlib.suppress(OSError):  # not empty: the policy decides, and kept it
                os.rmdir(self.tmpdir)
                self.tmpdir = None
