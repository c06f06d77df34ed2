"""The pytest plugin and cleanup guarantees, checked with child pytest sessions.

Each child gets its own ``CONU_SESSION_ID`` so that this session can find (and finally
remove) what the child made, without touching anything else.
"""

from __future__ import annotations

import glob
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conu.backend.docker.engine import DockerEngine
from conu.labels import SESSION_ID, SESSION_LABEL, sessions_of, tmp_prefix
from conu.probes import wait_for

CHILD_TIMEOUT = 240


@pytest.fixture
def child_session(engine: Any) -> Iterator[str]:
    """A session id for a child; whatever carries it (or its xdist variants) is removed."""
    session = f"{SESSION_ID}-child-{time.monotonic_ns()}"
    yield session
    for found in _sessions_like(engine, session):
        DockerEngine.default().remove_session(found)


def _sessions_like(engine: Any, prefix: str) -> set[str]:
    listed = sessions_of(DockerEngine.default().list_session_labels())
    return {s for s in listed if s.startswith(prefix)}


def _containers(engine: Any, prefix: str) -> list[dict[str, Any]]:
    every = engine.containers(all=True, filters={"label": [SESSION_LABEL]})
    return [c for c in every if c["Labels"][SESSION_LABEL].startswith(prefix)]


def _env(session: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CONU_", "PYTEST_"))}
    return {**env, "CONU_SESSION_ID": session, **extra}


def _pytest(directory: Path, session: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", *args, str(directory)],
        cwd=directory,
        env=_env(session),
        capture_output=True,
        text=True,
        timeout=CHILD_TIMEOUT,
        check=False,
    )


FIXTURE_SUITE = """
import pytest

IMAGE = "conu-test/busybox"


def test_backend_fixture(backend):
    assert backend.name == "docker"


def test_container_factory(container_factory, backend):
    c = container_factory(IMAGE, ["sh", "-c", "echo started; sleep 300"], name="web",
                          additional_opts=["-p", "8080"])
    assert c.is_running()
    assert c.name.startswith("web-") and "-child-" in c.name
    assert c.get_port_mappings(8080)  # published on a free host port


def test_image_factory(image_factory, tmp_path):
    (tmp_path / "Dockerfile").write_text("FROM conu-test/busybox\\nLABEL built=here\\n")
    image = image_factory.build(str(tmp_path))
    assert image.get_metadata().labels["built"] == "here"
    assert image_factory("conu-test/busybox").is_present()


def test_docker_backend_fixture(docker_backend):
    from conu import DockerImage
    c = DockerImage("conu-test/busybox").run_via_binary(command=["sleep", "300"])
    assert c.is_running()


def test_failure_attaches_logs(container_factory):
    c = container_factory(IMAGE, ["sh", "-c", "echo a line from the container; sleep 300"])
    from conu.probes import wait_for
    wait_for(lambda: "a line" in c.logs_unicode(), timeout=10, what="the line")
    assert False, "failing on purpose"
"""


def test_fixtures_in_a_child_session(child_session: str, engine: Any, tmp_path: Path) -> None:
    (tmp_path / "test_suite.py").write_text(FIXTURE_SUITE)
    done = _pytest(tmp_path, child_session)
    assert "1 failed, 4 passed" in done.stdout, done.stdout + done.stderr
    assert "conu: logs of container" in done.stdout
    assert "a line from the container" in done.stdout
    assert _containers(engine, child_session) == []
    assert not _sessions_like(engine, child_session)  # no image, network, volume either


KILLED_SUITE = """
import pathlib, time

def test_runs_until_killed(container_factory):
    for _ in range(2):
        container_factory("conu-test/busybox", ["sleep", "300"])
    pathlib.Path("{marker}").write_text("ready")
    time.sleep(300)
"""


@pytest.mark.parametrize("victim", ["process", "process group"])
def test_killed_session_leaves_nothing(
    victim: str, child_session: str, engine: Any, tmp_path: Path
) -> None:
    marker = tmp_path / "ready"
    (tmp_path / "test_killed.py").write_text(KILLED_SUITE.format(marker=marker))
    child = subprocess.Popen(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", str(tmp_path)],
        cwd=tmp_path,
        env=_env(child_session),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        wait_for(marker.exists, timeout=60, what="the child session to start its containers")
        assert len(_containers(engine, child_session)) == 2
        if victim == "process":
            os.kill(child.pid, signal.SIGKILL)
        else:
            os.killpg(child.pid, signal.SIGKILL)
        killed = time.monotonic()
        child.wait(timeout=10)
        wait_for(
            lambda: not _containers(engine, child_session),
            timeout=30,
            what="the watchdog to remove the killed session's containers",
            pause=0.2,
        )
        elapsed = time.monotonic() - killed
        print(f"containers gone {elapsed:.1f}s after SIGKILL of the {victim}")
        assert elapsed < 30
        # Its temporary directories (the backend's, cidfiles) go with them.
        wait_for(
            lambda: not glob.glob(f"{tempfile.gettempdir()}/{tmp_prefix(child_session)}*"),
            timeout=30,
            what="the watchdog to remove the killed session's temporary directories",
            pause=0.2,
        )
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()


XDIST_SUITE = """
import pathlib, time
import pytest

WORKERS = pathlib.Path("{directory}")


def _wait(name):
    deadline = time.monotonic() + 30
    while not (WORKERS / name).exists() and time.monotonic() < deadline:
        time.sleep(0.05)


@pytest.mark.parametrize("me, other", [("a", "b"), ("b", "a")])
def test_worker(me, other, backend, container_factory, worker_id):
    from conu.labels import SESSION_ID
    c = container_factory("conu-test/busybox", ["sleep", "300"], name="same-name",
                          additional_opts=["-p", "8080"])
    (WORKERS / me).write_text(f"{{worker_id}} {{SESSION_ID}} {{c.name}}")
    _wait(other)
    backend.cleanup_containers()  # this worker's session only
    (WORKERS / (me + ".cleaned")).write_text("")
    _wait(other + ".cleaned")
"""


def test_xdist_workers_are_separate_sessions(
    child_session: str, engine: Any, tmp_path: Path
) -> None:
    suite = tmp_path / "suite"
    suite.mkdir()
    (suite / "test_parallel.py").write_text(XDIST_SUITE.format(directory=tmp_path))
    done = _pytest(suite, child_session, "-n", "2")
    assert "2 passed" in done.stdout, done.stdout + done.stderr
    seen = [(tmp_path / name).read_text().split() for name in ("a", "b")]
    workers, sessions, names = zip(*seen, strict=True)
    assert len(set(workers)) == 2
    assert len(set(sessions)) == 2 and all(s.startswith(child_session) for s in sessions)
    assert len(set(names)) == 2
    assert _containers(engine, child_session) == []


SURVIVOR = """
import sys
from conu import DockerImage
c = DockerImage("conu-test/busybox").run_via_binary(command=["sleep", "300"])
print(c.get_id(), flush=True)
sys.stdin.read()  # runs until told to stop
c.delete(force=True)
"""

DEAD = """
from conu import DockerImage
c = DockerImage("conu-test/busybox").run_via_binary(command=["sleep", "300"])
print(c.get_id())
"""


def test_conu_cleanup_spares_running_sessions(child_session: str, engine: Any) -> None:
    running = subprocess.Popen(
        [sys.executable, "-c", SURVIVOR],
        env=_env(f"{child_session}-running"),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert running.stdout is not None and running.stdin is not None
        alive_id = running.stdout.readline().strip()
        dead_id = subprocess.run(
            [sys.executable, "-c", DEAD],
            env=_env(f"{child_session}-dead"),
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        ).stdout.strip()
        conu = [sys.executable, "-m", "conu.cli", "cleanup"]
        listed = subprocess.run([*conu, "--dry-run"], capture_output=True, text=True, check=True)
        assert f"would remove session {child_session}-dead" in listed.stdout
        assert f"{child_session}-running" not in listed.stdout

        out = subprocess.run(conu, capture_output=True, text=True, check=True).stdout
        assert f"removed session {child_session}-dead" in out
        ids = {c["Id"] for c in _containers(engine, child_session)}
        assert alive_id in ids
        assert dead_id not in ids
        running.stdin.close()
        running.wait(timeout=30)
    finally:
        if running.poll() is None:
            running.kill()
            running.wait()
    assert _containers(engine, child_session) == []


def test_cleanup_of_one_session(child_session: str, engine: Any) -> None:
    created = subprocess.run(
        [sys.executable, "-c", DEAD],
        env=_env(child_session),
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout.strip()
    assert [c["Id"] for c in _containers(engine, child_session)] == [created]
    conu = [sys.executable, "-m", "conu.cli", "cleanup", "--session", child_session]
    out = subprocess.run(conu, capture_output=True, text=True, check=True).stdout
    assert f"removed session {child_session}" in out and "1 containers" in out
    assert _containers(engine, child_session) == []
