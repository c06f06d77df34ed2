"""Bad input at every public entry point: the error is a conu error (or TypeError/ValueError
where Python expects one) whose message names the argument; never an engine traceback, and
no container left behind."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from conu import DockerBackend, DockerImage, DockerImagePullPolicy, DockerRunBuilder, Probe
from conu.apidefs.backend import CleanupPolicy
from conu.backend.docker.container_parameters import DockerContainerParameters
from conu.exceptions import ConuException, InvalidArgument, NotFound
from conu.labels import session_filter

NEVER = DockerImagePullPolicy.NEVER


@pytest.fixture(scope="module")
def sleeping(busybox_image: Any) -> Any:
    container = busybox_image.run_via_binary(command=["sleep", "600"])
    yield container
    container.delete(force=True)


@pytest.fixture(autouse=True)
def _nothing_left(engine: Any) -> Iterator[None]:
    """Bad input must not leave a container either (the module's sleeper aside)."""
    before = {c["Id"] for c in engine.containers(all=True, filters=session_filter())}
    yield
    after = {c["Id"] for c in engine.containers(all=True, filters=session_filter())}
    assert after <= before, f"left behind: {after - before}"


CONTAINER_CASES: list[tuple[str, Callable[[Any], Any], type[BaseException], str]] = [
    ("port not a number", lambda c: c.is_port_open("http"), InvalidArgument, "port"),
    ("port out of range", lambda c: c.is_port_open(70000), InvalidArgument, "port"),
    ("port zero", lambda c: c.wait_for_port(0), InvalidArgument, "port"),
    ("port None", lambda c: c.wait_for_port(None), TypeError, "port"),
    ("negative timeout", lambda c: c.wait_for_port(8080, timeout=-5), InvalidArgument, "timeout"),
    ("probe timeout type", lambda c: c.is_port_open(8080, timeout="2"), TypeError, "timeout"),
    ("http port", lambda c: c.http_request(port=65536), InvalidArgument, "port"),
    ("connection port", lambda c: c.open_connection(-1), InvalidArgument, "port"),
    ("unknown signal", lambda c: c.kill(signal="SIGNOPE"), InvalidArgument, "signal"),
    ("signal number", lambda c: c.kill(signal=999), InvalidArgument, "signal"),
    ("signal type", lambda c: c.kill(signal=1.5), TypeError, "signal"),
    ("wait timeout", lambda c: c.wait(timeout=-1), InvalidArgument, "timeout"),
    ("wait timeout type", lambda c: c.wait(timeout="1"), TypeError, "timeout"),
    ("command str", lambda c: c.execute("ls -l"), TypeError, "command"),
    ("command empty", lambda c: c.execute([]), InvalidArgument, "command"),
    ("command item", lambda c: c.execute(["ls", 1]), TypeError, "command"),
    (
        "missing host path",
        lambda c: c.copy_to("/no/such/host/path", "/tmp"),
        ConuException,
        "/no/such/host/path",
    ),
    ("missing container path", lambda c: c.copy_from("/no/such", "/tmp/x"), NotFound, "/no/such"),
    (
        "missing destination",
        lambda c: c.copy_to("/etc/hostname", "/no/such/dir/x"),
        NotFound,
        "/no/such/dir",
    ),
    ("empty container path", lambda c: c.copy_from("", "/tmp/x"), InvalidArgument, "src"),
    ("mount point type", lambda c: c.mount(mount_point=5), TypeError, "mount_point"),
]


@pytest.mark.parametrize(
    ("case", "call", "error", "named"), CONTAINER_CASES, ids=[c[0] for c in CONTAINER_CASES]
)
def test_container_entry_points(
    sleeping: Any, case: str, call: Callable[[Any], Any], error: type[BaseException], named: str
) -> None:
    with pytest.raises(error) as info:
        call(sleeping)
    assert named in str(info.value)
    assert "Traceback" not in str(info.value)


IMAGE_CASES: list[tuple[str, Callable[[Any], Any], type[BaseException], str]] = [
    ("run command str", lambda i: i.run_via_binary(command="ls"), TypeError, "command"),
    (
        "run opts str",
        lambda i: i.run_via_binary(additional_opts="-d"),
        TypeError,
        "additional_opts",
    ),
    (
        "run builder and command",
        lambda i: i.run_via_binary(DockerRunBuilder(), command=["ls"]),
        ConuException,
        "command",
    ),
    (
        "unknown run option",
        lambda i: i.run_via_binary(additional_opts=["--no-such-option"]),
        ConuException,
        "--no-such-option",
    ),
    (
        "missing executable",
        lambda i: i.run_via_binary(command=["/no/such/exe"]),
        ConuException,
        "/no/such/exe",
    ),
    ("api params type", lambda i: i.run_via_api("-d"), TypeError, "container_params"),
    (
        "bad port spec",
        lambda i: i.run_via_api(DockerContainerParameters(port_mappings={"x": 1})),
        InvalidArgument,
        "x",
    ),
    ("run_command str", lambda i: i.run_command("ls"), TypeError, "command"),
    (
        "run_command timeout",
        lambda i: i.run_command(["true"], timeout=0),
        InvalidArgument,
        "timeout",
    ),
    ("read_file empty", lambda i: i.read_file(""), InvalidArgument, "path"),
    ("read_file type", lambda i: i.read_file(3), InvalidArgument, "path"),
    ("read_file missing", lambda i: i.read_file("/no/such"), ConuException, "/no/such"),
    ("save_to type", lambda i: i.save_to(3), InvalidArgument, "3"),
    (
        "save_to missing dir",
        lambda i: i.save_to("/no/such/dir/x.tar"),
        InvalidArgument,
        "/no/such/dir",
    ),
    ("load_from missing", lambda i: i.load_from("/no/such.tar"), InvalidArgument, "/no/such.tar"),
    ("tag_image nothing", lambda i: i.tag_image(), ValueError, "repository"),
    ("tag_image bad", lambda i: i.tag_image("Bad/Name"), InvalidArgument, "Bad"),
    ("signature keys", lambda i: i.has_pkgs_signed_with("abc"), InvalidArgument, "allowed_keys"),
]


@pytest.mark.parametrize(
    ("case", "call", "error", "named"), IMAGE_CASES, ids=[c[0] for c in IMAGE_CASES]
)
def test_image_entry_points(
    busybox_image: Any,
    case: str,
    call: Callable[[Any], Any],
    error: type[BaseException],
    named: str,
) -> None:
    with pytest.raises(error) as info:
        call(busybox_image)
    assert named in str(info.value)


CONSTRUCTOR_CASES: list[tuple[str, Callable[[], Any], type[BaseException], str]] = [
    ("reference type", lambda: DockerImage(5), TypeError, "reference"),
    ("reference case", lambda: DockerImage("UPPER/Case"), InvalidArgument, "lowercase"),
    ("reference colons", lambda: DockerImage("a:b:c:d"), InvalidArgument, "a:b:c:d"),
    ("reference empty", lambda: DockerImage(""), InvalidArgument, "empty"),
    ("reference spaces", lambda: DockerImage("my image"), InvalidArgument, "whitespace"),
    ("bad digest", lambda: DockerImage("repo@sha256:abc"), InvalidArgument, "digest"),
    ("tag type", lambda: DockerImage("repo", tag=5), ConuException, "tag"),
    ("bad tag", lambda: DockerImage("repo", tag="-bad"), InvalidArgument, "tag"),
    ("policy type", lambda: DockerImage("repo", pull_policy="never"), ConuException, "pull_policy"),
    ("no name nor id", lambda: DockerImage(None), InvalidArgument, "identifier"),
    (
        "build path",
        lambda: DockerImage.build("/no/such/context"),
        InvalidArgument,
        "/no/such/context",
    ),
    ("cleanup str", lambda: DockerBackend(cleanup="everything"), TypeError, "cleanup"),
    ("cleanup item", lambda: DockerBackend(cleanup=["x"]), TypeError, "cleanup"),
    (
        "cleanup conflict",
        lambda: DockerBackend(cleanup=[CleanupPolicy.NOTHING, CleanupPolicy.IMAGES]),
        ConuException,
        "NOTHING",
    ),
    ("probe fnc", lambda: Probe(fnc=None), TypeError, "fnc"),
    ("probe timeout", lambda: Probe(timeout=-3, fnc=bool), InvalidArgument, "timeout"),
    ("builder command", lambda: DockerRunBuilder(command="ls"), TypeError, "command"),
    (
        "params ports",
        lambda: DockerContainerParameters(port_mappings="8080"),
        TypeError,
        "port_mappings",
    ),
    ("params command", lambda: DockerContainerParameters(command="ls"), TypeError, "command"),
]


@pytest.mark.parametrize(
    ("case", "call", "error", "named"), CONSTRUCTOR_CASES, ids=[c[0] for c in CONSTRUCTOR_CASES]
)
def test_constructors(
    engine: Any, case: str, call: Callable[[], Any], error: type[BaseException], named: str
) -> None:
    with pytest.raises(error) as info:
        call()
    assert named in str(info.value)


def test_missing_image_on_run(tmp_path: Path) -> None:
    image = DockerImage("conu-test/never-built", tag="x", pull_policy=NEVER)
    with pytest.raises(NotFound, match="never-built"):
        image.run_via_binary(command=["true"])
