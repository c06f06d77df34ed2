"""The podman engine's primitives against real podman (no mock), on an image built here.

The image is ``FROM scratch`` with the host's static busybox and a few files and links;
every container, image, volume and network carries the session's labels and is removed by
the test that made it, and the module checks that podman holds none of them at its end.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import socket
import stat
import subprocess
import tarfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from conu.apidefs.backend import Capability
from conu.apidefs.metadata import PathKind
from conu.apidefs.specs import BuildSpec, ContainerInfo, ContainerState, PortBinding, RunSpec
from conu.exceptions import (
    BuildFailed,
    CommandDoesNotExistException,
    Conflict,
    ContainerNotFound,
    ImageNotFound,
    InvalidArgument,
    NotFound,
    ProbeTimeout,
    RegistryError,
)
from conu.labels import SESSION_ID, SESSION_LABEL, session_labels
from conu.utils.net import Endpoint, port_accepts
from conu.utils.reference import Reference

PODMAN = shutil.which("podman")
pytestmark = pytest.mark.skipif(PODMAN is None, reason="podman is not installed")

DOCKERFILE = """\
FROM scratch
COPY busybox /bin/busybox
RUN ["/bin/busybox", "--install", "-s", "/bin"]
COPY hello.txt /data/file
RUN mkdir -p /data/sub /srv/www && echo page > /srv/www/index.html \\
 && ln -s /data/file /data/abslink && ln -s file /data/rellink \\
 && ln -s /nowhere /data/dangling && ln -s loop1 /data/loop2 && ln -s loop2 /data/loop1 \\
 && ln /data/file /data/hard && ln -s /data /dlink && mkfifo /data/fifo \\
 && chown 1000:2000 /data/file && chmod 4750 /data/file
EXPOSE 8080
CMD ["sh"]
"""
TAG = f"localhost/conu-podman-engine:{SESSION_ID.lower()}"


def podman(*args: str) -> str:
    """Run podman directly (test setup and checks, never the code under test)."""
    assert PODMAN is not None
    done = subprocess.run([PODMAN, *args], capture_output=True, check=True, timeout=120)
    return done.stdout.decode()


def session_ids(kind: list[str]) -> list[str]:
    """Ids of the session's resources listed by ``podman <kind...> --quiet``."""
    output = podman(*kind, "--quiet", "--filter", f"label={SESSION_LABEL}={SESSION_ID}")
    return output.split()


@pytest.fixture(scope="module")
def engine() -> Iterator[Any]:
    """The engine; at the end of the module, nothing of the session may be left."""
    from conu.backend.podman.engine import PodmanEngine

    made = PodmanEngine()
    before = set(session_ids(["ps", "--all"]))  # other modules of this session may run some
    yield made
    left = set(session_ids(["ps", "--all"])) - before
    for cid in left:
        made.remove_container(cid, force=True)
    assert not left, f"containers left behind: {left}"


@pytest.fixture(scope="module")
def image(engine: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The test image (built with the engine), removed with the module."""
    context = tmp_path_factory.mktemp("podman-context")
    shutil.copy("/bin/busybox", context / "busybox")
    (context / "hello.txt").write_text("hello\n")
    (context / "Dockerfile").write_text(DOCKERFILE)
    spec = BuildSpec(path=str(context), tag=TAG, labels=session_labels())
    before = set(session_ids(["images", "--all"]))  # other modules' images of this session
    ident = engine.build_image(spec)
    yield ident
    with contextlib.suppress(ImageNotFound):
        engine.remove_image(ident, force=True)
    assert not set(session_ids(["images", "--all"])) - before


@pytest.fixture
def make(engine: Any, image: str) -> Iterator[Callable[..., str]]:
    """Create containers of the test image (session labels added); removed after the test."""
    made: list[str] = []

    def create(**fields: Any) -> str:
        fields.setdefault("image", image)
        fields["labels"] = {**session_labels(), **fields.get("labels", {})}
        cid = engine.create_container(RunSpec(**fields))
        made.append(cid)
        return str(cid)

    yield create
    for cid in made:
        with contextlib.suppress(ContainerNotFound):
            engine.remove_container(cid, force=True, volumes=True)


@pytest.fixture
def sleeper(engine: Any, make: Callable[..., str]) -> str:
    """A running container that sleeps."""
    cid = make(command=["sleep", "300"])
    engine.start_container(cid)
    return cid


# -- the engine itself ------------------------------------------------------------------


def test_identity(engine: Any) -> None:
    assert engine.name == "podman"
    assert engine.cli_command() == ["podman"]
    assert engine.version()[0].isdigit()
    expected = set(Capability)
    if os.geteuid() != 0:
        expected -= {Capability.MOUNT, Capability.IMAGE_FILES}
    assert engine.capabilities == expected


def test_missing_podman(engine: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from conu.backend.podman import cli

    monkeypatch.setattr(cli, "BINARY", "conu-no-such-podman")
    with pytest.raises(CommandDoesNotExistException):
        engine.version()
    with pytest.raises(CommandDoesNotExistException):
        engine.export_container("x")


@pytest.mark.parametrize(
    ("raw", "state"),
    [
        ("configured", ContainerState.CREATED),
        ("created", ContainerState.CREATED),
        ("initialized", ContainerState.CREATED),
        ("running", ContainerState.RUNNING),
        ("stopping", ContainerState.RUNNING),
        ("paused", ContainerState.PAUSED),
        ("exited", ContainerState.EXITED),
        ("Stopped", ContainerState.EXITED),
        ("removing", ContainerState.REMOVING),
        ("dead", ContainerState.DEAD),
        ("unknown", ContainerState.UNKNOWN),
        (None, ContainerState.UNKNOWN),
    ],
)
def test_container_state(engine: Any, raw: str | None, state: ContainerState) -> None:
    assert engine.container_state(raw) is state


def test_container_address_fallbacks(engine: Any) -> None:
    host = ContainerInfo(id="x", network_mode="host")
    assert engine.container_address(host, 80) == Endpoint("127.0.0.1", 80)
    published = ContainerInfo(id="x", ports={"80/tcp": (PortBinding("", 4321),)})
    assert engine.container_address(published, 80) == Endpoint("127.0.0.1", 4321, proxied=True)
    with pytest.raises(Exception, match="cannot be reached"):
        engine.container_address(ContainerInfo(id="x"), 80)


# -- containers ---------------------------------------------------------------------------


def test_create_and_inspect_every_field(
    engine: Any, make: Callable[..., str], tmp_path: Path
) -> None:
    (tmp_path / "mounted").write_text("from the host")
    for path in (tmp_path, *tmp_path.parents):  # readable by uid 1000 in the container
        if path.stat().st_uid == os.geteuid():
            path.chmod(path.stat().st_mode | 0o005)
    name = f"conu-test-{uuid.uuid4().hex[:8]}"
    cid = make(
        name=name,
        command=["-c", "echo $A; pwd; id -u; hostname; cat /mnt/mounted"],
        entrypoint=["sh", "-e"],
        env={"A": "b c"},
        labels={"conu.test": "yes"},
        user="1000:1000",
        working_dir="/data",
        hostname="boxy",
        cap_add=["NET_ADMIN"],
        binds=[f"{tmp_path}:/mnt:ro,z"],
        ports={"9090/tcp": (PortBinding("127.0.0.1", None),), "7070": ()},
    )
    info = engine.inspect_container(cid)
    assert (info.id, info.name, info.image_id, info.state) == (
        cid,
        name,
        engine.inspect_image(TAG).id,
        ContainerState.CREATED,
    )
    assert info.labels["conu.test"] == "yes"
    assert "A=b c" in info.env
    assert info.command == ("-c", "echo $A; pwd; id -u; hostname; cat /mnt/mounted")
    assert info.hostname == "boxy"
    assert info.ports == {}  # not running yet
    assert set(info.exposed_ports) >= {"8080/tcp", "9090/tcp", "7070/tcp"}
    (binding,) = info.requested_ports["9090/tcp"]
    assert binding.host_ip == "127.0.0.1"  # podman picks the host port at create time
    assert info.raw["Id"] == cid
    assert engine.inspect_container(name).id == cid
    engine.start_container(cid)
    code = engine.wait_container(cid, 30)
    output = b"".join(engine.container_logs(cid)).decode().split("\n")
    assert code == 0, output
    assert output[:5] == ["b c", "/data", "1000", "boxy", "from the host"]
    assert engine.inspect_container(cid).state is ContainerState.EXITED


def test_create_errors(engine: Any, make: Callable[..., str]) -> None:
    with pytest.raises(ImageNotFound):
        make(image="localhost/conu-no-such-image:1")
    name = f"conu-test-{uuid.uuid4().hex[:8]}"
    make(name=name)
    with pytest.raises(Conflict):
        make(name=name)
    with pytest.raises(InvalidArgument):
        make(engine_options={"podman_args": "--oops"})


def test_engine_options_podman_args(engine: Any, make: Callable[..., str]) -> None:
    cid = make(engine_options={"podman_args": ["--env", "EXTRA=1"], "docker": {"x": 1}})
    assert "EXTRA=1" in engine.inspect_container(cid).env


def test_auto_remove_and_no_network(engine: Any, make: Callable[..., str]) -> None:
    cid = make(command=["sh", "-c", "ip -o addr | grep -c inet"], network="none", auto_remove=True)
    info = engine.inspect_container(cid)
    assert info.network_mode == "none"
    assert info.ipv4_addresses == ()
    engine.start_container(cid)
    with contextlib.suppress(ContainerNotFound):
        engine.wait_container(cid, 30)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            engine.inspect_container(cid)
        except ContainerNotFound:
            return
        time.sleep(0.1)
    pytest.fail("the auto-removed container is still there")


def test_start_missing_command(engine: Any, make: Callable[..., str]) -> None:
    cid = make(command=["/no/such/command"])
    with pytest.raises(CommandDoesNotExistException):
        engine.start_container(cid)


def test_lifecycle_errors(engine: Any, make: Callable[..., str], sleeper: str) -> None:
    created = make()
    with pytest.raises(Conflict):
        engine.kill_container(created)
    with pytest.raises(Conflict):
        engine.remove_container(sleeper)
    for call in (
        engine.start_container,
        engine.stop_container,
        engine.kill_container,
        engine.remove_container,
        engine.inspect_container,
        lambda cid: engine.remove_container(cid, force=True),
    ):
        with pytest.raises(ContainerNotFound):
            call("conu-no-such-container")


def test_running_container(engine: Any, sleeper: str) -> None:
    info = engine.inspect_container(sleeper)
    assert info.running
    assert info.pid > 0
    assert info.exit_code == 0
    if os.geteuid() == 0:
        assert info.ipv4_addresses


def test_stop_kill_wait(engine: Any, make: Callable[..., str]) -> None:
    stopped = make(command=["sleep", "300"])
    engine.start_container(stopped)
    with pytest.raises(ProbeTimeout):
        engine.wait_container(stopped, 0.5)
    engine.stop_container(stopped, timeout=0)
    assert engine.wait_container(stopped) == 137
    killed = make(command=["sh", "-c", "trap 'exit 7' USR1; while true; do sleep 0.1; done"])
    engine.start_container(killed)
    time.sleep(0.5)  # let the trap be set
    engine.kill_container(killed, "USR1")
    assert engine.wait_container(killed, 30) == 7
    engine.remove_container(killed)
    with pytest.raises(ContainerNotFound):
        engine.inspect_container(killed)


def test_exec(engine: Any, sleeper: str, make: Callable[..., str]) -> None:
    running = engine.exec_in_container(sleeper, ["sh", "-c", "echo out; echo err >&2; exit 3"])
    assert b"".join(running.output) == b"out\nerr\n"
    assert running.exit_code() == 3
    options = {"user": "1000", "workdir": "/data", "environment": {"V": "w"}}
    running = engine.exec_in_container(
        sleeper, ["sh", "-c", "id -u; pwd; echo $V"], options=options
    )
    assert b"".join(running.output) == b"1000\n/data\nw\n"
    assert running.exit_code() == 0
    docker_shape = {"create": {"environment": ["V=x"]}, "start": {"stream": True}}
    running = engine.exec_in_container(sleeper, ["sh", "-c", "echo $V"], options=docker_shape)
    assert b"".join(running.output) == b"x\n"
    missing = engine.exec_in_container(sleeper, ["/no/such/command"])
    assert b"".join(missing.output)
    assert missing.exit_code() == 127
    slow = engine.exec_in_container(sleeper, ["sleep", "30"], options={"timeout": 0.5})
    with pytest.raises(ProbeTimeout):
        list(slow.output)
        slow.exit_code()
    with pytest.raises(InvalidArgument):
        engine.exec_in_container(sleeper, ["true"], options={"detach": True})
    with pytest.raises(Conflict):
        engine.exec_in_container(make(), ["true"])
    with pytest.raises(ContainerNotFound):
        engine.exec_in_container("conu-no-such-container", ["true"])


def test_logs(engine: Any, make: Callable[..., str]) -> None:
    cid = make(command=["sh", "-c", "echo out1; echo err1 >&2; sleep 1; echo out2"])
    engine.start_container(cid)
    followed = b"".join(engine.container_logs(cid, follow=True))
    assert followed == b"out1\nerr1\nout2\n"
    assert b"".join(engine.container_logs(cid)) == b"out1\nerr1\nout2\n"
    assert b"".join(engine.container_logs(cid, stderr=False)) == b"out1\nout2\n"
    assert b"".join(engine.container_logs(cid, stdout=False)) == b"err1\n"
    assert list(engine.container_logs(cid, stdout=False, stderr=False)) == []
    with pytest.raises(ContainerNotFound):
        list(engine.container_logs("conu-no-such-container"))
    with pytest.raises(ContainerNotFound):
        engine.container_logs("conu-no-such-container", follow=True)


def test_logs_follow_can_be_abandoned(engine: Any, sleeper: str) -> None:
    stream = engine.container_logs(sleeper, follow=True)
    running = engine.exec_in_container(sleeper, ["sh", "-c", "echo hi > /proc/1/fd/1"])
    list(running.output)
    assert next(iter(stream)) == b"hi\n"
    stream.close()  # podman is stopped, nothing hangs


def test_list_containers_has_command_and_env(engine: Any, make: Callable[..., str]) -> None:
    mark = uuid.uuid4().hex
    cid = make(command=["sleep", "1"], env={"LISTED": "1"}, labels={"conu.test.list": mark})
    make(labels={"conu.test.list": "other"})
    (listed,) = engine.list_containers({"conu.test.list": mark})
    assert listed.id == cid
    assert listed.command == ("sleep", "1")
    assert "LISTED=1" in listed.env
    assert listed.labels[SESSION_LABEL] == SESSION_ID
    everything = {c.id for c in engine.list_containers()}
    assert cid in everything


def test_ports_and_address(engine: Any, make: Callable[..., str]) -> None:
    cid = make(
        command=["httpd", "-f", "-p", "8080", "-h", "/srv/www"],
        ports={"8080/tcp": (PortBinding("127.0.0.1", None),)},
    )
    engine.start_container(cid)
    info = engine.inspect_container(cid)
    (binding,) = info.ports["8080/tcp"]
    assert binding.host_ip == "127.0.0.1"
    assert binding.host_port
    endpoint = engine.container_address(info, 8080)
    if os.geteuid() == 0:
        assert endpoint == Endpoint(info.ipv4_addresses[0], 8080)
    published = Endpoint("127.0.0.1", binding.host_port, proxied=True)
    for target in (endpoint, published):
        deadline = time.monotonic() + 10
        while not port_accepts(target) and time.monotonic() < deadline:
            time.sleep(0.1)
        with socket.create_connection((target.host, target.port), timeout=5) as sock:
            sock.sendall(b"GET /index.html HTTP/1.0\r\n\r\n")
            reply = b"".join(iter(lambda: sock.recv(4096), b""))
            assert reply.endswith(b"\r\n\r\npage\n")


# -- files ----------------------------------------------------------------------------------

rootful = pytest.mark.skipif(os.geteuid() != 0, reason="podman mount needs rootful podman")


@rootful
def test_stat_path_of_a_created_container(engine: Any, make: Callable[..., str]) -> None:
    cid = make()
    info = engine.stat_path(cid, "/data/file")
    assert (info.name, info.kind, info.uid, info.gid, info.size) == (
        "file",
        PathKind.FILE,
        1000,
        2000,
        6,
    )
    assert stat.filemode(info.mode) == "-rwsr-x---"
    link = engine.stat_path(cid, "/data/abslink")
    assert (link.kind, link.link_target, link.size) == (PathKind.SYMLINK, "/data/file", 0)
    assert engine.stat_path(cid, "/data/abslink", follow=True).kind is PathKind.FILE
    assert engine.stat_path(cid, "/dlink/rellink", follow=True).uid == 1000  # inside the root
    assert engine.stat_path(cid, "/data/dangling").kind is PathKind.SYMLINK
    assert engine.stat_path(cid, "/data/dangling", follow=True) is None
    assert engine.stat_path(cid, "/data/loop1", follow=True) is None
    assert engine.stat_path(cid, "/data/nothing") is None
    assert engine.stat_path(cid, "/data/sub").kind is PathKind.DIRECTORY
    assert engine.stat_path(cid, "/data/fifo").kind is PathKind.OTHER
    assert engine.stat_path(cid, "/").kind is PathKind.DIRECTORY
    assert engine.inspect_container(cid).state is ContainerState.CREATED  # never started
    with pytest.raises(ContainerNotFound):
        engine.stat_path("conu-no-such-container", "/")
    with pytest.raises(InvalidArgument):
        engine.stat_path(cid, "relative")


def _members(chunks: Iterator[bytes]) -> dict[str, tarfile.TarInfo]:
    with tarfile.open(fileobj=io.BytesIO(b"".join(chunks))) as tar:
        return {m.name: m for m in tar.getmembers()}


def test_get_archive(engine: Any, make: Callable[..., str]) -> None:
    cid = make()
    members = _members(engine.get_archive(cid, "/data"))
    assert {"data", "data/file", "data/sub", "data/abslink"} <= set(members)
    if os.geteuid() == 0:
        assert members["data/abslink"].issym()
        assert members["data/file"].uid == 1000
        link = _members(engine.get_archive(cid, "/dlink/abslink"))
        assert link["abslink"].issym() and link["abslink"].linkname == "/data/file"
    with pytest.raises(NotFound):
        engine.get_archive(cid, "/data/nothing")


def test_put_archive(engine: Any, sleeper: str) -> None:
    data = io.BytesIO()
    with tarfile.open(fileobj=data, mode="w") as tar:
        member = tarfile.TarInfo("put.txt")
        member.size = 3
        tar.addfile(member, io.BytesIO(b"put"))
    engine.put_archive(sleeper, "/data/sub", data.getvalue())
    running = engine.exec_in_container(sleeper, ["cat", "/data/sub/put.txt"])
    assert b"".join(running.output) == b"put"
    with pytest.raises(NotFound):
        engine.put_archive(sleeper, "/no/such/dir", data.getvalue())


def test_put_archive_into_a_created_container(engine: Any, make: Callable[..., str]) -> None:
    cid = make()
    data = io.BytesIO()
    with tarfile.open(fileobj=data, mode="w") as tar:
        member = tarfile.TarInfo("created.txt")
        member.size = 2
        tar.addfile(member, io.BytesIO(b"ok"))
    engine.put_archive(cid, "/data", data.getvalue())
    members = _members(engine.get_archive(cid, "/data/created.txt"))
    assert members["created.txt"].size == 2


def test_export_and_commit(engine: Any, sleeper: str) -> None:
    names = set(_members(engine.export_container(sleeper)))
    assert {"bin/busybox", "data/file"} <= names
    list(engine.exec_in_container(sleeper, ["sh", "-c", "echo new > /data/new"]).output)
    labels = {**session_labels(), "conu.test.commit": "yes"}
    ident = engine.commit_container(sleeper, labels=labels)
    try:
        info = engine.inspect_image(ident)
        assert info.id == ident and ident.startswith("sha256:")
        assert info.labels["conu.test.commit"] == "yes"
        assert info.names == ()
    finally:
        engine.remove_image(ident, force=True)
    with pytest.raises(ContainerNotFound):
        engine.export_container("conu-no-such-container")


# -- images ---------------------------------------------------------------------------------


def test_inspect_and_list_images(engine: Any, image: str) -> None:
    info = engine.inspect_image(TAG)
    assert info.id == image
    assert info.names == (TAG,)
    assert info.labels[SESSION_LABEL] == SESSION_ID
    assert info.command == ("sh",)
    assert info.exposed_ports == ("8080/tcp",)
    assert any(e.startswith("PATH=") for e in info.env) or info.env == ()
    assert engine.inspect_image(image).names == (TAG,)
    listed = {i.id: i for i in engine.list_images({SESSION_LABEL: SESSION_ID})}
    assert listed[image].command == ("sh",)  # complete entries, as inspect's
    assert listed[image].names == (TAG,)
    assert image in {i.id for i in engine.list_images()}
    assert engine.list_images({SESSION_LABEL: "conu-no-such-session"}) == []
    with pytest.raises(ImageNotFound):
        engine.inspect_image("localhost/conu-no-such-image:1")


def test_tag_and_remove_image(engine: Any, image: str, make: Callable[..., str]) -> None:
    target = Reference.parse(f"localhost/conu-podman-engine-tagged:{SESSION_ID.lower()}")
    engine.tag_image(image, target)
    assert str(target) in engine.inspect_image(image).names
    with pytest.raises(Conflict):  # by id, with two names
        engine.remove_image(image)
    engine.remove_image(str(target))
    assert engine.inspect_image(image).names == (TAG,)
    with pytest.raises(ImageNotFound):
        engine.remove_image(str(target))
    with pytest.raises(ImageNotFound):
        engine.tag_image("localhost/conu-no-such-image:1", target)
    make()
    with pytest.raises(Conflict):  # in use by a container
        engine.remove_image(image)


def test_build_options_and_failure(engine: Any, image: str, tmp_path: Path) -> None:
    (tmp_path / "Other.dockerfile").write_text(
        f"FROM {image}\nARG WHAT\nRUN echo $WHAT > /what\nLABEL conu.test.build=1\n"
    )
    spec = BuildSpec(
        path=str(tmp_path),
        dockerfile="Other.dockerfile",
        labels=session_labels(),
        build_args={"WHAT": "argued"},
        nocache=True,
    )
    ident = engine.build_image(spec)
    try:
        info = engine.inspect_image(ident)
        assert info.labels["conu.test.build"] == "1"
        assert info.names == ()
        history = engine.image_history(ident)
        assert history[0] == ident
        base = engine.image_history(image)
        assert base[0] == image
        assert len(history) > len(base)
        assert history[len(history) - len(base) + 1 :] == base[1:]  # the layers below
        assert all(i == "<missing>" or i.startswith("sha256:") for i in history)
    finally:
        engine.remove_image(ident)
    (tmp_path / "Dockerfile").write_text(f"FROM {image}\nRUN echo builder-said-this; exit 3\n")
    with pytest.raises(BuildFailed, match="builder-said-this"):
        engine.build_image(BuildSpec(path=str(tmp_path), labels=session_labels()))
    with pytest.raises(InvalidArgument):
        engine.build_image(BuildSpec(path=str(tmp_path / "missing")))


def test_build_silence_timeout(engine: Any, image: str, tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text(f"FROM {image}\nRUN echo start; sleep 30\n")
    spec = BuildSpec(path=str(tmp_path), labels=session_labels(), nocache=True, timeout=2)
    started = time.monotonic()
    with pytest.raises(ProbeTimeout, match="printed nothing"):
        engine.build_image(spec)
    assert time.monotonic() - started < 20


def test_save_and_load(engine: Any, image: str, tmp_path: Path) -> None:
    archive = tmp_path / "image.tar"
    with archive.open("wb") as f:
        for chunk in engine.save_image(TAG):
            f.write(chunk)
    with tarfile.open(archive) as tar:
        manifest = json.load(tar.extractfile("manifest.json"))  # type: ignore[arg-type]
    assert manifest[0]["RepoTags"] == [TAG]
    assert engine.load_image(archive) == [TAG]
    assert engine.inspect_image(TAG).id == image
    with pytest.raises(ImageNotFound):
        engine.save_image("localhost/conu-no-such-image:1")
    with pytest.raises(InvalidArgument):
        engine.load_image(tmp_path / "missing.tar")


REGISTRY_CONFIG = """\
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: {root}
http:
  addr: 127.0.0.1:{port}
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A docker-registry on a free loopback port; yields ``127.0.0.1:<port>``."""
    binary = shutil.which("docker-registry")
    if binary is None:
        pytest.skip("needs docker-registry")
    root = tmp_path_factory.mktemp("registry")
    port = _free_port()
    (root / "config.yml").write_text(REGISTRY_CONFIG.format(root=root / "data", port=port))
    with open(root / "log", "wb") as log:
        server = subprocess.Popen(
            [binary, "serve", str(root / "config.yml")], stdout=log, stderr=log
        )
    try:
        deadline = time.monotonic() + 30
        while not port_accepts(Endpoint("127.0.0.1", port)):
            assert server.poll() is None and time.monotonic() < deadline, (root / "log").read_text()
            time.sleep(0.05)
        yield f"127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_push_and_pull(engine: Any, image: str, registry: str) -> None:
    remote = Reference.parse(f"{registry}/conu/pushed:{SESSION_ID.lower()}")
    engine.tag_image(image, remote)
    try:
        engine.push_image(remote)
        engine.remove_image(str(remote))
        engine.pull_image(remote)
        info = engine.inspect_image(str(remote))
        assert info.id == image
        assert any(d.startswith(f"{registry}/conu/pushed@sha256:") for d in info.digests)
    finally:
        with contextlib.suppress(ImageNotFound):
            engine.remove_image(str(remote))
    with pytest.raises(ImageNotFound):
        engine.pull_image(Reference.parse(f"{registry}/conu/nothing-here:1"))


def test_registry_unreachable(engine: Any, image: str) -> None:
    reference = Reference.parse(f"127.0.0.1:{_free_port()}/conu/x:1")
    with pytest.raises(RegistryError):
        engine.pull_image(reference)
    with pytest.raises(ImageNotFound):  # nothing of that name to push
        engine.push_image(reference)
    engine.tag_image(image, reference)
    try:
        with pytest.raises(RegistryError):
            engine.push_image(reference)
    finally:
        engine.remove_image(str(reference))


# -- session resources ------------------------------------------------------------------------


def test_sessions(engine: Any, image: str) -> None:
    sweep = f"{SESSION_ID}.sweep"
    labels = {**session_labels(), SESSION_LABEL: sweep}
    flags = [arg for k, v in labels.items() for arg in ("--label", f"{k}={v}")]
    name = f"conu-test-{uuid.uuid4().hex[:8]}"
    try:
        cid = engine.create_container(RunSpec(image=image, labels=labels, name=name))
        engine.start_container(
            engine.create_container(RunSpec(image=image, labels=labels, command=["sleep", "300"]))
        )
        podman("volume", "create", *flags, name)
        podman("network", "create", *flags, name)
        found = [dict(labels_) for labels_ in engine.list_session_labels()]
        assert sum(1 for labels_ in found if labels_.get(SESSION_LABEL) == sweep) == 4
        assert any(labels_.get(SESSION_LABEL) == SESSION_ID for labels_ in found)  # the image
        assert engine.remove_session(sweep, kinds=["containers"]) == {"containers": 2}
        with pytest.raises(ContainerNotFound):
            engine.inspect_container(cid)
        counts = engine.remove_session(sweep)
        assert counts == {"containers": 0, "networks": 1, "volumes": 1, "images": 0}
        assert not any(
            labels_.get(SESSION_LABEL) == sweep for labels_ in engine.list_session_labels()
        )
        with pytest.raises(InvalidArgument):
            engine.remove_session(sweep, kinds=["pods"])
    finally:
        for args in (
            ["rm", "-f", "-t", "0", name],
            ["volume", "rm", "-f", name],
            ["network", "rm", name],
        ):
            with contextlib.suppress(subprocess.CalledProcessError):
                podman(*args)
