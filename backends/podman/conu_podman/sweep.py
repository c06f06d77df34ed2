"""Removing labelled resources from podman: containers, networks, volumes, images.

Shared by the backend's cleanup policies, the watchdog (through
:meth:`~conu_podman.PodmanBackend.remove_session_resources`) and ``conu cleanup``. Everything
is selected with ``--filter label=conu.session=<id>``, so a sweep only touches what the
session it names created.
"""

from __future__ import annotations

import contextlib
from typing import Any

from conu.exceptions import NotFound
from conu.labels import SESSION_LABEL, sessions_of
from conu_podman import engine

__all__ = [
    "list_sessions",
    "remove_containers",
    "remove_images",
    "remove_networks",
    "remove_volumes",
    "sweep",
]


def _label_filter(session: str) -> list[str]:
    return ["--filter", f"label={SESSION_LABEL}={session}"]


def _lines(args: list[str], what: str) -> list[str]:
    output = engine.run(args, what=what).stdout.decode("utf-8", "replace")
    return [line.strip() for line in output.splitlines() if line.strip()]


def _listed(args: list[str], what: str) -> list[dict[str, Any]]:
    found = engine.run_json([*args, "--format", "json"], what=what)
    return list(found or [])


def remove_containers(session: str) -> int:
    """Force-remove (no grace period) the session's containers, anonymous volumes included."""
    args = ["ps", "--all", "--quiet", "--no-trunc", *_label_filter(session)]
    ids = _lines(args, f"list the containers of session {session!r}")
    if ids:
        # one call: podman removes them in parallel; --ignore skips those gone meanwhile
        remove = ["rm", "--force", "--time", "0", "--volumes", "--ignore", *ids]
        engine.run(remove, what=f"remove the containers of session {session!r}")
    return len(ids)


def remove_networks(session: str) -> int:
    """Remove the session's networks (after its containers)."""
    args = ["network", "ls", "--quiet", *_label_filter(session)]
    names = _lines(args, f"list the networks of session {session!r}")
    for name in names:
        with contextlib.suppress(NotFound):
            engine.run(["network", "rm", name], what=f"remove network {name!r}")
    return len(names)


def remove_volumes(session: str) -> int:
    """Remove the session's volumes (after its containers)."""
    args = ["volume", "ls", "--quiet", *_label_filter(session)]
    names = _lines(args, f"list the volumes of session {session!r}")
    for name in names:
        with contextlib.suppress(NotFound):
            engine.run(["volume", "rm", "--force", name], what=f"remove volume {name!r}")
    return len(names)


def remove_images(session: str) -> int:
    """Remove the session's images with all their names, newest first.

    An image built on another inherits its labels, and podman refuses to remove a parent
    before its children.
    """
    entries = _listed(["images", *_label_filter(session)], f"list the images of session {session}")
    for entry in sorted(entries, key=lambda e: e.get("Created") or 0, reverse=True):
        ident = str(entry["Id"])
        with contextlib.suppress(NotFound):
            engine.run(["rmi", "--force", "--ignore", ident], what=f"remove image {ident!r}")
    return len(entries)


def sweep(session: str) -> dict[str, int]:
    """Remove everything session ``session`` created; return how many of each kind."""
    return {
        "containers": remove_containers(session),
        "networks": remove_networks(session),
        "volumes": remove_volumes(session),
        "images": remove_images(session),
    }


def list_sessions() -> dict[str, str]:
    """Return the sessions that have resources in podman: id → owner (``""`` if none)."""
    labelled = ["--filter", f"label={SESSION_LABEL}"]
    what = "list labelled resources"
    found = [
        *(c.get("Labels") for c in _listed(["ps", "--all", *labelled], what)),
        *(n.get("labels") for n in _listed(["network", "ls", *labelled], what)),
        *(v.get("Labels") for v in _listed(["volume", "ls", *labelled], what)),
        *(i.get("Labels") for i in _listed(["images", *labelled], what)),
    ]
    return sessions_of(found)
