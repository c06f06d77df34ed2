"""Builds the sample image of examples/sample-image for the demo suite."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "scripts"))


@pytest.fixture(scope="session")
def sample_image() -> Any:
    """The sample image, built from examples/sample-image (and removed by nobody: it is cached)."""
    import images

    return images.build(str(HERE / "sample-image"), "conu-example/sample:latest")
