"""Containers: run, status, exec, logs, stop/kill/start, wait and exit codes, delete."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from conu.apidefs.backend import Backend, Capability
from conu.apidefs.container import Container
from conu.apidefs.metadata import ContainerMetadata, ContainerStatus
from conu.exceptions import CommandFailed, ContainerNotFound, ConuException, ProbeTimeout
from conu.labels import SESSION_ID, SESSION_LABEL
from conu.probes import wait_for


def _stopped(container: Container, timeout: float = 30) -> None:
    wait_for(lambda: not container.is_running(), timeout=timeout, what="the container to stop")


def test_run_in_background(sleeper: Any, backend: Backend) -> None:
    assert isinstance(sleeper, backend.ContainerClass)
    assert sleeper.is_running()
    assert sleeper.get_status() == "running"
    assert sleeper.status() is ContainerStatus.RUNNING
    # The engine's document names the container (a namespaced id such as Kubernetes'
    # ``namespace/pod`` holds the two apart in it).
    assert sleeper.get_id() and sleeper.get_id().rpartition("/")[2] in str(sleeper.inspect())


def test_metadata(sleeper: Any) -> None:
    md = sleeper.get_metadata()
    assert isinstance(md, ContainerMetadata)
    assert md.status is ContainerStatus.RUNNING
    assert (md.labels or {}).get(SESSION_LABEL) == SESSION_ID  # cleanup finds it by this label
    assert md.env_variables["CONFORMANCE"] == "yes"
    assert md.name and isinstance(md.name, str)
    assert md.identifier and sleeper.get_id().endswith(md.identifier)


def test_name_is_a_str_that_can_be_called(sleeper: Any) -> None:
    assert sleeper.name == sleeper.name() and isinstance(sleeper.name, str)


def test_execute(require: Callable[[Capability], None], sleeper: Any) -> None:
    require(Capability.EXEC)
    assert b"".join(sleeper.execute(["echo", "hello"])) == b"hello\n"
    assert b"".join(sleeper.execute(["sh", "-c", "echo out; echo err >&2"])).count(b"\n") == 2
    with pytest.raises(CommandFailed) as info:
        sleeper.execute(["sh", "-c", "exit 7"])
    assert info.value.exit_code == 7
    assert "exit code 7" in str(info.value)


def test_logs(run: Callable[..., Any]) -> None:
    container = run(["sh", "-c", "echo one; echo two >&2; echo three"])
    assert container.wait(timeout=30) == 0
    assert sorted(container.logs_unicode().splitlines()) == ["one", "three", "two"]
    lines = list(container.logs())
    assert len(lines) == 3 and all(isinstance(line, bytes) for line in lines)
    assert container.logs_in_bytes().count(b"\n") == 3


def test_logs_follow(require: Callable[[Capability], None], run: Callable[..., Any]) -> None:
    require(Capability.LOGS_FOLLOW)
    container = run(["sh", "-c", "for i in 1 2 3; do echo $i; sleep 0.1; done"])
    assert [line.strip() for line in container.logs(follow=True)] == [b"1", b"2", b"3"]


def test_wait_returns_the_exit_code(run: Callable[..., Any]) -> None:
    container = run(["sh", "-c", "exit 3"])
    assert container.wait(timeout=30) == 3
    assert container.exit_code() == 3
    assert not container.is_running()
    assert container.status() is ContainerStatus.FAILED


def test_wait_timeout(sleeper: Any) -> None:
    with pytest.raises(ProbeTimeout):
        sleeper.wait(timeout=1)
    assert sleeper.is_running()


def test_stop_and_start(run: Callable[..., Any]) -> None:
    container = run(["sh", "-c", "trap 'exit 0' TERM; while :; do sleep 0.1; done"])
    container.stop()
    _stopped(container)
    assert container.status() is ContainerStatus.NOT_RUNNING
    assert container.exit_code() == 0
    container.start()
    assert container.is_running()


def test_kill(sleeper: Any) -> None:
    sleeper.kill()
    _stopped(sleeper)
    assert sleeper.exit_code() != 0


def test_kill_with_signal(run: Callable[..., Any]) -> None:
    container = run(["sh", "-c", "trap 'exit 42' TERM; echo ready; while :; do sleep 0.1; done"])
    wait_for(lambda: "ready" in container.logs_unicode(), timeout=10, what="the trap to be set")
    container.kill(signal="SIGTERM")
    assert container.wait(timeout=30) == 42


def test_delete(run: Callable[..., Any]) -> None:
    container = run(["sleep", "300"])
    container.delete(force=True)
    with pytest.raises(ContainerNotFound):
        container.inspect()
    with pytest.raises(ConuException):
        container.delete(force=True)


def test_command_that_does_not_exist(run: Callable[..., Any]) -> None:
    with pytest.raises(ConuException):
        run(["/no/such/command"])


def test_pid(require: Callable[[Capability], None], sleeper: Any) -> None:
    require(Capability.PID)
    assert sleeper.get_pid() > 1
