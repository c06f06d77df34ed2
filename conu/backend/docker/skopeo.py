"""Copying images between transports with ``skopeo`` (optional: needs the skopeo binary).

Where an image lives is its *transport*: the engine (``docker-daemon:``), a registry
(``docker://``), a directory, an OCI layout, an archive… :class:`SkopeoMixin` gives
:class:`~conu.DockerImage` conu 1.0's skopeo methods. Registries the engine uses without
TLS (loopback ones, its ``insecure-registries``) are used without TLS by skopeo too;
``DOCKER_HOST`` and ``DOCKER_CERT_PATH`` are passed on to skopeo.
"""

from __future__ import annotations

import atexit
import enum
import logging
import os
import shutil
import subprocess
import tempfile
from typing import TYPE_CHECKING, Any

from conu.exceptions import (
    CommandDoesNotExistException,
    CommandFailed,
    ConuException,
    InvalidArgument,
    ProbeTimeout,
)
from conu.labels import tmp_prefix
from conu.utils.reference import Reference

if TYPE_CHECKING:
    from conu.backend.docker.image import DockerImage

__all__ = ["SkopeoMixin", "SkopeoTransport", "skopeo_copy", "transport_param"]

logger = logging.getLogger(__name__)

COPY_TIMEOUT = 1800
"""Seconds one ``skopeo copy`` may take."""
_LOOPBACK = ("localhost", "127.", "[::1]")
_temporary: list[str] = []


class SkopeoTransport(enum.Enum):
    """Where an image is stored, in skopeo's terms."""

    CONTAINERS_STORAGE = 0
    DIRECTORY = 1
    DOCKER = 2
    DOCKER_ARCHIVE = 3
    DOCKER_DAEMON = 4
    OCI = 5
    OSTREE = 6


_NEEDS_PATH = (SkopeoTransport.DIRECTORY, SkopeoTransport.DOCKER_ARCHIVE, SkopeoTransport.OCI)


def transport_param(image: DockerImage) -> str:
    """Return skopeo's name of ``image`` in its transport, e.g. ``docker-daemon:fedora:39``.

    Raises:
        ValueError: the transport needs a path and the image has none (InvalidArgument).
    """
    transport = image.transport or SkopeoTransport.DOCKER
    if transport in _NEEDS_PATH and not image.path:
        msg = f"transport {transport.name} needs a path; use image.using_transport()"
        raise InvalidArgument(msg)
    name = image.get_full_name()
    prefix = {
        SkopeoTransport.CONTAINERS_STORAGE: "containers-storage:" + name,
        SkopeoTransport.DOCKER: "docker://" + name,
        SkopeoTransport.DOCKER_DAEMON: "docker-daemon:" + name,
        SkopeoTransport.DIRECTORY: f"dir:{image.path}",
        SkopeoTransport.OCI: f"oci:{image.path}:{image.tag or 'latest'}",
    }
    if transport in prefix:
        return prefix[transport]
    if transport is SkopeoTransport.OSTREE:
        return f"ostree:{name}" + (f"@{image.path}" if image.path else "")
    return f"docker-archive:{image.path}" + (f":{name}" if image.reference else "")


def _side_options(image: DockerImage, side: str) -> list[str]:
    """Options of one side (``src``/``dest``) of a copy: no TLS for a registry the engine
    uses without TLS; the engine of ``DOCKER_HOST`` (with its client certificates)."""
    transport = image.transport or SkopeoTransport.DOCKER
    if transport is SkopeoTransport.DOCKER:
        registry = image.reference.registry if image.reference else None
        return [f"--{side}-tls-verify=false"] if registry and _insecure(registry) else []
    host = os.environ.get("DOCKER_HOST")
    if transport is not SkopeoTransport.DOCKER_DAEMON or not host:
        return []
    options = [f"--{side}-daemon-host={host}"]
    cert_path = os.environ.get("DOCKER_CERT_PATH")
    if cert_path and os.environ.get("DOCKER_TLS_VERIFY"):
        options.append(f"--{side}-cert-dir={cert_path}")
    return options


def _insecure(registry: str) -> bool:
    """Tell whether the engine talks to ``registry`` without TLS, as skopeo must then too:
    loopback registries, and those of the engine's ``insecure-registries``."""
    import ipaddress

    from conu.backend.docker.engine import DockerEngine

    if registry.startswith(_LOOPBACK):
        return True
    config = DockerEngine.default().registry_config()
    index = (config.get("IndexConfigs") or {}).get(registry)
    if index is not None:
        return not index.get("Secure", True)
    host = registry.rsplit(":", 1)[0].strip("[]")
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    cidrs = config.get("InsecureRegistryCIDRs") or []
    return any(address in ipaddress.ip_network(cidr, strict=False) for cidr in cidrs)


def skopeo_copy(
    source: DockerImage | None,
    target: DockerImage,
    timeout: float = COPY_TIMEOUT,
    *,
    source_param: str | None = None,
) -> None:
    """Run ``skopeo copy`` from ``source`` to ``target`` (each in its transport), or from
    ``source_param`` (skopeo's own name, e.g. ``oci:DIR:REF``) when ``source`` is None.

    Raises:
        CommandDoesNotExistException: skopeo is not installed.
        CommandFailed: skopeo failed; the message has its output.
        ProbeTimeout: the copy took longer than ``timeout`` seconds.
    """
    skopeo = shutil.which("skopeo")
    if skopeo is None:
        msg = "command 'skopeo' is not available, please install skopeo"
        raise CommandDoesNotExistException(msg)
    src = transport_param(source) if source is not None else str(source_param)
    dst = transport_param(target)
    src_options = _side_options(source, "src") if source is not None else []
    argv = [skopeo, "copy", *src_options, *_side_options(target, "dest"), src, dst]
    logger.info("copying image %s to %s", src, dst)
    try:
        done = subprocess.run(argv, capture_output=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired as exc:
        msg = f"skopeo copy {src} {dst} did not finish in {timeout}s"
        raise ProbeTimeout(msg) from exc
    if done.returncode != 0:
        output = done.stdout + done.stderr
        text = output.decode("utf-8", "replace").strip()
        msg = f"skopeo copy {src} {dst} failed (exit code {done.returncode}): {text}"
        raise CommandFailed(msg, exit_code=done.returncode, output=output)


def _temporary_path(transport: SkopeoTransport) -> str:
    """A fresh path under /var/tmp for ``transport``, removed when the process exits."""
    directory = tempfile.mkdtemp(prefix=tmp_prefix() + "skopeo-", dir="/var/tmp")
    if not _temporary:
        atexit.register(_remove_temporary)
    _temporary.append(directory)
    if transport is SkopeoTransport.DOCKER_ARCHIVE:
        return os.path.join(directory, "image.tar")
    return directory


def _remove_temporary() -> None:
    for directory in _temporary:
        shutil.rmtree(directory, ignore_errors=True)


class SkopeoMixin:
    """conu 1.0's skopeo methods of :class:`~conu.DockerImage`."""

    path: str | None
    _transport: SkopeoTransport | None

    if TYPE_CHECKING:
        name: str | None
        tag: str | None
        reference: Reference | None

        def is_present(self) -> bool: ...

    @property
    def transport(self) -> SkopeoTransport:
        """Where skopeo finds this image: the engine when it holds the image, else a registry.

        Decided once: an image pulled (or found) at construction is the engine's; one made
        with ``NEVER`` is the engine's if it holds the image on first use. Removing the
        image later does not move it to a registry. Set explicitly by :meth:`using_transport`.
        """
        if self._transport is None:
            present = self.is_present()
            self._transport = SkopeoTransport.DOCKER_DAEMON if present else SkopeoTransport.DOCKER
        return self._transport

    def using_transport(
        self, transport: SkopeoTransport | None = None, path: str | None = None, logs: bool = True
    ) -> Any:
        """Set where this image lives for skopeo; return self.

        DIRECTORY, DOCKER_ARCHIVE and OCI need a path (a fresh temporary one under /var/tmp
        if none is given, removed at exit); OSTREE takes an absolute path or none; the
        other transports take none.

        Raises:
            ConuException: OSTREE with a relative path.
        """
        if transport is None or (transport is self._transport and path == self.path):
            return self
        if transport in _NEEDS_PATH:
            path = path or _temporary_path(transport)
        elif transport is SkopeoTransport.OSTREE:
            if path and not os.path.isabs(path):
                msg = f"OSTREE needs an absolute path, not {path!r}"
                raise ConuException(msg)
        elif path:
            if logs:
                logger.warning("transport %s takes no path; ignoring %r", transport.name, path)
            path = None
        self._transport, self.path = transport, path
        return self

    def copy(
        self,
        repository: str | None = None,
        tag: str | None = None,
        source_transport: SkopeoTransport | None = None,
        target_transport: SkopeoTransport = SkopeoTransport.DOCKER,
        source_path: str | None = None,
        target_path: str | None = None,
        logs: bool = True,
    ) -> DockerImage:
        """Copy this image to ``repository:tag`` in ``target_transport`` with skopeo.

        Returns:
            the copy, as an image of that transport and path.

        Raises:
            CommandDoesNotExistException: skopeo is not installed.
            CommandFailed: skopeo failed.
        """
        from conu.backend.docker.image import DockerImage, DockerImagePullPolicy

        name = repository or self.name
        if not name:
            msg = "copy needs a repository: this image is known only by its id"
            raise InvalidArgument(msg)
        target = DockerImage(
            name, tag=tag or self.tag or "latest", pull_policy=DockerImagePullPolicy.NEVER
        )
        target.using_transport(target_transport, target_path, logs=logs)
        self.using_transport(source_transport, source_path, logs=logs)
        skopeo_copy(self, target)  # type: ignore[arg-type]
        return target

    def skopeo_pull(self) -> DockerImage:
        """Copy this image from its registry into the engine with skopeo; return the copy."""
        return self.copy(
            source_transport=SkopeoTransport.DOCKER,
            target_transport=SkopeoTransport.DOCKER_DAEMON,
        )

    def skopeo_push(self, repository: str | None = None, tag: str | None = None) -> DockerImage:
        """Copy this image from the engine to a registry with skopeo; return the copy."""
        return self.copy(
            repository,
            tag,
            source_transport=SkopeoTransport.DOCKER_DAEMON,
            target_transport=SkopeoTransport.DOCKER,
        )
