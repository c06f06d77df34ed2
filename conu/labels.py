"""Per-session labels: every container, volume and network conu creates carries them.

Cleanup selects by the session label, so one session never removes another's resources.

* The session id is per process: ``<pid>-<random>``, or ``CONU_SESSION_ID`` when set (a
  child process that must share its parent's session sets it). Under pytest-xdist each
  worker appends its worker id (``-gw0``), so workers never share a session.
* The owner label says which process the session lives and dies with, as
  ``<host>/<pid>`` (``CONU_SESSION_OWNER`` when set together with ``CONU_SESSION_ID``).
  ``conu cleanup --dead`` removes the resources of owners that no longer run.
"""

from __future__ import annotations

import os
import secrets
import socket
from collections.abc import Iterable, Mapping

__all__ = [
    "ARTIFACT_LABEL",
    "OWNER_LABEL",
    "SESSION_ID",
    "SESSION_LABEL",
    "SESSION_OWNER",
    "owner_is_alive",
    "owns_session",
    "remove_session_tmp",
    "session_filter",
    "session_labels",
    "sessions_of",
]

ARTIFACT_LABEL = "conu.test_artifact"
"""conu 1.0's label (no value) marking everything conu created."""
SESSION_LABEL = "conu.session"
"""Label whose value is the id of the session that created the resource."""
OWNER_LABEL = "conu.session.owner"
"""Label whose value is ``<host>/<pid>`` of the process the session belongs to."""


def _session_id() -> str:
    base = os.environ.get("CONU_SESSION_ID") or f"{os.getpid()}-{secrets.token_hex(4)}"
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    return f"{base}-{worker}" if worker else base


def _owner() -> str:
    inherited = os.environ.get("CONU_SESSION_OWNER")
    if inherited and os.environ.get("CONU_SESSION_ID"):
        return inherited
    return f"{socket.gethostname()}/{os.getpid()}"


SESSION_ID = _session_id()
"""This process's session id."""
SESSION_OWNER = _owner()
"""``<host>/<pid>`` of the process this session lives with."""


def tmp_prefix(session: str | None = None) -> str:
    """Prefix of the temporary files and directories a session makes on this host
    (``conu-<session>-``), so that what a killed session left can be found."""
    return f"conu-{session or SESSION_ID}-"


def remove_session_tmp(session: str) -> int:
    """Remove the temporary directories and files session ``session`` left on this host
    (in the temp dir and /var/tmp); return how many."""
    import glob
    import tempfile

    from conu.utils.tree import remove_tree

    found = 0
    for parent in {tempfile.gettempdir(), "/var/tmp"}:
        for path in glob.glob(
            os.path.join(glob.escape(parent), glob.escape(tmp_prefix(session)) + "*")
        ):
            remove_tree(path)
            found += 1
    return found


def owns_session() -> bool:
    """Tell whether this process is the one its session lives and dies with."""
    return f"{socket.gethostname()}/{os.getpid()}" == SESSION_OWNER


def session_labels() -> dict[str, str]:
    """Return the labels to put on a resource created by this session."""
    return {ARTIFACT_LABEL: "", SESSION_LABEL: SESSION_ID, OWNER_LABEL: SESSION_OWNER}


def session_filter(session: str | None = None) -> dict[str, list[str]]:
    """Return the engine list filter that selects a session's resources (this one's)."""
    return {"label": [f"{SESSION_LABEL}={session or SESSION_ID}"]}


def sessions_of(label_sets: Iterable[Mapping[str, str] | None]) -> dict[str, str]:
    """Return the sessions that resources with these labels belong to: id → owner.

    Args:
        label_sets: the labels of each resource (None for a resource without labels).

    Returns:
        Each session id once, with the owner (``host/pid``) of its first resource that
        names one, or ``""``.
    """
    sessions: dict[str, str] = {}
    for labels in label_sets:
        labels = labels or {}
        if labels.get(SESSION_LABEL):
            sessions.setdefault(labels[SESSION_LABEL], labels.get(OWNER_LABEL) or "")
    return sessions


def owner_is_alive(owner: str) -> bool | None:
    """Tell whether the owner (``<host>/<pid>``) of a session still runs.

    Returns:
        True or False for an owner on this host; None when it cannot be known (another
        host, or no owner recorded).
    """
    host, _slash, pid = owner.rpartition("/")
    if host != socket.gethostname() or not pid.isdigit():
        return None
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it runs, as another user
    return True
