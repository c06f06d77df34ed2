"""Engine faults against the remote engine of scripts/remote-engine.sh, which these tests
freeze, stop and restart: run them alone, after the other suites (``make test-remote``).

A frozen engine (SIGSTOP) makes calls fail with conu errors within their timeout; a stopped
engine makes them fail at once; once the engine is back, the next call works.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent
SCRIPT = ROOT / "scripts" / "remote-engine.sh"
PIDFILE = Path("/var/run/conu-remote.pid")

pytestmark = pytest.mark.skipif(
    not os.environ.get("CONU_REMOTE_FAULTS"),
    reason="freezes and restarts the remote engine: run by `make test-remote`",
)

# The child checks what a conu user sees, with a 3 s request timeout.
CHILD = """
import sys, time
from conu import DockerImage, DockerImagePullPolicy
from conu.exceptions import ConuException
image = DockerImage("conu-test/busybox", pull_policy=DockerImagePullPolicy.NEVER)
container = image.run_via_binary(command=["sleep", "600"])
print("running", flush=True)
sys.stdin.readline()                      # the engine is frozen or stopped now
for call in (container.is_running, container.inspect, image.inspect):
    start = time.monotonic()
    try:
        call()
        print("no error", call.__name__, flush=True)
    except ConuException as exc:
        print(f"{type(exc).__name__} {time.monotonic() - start:.1f} {exc}", flush=True)
print("checked", flush=True)
sys.stdin.readline()                      # the engine is back
print("back", container.is_running(), flush=True)
container.delete(force=True)
"""


def _dockerd_pid() -> int:
    return int(PIDFILE.read_text().strip())


@pytest.fixture
def child() -> Iterator[subprocess.Popen[str]]:
    env = {**os.environ, "CONU_ENGINE_TIMEOUT": "3"}
    process = subprocess.Popen(
        [sys.executable, "-c", CHILD],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert process.stdout is not None
    assert process.stdout.readline().strip() == "running"
    yield process
    if process.poll() is None:
        process.kill()
    process.wait(timeout=30)


def _lines_until_checked(process: subprocess.Popen[str]) -> list[str]:
    assert process.stdin is not None and process.stdout is not None
    process.stdin.write("\n")
    process.stdin.flush()
    lines = []
    while (line := process.stdout.readline().strip()) != "checked":
        assert line, "the child ended early"
        lines.append(line)
    return lines


def _back(process: subprocess.Popen[str]) -> str:
    assert process.stdin is not None and process.stdout is not None
    process.stdin.write("\n")
    process.stdin.flush()
    return process.stdout.readline().strip()


def test_frozen_engine_times_out_then_recovers(child: subprocess.Popen[str]) -> None:
    pid = _dockerd_pid()
    os.kill(pid, signal.SIGSTOP)
    try:
        lines = _lines_until_checked(child)
    finally:
        os.kill(pid, signal.SIGCONT)
    for line in lines:
        kind, seconds, message = line.split(" ", 2)
        assert kind == "ProbeTimeout", line
        assert float(seconds) < 6, line  # 3 s timeout, plus slack
        assert "did not answer in 3.0s" in message, line
    assert _back(child) == "back True"


def test_stopped_engine_fails_fast_then_recovers(child: subprocess.Popen[str]) -> None:
    pid = _dockerd_pid()
    os.kill(pid, signal.SIGKILL)  # the daemon dies; its containers keep running (live restore off)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and Path(f"/proc/{pid}/status").exists():
        if "zombie" in Path(f"/proc/{pid}/status").read_text():
            break
        time.sleep(0.1)
    lines = _lines_until_checked(child)
    for line in lines:
        kind, seconds, message = line.split(" ", 2)
        assert kind == "EngineUnreachable", line
        assert float(seconds) < 3, line
        assert os.environ["DOCKER_HOST"] in message, line
    subprocess.run(["bash", str(SCRIPT), "start"], check=True, capture_output=True, timeout=120)
    back = _back(child)
    assert back.startswith("back"), back  # the call works again (the container may be gone)
