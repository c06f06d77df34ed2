"""Filling conu metadata from podman's inspect and list documents.

Podman's ``inspect`` output follows Docker's layout, so conu's pure translation functions
(:mod:`conu.backend.docker.utils`, which does not import the docker SDK) do most of the
work; this module corrects what podman reports differently: its own container states,
exit codes in list entries, ``Names`` instead of ``RepoTags`` in image lists, and exposed
ports that only appear under ``NetworkSettings.Ports`` of a container.
"""

from __future__ import annotations

from typing import Any

from conu.apidefs.metadata import ContainerMetadata, ContainerStatus, ImageMetadata
from conu.backend.docker.utils import inspect_to_container_metadata, inspect_to_metadata

__all__ = ["container_metadata", "container_status", "image_metadata", "image_names"]

_AS_DOCKER_STATE = {
    "configured": "created",
    "initialized": "created",
    "stopped": "exited",
    "stopping": "running",
}
"""Podman states that Docker does not have, mapped to the Docker state they behave like."""


def container_status(state: str | None, exit_code: int | None) -> ContainerStatus:
    """Map podman's state string and exit code to the portable :class:`ContainerStatus`."""
    text = (state or "").lower()
    return ContainerStatus.get_from_docker(_AS_DOCKER_STATE.get(text, text), exit_code)


def _state(data: dict[str, Any]) -> tuple[str | None, int | None]:
    """Return ``(state, exit code)`` of an inspect document or a ``podman ps`` entry."""
    state = data.get("State")
    if isinstance(state, dict):
        return state.get("Status"), state.get("ExitCode")
    return state, data.get("ExitCode", 0)


def container_metadata(
    metadata: ContainerMetadata, data: dict[str, Any], image: Any
) -> ContainerMetadata:
    """Update container ``metadata`` in place from ``podman inspect`` (or ``podman ps``).

    Args:
        metadata: the object to fill.
        data: one inspect document, or one entry of ``podman ps --format json``.
        image: the image object the container runs.

    Returns:
        ``metadata``, which is also a mapping over ``data``.
    """
    md = inspect_to_container_metadata(metadata, data, image)
    md.status = container_status(*_state(data))
    if not md.exposed_ports:
        ports = (data.get("NetworkSettings") or {}).get("Ports") or {}
        md.exposed_ports = list(ports)
    return md


def image_names(data: dict[str, Any]) -> list[str]:
    """Return the ``repo:tag`` names of an image inspect document or ``podman images`` entry."""
    names = data.get("RepoTags") or data.get("Names") or []
    return [name for name in names if name and "<none>" not in name]


def image_metadata(metadata: ImageMetadata, data: dict[str, Any]) -> ImageMetadata:
    """Update image ``metadata`` in place from ``podman image inspect`` (or ``podman images``).

    Returns:
        ``metadata``, which is also a mapping over ``data``.
    """
    md = inspect_to_metadata(metadata, data)
    names = image_names(data)
    md.image_names = names
    md.name = names[0] if names else None
    return md
