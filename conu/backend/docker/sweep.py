"""Removing labelled resources from the engine: containers, networks, volumes, images.

Shared by the backend's cleanup policies, the pytest fixtures, the watchdog and
``conu cleanup``. Everything is selected by label, so a sweep only touches what the
session it names created.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from conu.backend.docker.client import translate_errors
from conu.exceptions import Conflict, NotFound
from conu.labels import SESSION_LABEL, sessions_of

__all__ = [
    "list_sessions",
    "remove_containers",
    "remove_images",
    "remove_networks",
    "remove_volumes",
    "sweep",
]

THREADS = 8
"""Containers removed in parallel."""


def _in_parallel(ids: list[str], remove: Callable[[str], None]) -> None:
    if ids:
        with ThreadPoolExecutor(min(THREADS, len(ids))) as pool:
            list(pool.map(remove, ids))


def remove_containers(client: Any, filters: dict[str, Any]) -> int:
    """Force-remove the containers ``filters`` selects, anonymous volumes included."""
    with translate_errors("list containers to remove"):
        found = client.containers(all=True, filters=filters)
    # Oldest first: the engine lists newest first, and removing in that order is slower
    # (measured in bench/cleanup.py).
    ids = [c["Id"] for c in sorted(found, key=lambda c: c.get("Created") or 0)]

    def one(cid: str) -> None:
        try:
            with translate_errors(f"remove container {cid[:12]!r}"):
                client.remove_container(cid, force=True, v=True)
        except NotFound:
            pass  # gone already (e.g. a container started with --rm)
        except Conflict as exc:
            if "already in progress" not in str(exc):  # an exited --rm container
                raise

    _in_parallel(ids, one)
    return len(ids)


def remove_networks(client: Any, filters: dict[str, Any]) -> int:
    """Remove the networks ``filters`` selects (after their containers)."""
    with translate_errors("list networks to remove"):
        ids = [n["Id"] for n in client.networks(filters=filters)]
    for nid in ids:
        with contextlib.suppress(NotFound), translate_errors(f"remove network {nid[:12]!r}"):
            client.remove_network(nid)
    return len(ids)


def remove_volumes(client: Any, filters: dict[str, Any]) -> int:
    """Remove the volumes ``filters`` selects (after their containers)."""
    with translate_errors("list volumes to remove"):
        names = [v["Name"] for v in client.volumes(filters=filters).get("Volumes") or []]
    for name in names:
        with contextlib.suppress(NotFound), translate_errors(f"remove volume {name!r}"):
            client.remove_volume(name, force=True)
    return len(names)


def remove_images(client: Any, filters: dict[str, Any]) -> int:
    """Remove the images ``filters`` selects, with all their names.

    Newest first and one at a time: an image built on another inherits its labels, and the
    engine refuses to remove a parent before its children.
    """
    with translate_errors("list images to remove"):
        entries = client.images(filters=filters)
    for entry in sorted(entries, key=lambda e: e.get("Created") or 0, reverse=True):
        with contextlib.suppress(NotFound), translate_errors(f"remove image {entry['Id']!r}"):
            client.remove_image(entry["Id"], force=True)
    return len(entries)


def sweep(client: Any, session: str) -> dict[str, int]:
    """Remove everything session ``session`` created; return how many of each kind."""
    filters = {"label": [f"{SESSION_LABEL}={session}"]}
    return {
        "containers": remove_containers(client, filters),
        "networks": remove_networks(client, filters),
        "volumes": remove_volumes(client, filters),
        "images": remove_images(client, filters),
    }


def list_sessions(client: Any) -> dict[str, str]:
    """Return the sessions that have resources on the engine: id → owner (``""`` if none)."""
    filters = {"label": [SESSION_LABEL]}
    with translate_errors("list labelled resources"):
        found = [
            *(c.get("Labels") for c in client.containers(all=True, filters=filters)),
            *(n.get("Labels") for n in client.networks(filters=filters)),
            *(v.get("Labels") for v in client.volumes(filters=filters).get("Volumes") or []),
            *(i.get("Labels") for i in client.images(filters=filters)),
        ]
    return sessions_of(found)
