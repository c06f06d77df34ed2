"""Per-session labels: every container, volume and network conu creates carries them.

Cleanup selects by the session label, so one session never removes another's resources.
The session id is per process unless ``CONU_SESSION_ID`` is set (a child process that must
share its parent's session sets it).
"""

from __future__ import annotations

import os
import secrets

__all__ = ["ARTIFACT_LABEL", "SESSION_ID", "SESSION_LABEL", "session_filter", "session_labels"]

ARTIFACT_LABEL = "conu.test_artifact"
"""conu 1.0's label (no value) marking everything conu created."""
SESSION_LABEL = "conu.session"
"""Label whose value is the id of the session that created the resource."""
SESSION_ID = os.environ.get("CONU_SESSION_ID") or f"{os.getpid()}-{secrets.token_hex(4)}"
"""This process's session id."""


def session_labels() -> dict[str, str]:
    """Return the labels to put on a resource created by this session."""
    return {ARTIFACT_LABEL: "", SESSION_LABEL: SESSION_ID}


def session_filter() -> dict[str, list[str]]:
    """Return the engine list filter that selects this session's resources."""
    return {"label": [f"{SESSION_LABEL}={SESSION_ID}"]}
