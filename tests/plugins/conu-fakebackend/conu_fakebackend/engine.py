"""FakeEngine: every primitive of :class:`conu.apidefs.engine.Engine`, with no container engine.

Images live in memory; a container's root filesystem is extracted from its image's layers
into a directory under a temporary directory of this engine (named with
:func:`conu.labels.tmp_prefix`, so session cleanup finds what a killed run left), and its
processes are host processes chrooted there (see :mod:`conu_fakebackend.process`). There is
no network or PID namespace: ports are not published (no ``Capability.PORTS``) and the
container's processes are visible on the host.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import tempfile
import threading
import weakref
from collections.abc import Iterable, Iterator, Mapping
from typing import ClassVar

from conu.apidefs.backend import Capability
from conu.apidefs.engine import RESOURCE_KINDS
from conu.apidefs.specs import BuildSpec, ContainerState, ImageInfo
from conu.exceptions import Conflict, NotFound
from conu.labels import SESSION_LABEL, tmp_prefix
from conu.utils.archive import remove_tree
from conu.utils.reference import Reference
from conu_fakebackend import layers as fs
from conu_fakebackend.build import run_build
from conu_fakebackend.containers import Box
from conu_fakebackend.files import FileOps
from conu_fakebackend.images import (
    ImageStore,
    StoredImage,
    image_info,
    make_image,
    normalise_name,
    read_archive,
)
from conu_fakebackend.process import kill_confined
from conu_fakebackend.running import ContainerOps

__all__ = ["FakeEngine"]


class FakeEngine(ContainerOps, FileOps):
    """An engine in this process: images in memory, containers as chrooted host processes."""

    name: ClassVar[str] = "fake"

    def __init__(self, tmpdir: str | None = None) -> None:
        """Make an empty engine.

        Args:
            tmpdir: where the engine's directory of container roots goes; the system's
                temporary directory by default, where conu's session cleanup looks.
        """
        self._lock = threading.Lock()
        self._containers: dict[str, Box] = {}
        self._images = ImageStore()
        self._numbers = itertools.count(1)
        self._tmp = tempfile.mkdtemp(prefix=tmp_prefix() + "fake-engine-", dir=tmpdir)
        self._finalizer = weakref.finalize(self, _shutdown, self._containers, self._tmp)

    def close(self) -> None:
        """Kill and remove every container, forget every image, remove the temporary dir."""
        for box in list(self._containers.values()):
            with contextlib.suppress(NotFound):
                self.remove_container(box.id, force=True)
        with self._lock:
            self._images = ImageStore()
        self._finalizer()

    # -- the engine itself --------------------------------------------------------------

    @property
    def capabilities(self) -> frozenset[Capability]:
        """Everything but ports, stdin and registries."""
        return frozenset(
            {
                Capability.EXEC,
                Capability.LOGS_FOLLOW,
                Capability.COPY,
                Capability.MOUNT,
                Capability.RUN_VIA_BINARY,
                Capability.IMAGE_FILES,
                Capability.BUILD,
                Capability.PID,
                Capability.COMMIT,
                Capability.LOG_STREAMS,
                Capability.SIGNALS,
            }
        )

    def container_state(self, raw: str | None) -> ContainerState:
        """The engine's states are Docker's names: created, running, exited."""
        return ContainerState.parse(raw)

    # -- images -------------------------------------------------------------------------

    def inspect_image(self, reference: str) -> ImageInfo:
        """Describe the image (by id, id prefix or name). Raises ImageNotFound."""
        with self._lock:
            return image_info(self._images.lookup(reference))

    def list_images(self, labels: Mapping[str, str] | None = None) -> list[ImageInfo]:
        """Describe every image carrying ``labels``."""
        wanted = dict(labels or {}).items()
        with self._lock:
            infos = [image_info(image) for image in self._images.images.values()]
        return [info for info in infos if wanted <= info.labels.items()]

    def tag_image(self, image: str, target: Reference) -> None:
        """Name the image ``target`` (``:latest`` when it has no tag)."""
        with self._lock:
            self._images.tag(self._images.lookup(image), normalise_name(str(target)))

    def remove_image(self, reference: str, *, force: bool = False, prune: bool = True) -> None:
        """Remove a name, or the image with all its names (containers keep their copy)."""
        with self._lock:
            store = self._images
            image = store.lookup(reference)
            name = store.name_of(reference)
            if name is not None and len(image.names) > 1:
                store.untag(image, name)
                return
            if not force and (name is None and len(image.names) > 1):
                msg = f"image {reference!r} has several names: force its removal"
                raise Conflict(msg)
            if not force and self._used(image):
                msg = f"image {reference!r} has containers or child images: force its removal"
                raise Conflict(msg)
            store.delete(image)
            parent = store.images.get(image.parent or "")
            while prune and parent is not None and not parent.names and not self._used(parent):
                store.delete(parent)
                parent = store.images.get(parent.parent or "")

    def _used(self, image: StoredImage) -> bool:
        """Whether a container or another image was made from ``image``."""
        return any(b.image is image for b in self._containers.values()) or any(
            i.parent == image.id for i in self._images.images.values()
        )

    def build_image(self, spec: BuildSpec) -> str:
        """Interpret the Dockerfile (see :mod:`conu_fakebackend.build`); return the id."""
        result = run_build(spec, self._lookup, self._tmp)
        image = make_image(result.config, result.layers, parent=result.parent)
        with self._lock:
            return self._images.add(image, [normalise_name(spec.tag)] if spec.tag else []).id

    def _lookup(self, reference: str) -> StoredImage:
        with self._lock:
            return self._images.lookup(reference)

    def save_image(self, reference: str) -> Iterator[bytes]:
        """Return a ``docker save`` archive (manifest.json, config, layer tars)."""
        with self._lock:
            image = self._images.lookup(reference)
            name = self._images.name_of(reference)
        return iter([self._images.save(image, name)])

    def load_image(self, path: str | os.PathLike[str]) -> list[str]:
        """Load a ``docker save`` archive; return its names (ids of unnamed images)."""
        loaded = list(read_archive(path))
        held: list[str] = []
        with self._lock:
            for image, names in loaded:
                self._images.add(image, names)
                held.extend(names or [image.id])
        return held

    def image_history(self, reference: str) -> list[str]:
        """Return the layers' digests, newest first."""
        with self._lock:
            return [fs.layer_id(layer) for layer in reversed(self._images.lookup(reference).layers)]

    # -- session resources --------------------------------------------------------------

    def list_session_labels(self) -> list[Mapping[str, str]]:
        """Labels of the containers and images that carry the session label."""
        with self._lock:
            labelled = [b.labels for b in self._containers.values()]
            labelled += [i.config.get("Labels") or {} for i in self._images.images.values()]
        return [dict(labels) for labels in labelled if SESSION_LABEL in labels]

    def remove_session(self, session: str, kinds: Iterable[str] = RESOURCE_KINDS) -> dict[str, int]:
        """Remove the session's containers (forcibly) and images; there are no networks or
        volumes."""
        counts = dict.fromkeys(kinds, 0)
        if "containers" in counts:
            with self._lock:
                boxes = [
                    b for b in self._containers.values() if b.labels.get(SESSION_LABEL) == session
                ]
            for box in boxes:
                self._discard(box)
            counts["containers"] = len(boxes)
        if "images" in counts:
            with self._lock:
                store = self._images
                images = [
                    i for i in store.images.values()
                    if (i.config.get("Labels") or {}).get(SESSION_LABEL) == session
                ]  # fmt: skip
                for image in images:
                    store.delete(image)
            counts["images"] = len(images)
        return counts


def _shutdown(containers: dict[str, Box], tmp: str) -> None:
    """Kill what still runs and remove the engine's directory (also at interpreter exit)."""
    for box in list(containers.values()):
        kill_confined(box.root)
    containers.clear()
    remove_tree(tmp)
