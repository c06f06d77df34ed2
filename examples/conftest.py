"""Builds the sample image of examples/sample-image for the demo suite.

``sample.cst.yaml`` here is collected by conu's pytest plugin too; it runs against the sample
image, built once when the session starts.
"""

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
    from conu import DockerImage, DockerImagePullPolicy

    return DockerImage(SAMPLE, pull_policy=DockerImagePullPolicy.NEVER)


SAMPLE = "conu-example/sample:latest"


def pytest_configure(config: pytest.Config) -> None:
    """Run the collected container-structure-test file against the sample image."""
    if not config.getoption("--conu-cst-image"):
        config.option.conu_cst_image = SAMPLE


def pytest_sessionstart(session: pytest.Session) -> None:
    """Build the sample image before any test (CST items need it too)."""
    import images

    images.build(str(HERE / "sample-image"), SAMPLE)
