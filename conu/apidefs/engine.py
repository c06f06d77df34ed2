"""The engine interface: the primitives a backend implements; conu builds the rest on them.

A backend is an :class:`Engine` subclass plus thin ``Backend``, ``Container`` and ``Image``
subclasses that name it. Everything users call (file checks, probes, ports, HTTP helpers,
copies, mounts, ``run_command``, archives, cleanup...) is written once in
:mod:`conu.apidefs` over these primitives. They take ids and value objects
(:mod:`conu.apidefs.specs`) and return value objects, never an engine's own types, and
raise only :mod:`conu.exceptions`: each engine translates its errors at its own boundary.

The primitives, by concept:

* containers: :meth:`~Engine.create_container`, :meth:`~Engine.start_container`,
  :meth:`~Engine.stop_container`, :meth:`~Engine.kill_container`,
  :meth:`~Engine.remove_container`, :meth:`~Engine.wait_container`,
  :meth:`~Engine.exec_in_container`, :meth:`~Engine.container_logs`,
  :meth:`~Engine.inspect_container`, :meth:`~Engine.list_containers`;
* files: :meth:`~Engine.stat_path`, :meth:`~Engine.get_archive`, :meth:`~Engine.put_archive`,
  :meth:`~Engine.export_container`, :meth:`~Engine.commit_container`;
* images: :meth:`~Engine.inspect_image`, :meth:`~Engine.list_images`,
  :meth:`~Engine.pull_image`, :meth:`~Engine.push_image`, :meth:`~Engine.tag_image`,
  :meth:`~Engine.remove_image`, :meth:`~Engine.build_image`, :meth:`~Engine.save_image`,
  :meth:`~Engine.load_image`, :meth:`~Engine.image_history`, :meth:`~Engine.image_layers`
  (a view of an image's files read from the engine's storage, when it has one);
* session resources: :meth:`~Engine.list_session_labels`, :meth:`~Engine.remove_session`;
* the engine itself: :attr:`~Engine.capabilities`, :meth:`~Engine.container_state`,
  :meth:`~Engine.container_address`, :meth:`~Engine.cli_command`.

Optional primitives have a body that raises :class:`~conu.exceptions.UnsupportedOperation`;
an engine that lacks one leaves the matching :class:`~conu.apidefs.backend.Capability` out.
"""

from __future__ import annotations

import abc
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Self

from conu.apidefs.engine_images import ImagePrimitives
from conu.exceptions import UnsupportedOperation

if TYPE_CHECKING:
    from conu.apidefs.backend import Capability
    from conu.apidefs.metadata import PathInfo
    from conu.apidefs.specs import (
        ContainerInfo,
        ContainerState,
        ExecStream,
        RunSpec,
    )
    from conu.utils.net import Endpoint

__all__ = ["RESOURCE_KINDS", "Engine"]

RESOURCE_KINDS = ("containers", "networks", "volumes", "images")
"""Kinds of resources :meth:`Engine.remove_session` removes, in the order it removes them."""

_defaults: dict[type[Engine], Engine] = {}
_defaults_lock = threading.Lock()


class Engine(ImagePrimitives):
    """One container engine, reached one way (a socket, a command line, memory...)."""

    name: ClassVar[str] = "<abstract_engine>"
    """The backend's name, used in messages."""

    @classmethod
    def default(cls) -> Self:
        """Return this process's shared instance of the engine, creating it on first use.

        Images and containers constructed without a backend (``DockerImage("x")``) use it.
        """
        with _defaults_lock:
            engine = _defaults.get(cls)
            if engine is None:
                engine = _defaults[cls] = cls()
        return engine  # type: ignore[return-value]

    def unsupported(self, operation: str) -> UnsupportedOperation:
        """Return the error for ``operation``, which this engine does not offer."""
        return UnsupportedOperation(self.name, operation)

    # -- the engine itself ----------------------------------------------------------------

    @property
    @abc.abstractmethod
    def capabilities(self) -> frozenset[Capability]:
        """What this engine offers, as reached now (computed per instance: rootless podman
        has no image mounts, a remote engine no routable container IPs...)."""

    @abc.abstractmethod
    def container_state(self, raw: str | None) -> ContainerState:
        """Map the engine's own state string onto a portable state (UNKNOWN if unknown)."""

    def container_address(self, info: ContainerInfo, port: int) -> Endpoint:
        """Return where the caller reaches ``port`` of the container ``info`` describes.

        The default: the container's first IP address. Engines whose container IPs are not
        routable from the caller return the published host port instead.

        Raises:
            ConuException: the port cannot be reached from the caller.
        """
        from conu.exceptions import ConuException
        from conu.utils.net import Endpoint

        if info.ipv4_addresses:
            return Endpoint(info.ipv4_addresses[0], port)
        msg = f"port {port} of container {info.name or info.id!r} cannot be reached: no address"
        raise ConuException(msg)

    def cli_command(self) -> list[str] | None:
        """Return the command line client that runs containers (``["docker"]``), or None.

        ``run_via_binary`` runs ``<cli> run ...`` when there is one; otherwise it parses the
        same options and creates the container through :meth:`create_container`.
        """
        return None

    def run_options_spec(
        self, image_id: str, options: Sequence[str], command: Sequence[str]
    ) -> RunSpec | None:
        """Return the container ``<cli> run -d <options> <image_id> <command>`` creates, for
        ``run_via_binary`` to create and start through :meth:`create_container`; None when
        only the client can run those options (it then runs).

        By default: None for an engine with a client (:meth:`cli_command`); otherwise the
        options read with :func:`conu.apidefs.running.spec_from_options` (options it does
        not know are ignored).

        Raises:
            InvalidArgument: an option has a malformed value (an engine without a client).
        """
        if self.cli_command() is not None:
            return None
        from conu.apidefs.running import spec_from_options

        return spec_from_options(image_id, list(options), list(command))

    # -- containers -----------------------------------------------------------------------

    @abc.abstractmethod
    def create_container(self, spec: RunSpec) -> str:
        """Create (not start) a container; return its id.

        Raises:
            ImageNotFound: the engine does not hold ``spec.image``.
            Conflict: the name is taken.
        """

    @abc.abstractmethod
    def start_container(self, container_id: str) -> None:
        """Start a created or stopped container.

        Raises:
            ContainerNotFound: no such container.
            CommandDoesNotExistException: its command does not exist in the image.
            EngineError: the engine could not start it otherwise.
        """

    @abc.abstractmethod
    def stop_container(self, container_id: str, timeout: float | None = None) -> None:
        """Stop gracefully: SIGTERM, then SIGKILL after ``timeout`` seconds (engine default
        when None). Raises ContainerNotFound."""

    @abc.abstractmethod
    def kill_container(self, container_id: str, signal: str | int | None = None) -> None:
        """Send ``signal`` (SIGKILL when None) to the main process.

        Raises:
            ContainerNotFound: no such container.
            Conflict: it does not run.
        """

    @abc.abstractmethod
    def remove_container(
        self, container_id: str, *, force: bool = False, volumes: bool = False
    ) -> None:
        """Remove the container (``force``: even running; ``volumes``: its anonymous volumes).

        Raises:
            ContainerNotFound: no such container.
            Conflict: it runs and ``force`` is False.
        """

    @abc.abstractmethod
    def wait_container(self, container_id: str, timeout: float | None = None) -> int:
        """Block until the container stops; return its exit code.

        Raises:
            ProbeTimeout: it still ran after ``timeout`` seconds (None: no limit).
        """

    @abc.abstractmethod
    def exec_in_container(
        self,
        container_id: str,
        command: Sequence[str],
        *,
        options: Mapping[str, Any] | None = None,
    ) -> ExecStream:
        """Start ``command`` in the running container.

        Args:
            container_id: the container.
            command: executable and arguments.
            options: engine-specific options (Docker: ``create`` and ``start`` keyword
                arguments of ``exec_create``/``exec_start``).

        Raises:
            Conflict: the container does not run.
        """

    @abc.abstractmethod
    def container_logs(
        self,
        container_id: str,
        *,
        follow: bool = False,
        stdout: bool = True,
        stderr: bool = True,
    ) -> Iterator[bytes]:
        """Return the container's output as chunks of bytes (``follow``: until it exits)."""

    @abc.abstractmethod
    def inspect_container(self, container_id: str) -> ContainerInfo:
        """Describe the container (by id or name). Raises ContainerNotFound."""

    @abc.abstractmethod
    def list_containers(self, labels: Mapping[str, str] | None = None) -> list[ContainerInfo]:
        """Return every container, running or not; only those carrying ``labels`` if given.

        Entries may be less complete than :meth:`inspect_container`'s.
        """

    # -- files ----------------------------------------------------------------------------

    @abc.abstractmethod
    def stat_path(self, container_id: str, path: str, *, follow: bool = False) -> PathInfo | None:
        """Describe absolute ``path`` in the container's filesystem (it need not run).

        Links before the last component always resolve inside the container's root (an
        absolute link restarts at that root; ``..`` stops there).

        Args:
            container_id: the container.
            path: an absolute path.
            follow: resolve a final symlink too (inside the root) and describe its target;
                conu asks this for presence checks, so an engine may answer it more cheaply
                (Docker: with ``uid``/``gid`` None).

        Returns:
            the :class:`~conu.apidefs.metadata.PathInfo`; None when nothing is there (or,
            with ``follow``, the link dangles or loops).
        """

    @abc.abstractmethod
    def get_archive(self, container_id: str, path: str) -> Iterator[bytes]:
        """Return a tar stream of ``path`` (a final symlink as a link), like ``docker cp``.

        Raises:
            NotFound: nothing is at ``path``.
        """

    @abc.abstractmethod
    def put_archive(self, container_id: str, directory: str, data: bytes) -> None:
        """Extract the tar archive ``data`` into ``directory`` of the container.

        Raises:
            NotFound: ``directory`` does not exist in the container.
        """

    def export_container(self, container_id: str) -> Iterator[bytes]:
        """Return the container's whole filesystem as a tar stream."""
        raise self.unsupported("export_container")

    def commit_container(self, container_id: str, *, labels: Mapping[str, str]) -> str:
        """Commit the container to a new, unnamed image with ``labels``; return its id."""
        raise self.unsupported("commit_container")

    # -- session resources ------------------------------------------------------------------

    @abc.abstractmethod
    def list_session_labels(self) -> list[Mapping[str, str]]:
        """Return the labels of every resource (container, network, volume, image) that
        carries :data:`conu.labels.SESSION_LABEL`."""

    @abc.abstractmethod
    def remove_session(self, session: str, kinds: Iterable[str] = RESOURCE_KINDS) -> dict[str, int]:
        """Remove the resources of ``kinds`` (see :data:`RESOURCE_KINDS`) whose session label
        is ``session``; return how many of each kind were found. Containers are removed
        forcibly with their anonymous volumes; images with all their names."""
