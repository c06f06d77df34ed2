"""Running containers: DockerRunBuilder, run_via_binary(_in_foreground), run_via_api."""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from conu import DockerContainer, DockerImage, DockerImagePullPolicy, DockerRunBuilder
from conu.backend.docker.container_parameters import DockerContainerParameters
from conu.exceptions import ContainerFailed, ConuException, InvalidArgument
from conu.labels import SESSION_ID, SESSION_LABEL, session_filter
from conu.probes import wait_for


def _unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def _session_ids(engine: Any) -> set[str]:
    return {c["Id"] for c in engine.containers(all=True, filters=session_filter())}


# -- run_via_binary ---------------------------------------------------------------------------


def test_run_via_binary_with_builder(busybox_image: Any, track: Callable[[Any], Any]) -> None:
    builder = DockerRunBuilder(command=["cat"], additional_opts=["-i", "-t"])
    options = list(builder.options)
    c = track(busybox_image.run_via_binary(builder))
    assert isinstance(c, DockerContainer)
    assert c.is_running()
    assert "Config" in c.inspect()
    assert c.inspect()["Config"]["Tty"] is True
    assert c.inspect()["Config"]["OpenStdin"] is True
    assert c.get_id() == str(c)
    assert repr(c)
    assert c.image is busybox_image
    assert builder.options == options  # the caller's builder is not mutated
    assert c.inspect()["Config"]["Labels"][SESSION_LABEL] == SESSION_ID
    # the builder can be reused
    track(busybox_image.run_via_binary(builder))


def test_run_via_binary_options(busybox_image: Any, track: Callable[[Any], Any]) -> None:
    name = _unique("conu-name")
    opts = ["--name", name, "-e", "FOO=BAR", "-l", "org.example.x=y", "-w", "/etc"]
    c = track(
        busybox_image.run_via_binary(command=["sh", "-c", "echo $FOO; pwd"], additional_opts=opts)
    )
    assert c.name == name
    assert c.name() == name
    assert c.wait(timeout=10) == 0
    assert c.logs_unicode() == "BAR\n/etc\n"
    assert c.get_metadata().labels["org.example.x"] == "y"
    assert opts == ["--name", name, "-e", "FOO=BAR", "-l", "org.example.x=y", "-w", "/etc"]


def test_run_via_binary_default_command(httpd_image: Any, track: Callable[[Any], Any]) -> None:
    c = track(httpd_image.run_via_binary(additional_opts=["-p", "8080"]))
    assert c.name
    assert c.get_metadata().command == ["httpd", "-f", "-p", "8080", "-h", "/srv/www"]
    c.wait_for_port(8080, timeout=5)


def test_run_via_binary_volumes(
    busybox_image: Any, track: Callable[[Any], Any], tmp_path: Path
) -> None:
    host_dir = tmp_path / "vol"
    host_dir.mkdir()
    (host_dir / "f").write_text("from host\n")
    c = track(
        busybox_image.run_via_binary(
            command=["sh", "-c", "cat /mnt/f; echo back > /mnt/g"],
            volumes=(str(host_dir), "/mnt", "Z"),
        )
    )
    assert c.wait(timeout=10) == 0
    assert c.logs_unicode() == "from host\n"
    assert (host_dir / "g").read_text() == "back\n"
    data = c.inspect()
    assert f"{host_dir}:/mnt:Z" in data["HostConfig"]["Binds"]
    mount = data["Mounts"][0]
    assert mount["Source"] == str(host_dir)
    assert mount["Destination"] == "/mnt"
    assert mount["Mode"] == "Z"


def test_run_via_binary_several_volumes(
    busybox_image: Any, track: Callable[[Any], Any], tmp_path: Path
) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "f").write_text("a\n")
    volumes = [(str(tmp_path / "a"), "/a", "ro"), "/anonymous"]
    c = track(busybox_image.run_via_binary(command=["cat", "/a/f"], volumes=volumes))
    assert c.wait(timeout=10) == 0
    assert c.logs_unicode() == "a\n"
    destinations = {m["Destination"]: m for m in c.inspect()["Mounts"]}
    assert set(destinations) == {"/a", "/anonymous"}
    assert destinations["/a"]["RW"] is False


def test_run_via_binary_failure_leaves_nothing(busybox_image: Any, engine: Any) -> None:
    before = _session_ids(engine)
    with pytest.raises(ContainerFailed) as info:
        busybox_image.run_via_binary(command=["waldo"])
    assert isinstance(info.value, ConuException)
    assert "127" in str(info.value)
    assert _session_ids(engine) == before

    with pytest.raises(ContainerFailed):
        busybox_image.run_via_binary(command=["true"], additional_opts=["--no-such-option"])
    assert _session_ids(engine) == before


def test_run_via_binary_bad_arguments(busybox_image: Any, engine: Any) -> None:
    before = _session_ids(engine)
    with pytest.raises(TypeError):
        busybox_image.run_via_binary(command="sleep 300")
    with pytest.raises(TypeError):
        busybox_image.run_via_binary(command=["true"], additional_opts="-d")
    with pytest.raises(ConuException):
        busybox_image.run_via_binary(DockerRunBuilder(command=["true"]), command=["true"])
    with pytest.raises(ConuException):
        busybox_image.run_via_binary(["true"])  # not a builder
    assert _session_ids(engine) == before


# -- run_via_binary_in_foreground -------------------------------------------------------------


def test_foreground_interactive(busybox_image: Any, track: Callable[[Any], Any]) -> None:
    c = track(
        busybox_image.run_via_binary_in_foreground(
            command=["cat"],
            additional_opts=["-i"],
            popen_params={"stdin": subprocess.PIPE, "stdout": subprocess.PIPE},
        )
    )
    assert c.popen_instance is not None
    assert c.name
    assert c.is_running()
    assert c.logs_unicode() == ""
    c.write_to_stdin("echo palacinky\n")
    assert c.popen_instance.stdout.readline() == b"echo palacinky\n"
    c.write_to_stdin(b"bytes too\n")
    assert c.popen_instance.stdout.readline() == b"bytes too\n"
    with pytest.raises(ConuException):
        c.write_to_stdin(42)
    c.popen_instance.stdin.close()  # EOF: cat exits
    assert c.popen_instance.wait(timeout=10) == 0
    wait_for(lambda: not c.is_running(), timeout=10, pause=0.02, what="cat to exit")
    assert c.logs_unicode() == "echo palacinky\nbytes too\n"
    with pytest.raises(ConuException, match="not running"):
        c.write_to_stdin("late\n")


def test_foreground_container_name(busybox_image: Any, track: Callable[[Any], Any]) -> None:
    name = _unique("conu-fg")
    c = track(
        busybox_image.run_via_binary_in_foreground(
            command=["echo", "hi"],
            container_name=name,
            popen_params={"stdout": subprocess.PIPE},
        )
    )
    assert c.name == name
    assert c.name() == name
    out, _ = c.popen_instance.communicate(timeout=10)
    assert out == b"hi\n"
    assert c.popen_instance.returncode == 0
    assert c.logs_unicode() == "hi\n"


def test_foreground_random_name_and_volume(
    busybox_image: Any, track: Callable[[Any], Any], tmp_path: Path
) -> None:
    (tmp_path / "f").write_text("vol\n")
    c = track(
        busybox_image.run_via_binary_in_foreground(
            DockerRunBuilder(command=["cat", "/mnt/f"]),
            volumes=(str(tmp_path), "/mnt", "Z"),
            popen_params={"stdout": subprocess.PIPE},
        )
    )
    assert c.name
    out, _ = c.popen_instance.communicate(timeout=10)
    assert out == b"vol\n"
    assert f"{tmp_path}:/mnt:Z" in c.inspect()["HostConfig"]["Binds"]


def test_foreground_failing_command(busybox_image: Any, track: Callable[[Any], Any]) -> None:
    c = track(
        busybox_image.run_via_binary_in_foreground(
            command=["waldo"], popen_params={"stdout": subprocess.PIPE, "stderr": subprocess.PIPE}
        )
    )
    c.popen_instance.communicate(timeout=10)
    assert c.popen_instance.returncode > 0
    assert not c.is_running()


def test_foreground_run_fails_before_creating(busybox_image: Any, engine: Any) -> None:
    before = _session_ids(engine)
    with pytest.raises(ContainerFailed):
        busybox_image.run_via_binary_in_foreground(
            command=["true"],
            additional_opts=["--no-such-option"],
            popen_params={"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL},
        )
    assert _session_ids(engine) == before


def test_write_to_stdin_needs_pipe(sleeper: Any) -> None:
    with pytest.raises(ConuException, match="run_via_binary_in_foreground"):
        sleeper.write_to_stdin("x")


# -- get_parameters / run_via_api / create_container ------------------------------------------


def test_run_via_api(busybox_image: Any, track: Callable[[Any], Any]) -> None:
    name = _unique("conu-api")
    builder = DockerRunBuilder(
        command=["sh", "-c", "echo $FOO; exec sleep 300"],
        additional_opts=[
            "-e", "FOO=from-env", "--name", name, "-l", "hello=there",
            "-h", "apihost", "-w", "/etc", "-p", "127.0.0.1:0:7000",
        ],
    )  # fmt: skip
    params = builder.get_parameters()
    assert isinstance(params, DockerContainerParameters)
    assert params.port_mappings == {"7000": ("127.0.0.1", None)}  # host port 0: any free one
    assert params.name == name
    assert params.labels == {"hello": "there"}
    assert params.command == ["sh", "-c", "echo $FOO; exec sleep 300"]
    assert "FOO=from-env" in params.env_variables

    c = track(busybox_image.run_via_api(params))
    assert c.name == name
    assert c.get_id() == str(c)
    assert repr(c)
    wait_for(lambda: c.logs_unicode() == "from-env\n", timeout=10, pause=0.02, what="output")
    assert c.is_running()
    data = c.inspect()
    assert data["Config"]["Hostname"] == "apihost"
    assert data["Config"]["WorkingDir"] == "/etc"
    assert data["Config"]["Labels"]["hello"] == "there"
    assert data["Config"]["Labels"][SESSION_LABEL] == SESSION_ID
    bindings = c.get_port_mappings(7000)
    assert bindings[0]["HostIp"] == "127.0.0.1"


def test_create_container(busybox_image: Any, track: Callable[[Any], Any]) -> None:
    c = track(busybox_image.create_container())
    assert c.get_status() == "created"
    assert c.name is None or isinstance(c.name, str)
    assert c.inspect()["Config"]["Labels"][SESSION_LABEL] == SESSION_ID

    params = DockerRunBuilder(command=["sh", "-c", "exit 5"], additional_opts=["--rm"])
    c = track(busybox_image.create_container(params.get_parameters()))
    assert c.get_status() == "created"
    assert c.inspect()["HostConfig"]["AutoRemove"] is True


def test_run_via_api_failure_leaves_nothing(busybox_image: Any, engine: Any) -> None:
    before = _session_ids(engine)
    params = DockerRunBuilder(command=["waldo"]).get_parameters()
    with pytest.raises(ConuException):
        busybox_image.run_via_api(params)
    assert _session_ids(engine) == before


def test_run_via_api_bad_arguments(busybox_image: Any) -> None:
    with pytest.raises(TypeError):
        busybox_image.run_via_api({"command": ["true"]})
    with pytest.raises(InvalidArgument):
        DockerRunBuilder(additional_opts=["--pids-limit", "many"]).get_parameters()


def test_image_wrong_types() -> None:
    with pytest.raises(ConuException):
        DockerImage("conu-test/busybox", DockerImagePullPolicy.NEVER)
    with pytest.raises(ConuException):
        DockerImage("conu-test/busybox", pull_policy="never")


def test_run_via_api_runtime_reaches_the_engine(busybox_image: Any, engine: Any) -> None:
    # docker-py's create_container(runtime=) puts it where the engine ignores it
    before = _session_ids(engine)
    params = DockerContainerParameters(command=["true"], runtime="conu-no-such-runtime")
    with pytest.raises(ConuException, match="conu-no-such-runtime"):
        busybox_image.run_via_api(params)
    assert _session_ids(engine) == before
