"""Images of a cluster: described by their registry, listed from the nodes and the pods.

A cluster cannot build, tag, remove, pull or push images through its API; those
primitives raise :class:`~conu.exceptions.UnsupportedOperation` and the engine declares
neither BUILD nor PULL_PUSH. An image's id is its config digest, as Docker and containerd
name it, so the same image has the same id here and in Docker.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from conu.apidefs.specs import ImageInfo
from conu.backend.k8s.registry import RegistryClient, RemoteImage
from conu.exceptions import ConuException, ImageNotFound, InvalidReference, RegistryError
from conu.utils.reference import Reference

if TYPE_CHECKING:
    from conu.backend.k8s.api import KubeApi
    from conu.exceptions import UnsupportedOperation

__all__ = ["ImagesMixin", "image_info"]


def image_info(remote: RemoteImage) -> ImageInfo:
    """Return the :class:`ImageInfo` of what a registry says about an image."""
    config = remote.config.get("config") or {}
    ref = remote.reference
    name = str(ref.with_tag(ref.tag or ("latest" if not ref.digest else None)))
    return ImageInfo.from_config(
        remote.id,
        config,
        names=(name.split("@")[0],) if ref.tag or not ref.digest else (),
        digests=(remote.pinned,),
        created=remote.config.get("created"),
        raw={"manifest": remote.manifest, "config": remote.config},
    )


class ImagesMixin:
    """Image primitives over registries and the nodes' reports."""

    api: KubeApi
    unsupported: Callable[[str], UnsupportedOperation]

    def _image_state(self) -> tuple[RegistryClient, dict[str, RemoteImage], threading.Lock]:
        state = self.__dict__.get("_images")
        if state is None:
            state = self.__dict__["_images"] = (RegistryClient(), {}, threading.Lock())
        return state

    def _remote(self, reference: str, *, refresh: bool = True) -> RemoteImage:
        client, known, lock = self._image_state()
        with lock:
            cached = known.get(reference)
        if cached is not None and not refresh:
            return cached
        try:
            ref = Reference.parse(reference)
        except InvalidReference as exc:
            raise ImageNotFound(f"no image {reference!r}: {exc}") from exc
        remote = client.describe(ref)
        with lock:
            for key in (reference, remote.id, remote.pinned):
                known[key] = remote
        return remote

    def image_reference(self, image: str) -> str:
        """Return what a pod runs for ``image``: a name as given; an id the engine
        described earlier as ``registry/repository@digest``.

        Raises:
            ImageNotFound: an id conu has not seen here (pods run references, not ids).
        """
        if not image.startswith("sha256:"):
            return image
        _, known, lock = self._image_state()
        with lock:
            remote = known.get(image)
        if remote is None:
            msg = f"image id {image!r} is unknown here: a pod runs an image by reference"
            raise ImageNotFound(msg)
        return remote.pinned

    def image_env(self, image: str) -> tuple[str, ...]:
        """Return the image's environment, when its registry can tell (else nothing)."""
        try:
            return tuple(image_info(self._remote(image, refresh=False)).env)
        except ConuException:
            return ()

    def inspect_image(self, reference: str) -> ImageInfo:
        """Describe the image from its registry (an id: one described before).

        Raises:
            ImageNotFound: the registry has no such image (or the id is unknown here).
            RegistryError: the registry cannot be reached.
        """
        if reference.startswith("sha256:"):
            reference = self.image_reference(reference)
        return image_info(self._remote(reference))

    def _node_names(self) -> set[str]:
        names: set[str] = set()
        nodes = self.api.request("GET", "/api/v1/nodes", what="list nodes")
        for node in nodes.get("items", []):
            for image in node.get("status", {}).get("images") or ():
                names.update(image.get("names") or ())
        listed = self.api.request("GET", "/api/v1/pods", what="list pods")
        for pod in listed.get("items", []):
            for status in pod.get("status", {}).get("containerStatuses") or ():
                for key in ("image", "imageID"):
                    if status.get(key) and "://" not in status[key]:
                        names.add(status[key])
        return names

    def list_images(self, labels: Mapping[str, str] | None = None) -> list[ImageInfo]:
        """Return the images on the nodes and those the pods run; described by their
        registry where it answers (named only otherwise, with the digest as id)."""
        found: dict[str, ImageInfo] = {}
        for name in sorted(self._node_names()):
            info = self._listed(name)
            if info is not None and info.id not in found:
                found[info.id] = info
        wanted = dict(labels or {})
        return [i for i in found.values() if all(i.labels.get(k) == v for k, v in wanted.items())]

    def _listed(self, name: str) -> ImageInfo | None:
        _, known, lock = self._image_state()
        with lock:
            remote = known.get(name)
        if remote is not None:
            return image_info(remote)
        try:
            return image_info(self._remote(name))
        except (ImageNotFound, RegistryError):
            pass
        if "@" in name:
            return ImageInfo(id=name.split("@", 1)[1], digests=(name,))
        return ImageInfo(id=name, names=(name,))

    def image_history(self, reference: str) -> list[str]:
        """Return ``[id, "<missing>"...]``, one per layer: a registry has no layer ids."""
        info = self.inspect_image(reference)
        history = info.raw.get("config", {}).get("history") or ()
        layers = [h for h in history if not h.get("empty_layer")] or [{}]
        return [info.id] + ["<missing>"] * (len(layers) - 1)

    def tag_image(self, image: str, target: Reference) -> None:
        """Unsupported: a cluster does not name images."""
        raise self.unsupported("tag_image")

    def remove_image(self, reference: str, *, force: bool = False, prune: bool = True) -> None:
        """Unsupported: the kubelet removes unused images itself."""
        raise self.unsupported("remove_image")
