"""Image primitives of :class:`~conu.backend.docker.engine.DockerEngine`.

docker-py calls: ``inspect_image``, ``images``, ``pull``, ``push``, ``tag``,
``remove_image``, ``build``, ``get_image`` (save), ``load_image`` and ``history``. The
engine's JSON progress streams are read by :func:`conu.backend.docker.events.consume`.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from conu.apidefs.specs import BuildSpec, ImageInfo
from conu.backend.docker.engine_boundary import DockerBoundary
from conu.backend.docker.engine_mapping import image_info, label_filters
from conu.backend.docker.events import consume
from conu.backend.docker.layer_access import LayerViews
from conu.exceptions import BuildFailed, EngineError, ImageNotFound, InvalidArgument, RegistryError

if TYPE_CHECKING:
    from collections.abc import Mapping

    from conu.apidefs.layers import LayerView
    from conu.utils.reference import Reference

__all__ = ["ImagePrimitives"]

_LOADED = ("Loaded image: ", "Loaded image ID: ")


def _loaded(events: Iterable[dict[str, Any]], found: list[str]) -> Iterator[dict[str, Any]]:
    """Pass ``events`` through, appending what each ``Loaded image…`` line names to ``found``."""
    for event in events:
        text = str(event.get("stream") or "").strip()
        for prefix in _LOADED:
            if text.startswith(prefix):
                found.append(text[len(prefix) :])
        yield event


class ImagePrimitives(DockerBoundary):
    """Inspecting, listing, moving, naming, removing, building and archiving images, and
    reading their files from the engine's storage."""

    layer_files: bool = True
    """Whether :meth:`image_layers` may read images' files from the engine's overlay2
    directories (when :mod:`~conu.backend.docker.layer_access` finds it safe); set it to
    False on an engine to have its file checks always ask a helper container."""

    def image_layers(self, image_id: str) -> LayerView | None:
        """Return a view of image ``image_id``'s files read from its overlay2 layer
        directories on this host (:class:`~conu.backend.docker.overlay.OverlayView`), or None
        when that is not safe (see :mod:`~conu.backend.docker.layer_access`: a remote engine,
        another storage driver, a user namespace, an image with volumes...): the file checks
        then ask a helper container. Views are kept per image id.

        Args:
            image_id: the image's id (``sha256:...``).
        """
        if not self.layer_files:
            return None
        views = self.__dict__.get("_conu_layer_views")
        if views is None:
            views = self.__dict__.setdefault("_conu_layer_views", LayerViews())
        return views.get(image_id, self._storage_settings, self.inspect_image)

    def _storage_settings(self) -> dict[str, Any]:
        return dict(self._call("read the engine's storage settings", self.client.info))

    def inspect_image(self, reference: str) -> ImageInfo:
        """Describe the image (by id or name). Raises ImageNotFound."""
        what = f"inspect image {reference!r}"
        return image_info(
            self._call(what, self.client.inspect_image, reference, not_found=ImageNotFound)
        )

    def list_images(self, labels: Mapping[str, str] | None = None) -> list[ImageInfo]:
        """Return every (top-level) image; only those carrying ``labels`` if given.

        Entries come from the engine's list: id, names, digests, labels and creation time.
        """
        found = self._call("list images", self.client.images, filters=label_filters(labels))
        return [image_info(entry) for entry in found]

    def pull_image(self, reference: Reference) -> None:
        """Pull ``reference`` (by tag or digest).

        Raises:
            ImageNotFound: the registry has no such image.
            RegistryError: the registry refused or cannot be reached.
        """
        what = f"pull {str(reference)!r}"

        def pull() -> None:
            tag = reference.digest or reference.tag or "latest"
            consume(
                self.client.pull(reference.name, tag=tag, stream=True, decode=True),
                what,
                RegistryError,
            )

        self._call(what, pull, not_found=ImageNotFound, api_error=RegistryError)

    def push_image(self, reference: Reference) -> None:
        """Push the image named ``reference``. Raises RegistryError (ImageNotFound when the
        engine holds no such image)."""
        what = f"push {str(reference)!r}"

        def push() -> None:
            events = self.client.push(reference.name, tag=reference.tag, stream=True, decode=True)
            consume(events, what, RegistryError)

        self._call(what, push, not_found=ImageNotFound, api_error=RegistryError)

    def tag_image(self, image: str, target: Reference) -> None:
        """Give image ``image`` (id or name) the name ``target``. Raises ImageNotFound."""
        what = f"tag {image!r} as {str(target)!r}"
        tag = self.client.tag
        self._call(what, tag, image, target.name, tag=target.tag, not_found=ImageNotFound)

    def remove_image(self, reference: str, *, force: bool = False, prune: bool = True) -> None:
        """Remove the image (an id: all its names; a name: that name).

        Raises:
            ImageNotFound: no such image.
            Conflict: it is in use and ``force`` is False.
        """
        what = f"remove image {reference!r}"
        remove = self.client.remove_image
        self._call(what, remove, reference, force=force, noprune=not prune, not_found=ImageNotFound)

    def build_image(self, spec: BuildSpec) -> str:
        """Build an image (``rm`` and ``forcerm``: no intermediate container stays); return
        its id.

        Raises:
            InvalidArgument: ``spec.path`` is not a directory.
            BuildFailed: the build failed (the message has the builder's last output).
        """
        if not spec.path or not os.path.isdir(spec.path):
            msg = f"build needs the path of a build context directory, not {spec.path!r}"
            raise InvalidArgument(msg)
        what = f"build {spec.path!r}"

        def build() -> list[str]:
            events = self.client.build(
                path=spec.path,
                tag=spec.tag,
                dockerfile=spec.dockerfile,
                rm=True,
                forcerm=True,
                labels=dict(spec.labels) or None,
                nocache=spec.nocache,
                buildargs=dict(spec.build_args) or None,
                timeout=spec.timeout,
                decode=True,
            )
            return consume(events, what, BuildFailed)

        ids = self._call(what, build, api_error=BuildFailed, timeout=spec.timeout)
        if not ids:
            msg = f"cannot {what}: the engine reported no image id"
            raise BuildFailed(msg)
        return ids[-1]

    def save_image(self, reference: str) -> Iterator[bytes]:
        """Return image ``reference`` as a ``docker save`` archive stream. Raises ImageNotFound."""
        what = f"save image {reference!r}"
        return self._stream(what, self.client.get_image, reference, not_found=ImageNotFound)

    def load_image(self, path: str | os.PathLike[str]) -> list[str]:
        """Load the images of a ``docker save`` archive; return what it held: ``repo:tag``
        names, or ``sha256:…`` ids of unnamed images.

        Raises:
            InvalidArgument: ``path`` is not a file.
            EngineError: the engine rejected the archive.
        """
        source = os.fspath(path)
        if not os.path.isfile(source):
            msg = f"cannot load images from {source!r}: no such file"
            raise InvalidArgument(msg)
        what = f"load images from {source!r}"
        found: list[str] = []

        def load() -> None:
            with open(source, "rb") as data:
                consume(
                    _loaded(self.client.load_image(data, quiet=False), found), what, EngineError
                )

        self._call(what, load)
        if not found:
            msg = f"cannot {what}: the engine reported no image"
            raise EngineError(msg)
        return found

    def image_history(self, reference: str) -> list[str]:
        """Return the ids of the image's layers, newest first (``"<missing>"`` for layers
        built elsewhere). Raises ImageNotFound."""
        what = f"read the history of image {reference!r}"
        history = self._call(what, self.client.history, reference, not_found=ImageNotFound)
        return [str(layer["Id"]) for layer in history]
