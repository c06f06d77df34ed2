"""``--image-from-oci-layout``: an OCI image layout loaded into the Docker engine (with
skopeo), as upstream's docker driver does before testing it.

The layout must hold exactly one image (not an index of platforms). Its name is the
``org.opencontainers.image.ref.name`` annotation of that manifest, unless
``--ignore-ref-annotation`` is given or there is none: then ``--default-image-tag``.
"""

from __future__ import annotations

import json
import os

from conu.exceptions import InvalidArgument

__all__ = ["REF_ANNOTATION", "layout_name", "load_layout"]

REF_ANNOTATION = "org.opencontainers.image.ref.name"
_INDEX_TYPES = (
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
)


def layout_name(
    directory: str, default_tag: str | None = None, ignore_annotation: bool = False
) -> tuple[str, str | None]:
    """Return ``(name to load it as, its ref annotation)`` of the one image of the layout.

    Raises:
        InvalidArgument: not an OCI layout, not exactly one image, a multi-platform index,
            or no name (no annotation and no ``default_tag``).
    """
    index_path = os.path.join(directory, "index.json")
    if not os.path.isfile(os.path.join(directory, "oci-layout")) or not os.path.isfile(index_path):
        raise InvalidArgument(
            f"{directory!r} is not an OCI image layout (no oci-layout, index.json)"
        )
    try:
        with open(index_path, encoding="utf-8") as stream:
            manifests = json.load(stream).get("manifests") or []
    except (OSError, ValueError, AttributeError) as exc:
        raise InvalidArgument(f"cannot read the OCI index {index_path!r}: {exc}") from exc
    if len(manifests) != 1:
        msg = f"OCI layout {directory!r} holds {len(manifests)} entries; expected only one"
        raise InvalidArgument(msg)
    if manifests[0].get("mediaType") in _INDEX_TYPES:
        raise InvalidArgument(f"OCI layout {directory!r} is a multi-platform index: not supported")
    annotation = (manifests[0].get("annotations") or {}).get(REF_ANNOTATION)
    name = None if ignore_annotation else annotation
    name = name or default_tag
    if not name:
        msg = (
            f"OCI layout {directory!r} has no {REF_ANNOTATION} annotation:"
            " --default-image-tag must be given"
        )
        raise InvalidArgument(msg)
    from conu.utils.reference import Reference

    reference = Reference.parse(name)
    if reference.digest:
        raise InvalidArgument(f"an OCI layout is loaded as NAME[:TAG], not {name!r}")
    return str(reference.with_tag(reference.tag or "latest")), annotation


def load_layout(
    directory: str, *, default_tag: str | None = None, ignore_annotation: bool = False
) -> str:
    """Load the layout's image into the Docker engine; return the name it has there.

    Raises:
        InvalidArgument: see :func:`layout_name`.
        CommandDoesNotExistException, CommandFailed: skopeo is missing or failed.
    """
    from conu.backend.docker.image import DockerImage, DockerImagePullPolicy
    from conu.backend.docker.skopeo import SkopeoTransport, skopeo_copy

    name, annotation = layout_name(directory, default_tag, ignore_annotation)
    target = DockerImage(name, pull_policy=DockerImagePullPolicy.NEVER)
    source = f"oci:{os.path.abspath(directory)}" + (f":{annotation}" if annotation else "")
    target.using_transport(SkopeoTransport.DOCKER_DAEMON)
    skopeo_copy(None, target, source_param=source)
    return name
