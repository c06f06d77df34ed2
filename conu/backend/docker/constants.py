"""Constants of the Docker backend."""

from __future__ import annotations

__all__ = ["CONU_ARTIFACT_TAG"]

CONU_ARTIFACT_TAG = "conu.test_artifact"
"""Label (without a value) that ``docker run`` command lines built by conu put on containers."""
