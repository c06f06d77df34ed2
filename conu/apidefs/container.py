"""The container: what every backend's container offers, written once over its engine.

A backend's container class names its engine (``engine_class``) and adds only what is
specific to it; everything here is built on the primitives of
:class:`conu.apidefs.engine.Engine`.
"""

from __future__ import annotations

import logging
import subprocess
from typing import TYPE_CHECKING, Any, ClassVar, cast

from conu.apidefs import files
from conu.apidefs.metadata import ContainerMetadata, container_metadata
from conu.apidefs.ports import PortsMixin
from conu.apidefs.processes import ProcessesMixin
from conu.exceptions import (
    ContainerNotFound,
    InvalidArgument,
    UnsupportedOperation,
)
from conu.utils.validate import signal_value, timeout_seconds

if TYPE_CHECKING:
    from conu.apidefs.engine import Engine
    from conu.apidefs.filesystem import ContainerFilesystem
    from conu.apidefs.image import Image
    from conu.apidefs.metadata import ContainerStatus
    from conu.apidefs.specs import ContainerInfo

__all__ = ["Container", "ContainerName"]

logger = logging.getLogger(__name__)


class ContainerName(str):
    """A container's name: a string, and callable for the generic ``name()`` method.

    conu 1.0 assigned ``container.name`` as a plain attribute, which shadowed the documented
    ``name()`` method; this type serves both spellings.
    """

    __slots__ = ()

    def __call__(self) -> str:
        return str(self)


class Container(ProcessesMixin, PortsMixin):
    """A container of some backend.

    Args:
        image: the :class:`~conu.apidefs.image.Image` it was created from, or None to look it
            up through :meth:`get_image_name`.
        container_id: the engine's id of the container (or None with ``name``).
        name: the container's name, if known.
        popen_instance: the command-line client's process, for a container started in the
            foreground (``run_via_binary_in_foreground``).
        engine: the engine; the class's shared one (``engine_class.default()``) by default.

    Raises:
        InvalidArgument: neither ``container_id`` nor ``name`` is given.
        TypeError: ``image`` is neither None nor an ``Image``.
    """

    backend_name: ClassVar[str] = "<abstract_backend>"
    engine_class: ClassVar[type[Engine] | None] = None
    filesystem_class: ClassVar[type[ContainerFilesystem] | None] = None
    """The class :meth:`mount` returns; the generic one by default."""

    def __init__(
        self,
        image: Image | None,
        container_id: str | None,
        name: str | None = None,
        popen_instance: subprocess.Popen[bytes] | None = None,
        *,
        engine: Engine | None = None,
    ) -> None:
        from conu.apidefs.image import Image

        if not container_id and not name:
            msg = "a container needs an id or a name"
            raise InvalidArgument(msg)
        self.engine = engine or self._default_engine()
        self._id = container_id
        self._name: ContainerName | None = ContainerName(name) if name else None
        self._name_unread = False
        self._info: ContainerInfo | None = None
        self.popen_instance = popen_instance
        self.metadata = ContainerMetadata()
        if image is None:
            image_name = self.get_image_name()
            image = Image(image_name) if image_name else None
        elif not isinstance(image, Image):
            msg = f"image must be an Image instance or None, not {type(image).__name__}"
            raise TypeError(msg)
        self.image = image

    @classmethod
    def _default_engine(cls) -> Engine:
        if cls.engine_class is None:
            raise UnsupportedOperation(cls.backend_name, f"{cls.__name__} without an engine")
        return cls.engine_class.default()

    def _unsupported(self, operation: str) -> UnsupportedOperation:
        return UnsupportedOperation(self.backend_name, f"{type(self).__name__}.{operation}")

    def __str__(self) -> str:
        return self.get_id()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(image={self.image}, id={self.get_id()})"

    def _ref(self) -> str:
        return self._id or str(self._name)

    @property
    def name(self) -> ContainerName | None:
        """The container's name, a string that can also be called (``container.name()``).

        A container ``run_via_binary`` ran without ``--name`` has the engine's name, asked
        for on first use (None when the container is gone by then)."""
        if self._name is None and self._name_unread:
            self._name_unread = False
            try:
                self._name = ContainerName(self.info().name or self.get_id()[:12])
            except ContainerNotFound:
                logger.debug("container %s is gone: its name is unknown", self._ref()[:12])
        return self._name

    @name.setter
    def name(self, value: str | None) -> None:
        self._name = ContainerName(value) if value else None
        self._name_unread = False

    def _name_from_engine(self) -> None:
        """Let :attr:`name` ask the engine for the name when first used (the engine chose
        it)."""
        self._name_unread = self._name is None

    # -- identity and state -------------------------------------------------------------

    def info(self, refresh: bool = True) -> ContainerInfo:
        """Return what the engine reports about the container (cached unless ``refresh``).

        Raises:
            ContainerNotFound: the container does not exist (any more).
        """
        if refresh or self._info is None:
            self._info = self.engine.inspect_container(self._ref())
        return self._info

    def get_id(self) -> str:
        """Return the engine's unique identifier of this container."""
        if self._id is None:
            self._id = self.info(refresh=False).id
        return self._id

    def inspect(self, refresh: bool = True) -> dict[str, Any]:
        """Return the engine's document describing the container (cached unless ``refresh``).

        Raises:
            ContainerNotFound: the container does not exist (any more).
        """
        return cast("dict[str, Any]", self.info(refresh).raw)

    def get_metadata(self, refresh: bool = True) -> ContainerMetadata:
        """Return the container's metadata; it is also a mapping over ``inspect()``."""
        return container_metadata(self.metadata, self.info(refresh), self.image)

    def get_image_name(self) -> str | None:
        """Return the image the container was created from, as it was given."""
        return self.info(refresh=False).image

    def is_running(self) -> bool:
        """Ask the engine (never a cache) whether the container runs; False when it is gone."""
        try:
            return self.info().running
        except ContainerNotFound:
            return False

    def get_status(self) -> str:
        """Return the state: ``created``, ``running``, ``paused``, ``exited``, ``dead``…"""
        return self.info().state.value

    def status(self) -> ContainerStatus:
        """Return the portable :class:`~conu.apidefs.metadata.ContainerStatus`."""
        status = self.get_metadata().status
        assert status is not None
        return status

    def exit_code(self) -> int:
        """Return the exit code; 0 while the container is created or running."""
        return self.info().exit_code or 0

    def get_pid(self) -> int:
        """Return the host PID of the container's main process (0 when not running)."""
        return self.info().pid

    def get_IPv4s(self) -> list[str] | None:
        """Return the container's IPv4 addresses; empty when it has networking disabled."""
        return self.get_metadata().ipv4_addresses

    def get_IPv6s(self) -> list[str] | None:
        """Return the container's global IPv6 addresses."""
        return self.get_metadata().ipv6_addresses

    # -- lifecycle ------------------------------------------------------------------------

    def start(self) -> None:
        """Start the container, which has to be created."""
        self.engine.start_container(self._ref())

    def stop(self) -> None:
        """Stop the container gracefully (SIGTERM, SIGKILL after the engine's grace period)."""
        self.engine.stop_container(self._ref())

    def kill(self, signal: str | int | None = None) -> None:
        """Send ``signal`` (SIGKILL by default) to the container's main process."""
        self.engine.kill_container(self._ref(), signal_value(signal))

    def delete(self, force: bool = False, volumes: bool = False, **kwargs: Any) -> None:
        """Remove the container.

        Args:
            force: remove it even when running.
            volumes: remove its anonymous volumes too.
            kwargs: accepted for conu 1.0's signature; unused.
        """
        self.engine.remove_container(self._ref(), force=force, volumes=volumes)

    def wait(self, timeout: float | None = None) -> int:
        """Block until the container stops and return its exit code.

        Raises:
            ProbeTimeout: it did not stop within ``timeout`` seconds.
        """
        return self.engine.wait_container(self._ref(), timeout_seconds(timeout) or None)

    # -- files ----------------------------------------------------------------------------

    def copy_to(self, src: str, dest: str) -> None:
        """Copy host file or directory ``src`` to ``dest`` in the container (like docker cp)."""
        files.copy_to(self.engine, self.get_id(), src, dest)

    def copy_from(self, src: str, dest: str) -> None:
        """Copy ``src`` in the container to host path ``dest`` (like docker cp)."""
        files.copy_from(self.engine, self.get_id(), src, dest)

    def mount(self, mount_point: str | None = None) -> ContainerFilesystem:
        """Return the container's filesystem, available inside a ``with`` block."""
        from conu.apidefs.filesystem import ContainerFilesystem

        cls = self.filesystem_class or ContainerFilesystem
        return cls(self, mount_point=mount_point)

    def __enter__(self) -> Container:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.delete(force=True)
