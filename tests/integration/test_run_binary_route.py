"""``run_via_binary`` through the API: the same container as ``docker run``, and the client
only where the options need it. ``HostConfig.ContainerIDFile`` tells the routes apart: the
client is given a ``--cidfile``, the API is not."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from conu import DockerImage, DockerRunBuilder
from conu.backend.docker.cli_equivalent import FORCE_CLI_VARIABLE
from conu.exceptions import ContainerFailed
from conu.labels import session_filter

OPTION_SETS = [
    [],
    ["-e", "A=b", "-e", "CONU_TEST_HOSTVAR", "-e", "CONU_TEST_UNSET", "-l", "x=y", "-w", "/etc"],
    ["-u", "1:2", "--entrypoint", "", "-it", "--hostname", "box", "--stop-signal", "SIGUSR1"],
    ["-p", "8080", "-p", "127.0.0.1::80/udp", "-P", "--init", "--read-only", "--dns", "10.0.0.9"],
    ["--cap-add", "net_admin", "--cap-drop", "CHOWN", "--pids-limit=64", "--ipc", "private"],
    ["--health-cmd", "true", "--health-interval=5s", "--health-retries", "2", "--rm"],
    ["--network", "none", "--group-add", "10", "--runtime", "runc"],
]


def _ids(engine: Any) -> set[str]:
    return {c["Id"] for c in engine.containers(all=True, filters=session_filter())}


def _configuration(
    image: DockerImage, options: list[str], tmp: Path, *, client: bool
) -> dict[str, Any]:
    volumes = [(str(tmp), "/mnt", "ro"), "/anonymous"]
    container = image.run_via_binary(
        command=["sleep", "60"], additional_opts=options, volumes=volumes
    )
    try:
        data = container.inspect()
    finally:
        container.delete(force=True, volumes=True)
    config = {k: v for k, v in data["Config"].items() if k != "Hostname" or "--hostname" in options}
    config["Env"] = sorted(config["Env"] or ())  # the client's order varies from run to run
    host = dict(data["HostConfig"])
    assert bool(host.pop("ContainerIDFile")) == client  # the route taken
    return {"Config": config, "HostConfig": host, "Mounts": len(data["Mounts"])}


@pytest.mark.parametrize("options", OPTION_SETS, ids=lambda o: " ".join(o) or "no options")
def test_same_container_as_the_client(
    busybox_image: DockerImage, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, options: list[str]
) -> None:
    monkeypatch.setenv("CONU_TEST_HOSTVAR", "from host")
    monkeypatch.delenv("CONU_TEST_UNSET", raising=False)
    through_api = _configuration(busybox_image, options, tmp_path, client=False)
    monkeypatch.setenv(FORCE_CLI_VARIABLE, "cli")
    through_client = _configuration(busybox_image, options, tmp_path, client=True)
    assert through_api == through_client


def _route(container: Any) -> str:
    return "client" if container.inspect()["HostConfig"]["ContainerIDFile"] else "api"


def test_the_client_runs_when_needed(
    busybox_image: DockerImage, track: Callable[[Any], Any]
) -> None:
    plain = track(busybox_image.run_via_binary(command=["sleep", "60"]))
    assert _route(plain) == "api"
    assert plain.name and plain.name == plain.inspect()["Name"].lstrip("/")
    unknown = track(
        busybox_image.run_via_binary(command=["sleep", "60"], additional_opts=["--cpus", "1"])
    )
    assert _route(unknown) == "client"
    builder = DockerRunBuilder(command=["sleep", "60"])
    builder.global_options = ["--log-level", "error"]
    assert _route(track(busybox_image.run_via_binary(builder))) == "client"


def test_failures_as_the_client_reports_them(busybox_image: DockerImage, engine: Any) -> None:
    before = _ids(engine)
    with pytest.raises(ContainerFailed, match=r"Container exited with an error: 127: .*waldo"):
        busybox_image.run_via_binary(command=["waldo"])
    with pytest.raises(ContainerFailed, match="Container exited with an error: 126: "):
        busybox_image.run_via_binary(command=["/etc/motd"])  # not executable
    with pytest.raises(ContainerFailed, match=r"Container exited with an error: 125: .*no-such"):
        busybox_image.run_via_binary(command=["true"], additional_opts=["--runtime", "no-such"])
    assert _ids(engine) == before


def test_a_taken_name(busybox_image: DockerImage, engine: Any, track: Callable[[Any], Any]) -> None:
    name = f"conu-taken-{uuid.uuid4().hex[:8]}"
    first = track(
        busybox_image.run_via_binary(command=["sleep", "60"], additional_opts=["--name", name])
    )
    assert first.name == name
    before = _ids(engine)
    with pytest.raises(ContainerFailed, match=f"125: .*{name}"):
        busybox_image.run_via_binary(command=["sleep", "60"], additional_opts=["--name", name])
    assert _ids(engine) == before
