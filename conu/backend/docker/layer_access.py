"""When conu reads image files from the Docker engine's overlay2 storage, and the views kept.

:meth:`DockerEngine.image_layers <conu.backend.docker.engine_images.ImagePrimitives.image_layers>`
returns a view of an image's layers (:class:`~conu.backend.docker.overlay.OverlayView`) only
when reading them is safe and answers as a helper container would, that is when all of these
hold (otherwise the file checks ask a helper container, as on any engine):

* ``$CONU_DOCKER_LAYER_FILES`` is not ``0``, and the engine's ``layer_files`` switch is on;
* the client reaches the engine over a unix socket (``DOCKER_HOST``, as the CLI): it runs
  here;
* this process is root: overlayfs keeps whiteouts and opaque directories in ``trusted.*``
  attributes, which only root reads;
* the engine stores images with overlay2 and maps no user namespace (``userns-remap``,
  rootless), so the owners on disk are the image's;
* the image's layer directories and its config in the engine's image store are here;
* the image declares no volume (a container's volumes are copies with modes of their own)
  and its working directory is a directory (the engine makes a missing one).

Views are kept per image id (an id's layers and configuration never change; so is the
answer for an image refused) and checked at every use: once the image or a layer directory
is gone, no view is returned, and the helper container's creation raises
:class:`~conu.exceptions.ImageNotFound` as before.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

import attrs

from conu.apidefs.metadata import PathKind
from conu.apidefs.specs import ImageInfo
from conu.backend.docker.client import engine_address
from conu.backend.docker.overlay import OverlayView
from conu.exceptions import ImageNotFound

__all__ = ["ENVIRONMENT", "LayerViews", "enabled", "layer_dirs", "storage_root"]

ENVIRONMENT = "CONU_DOCKER_LAYER_FILES"
"""The environment variable that switches the layer route off when it is ``0``."""
_KEPT = 128
"""Images whose view (or refusal) an engine keeps (the oldest is dropped first)."""


def enabled() -> bool:
    """Whether the layer route may be taken here at all: not switched off by
    :data:`ENVIRONMENT`, a local engine (unix socket), a root process."""
    if os.environ.get(ENVIRONMENT, "").strip() == "0":
        return False
    return urlsplit(engine_address()).scheme == "unix" and os.geteuid() == 0


def storage_root(info: Mapping[str, Any]) -> str | None:
    """Return the engine's data root (``docker info``'s ``DockerRootDir``) when it stores
    images with overlay2 without a user namespace and the directory is here; else None."""
    options = " ".join(str(option) for option in info.get("SecurityOptions") or ())
    if info.get("Driver") != "overlay2" or "name=userns" in options or "name=rootless" in options:
        return None
    root = info.get("DockerRootDir")
    return root if isinstance(root, str) and os.path.isdir(root) else None


def layer_dirs(graph_driver: Mapping[str, Any] | None) -> list[str] | None:
    """Return the ``diff`` directories of an image's layers, top first, from the
    ``GraphDriver`` of its inspect document; None for another driver or incomplete data."""
    if not graph_driver or graph_driver.get("Name") != "overlay2":
        return None
    data = graph_driver.get("Data") or {}
    lower = data.get("LowerDir") or ""
    found = [data.get("UpperDir"), *(lower.split(":") if lower else ())]
    return found if all(isinstance(d, str) and os.path.isabs(d) for d in found) else None


@attrs.frozen
class _Kept:
    view: OverlayView
    config: str
    """The image's config in the engine's image store (removed with the image)."""

    def present(self) -> bool:
        return os.path.isfile(self.config) and all(os.path.isdir(d) for d in self.view.layers)


class LayerViews:
    """The views of one engine's images, by image id."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._kept: dict[str, _Kept | None] = {}
        self._roots: dict[str, str | None] = {}

    def get(
        self,
        image_id: str,
        info: Callable[[], Mapping[str, Any]],
        inspect: Callable[[str], ImageInfo],
    ) -> OverlayView | None:
        """Return the view of image ``image_id``, or None when the route is not safe.

        Args:
            image_id: the image's id.
            info: asks the engine for ``docker info`` (once per engine address).
            inspect: inspects an image (its ``raw`` document has the ``GraphDriver``).
        """
        if not enabled():
            return None
        if image_id in self._kept:
            kept = self._kept[image_id]
            if kept is None or kept.present():  # an image refused once is refused for good
                return None if kept is None else kept.view
        root = self._root(info)
        if root is None:
            return None
        try:
            image = inspect(image_id)
        except ImageNotFound:
            return None  # the helper container's creation says so
        kept = _kept(image, root)
        if kept is not None and not kept.present():
            return None  # removed meanwhile
        if image.id == image_id:
            with self._lock:
                self._kept[image_id] = kept
                while len(self._kept) > _KEPT:
                    del self._kept[next(iter(self._kept))]
        return None if kept is None else kept.view

    def _root(self, info: Callable[[], Mapping[str, Any]]) -> str | None:
        address = engine_address()
        if address not in self._roots:
            self._roots[address] = storage_root(info())
        return self._roots[address]


def _kept(image: ImageInfo, root: str) -> _Kept | None:
    """A view of ``image`` when its files may be read from its layers; else None."""
    dirs = layer_dirs(image.raw.get("GraphDriver"))
    if dirs is None or image.volumes or not all(os.access(d, os.R_OK | os.X_OK) for d in dirs):
        return None
    algorithm, _, digest = image.id.partition(":")
    store = os.path.join(root, "image", "overlay2", "imagedb", "content", algorithm)
    kept = _Kept(OverlayView(dirs), os.path.join(store, digest))
    if image.working_dir:
        found = kept.view.stat(image.working_dir)
        if found is None or found.kind is not PathKind.DIRECTORY:
            return None
    return kept
