"""An engine that does not answer gives a clear conu error, within 10 s, naming DOCKER_HOST."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

import pytest

CHILD = """
import time
from conu import DockerBackend
start = time.monotonic()
try:
    DockerBackend()
except Exception as exc:
    print(f"{type(exc).__module__}.{type(exc).__name__}|{time.monotonic() - start:.2f}|{exc}")
"""


def _try(docker_host: str) -> tuple[str, float, str]:
    env = {**os.environ, "DOCKER_HOST": docker_host}
    env.pop("DOCKER_TLS_VERIFY", None)
    env.pop("DOCKER_CERT_PATH", None)
    done = subprocess.run(
        [sys.executable, "-c", CHILD], env=env, capture_output=True, text=True, timeout=60
    )
    kind, seconds, message = done.stdout.strip().split("|", 2)
    return kind, float(seconds), message


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A TCP server that accepts connections and never says a word."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    thread.join(5)
    for sock in [*held, server]:
        sock.close()


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_refused() -> None:
    host = f"tcp://127.0.0.1:{_closed_port()}"
    kind, seconds, message = _try(host)
    assert kind == "conu.exceptions.EngineUnreachable"
    assert host in message and seconds < 10


def test_silent_engine() -> None:
    kind, seconds, message = _try(f"unix:///nonexistent/{time.monotonic_ns()}.sock")
    assert kind == "conu.exceptions.EngineUnreachable"
    assert "unix:///nonexistent/" in message and seconds < 10


def test_engine_that_never_answers(silent_server: int) -> None:
    host = f"tcp://127.0.0.1:{silent_server}"
    kind, seconds, message = _try(host)
    assert kind == "conu.exceptions.EngineUnreachable"
    assert host in message and "timed out" in message
    assert seconds < 10
