"""Images of podman: inspect, list, registries, names, builds, archives, history."""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Iterator, Mapping

from conu.apidefs.specs import BuildSpec, ImageInfo
from conu.backend.podman import build, cli
from conu.backend.podman.convert import image_info, with_algorithm
from conu.backend.podman.run_args import label_filters
from conu.backend.podman.stream import streamed
from conu.exceptions import EngineError, ImageNotFound, InvalidArgument, RegistryError
from conu.utils.reference import Reference

__all__ = ["ARCHIVE_TIMEOUT", "REGISTRY_TIMEOUT", "ImagesMixin", "tls_options"]

REGISTRY_TIMEOUT = 900.0
"""Seconds one ``podman pull`` or ``podman push`` may take."""
ARCHIVE_TIMEOUT = 900.0
"""Seconds one ``podman save`` or ``podman load`` may take."""
_LOADED = ("Loaded image: ", "Loaded image(s): ")


def tls_options(reference: Reference) -> list[str]:
    """Return ``["--tls-verify=false"]`` for a loopback registry (as Docker treats them:
    insecure, plain HTTP), else ``[]``."""
    registry = reference.registry or ""
    if registry.startswith("["):  # [IPv6]:port
        host = registry[1:].partition("]")[0]
    else:
        host = registry.partition(":")[0]
    if host == "localhost":
        return ["--tls-verify=false"]
    try:
        return ["--tls-verify=false"] if ipaddress.ip_address(host).is_loopback else []
    except ValueError:  # a host name, or no registry at all
        return []


def _inspect_images(references: list[str], *, check: bool) -> list[ImageInfo]:
    """Inspect ``references`` in one call; without ``check`` missing ones are skipped."""
    what = f"inspect image {references[0]!r}" if len(references) == 1 else "inspect images"
    found = cli.run_json(["image", "inspect", *references], what=what, check=check)
    return [image_info(data) for data in found or []]


def _loaded(output: bytes) -> list[str]:
    """The names (or ids) of ``podman load``'s ``Loaded image: ...`` lines."""
    loaded: list[str] = []
    for line in output.decode("utf-8", "replace").splitlines():
        for prefix in _LOADED:
            if line.startswith(prefix):
                loaded += [name.strip() for name in line[len(prefix) :].split(",")]
    return loaded


class ImagesMixin:
    """Image primitives of :class:`~conu.backend.podman.engine.PodmanEngine`."""

    def inspect_image(self, reference: str) -> ImageInfo:
        """Describe the image with ``podman image inspect``."""
        found = _inspect_images([reference], check=True)
        if not found:
            raise ImageNotFound(f"cannot inspect image {reference!r}: image not known")
        return found[0]

    def list_images(self, labels: Mapping[str, str] | None = None) -> list[ImageInfo]:
        """List with ``podman images``, then inspect every id in one call (full entries)."""
        args = ["images", "--quiet", "--no-trunc", *label_filters(labels)]
        output = cli.run(args, what="list images").stdout.decode()
        ids = list(dict.fromkeys(line.strip() for line in output.splitlines() if line.strip()))
        found = _inspect_images(ids, check=False) if ids else []
        wanted = dict(labels or {})
        return [i for i in found if all(i.labels.get(k) == v for k, v in wanted.items())]

    def pull_image(self, reference: Reference) -> None:
        """Pull with ``podman pull`` (loopback registries without TLS)."""
        args = ["pull", "--quiet", *tls_options(reference), str(reference)]
        what = f"pull {str(reference)!r}"
        cli.run(args, what=what, timeout=REGISTRY_TIMEOUT, error=RegistryError)

    def push_image(self, reference: Reference) -> None:
        """Push with ``podman push`` (loopback registries without TLS)."""
        args = ["push", "--quiet", *tls_options(reference), str(reference)]
        what = f"push {str(reference)!r}"
        cli.run(args, what=what, timeout=REGISTRY_TIMEOUT, error=RegistryError)

    def tag_image(self, image: str, target: Reference) -> None:
        """Name the image with ``podman tag``."""
        cli.run(["tag", image, str(target)], what=f"tag {image!r} as {str(target)!r}")

    def remove_image(self, reference: str, *, force: bool = False, prune: bool = True) -> None:
        """Remove with ``podman rmi`` (with ``force`` podman also removes its containers)."""
        options = [*(["--force"] if force else []), *([] if prune else ["--no-prune"])]
        cli.run(["rmi", *options, reference], what=f"remove image {reference!r}")

    def build_image(self, spec: BuildSpec) -> str:
        """Build with ``podman build``; return the image id (``sha256:…``)."""
        return build.build(spec)

    def save_image(self, reference: str) -> Iterator[bytes]:
        """Stream ``podman save --format docker-archive``."""
        args = ["save", "--format", "docker-archive", reference]
        return streamed(args, what=f"save image {reference!r}", timeout=ARCHIVE_TIMEOUT)

    def load_image(self, path: str | os.PathLike[str]) -> list[str]:
        """Load with ``podman load``; return its ``Loaded image`` names (or ``sha256:`` ids).

        Raises:
            InvalidArgument: ``path`` is not a file.
            EngineError: podman rejected the archive or reported nothing.
        """
        source = os.fspath(path)
        if not os.path.isfile(source):
            msg = f"cannot load images from {source!r}: no such file"
            raise InvalidArgument(msg)
        what = f"load images from {source!r}"
        done = cli.run(["load", "--input", source], what=what, timeout=ARCHIVE_TIMEOUT)
        loaded = _loaded(done.stdout)
        if not loaded:
            raise EngineError(f"cannot {what}: podman reported no image")
        return loaded

    def image_history(self, reference: str) -> list[str]:
        """Return ``podman history`` ids, newest first (``sha256:…`` or ``<missing>``).

        Podman names each layer after *an* image whose top layer it is; the newest entry is
        set to the image's own id (a metadata-only child, e.g. of ``--label``, shares its
        parent's top layer, and podman may name the parent).
        """
        ident = self.inspect_image(reference).id
        what = f"read the history of image {reference!r}"
        found = cli.run_json(["history", "--format", "json", ident], what=what) or []
        ids = [with_algorithm(str(layer.get("id") or "<missing>")) for layer in found]
        return [ident, *ids[1:]] if ids else []
