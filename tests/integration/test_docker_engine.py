"""DockerEngine's primitives against the real engine: every one of them, no mocks.

The module builds its own image (FROM scratch with the host's static busybox, plus a few
files and links); every container, image, network and volume it makes carries the session's
labels and is removed by the test that made it.
"""

from __future__ import annotations

import contextlib
import io
import shutil
import stat
import tarfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest

from conu.apidefs.backend import Capability
from conu.apidefs.engine import RESOURCE_KINDS
from conu.apidefs.metadata import PathKind
from conu.apidefs.specs import (
    BuildSpec,
    ContainerInfo,
    ContainerState,
    PortBinding,
    RunSpec,
)
from conu.backend.docker.engine import DockerEngine
from conu.backend.docker.network import engine_host
from conu.exceptions import (
    BuildFailed,
    CommandDoesNotExistException,
    Conflict,
    ContainerNotFound,
    ConuException,
    ImageNotFound,
    InvalidArgument,
    NotFound,
    ProbeTimeout,
)
from conu.labels import SESSION_ID, SESSION_LABEL, session_labels
from conu.probes import wait_for
from conu.utils.archive import IterStream
from conu.utils.net import Endpoint, port_accepts
from conu.utils.reference import Reference

pytestmark = pytest.mark.engine

DOCKERFILE = """\
FROM scratch
COPY busybox /bin/busybox
RUN ["/bin/busybox", "--install", "-s", "/bin"]
RUN mkdir -p /d/sub /tmp && chmod 1777 /tmp && echo hi > /d/f && chown 12:34 /d/f \\
 && chmod 640 /d/f && ln -s /d/f /abs && ln -s f /d/rel && ln -s /abs /chain \\
 && ln -s /nothing /dangling && ln -s loop2 /loop1 && ln -s loop1 /loop2 \\
 && ln -s ../../.. /d/sub/up
ENV GREETING=hello
WORKDIR /d
EXPOSE 8080
CMD ["sh"]
"""
TAG = f"conu-test/engine-busybox:{SESSION_ID}"
UNKNOWN = "conu-no-such-thing-0123456789"


# -- fixtures -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def docker(engine: Any) -> Iterator[DockerEngine]:
    """The engine; at the end, fails if a container of this session was left behind."""
    eng = DockerEngine()
    yield eng
    leaked = eng.list_containers({SESSION_LABEL: SESSION_ID})
    assert not leaked, f"leaked containers: {[c.name for c in leaked]}"


@pytest.fixture(scope="module")
def image(docker: DockerEngine, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Id of the module's test image (tagged TAG); removed at the end."""
    context = tmp_path_factory.mktemp("engine-context")
    shutil.copy("/bin/busybox", context / "busybox")
    (context / "Dockerfile").write_text(DOCKERFILE)
    labels = {**session_labels(), "conu.test.engine": context.name}
    spec = BuildSpec(path=str(context), tag=TAG, labels=labels, nocache=True)
    image_id = docker.build_image(spec)
    yield image_id
    docker.remove_image(image_id, force=True)


@pytest.fixture
def make(docker: DockerEngine, image: str) -> Iterator[Callable[..., str]]:
    """Create containers of the test image (session labels added); force-removed after."""
    made: list[str] = []

    def create(command: list[str] | None = None, **fields: Any) -> str:
        labels = {**session_labels(), **fields.pop("labels", {})}
        spec = RunSpec(image=fields.pop("image", image), command=command, labels=labels, **fields)
        made.append(docker.create_container(spec))
        return made[-1]

    yield create
    for cid in made:
        with contextlib.suppress(NotFound):
            docker.remove_container(cid, force=True, volumes=True)


@pytest.fixture
def sleeper(docker: DockerEngine, make: Callable[..., str]) -> str:
    """A running container that sleeps."""
    cid = make(["sleep", "300"])
    docker.start_container(cid)
    return cid


def read(chunks: Iterator[bytes]) -> bytes:
    return b"".join(chunks)


def tar_of(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name, data in files.items():
            member = tarfile.TarInfo(name)
            member.size = len(data)
            member.mode = 0o600
            tar.addfile(member, io.BytesIO(data))
    return buffer.getvalue()


def members(chunks: Iterator[bytes]) -> dict[str, bytes | None]:
    found: dict[str, bytes | None] = {}
    with tarfile.open(fileobj=IterStream(chunks), mode="r|") as tar:
        for member in tar:
            extracted = tar.extractfile(member) if member.isfile() else None
            found[member.name] = None if extracted is None else extracted.read()
    return found


# -- the engine itself --------------------------------------------------------------------------


def test_engine_itself(docker: DockerEngine) -> None:
    assert docker.name == "docker"
    assert docker.capabilities == frozenset(Capability)
    assert docker.cli_command() == ["docker"]
    assert DockerEngine.default() is DockerEngine.default()
    assert docker.container_state("running") is ContainerState.RUNNING
    assert docker.container_state("exited") is ContainerState.EXITED
    assert docker.container_state("created") is ContainerState.CREATED
    assert docker.container_state("bogus") is ContainerState.UNKNOWN
    assert docker.container_state(None) is ContainerState.UNKNOWN


def test_address_without_container_ip() -> None:
    docker = DockerEngine()
    published = (PortBinding("0.0.0.0", 32768),)
    listed = ContainerInfo(id="x", ipv4_addresses=None, ports={"8080/tcp": published})
    host = engine_host()  # the engine's host: 127.0.0.1 for a local socket
    assert docker.container_address(listed, 8080) == Endpoint(host, 32768, proxied=True)
    bound = ContainerInfo(
        id="x", ipv4_addresses=(), ports={"80/tcp": (PortBinding("10.1.2.3", 81),)}
    )
    assert docker.container_address(bound, 80) == Endpoint("10.1.2.3", 81, proxied=True)
    on_host = ContainerInfo(id="x", network_mode="host")
    assert docker.container_address(on_host, 22) == Endpoint(host, 22)
    with pytest.raises(ConuException, match="port 9 of container"):
        docker.container_address(ContainerInfo(id="x", ports={"9/tcp": None}), 9)


# -- containers ---------------------------------------------------------------------------------


def test_create_start_wait_logs(docker: DockerEngine, make: Callable[..., str], image: str) -> None:
    script = "echo out; echo err >&2; echo $FOO $GREETING; pwd; id -u; hostname; exit 3"
    cid = make(
        ["sh", "-c", script],
        env={"FOO": "bar"},
        labels={"conu.test": "create"},
        working_dir="/d/sub",
        hostname="conu-host",
        user="7",
        name=f"conu-engine-{uuid.uuid4().hex[:8]}",
    )
    created = docker.inspect_container(cid)
    assert created.state is ContainerState.CREATED and not created.running
    assert created.exit_code == 0 and created.pid == 0
    assert created.id == cid and created.name and created.name.startswith("conu-engine-")
    assert created.image == image and created.image_id == image
    assert created.labels["conu.test"] == "create"
    assert created.labels[SESSION_LABEL] == SESSION_ID
    assert "FOO=bar" in created.env and "GREETING=hello" in created.env
    assert created.command == ("sh", "-c", script)
    assert created.hostname == "conu-host"
    assert created.raw["Id"] == cid
    assert docker.inspect_container(created.name).id == cid

    docker.start_container(cid)
    assert docker.wait_container(cid, timeout=30) == 3
    assert (
        read(docker.container_logs(cid, stderr=False)) == b"out\nbar hello\n/d/sub\n7\nconu-host\n"
    )
    assert read(docker.container_logs(cid, stdout=False)) == b"err\n"
    assert b"err\n" in read(docker.container_logs(cid, follow=True))
    done = docker.inspect_container(cid)
    assert done.state is ContainerState.EXITED and done.exit_code == 3


def test_exec(docker: DockerEngine, sleeper: str) -> None:
    run = docker.exec_in_container(sleeper, ["sh", "-c", "echo a; echo b >&2; exit 4"])
    assert sorted(read(run.output).split()) == [b"a", b"b"]
    assert run.exit_code() == 4
    options = {"create": {"environment": {"X": "1"}, "workdir": "/d/sub"}, "start": {}}
    run = docker.exec_in_container(sleeper, ["sh", "-c", "echo $X; pwd"], options=options)
    assert read(run.output) == b"1\n/d/sub\n"
    assert run.exit_code() == 0
    docker.kill_container(sleeper)
    docker.wait_container(sleeper, timeout=30)
    with pytest.raises(Conflict):
        docker.exec_in_container(sleeper, ["true"])


def test_stop_and_kill(docker: DockerEngine, make: Callable[..., str]) -> None:
    stubborn = make(["sleep", "300"])  # PID 1 ignores SIGTERM: stop must SIGKILL it
    docker.start_container(stubborn)
    docker.stop_container(stubborn, timeout=0.5)  # rounded up to 1s
    assert docker.inspect_container(stubborn).exit_code == 137
    with pytest.raises(Conflict):
        docker.kill_container(stubborn)
    docker.start_container(stubborn)  # a stopped container starts again
    docker.kill_container(stubborn, signal="SIGKILL")
    assert docker.wait_container(stubborn, timeout=30) == 137
    trapping = make(["sh", "-c", "trap 'exit 7' TERM; while true; do sleep 0.1; done"])
    for stop in (
        lambda: docker.kill_container(trapping, signal=15),
        lambda: docker.stop_container(trapping, timeout=None),
    ):
        docker.start_container(trapping)
        wait_for(lambda: docker.inspect_container(trapping).running, timeout=10, what="start")
        stop()
        assert docker.wait_container(trapping, timeout=30) == 7


def test_wait_timeout(docker: DockerEngine, sleeper: str) -> None:
    with pytest.raises(ProbeTimeout):
        docker.wait_container(sleeper, timeout=0.5)


def test_remove(docker: DockerEngine, make: Callable[..., str], sleeper: str) -> None:
    with pytest.raises(Conflict):
        docker.remove_container(sleeper)
    docker.remove_container(sleeper, force=True, volumes=True)
    cid = make(["true"])
    docker.remove_container(cid)
    with pytest.raises(ContainerNotFound):
        docker.inspect_container(cid)


def test_auto_remove(docker: DockerEngine, make: Callable[..., str]) -> None:
    cid = make(["true"], auto_remove=True)
    docker.start_container(cid)

    def gone() -> bool:
        try:
            docker.inspect_container(cid)
        except ContainerNotFound:
            return True
        return False

    wait_for(gone, timeout=30, what="the container to remove itself")


def test_missing_things(docker: DockerEngine, make: Callable[..., str]) -> None:
    calls: tuple[Callable[[str], Any], ...] = (
        docker.start_container,
        docker.stop_container,
        docker.kill_container,
        docker.remove_container,
        docker.wait_container,
        docker.inspect_container,
        docker.export_container,
        lambda cid: docker.stat_path(cid, "/"),
        lambda cid: docker.stat_path(cid, "/", follow=True),
        lambda cid: docker.get_archive(cid, "/"),
        lambda cid: docker.put_archive(cid, "/", tar_of({})),
        lambda cid: docker.exec_in_container(cid, ["true"]),
        lambda cid: docker.commit_container(cid, labels={}),
        lambda cid: list(docker.container_logs(cid)),  # lazy: raises on the first read
    )
    for call in calls:
        with pytest.raises(ContainerNotFound):
            call(UNKNOWN)
    with pytest.raises(ImageNotFound):
        make(["true"], image=UNKNOWN)


def test_name_conflict(make: Callable[..., str]) -> None:
    name = f"conu-engine-{uuid.uuid4().hex[:8]}"
    make(["true"], name=name)
    with pytest.raises(Conflict):
        make(["true"], name=name)


@pytest.mark.parametrize("command", ["/nonexistent", "nonexistent"])
def test_command_missing(docker: DockerEngine, make: Callable[..., str], command: str) -> None:
    cid = make([command])
    with pytest.raises(CommandDoesNotExistException):
        docker.start_container(cid)


@pytest.mark.local_engine
def test_ports_and_address(docker: DockerEngine, make: Callable[..., str]) -> None:
    ports = {"8080/tcp": (PortBinding("127.0.0.1", None),), "9090": ()}
    cid = make(["httpd", "-f", "-p", "8080", "-h", "/d"], ports=ports)
    info = docker.inspect_container(cid)
    assert info.requested_ports == {"8080/tcp": (PortBinding("127.0.0.1", None),)}
    docker.start_container(cid)
    info = docker.inspect_container(cid)
    (binding,) = info.ports["8080/tcp"] or ()
    assert binding.host_ip == "127.0.0.1" and isinstance(binding.host_port, int)
    assert info.ports["9090/tcp"] is None
    assert info.ipv4_addresses and info.network_mode == "bridge"
    endpoint = docker.container_address(info, 8080)
    assert endpoint == Endpoint(info.ipv4_addresses[0], 8080)
    wait_for(lambda: port_accepts(endpoint), timeout=10, what="httpd")
    assert port_accepts(Endpoint("127.0.0.1", binding.host_port))
    (listed,) = [c for c in docker.list_containers({SESSION_LABEL: SESSION_ID}) if c.id == cid]
    assert listed.ports["8080/tcp"] == (PortBinding("127.0.0.1", binding.host_port),)


def test_no_network_and_options(docker: DockerEngine, make: Callable[..., str]) -> None:
    options = {
        "create": {"hostname": "from-options", "stop_signal": "SIGUSR1"},
        "host_config": {"read_only": True, "cap_drop": ["CHOWN"]},
    }
    cid = make(
        ["true"],
        network="none",
        hostname="from-spec",
        engine_options=options,
        cap_add=["NET_ADMIN"],
    )
    info = docker.inspect_container(cid)
    assert info.network_mode == "none" and info.ipv4_addresses == ()
    assert info.hostname == "from-options"
    assert info.raw["Config"]["StopSignal"] == "SIGUSR1"
    assert info.raw["Config"]["NetworkDisabled"] is True
    host = info.raw["HostConfig"]
    assert host["ReadonlyRootfs"] is True and host["CapDrop"] == ["CHOWN"]
    assert host["CapAdd"] == ["NET_ADMIN"]
    with pytest.raises(ConuException, match="port"):
        docker.container_address(info, 80)


def test_run_spec_fields(docker: DockerEngine, make: Callable[..., str], tmp_path: Path) -> None:
    (tmp_path / "shared").write_text("from host")
    cid = make(
        ["sh", "-c", "cat /mnt/shared; test -t 0 && echo tty"],
        binds=[f"{tmp_path}:/mnt:ro"],
        tty=True,
        stdin_open=True,
        entrypoint=["/bin/busybox"],
    )
    info = docker.inspect_container(cid)
    assert info.raw["Config"]["Entrypoint"] == ["/bin/busybox"]
    assert info.raw["Config"]["Tty"] is True and info.raw["Config"]["OpenStdin"] is True
    # only created: a privileged start needs an engine that may grant every capability
    privileged = docker.inspect_container(make(["true"], privileged=True))
    assert privileged.raw["HostConfig"]["Privileged"] is True
    docker.start_container(cid)
    assert docker.wait_container(cid, timeout=30) == 0
    assert read(docker.container_logs(cid)) == b"from hosttty\r\n"


def test_list_containers(docker: DockerEngine, make: Callable[..., str], image: str) -> None:
    mark = {"conu.test.list": uuid.uuid4().hex}
    first = make(["sleep", "300"], labels=mark)
    second = make(["true"], labels=mark, name=f"conu-engine-{uuid.uuid4().hex[:8]}")
    make(["true"])  # not marked
    docker.start_container(first)
    listed = {c.id: c for c in docker.list_containers(mark)}
    assert set(listed) == {first, second}
    running, created = listed[first], listed[second]
    assert running.state is ContainerState.RUNNING and created.state is ContainerState.CREATED
    assert running.exit_code is None and created.exit_code is None
    assert created.name == docker.inspect_container(second).name
    assert created.name and not created.name.startswith("/")
    assert running.image == image and running.image_id == image
    assert running.labels["conu.test.list"] == mark["conu.test.list"]
    assert running.ipv4_addresses  # the list carries NetworkSettings
    assert isinstance(running.created, int) and running.raw["Id"] == first
    everything = {c.id for c in docker.list_containers()}
    assert {first, second} <= everything


# -- files --------------------------------------------------------------------------------------


@pytest.fixture
def created(make: Callable[..., str]) -> str:
    """A container that was only created: files need no running container."""
    return make(["true"])


def test_stat_file_and_directory(docker: DockerEngine, created: str) -> None:
    info = docker.stat_path(created, "/d/f")
    assert info is not None
    assert (info.name, info.kind, info.uid, info.gid, info.size) == ("f", PathKind.FILE, 12, 34, 3)
    assert info.mode == stat.S_IFREG | 0o640 and info.link_target is None
    assert docker.stat_path(created, "d/f") == info  # relative means from the root
    # Followed, the engine's cheap stat answers: no owner.
    assert docker.stat_path(created, "/d/f", follow=True) == attrs.evolve(info, uid=None, gid=None)
    directory = docker.stat_path(created, "/d")
    assert directory is not None and directory.kind is PathKind.DIRECTORY
    assert stat.S_ISDIR(directory.mode) and directory.size == 0 and directory.name == "d"
    tmp = docker.stat_path(created, "/tmp")
    assert tmp is not None and stat.filemode(tmp.mode) == "drwxrwxrwt"
    root = docker.stat_path(created, "/")
    assert root is not None and root.kind is PathKind.DIRECTORY


def test_stat_symlinks(docker: DockerEngine, created: str) -> None:
    link = docker.stat_path(created, "/abs")
    assert link is not None and link.kind is PathKind.SYMLINK
    assert link.link_target == "/d/f" and stat.S_ISLNK(link.mode) and link.size == 0
    relative = docker.stat_path(created, "/d/rel")
    assert relative is not None and relative.link_target == "f"
    target = docker.stat_path(created, "/d/f")
    assert target is not None
    for path in ("/abs", "/d/rel", "/chain"):
        followed = docker.stat_path(created, path, follow=True)
        assert followed == attrs.evolve(target, uid=None, gid=None)
    dangling = docker.stat_path(created, "/dangling")
    assert dangling is not None and dangling.link_target == "/nothing"
    assert docker.stat_path(created, "/dangling", follow=True) is None
    up = docker.stat_path(created, "/d/sub/up", follow=True)  # ".." stops at the root
    assert up is not None and up.kind is PathKind.DIRECTORY
    assert docker.stat_path(created, "/abs/x") is None  # through a file
    sh = docker.stat_path(created, "/bin/sh", follow=True)
    assert sh is not None and sh.name == "busybox" and sh.mode & 0o111


def test_stat_missing_and_loops(docker: DockerEngine, created: str) -> None:
    for follow in (False, True):
        assert docker.stat_path(created, "/nothing", follow=follow) is None
        assert docker.stat_path(created, "/no/such/dir", follow=follow) is None
        assert docker.stat_path(created, "/d/f/under-a-file", follow=follow) is None
        assert docker.stat_path(created, "/loop1", follow=follow) is None
    with pytest.raises(InvalidArgument):
        docker.stat_path(created, "")


def test_archives(docker: DockerEngine, created: str) -> None:
    assert members(docker.get_archive(created, "/d/f")) == {"f": b"hi\n"}
    assert set(members(docker.get_archive(created, "/d"))) >= {"d", "d/f", "d/rel", "d/sub"}
    assert members(docker.get_archive(created, "/abs")) == {"abs": None}  # the link itself
    with pytest.raises(NotFound) as missing:
        docker.get_archive(created, "/nothing")
    assert not isinstance(missing.value, ContainerNotFound)
    docker.put_archive(created, "/d/sub", tar_of({"new": b"payload", "deeper/x": b"x"}))
    new = docker.stat_path(created, "/d/sub/new")
    assert new is not None and new.size == 7 and new.mode & 0o777 == 0o600
    assert members(docker.get_archive(created, "/d/sub/deeper/x")) == {"x": b"x"}
    with pytest.raises(NotFound) as missing:
        docker.put_archive(created, "/nothing", tar_of({"a": b"a"}))
    assert not isinstance(missing.value, ContainerNotFound)


def test_export(docker: DockerEngine, created: str) -> None:
    found = members(docker.export_container(created))
    assert found["d/f"] == b"hi\n" and "bin/busybox" in found


def test_commit(docker: DockerEngine, make: Callable[..., str]) -> None:
    cid = make(["sh", "-c", "echo committed > /d/new"])
    docker.start_container(cid)
    assert docker.wait_container(cid, timeout=30) == 0
    labels = {**session_labels(), "conu.test.commit": 'quoted "value" \\ here'}
    image_id = docker.commit_container(cid, labels=labels)
    try:
        committed = docker.inspect_image(image_id)
        assert committed.id == image_id and committed.names == ()
        assert committed.labels["conu.test.commit"] == labels["conu.test.commit"]
        assert committed.labels[SESSION_LABEL] == SESSION_ID
        assert committed.env and "GREETING=hello" in committed.env  # the config is kept
        child = make(["true"], image=image_id)
        info = docker.stat_path(child, "/d/new")
        assert info is not None and info.size == len("committed\n")
        docker.remove_container(child)
    finally:
        docker.remove_image(image_id, force=True)


# -- images -------------------------------------------------------------------------------------


def test_inspect_image(docker: DockerEngine, image: str) -> None:
    info = docker.inspect_image(TAG)
    assert info.id == image and info.id.startswith("sha256:")
    assert info.names == (TAG,) and info.digests == ()
    assert info.labels[SESSION_LABEL] == SESSION_ID and "conu.test.engine" in info.labels
    assert "GREETING=hello" in info.env
    assert info.command == ("sh",) and info.entrypoint is None
    assert info.working_dir == "/d" and info.user is None
    assert info.exposed_ports == ("8080/tcp",) and info.volumes == ()
    assert isinstance(info.created, str) and info.raw["Id"] == image
    assert docker.inspect_image(image) == info
    with pytest.raises(ImageNotFound):
        docker.inspect_image(UNKNOWN)


def test_list_tag_remove_history(docker: DockerEngine, image: str) -> None:
    mark = docker.inspect_image(image).labels["conu.test.engine"]
    (listed,) = docker.list_images({SESSION_LABEL: SESSION_ID, "conu.test.engine": mark})
    assert listed.id == image and listed.names == (TAG,)
    assert any(i.id == image for i in docker.list_images())
    other = Reference.parse(f"conu-test/engine-other:{SESSION_ID}")
    docker.tag_image(image, other)
    assert set(docker.inspect_image(image).names) == {TAG, str(other)}
    docker.remove_image(str(other))
    assert docker.inspect_image(image).names == (TAG,)
    with pytest.raises(ImageNotFound):
        docker.remove_image(str(other))
    with pytest.raises(ImageNotFound):
        docker.tag_image(UNKNOWN, other)
    history = docker.image_history(image)
    assert history[0] == image and len(history) >= 4
    with pytest.raises(ImageNotFound):
        docker.image_history(UNKNOWN)


def test_remove_image_in_use(docker: DockerEngine, make: Callable[..., str], image: str) -> None:
    make(["true"])
    with pytest.raises(Conflict):
        docker.remove_image(image)


def test_build_failures(docker: DockerEngine, tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text('FROM scratch\nRUN ["/bin/false"]\n')
    with pytest.raises(BuildFailed, match="build"):
        docker.build_image(BuildSpec(path=str(tmp_path), labels=session_labels()))
    with pytest.raises(InvalidArgument):
        docker.build_image(BuildSpec(path=str(tmp_path / "missing")))


def test_build_arguments(docker: DockerEngine, image: str, tmp_path: Path) -> None:
    (tmp_path / "Containerfile").write_text(f"FROM {image}\nARG WHAT\nRUN echo $WHAT > /d/arg\n")
    spec = BuildSpec(
        path=str(tmp_path),
        dockerfile="Containerfile",
        build_args={"WHAT": "argued"},
        labels={**session_labels(), "conu.test.build": tmp_path.name},
        nocache=True,
    )
    built = docker.build_image(spec)
    try:
        info = docker.inspect_image(built)
        assert info.names == () and info.labels["conu.test.build"] == tmp_path.name
    finally:
        docker.remove_image(built, force=True)


def test_save_and_load(docker: DockerEngine, image: str, tmp_path: Path) -> None:
    name = f"conu-test/engine-saved:{SESSION_ID}"
    docker.tag_image(image, Reference.parse(name))
    archive = tmp_path / "saved.tar"
    try:
        with archive.open("wb") as out:
            for chunk in docker.save_image(name):
                out.write(chunk)
        docker.remove_image(name)
        assert docker.load_image(archive) == [name]
        assert docker.inspect_image(name).id == image
    finally:
        docker.remove_image(name)
    with tarfile.open(archive) as tar:
        assert "manifest.json" in tar.getnames()
    with pytest.raises(ImageNotFound):
        docker.save_image(UNKNOWN)
    with pytest.raises(InvalidArgument):
        docker.load_image(tmp_path / "missing.tar")


@pytest.mark.registry
def test_push_and_pull(docker: DockerEngine, image: str, registry: str) -> None:
    remote = Reference.parse(f"{registry}/conu-test/engine:{SESSION_ID}")
    docker.tag_image(image, remote)
    try:
        docker.push_image(remote)
        docker.remove_image(str(remote))
        docker.pull_image(remote)
        pulled = docker.inspect_image(str(remote))
        assert pulled.id == image
        assert any(d.startswith(f"{registry}/conu-test/engine@sha256:") for d in pulled.digests)
    finally:
        docker.remove_image(str(remote))
    missing = Reference.parse(f"{registry}/conu-test/nothing:here")
    with pytest.raises(ImageNotFound):
        docker.pull_image(missing)


# -- session resources --------------------------------------------------------------------------


def sessions_found(docker: DockerEngine, session: str) -> int:
    return sum(1 for found in docker.list_session_labels() if found[SESSION_LABEL] == session)


def test_sessions(docker: DockerEngine, make: Callable[..., str], image: str) -> None:
    assert any(labels.get(SESSION_LABEL) == SESSION_ID for labels in docker.list_session_labels())
    session = f"{SESSION_ID}-sweep-{uuid.uuid4().hex[:6]}"
    labels = {**session_labels(), SESSION_LABEL: session}
    client = docker.client
    try:
        first = make(["sleep", "300"], labels=labels)
        docker.start_container(first)
        make(["true"], labels=labels)
        docker.commit_container(first, labels=labels)
        client.create_network(f"conu-{session}", labels=labels)
        client.create_volume(f"conu-{session}", labels=labels)
        assert sessions_found(docker, session) == 5
        assert docker.remove_session(session, ["volumes"]) == {"volumes": 1}
    except Exception:
        docker.remove_session(session)
        raise
    assert docker.remove_session(session) == {
        "containers": 2,
        "networks": 1,
        "volumes": 0,
        "images": 1,
    }
    assert sessions_found(docker, session) == 0
    assert docker.remove_session(session) == dict.fromkeys(RESOURCE_KINDS, 0)
    with pytest.raises(InvalidArgument):
        docker.remove_session(session, ["pods"])
