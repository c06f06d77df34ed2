"""ArchiveEngine: images read from archives on disk, with no container engine at all.

An image is named by a path: a ``docker save`` tar, an OCI image layout directory or an OCI
layout packed in a tar, optionally with ``:TAG`` or ``@NAME`` choosing one of several images
(:mod:`conu.backend.archive.selection`). Its metadata comes from its config; its files from its
layers, merged once per image into a temporary directory (:mod:`conu.backend.archive.root`).

A "container" of this engine is a read-only view of an image's root that never runs
(:mod:`conu.backend.archive.views`): conu's generic file checks, copies out and mounts work
through it. Everything that would run a process, write to an image or reach a registry raises
:class:`~conu.exceptions.UnsupportedOperation` naming the backend ``archive`` and the
operation, and the engine declares only ``IMAGE_FILES`` and ``MOUNT``.
"""

from __future__ import annotations

import itertools
import os
import secrets
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, ClassVar

from conu.apidefs import files
from conu.apidefs.backend import Capability
from conu.apidefs.engine import RESOURCE_KINDS, Engine
from conu.apidefs.metadata import PathInfo
from conu.apidefs.specs import ContainerInfo, ContainerState, ExecStream, ImageInfo, RunSpec
from conu.backend.archive.images import OpenedImage, extract, open_image, source_key
from conu.backend.archive.platforms import Platform
from conu.backend.archive.root import ExtractedRoot
from conu.backend.archive.views import View, describe
from conu.exceptions import Conflict, ContainerNotFound
from conu.labels import SESSION_LABEL
from conu.utils.net import Endpoint
from conu.utils.reference import Reference

__all__ = ["DEFAULT_PLATFORM", "PLATFORM_VARIABLE", "ArchiveEngine"]

DEFAULT_PLATFORM = "linux/amd64"
"""The platform chosen in an image index when none is given."""
PLATFORM_VARIABLE = "CONU_ARCHIVE_PLATFORM"
"""The environment variable that gives the platform (``os/arch[/variant]``) instead."""


class ArchiveEngine(Engine):
    """Images in archive files and OCI layouts, read without running anything.

    Args:
        platform: ``os/arch[/variant]`` to choose in image indexes; ``$CONU_ARCHIVE_PLATFORM``
            or ``linux/amd64`` by default.
        tmpdir: where images are extracted; the system's temporary directory by default.

    Raises:
        InvalidArgument: ``platform`` is not ``os/arch[/variant]``.
    """

    name: ClassVar[str] = "archive"

    def __init__(self, *, platform: str | None = None, tmpdir: str | None = None) -> None:
        chosen = platform or os.environ.get(PLATFORM_VARIABLE) or DEFAULT_PLATFORM
        self.platform = Platform.parse(chosen)
        self.tmpdir = tmpdir
        self._lock = threading.Lock()
        self._images: dict[tuple[str, str | None, int, int], OpenedImage] = {}
        self._ids: dict[str, OpenedImage] = {}
        self._views: dict[str, View] = {}
        self._numbers = itertools.count(1)

    # -- the engine itself ------------------------------------------------------------------

    @property
    def capabilities(self) -> frozenset[Capability]:
        """File checks of images and filesystems on the host; nothing ever runs."""
        return frozenset({Capability.IMAGE_FILES, Capability.MOUNT})

    def container_state(self, raw: str | None) -> ContainerState:
        """Views are always ``created``; Docker's names are used."""
        return ContainerState.parse(raw)

    def container_address(self, info: ContainerInfo, port: int) -> Endpoint:
        """Views have no network."""
        raise self.unsupported("container_address")

    # -- images -----------------------------------------------------------------------------

    def open(self, reference: str) -> OpenedImage:
        """Return the image ``reference`` names: an id this engine has opened, or
        ``PATH[:TAG|@NAME]`` (read again when the archive changed on disk).

        Raises:
            ImageNotFound: no such archive, or no such image in it.
            InvalidArgument: the archive is damaged or ``reference`` is ambiguous.
        """
        with self._lock:
            opened = self._ids.get(reference)
        if opened is not None:
            return opened
        key = source_key(reference)
        with self._lock:
            opened = self._images.get(key)
        if opened is None:
            opened = open_image(reference, self.platform)
            with self._lock:
                opened = self._images.setdefault(key, opened)
                self._ids.setdefault(opened.id, opened)
        return opened

    def root(self, reference: str) -> ExtractedRoot:
        """Return the extracted root of the image ``reference`` names (see :meth:`open`)."""
        return extract(self.open(reference), self.tmpdir)

    def inspect_image(self, reference: str) -> ImageInfo:
        """Describe the image (by ``PATH[:TAG|@NAME]`` or an id opened before).

        Raises:
            ImageNotFound: no such archive or image.
            InvalidArgument: the archive is damaged, or holds several images and
                ``reference`` names none.
        """
        return self.open(reference).info

    def list_images(self, labels: Mapping[str, str] | None = None) -> list[ImageInfo]:
        """Describe the images opened so far that carry ``labels``."""
        wanted = dict(labels or {}).items()
        with self._lock:
            infos = [image.info for image in self._ids.values()]
        return [info for info in infos if wanted <= dict(info.labels).items()]

    def tag_image(self, image: str, target: Reference) -> None:
        """Archives are read-only."""
        raise self.unsupported("tag_image")

    def remove_image(self, reference: str, *, force: bool = False, prune: bool = True) -> None:
        """Archives are read-only."""
        raise self.unsupported("remove_image")

    def image_history(self, reference: str) -> list[str]:
        """Return the image's id, then ``"<missing>"`` for each earlier step of its history
        (what Docker answers for an image loaded from an archive)."""
        image = self.open(reference)
        return [image.id] + ["<missing>"] * (image.config.history_length() - 1)

    # -- containers: read-only views ------------------------------------------------------

    def create_container(self, spec: RunSpec) -> str:
        """Create a view of ``spec.image`` (an id or ``PATH[:TAG|@NAME]``); return its id.

        Raises:
            ImageNotFound: no such image.
            Conflict: the name is taken.
        """
        image = self.open(spec.image)
        view_id = secrets.token_hex(32)
        with self._lock:
            name = spec.name or f"archive-{next(self._numbers)}"
            if any(view.name == name for view in self._views.values()):
                msg = f"a container named {name!r} exists already"
                raise Conflict(msg)
            self._views[view_id] = View(view_id, name, spec, image)
        return view_id

    def _view(self, reference: str) -> View:
        """Find a view by id, name or unique id prefix."""
        with self._lock:
            view = self._views.get(reference)
            if view is not None:
                return view
            wanted = reference.removeprefix("/")
            found = [
                view
                for view in self._views.values()
                if wanted and wanted in (view.name, view.id[: len(wanted)])
            ]
        if len(found) != 1:
            msg = f"no such container: {reference!r}"
            raise ContainerNotFound(msg)
        return found[0]

    def start_container(self, container_id: str) -> None:
        """Nothing runs from an archive."""
        raise self.unsupported("start_container")

    def stop_container(self, container_id: str, timeout: float | None = None) -> None:
        """A view never runs: there is nothing to stop. Raises ContainerNotFound."""
        self._view(container_id)

    def kill_container(self, container_id: str, signal: str | int | None = None) -> None:
        """A view never runs. Raises Conflict (ContainerNotFound for no such view)."""
        view = self._view(container_id)
        msg = f"container {view.name!r} of the archive backend does not run"
        raise Conflict(msg)

    def remove_container(
        self, container_id: str, *, force: bool = False, volumes: bool = False
    ) -> None:
        """Forget the view. Raises ContainerNotFound."""
        view = self._view(container_id)
        with self._lock:
            self._views.pop(view.id, None)

    def wait_container(self, container_id: str, timeout: float | None = None) -> int:
        """Nothing runs from an archive, so nothing ends."""
        raise self.unsupported("wait_container")

    def exec_in_container(
        self,
        container_id: str,
        command: Sequence[str],
        *,
        options: Mapping[str, Any] | None = None,
    ) -> ExecStream:
        """Nothing runs from an archive."""
        raise self.unsupported("exec_in_container")

    def container_logs(
        self,
        container_id: str,
        *,
        follow: bool = False,
        stdout: bool = True,
        stderr: bool = True,
    ) -> Iterator[bytes]:
        """Nothing runs from an archive, so nothing logs."""
        raise self.unsupported("container_logs")

    def inspect_container(self, container_id: str) -> ContainerInfo:
        """Describe the view (always ``created``). Raises ContainerNotFound."""
        return describe(self._view(container_id))

    def list_containers(self, labels: Mapping[str, str] | None = None) -> list[ContainerInfo]:
        """Describe the views that carry ``labels``."""
        wanted = dict(labels or {}).items()
        with self._lock:
            views = list(self._views.values())
        return [describe(view) for view in views if wanted <= view.labels.items()]

    # -- files ------------------------------------------------------------------------------

    def stat_path(self, container_id: str, path: str, *, follow: bool = False) -> PathInfo | None:
        """Describe ``path`` of the image from its layers' headers (owner, mode with setuid
        and friends, devices included); links resolve inside the image's root."""
        path = files.absolute(path)
        return self._root_of(container_id).stat(path, follow=follow)

    def get_archive(self, container_id: str, path: str) -> Iterator[bytes]:
        """Return a tar stream of ``path`` (a final symlink as a link), like ``docker cp``.

        Raises:
            NotFound: nothing is at ``path``.
        """
        return self._root_of(container_id).archive(files.absolute(path))

    def put_archive(self, container_id: str, directory: str, data: bytes) -> None:
        """Images read from archives are read-only."""
        raise self.unsupported("put_archive")

    def export_container(self, container_id: str) -> Iterator[bytes]:
        """Return the image's whole filesystem as a tar stream."""
        return self._root_of(container_id).export()

    def _root_of(self, container_id: str) -> ExtractedRoot:
        return extract(self._view(container_id).image, self.tmpdir)

    # -- session resources --------------------------------------------------------------------

    def list_session_labels(self) -> list[Mapping[str, str]]:
        """Labels of the views that carry the session label (archives belong to no session)."""
        with self._lock:
            views = list(self._views.values())
        return [view.labels for view in views if SESSION_LABEL in view.labels]

    def remove_session(self, session: str, kinds: Iterable[str] = RESOURCE_KINDS) -> dict[str, int]:
        """Forget the views of ``session``; images, networks and volumes are never made."""
        counts = dict.fromkeys(kinds, 0)
        if "containers" in counts:
            with self._lock:
                views = self._views.values()
                gone = [v.id for v in views if v.labels.get(SESSION_LABEL) == session]
                for view_id in gone:
                    del self._views[view_id]
            counts["containers"] = len(gone)
        return counts
