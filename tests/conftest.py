"""Shared fixtures: the engine (a failure in CI when missing), the test images, leak checks."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
IMAGES = Path(__file__).resolve().parent / "images"
sys.path.insert(0, str(ROOT / "scripts"))


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "local_engine: checks what only a local engine offers (routable container IPs,"
        " ports published on its loopback); skipped against a remote engine",
    )


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("local_engine"):
        from conu.backend.docker.network import engine_is_local

        if not engine_is_local():
            pytest.skip("needs a local engine (container IPs routable from here)")


@pytest.fixture(scope="session")
def engine() -> Any:
    """The docker client; skips engine tests locally without an engine, fails them in CI."""
    from conu.backend.docker.client import get_client
    from conu.exceptions import ConuException

    try:
        return get_client()
    except ConuException as exc:
        if os.environ.get("CI"):
            pytest.fail(f"CI needs a container engine (run scripts/engine.sh): {exc}")
        pytest.skip(f"no container engine: {exc}")


@pytest.fixture(scope="session")
def backend(engine: Any) -> Iterator[Any]:
    """A DockerBackend for the session; at the end, fails the run if a container leaked."""
    from conu import DockerBackend
    from conu.labels import session_filter
    from conu.watchdog import ensure_started

    ensure_started("docker")  # a killed test run leaves nothing either
    with DockerBackend() as b:
        yield b
        leaked = engine.containers(all=True, filters=session_filter())
        b.cleanup_containers()
        b.cleanup_images()  # the session's test images (built with its labels)
        if leaked:
            names = [c["Names"][0] for c in leaked]
            pytest.fail(f"the tests leaked {len(leaked)} container(s): {names}")


def _build(name: str) -> Any:
    import images

    return images.build(str(IMAGES / name), f"conu-test/{name}:latest")


@pytest.fixture(scope="session")
def busybox_image(backend: Any) -> Any:
    """conu-test/busybox: FROM scratch with the host's static busybox."""
    return _build("busybox")


@pytest.fixture(scope="session")
def httpd_image(busybox_image: Any) -> Any:
    """conu-test/httpd: busybox httpd serving /srv/www on port 8080 (EXPOSEd, labelled)."""
    return _build("httpd")
