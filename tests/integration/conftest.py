"""Fixtures of the integration tests: containers that are always removed."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from conu.exceptions import NotFound


def remove(container: Any) -> None:
    """Force-remove ``container`` (and reap its ``docker run`` process); gone already is fine."""
    with contextlib.suppress(NotFound):
        container.delete(force=True, volumes=True)
    popen = getattr(container, "popen_instance", None)
    if popen is not None:
        for stream in (popen.stdin, popen.stdout, popen.stderr):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()
        with contextlib.suppress(Exception):
            popen.wait(timeout=10)


@pytest.fixture
def track() -> Iterator[Callable[[Any], Any]]:
    """Register containers to force-remove at the end of the test; returns its argument."""
    made: list[Any] = []

    def add(container: Any) -> Any:
        made.append(container)
        return container

    yield add
    for container in made:
        remove(container)


@pytest.fixture
def run(busybox_image: Any, track: Callable[[Any], Any]) -> Callable[..., Any]:
    """Run a busybox container in the background (``run_via_binary``); removed afterwards."""

    def start(command: list[str] | None = None, opts: list[str] | None = None, **kw: Any) -> Any:
        image = kw.pop("image", busybox_image)
        return track(image.run_via_binary(command=command, additional_opts=opts, **kw))

    return start


@pytest.fixture
def sleeper(run: Callable[..., Any]) -> Any:
    """A running busybox container that sleeps (for exec, copy and inspection)."""
    return run(["sleep", "300"])


@pytest.fixture(scope="session")
def make_image(backend: Any, tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Any]:
    """Build an image from Dockerfile text (and extra context files), labelled with the
    session (removed at its end) and with a label of its own, so its id is new."""
    from conu import DockerImage
    from conu.labels import session_labels

    def build(dockerfile: str, tag: str | None = None, files: dict[str, str] | None = None) -> Any:
        context = tmp_path_factory.mktemp("context")
        (context / "Dockerfile").write_text(dockerfile)
        for name, text in (files or {}).items():
            (context / name).write_text(text)
            (context / name).chmod(0o755)
        labels = {**session_labels(), "conu.test.build": context.name}
        # No cache: removing this image must not prune layers a parallel build is using.
        return DockerImage.build(str(context), tag=tag, labels=labels, nocache=True)

    return build


@pytest.fixture(scope="session")
def registry(engine: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A docker-registry on a free loopback port, for the session; yields ``host:port``."""
    from conu.probes import wait_for
    from conu.utils.net import Endpoint, port_accepts

    binary = shutil.which("docker-registry")
    if binary is None:
        message = "the registry tests need docker-registry (run scripts/engine.sh as root)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    # The engine must reach it: loopback for a local engine; for a remote engine, an address
    # of this host the engine treats as an insecure registry (CONU_TEST_REGISTRY_HOST).
    host = os.environ.get("CONU_TEST_REGISTRY_HOST", "127.0.0.1")
    root = tmp_path_factory.mktemp("registry")
    port = _free_port(host)
    config = root / "config.yml"
    config.write_text(REGISTRY_CONFIG.format(root=root / "data", host=host, port=port))
    with open(root / "registry.log", "wb") as log:
        server = subprocess.Popen([binary, "serve", str(config)], stdout=log, stderr=log)
    try:
        endpoint = Endpoint(host, port)
        wait_for(
            lambda: server.poll() is not None or port_accepts(endpoint),
            timeout=30,
            what=f"docker-registry to listen on {host}:{port}",
            pause=0.05,
        )
        if server.poll() is not None:
            pytest.fail(f"docker-registry exited: {(root / 'registry.log').read_text()}")
        yield f"{host}:{port}"
    finally:
        server.terminate()
        server.wait(timeout=10)


REGISTRY_CONFIG = """\
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: {root}
  delete:
    enabled: true
http:
  addr: {host}:{port}
"""


def _free_port(host: str) -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def no_session_containers(engine: Any) -> Iterator[None]:
    """Fail the test if a container of the session is left when it ends (helpers included)."""
    from conu.labels import session_filter

    yield
    left = engine.containers(all=True, filters=session_filter())
    assert not left, f"containers left behind: {[c['Names'] for c in left]}"
