"""Filling conu metadata objects from Docker's inspect and list documents (conu 1.0's
functions; the engine itself maps documents in :mod:`conu.backend.docker.engine_mapping`)."""

from __future__ import annotations

from typing import Any, TypeVar

from conu.apidefs.metadata import (
    ContainerMetadata,
    ImageMetadata,
    Metadata,
    container_metadata,
    fill_common,
    image_metadata,
    split_env,
)
from conu.backend.docker.engine_mapping import container_info, image_info, listed_container_info

__all__ = ["inspect_to_container_metadata", "inspect_to_metadata", "split_env"]

M = TypeVar("M", bound=Metadata)


def inspect_to_metadata(metadata_object: M, inspect_data: dict[str, Any]) -> M:
    """Update ``metadata_object`` in place from an inspect (or list) document and return it."""
    info = image_info(inspect_data)
    if isinstance(metadata_object, ImageMetadata):
        image_metadata(metadata_object, info)
    else:
        fill_common(metadata_object, info)
    return metadata_object


def inspect_to_container_metadata(
    c_metadata_object: ContainerMetadata, inspect_data: dict[str, Any], image_instance: Any
) -> ContainerMetadata:
    """Update container metadata in place from ``docker inspect`` (or list) output."""
    listed = not isinstance(inspect_data.get("State"), dict)
    info = listed_container_info(inspect_data) if listed else container_info(inspect_data)
    return container_metadata(c_metadata_object, info, image_instance)
