"""Fixtures of the conformance suite: capabilities, the test image, a few containers."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from conu.apidefs.backend import Backend, Capability

IMAGE_DIR = Path(__file__).resolve().parent / "images" / "busybox"
IMAGE_NAME = "conu-conformance/busybox"
BUSYBOX = ("/bin/busybox", "/usr/bin/busybox")
HTTPD = ["httpd", "-f", "-p", "8080", "-h", "/srv/www"]


@pytest.fixture(scope="session")
def require(backend: Backend) -> Callable[[Capability], None]:
    """``require(Capability.X)`` skips the test when the backend does not declare X."""

    def check(capability: Capability) -> None:
        if capability not in backend.capabilities:
            pytest.skip(f"backend {backend.name!r} does not declare {capability.name}")

    return check


@pytest.fixture(scope="session")
def image(backend: Backend, request: pytest.FixtureRequest) -> Any:
    """The suite's image: ``--conu-test-image``, or built by the backend from images/busybox."""
    given = request.config.getoption("--conu-test-image")
    if given:
        return backend.ImageClass(given)
    if Capability.BUILD not in backend.capabilities:
        pytest.fail(
            f"backend {backend.name!r} cannot build: pass --conu-test-image=NAME with a"
            " busybox image made from conu/conformance/images/busybox"
        )
    busybox = next((path for path in BUSYBOX if os.path.isfile(path)), None)
    if busybox is None:
        pytest.fail("the conformance image needs the host's static busybox: busybox-static")
    with tempfile.TemporaryDirectory(prefix="conu-conformance-") as context:
        shutil.copytree(IMAGE_DIR, context, dirs_exist_ok=True)
        shutil.copy2(busybox, os.path.join(context, "busybox"))
        return backend.ImageClass.build(context, tag=f"{IMAGE_NAME}:latest")


@pytest.fixture
def run(container_factory: Any, image: Any) -> Callable[..., Any]:
    """``run(command, *opts)``: a container of the suite's image, removed after the test."""

    def start(command: list[str] | None = None, *opts: str) -> Any:
        return container_factory(image, command, list(opts))

    return start


@pytest.fixture
def sleeper(run: Callable[..., Any]) -> Any:
    """A running container that sleeps."""
    return run(["sleep", "300"])


@pytest.fixture
def web(run: Callable[..., Any], require: Callable[[Capability], None]) -> Any:
    """A container serving /srv/www on port 8080 (published on a free host port)."""
    require(Capability.PORTS)
    return run(HTTPD, "-p", "8080")
