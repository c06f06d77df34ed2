"""The fake backend's engine, primitive by primitive: no container engine, chrooted processes.

It needs root (chroot) and the host's static busybox, which the conformance image is built
from; without them the module is skipped.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import signal
import stat
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from conu.apidefs.backend import Capability
from conu.apidefs.metadata import PathKind
from conu.apidefs.specs import BuildSpec, ContainerState, RunSpec
from conu.exceptions import (
    BuildFailed,
    CommandDoesNotExistException,
    Conflict,
    ContainerNotFound,
    ImageNotFound,
    NotFound,
    ProbeTimeout,
)
from conu.labels import SESSION_LABEL, tmp_prefix
from conu.utils.reference import Reference

sys.path.insert(0, str(Path(__file__).parents[1] / "plugins" / "conu-fakebackend"))

from conu_fakebackend.engine import FakeEngine
from conu_fakebackend.process import kill_confined

IMAGE_DIR = Path(__file__).parents[2] / "conu" / "conformance" / "images" / "busybox"
BUSYBOX = next((p for p in ("/bin/busybox", "/usr/bin/busybox") if os.path.isfile(p)), None)

pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason="chroot needs root"),
    pytest.mark.skipif(BUSYBOX is None, reason="needs the host's static busybox"),
]


@pytest.fixture(scope="module")
def engine() -> Iterator[FakeEngine]:
    """One engine for the module; closing it must leave no process and no directory."""
    # tmpfs when there is one: creating thousands of small files is slow on some disks.
    fake = FakeEngine("/dev/shm" if os.path.isdir("/dev/shm") else None)
    tmp = fake._tmp
    assert os.path.basename(tmp).startswith(tmp_prefix())
    yield fake
    roots = [box.root for box in fake._containers.values()]
    fake.close()
    assert not os.path.exists(tmp)
    assert all(kill_confined(root) == 0 for root in roots)


@pytest.fixture(scope="module")
def image(engine: FakeEngine) -> str:
    """The conformance image, built from its Dockerfile with the host's busybox."""
    with tempfile.TemporaryDirectory() as context:
        shutil.copytree(IMAGE_DIR, context, dirs_exist_ok=True)
        shutil.copy2(str(BUSYBOX), os.path.join(context, "busybox"))
        spec = BuildSpec(path=context, tag="conu-conformance/busybox", labels={"built": "yes"})
        return engine.build_image(spec)


@pytest.fixture
def run(engine: FakeEngine, image: str) -> Iterator[Callable[..., str]]:
    """``run(command, **spec)``: a started container, removed (killed) after the test."""
    made: list[str] = []

    def start(command: list[str] | None = None, *, started: bool = True, **kwargs: Any) -> str:
        cid = engine.create_container(RunSpec(image=image, command=command, **kwargs))
        made.append(cid)
        if started:
            engine.start_container(cid)
        return cid

    yield start
    for cid in made:
        root = engine._containers[cid].root if cid in engine._containers else None
        with contextlib.suppress(ContainerNotFound):
            engine.remove_container(cid, force=True)
        if root is not None:
            assert not os.path.exists(root)
            assert kill_confined(root) == 0


def _exec(engine: FakeEngine, cid: str, command: list[str]) -> tuple[int | None, bytes]:
    stream = engine.exec_in_container(cid, command)
    output = b"".join(stream.output)
    return stream.exit_code(), output


def _wait_ready(engine: FakeEngine, cid: str) -> None:
    deadline = time.monotonic() + 10
    while b"ready\n" not in list(engine.container_logs(cid)) and time.monotonic() < deadline:
        time.sleep(0.02)


def test_capabilities(engine: FakeEngine) -> None:
    assert Capability.PORTS not in engine.capabilities
    assert Capability.STDIN not in engine.capabilities
    assert {Capability.EXEC, Capability.BUILD, Capability.PID} <= engine.capabilities
    assert engine.container_state("running") is ContainerState.RUNNING
    assert engine.container_state("bogus") is ContainerState.UNKNOWN


def test_built_image(engine: FakeEngine, image: str) -> None:
    info = engine.inspect_image("conu-conformance/busybox:latest")
    assert info.id == image and image.startswith("sha256:")
    assert info.names == ("conu-conformance/busybox:latest",)
    assert info.labels == {"conu.conformance": "image", "built": "yes"}
    assert "CONFORMANCE=yes" in info.env and "PATH=/bin:/usr/bin" in info.env
    assert info.command == ("sh",) and info.exposed_ports == ("8080/tcp",)
    assert info.raw["Config"]["ExposedPorts"] == {"8080/tcp": {}}
    assert len(engine.image_history(image)) == 3  # COPY, RUN, RUN
    assert engine.inspect_image(image[7:19]).id == image
    assert image in {i.id for i in engine.list_images({"built": "yes"})}
    assert engine.list_images({"built": "no"}) == []


def test_run_exec_inspect(engine: FakeEngine, run: Callable[..., str]) -> None:
    cid = run(["sleep", "300"], env={"A": "b"}, labels={"k": "v"}, name="sleeper")
    info = engine.inspect_container("sleeper")
    assert info.id == cid and info.running and info.pid > 1 and info.exit_code == 0
    assert info.labels == {"conu.conformance": "image", "built": "yes", "k": "v"}
    assert "A=b" in info.env and "CONFORMANCE=yes" in info.env
    assert info.command == ("sleep", "300") and info.hostname == cid[:12]
    assert info.raw["Name"] == "/sleeper" and info.raw["State"]["Running"] is True
    assert os.readlink(f"/proc/{info.pid}/root") == os.path.realpath(engine._containers[cid].root)
    assert _exec(engine, cid, ["sh", "-c", "echo $A; echo err >&2; exit 7"]) == (7, b"b\nerr\n")
    assert _exec(engine, cid, ["cat", "/etc/motd"]) == (0, b"conformance image\n")
    assert _exec(engine, cid, ["/no/such"])[0] == 127
    with pytest.raises(Conflict):
        engine.create_container(RunSpec(image="conu-conformance/busybox", name="sleeper"))
    assert cid in {c.id for c in engine.list_containers({"k": "v"})}
    with pytest.raises(ProbeTimeout):
        engine.wait_container(cid, timeout=0.2)
    with pytest.raises(Conflict):
        engine.remove_container(cid)


def test_logs_and_wait(engine: FakeEngine, run: Callable[..., str]) -> None:
    cid = run(["sh", "-c", "for i in 1 2 3; do echo $i; echo e$i >&2; sleep 0.1; done; exit 3"])
    followed = list(engine.container_logs(cid, follow=True, stderr=False))
    assert followed == [b"1\n", b"2\n", b"3\n"]
    assert engine.wait_container(cid, timeout=10) == 3
    assert sorted(engine.container_logs(cid)) == sorted(
        [b"1\n", b"2\n", b"3\n", b"e1\n", b"e2\n", b"e3\n"]
    )
    assert list(engine.container_logs(cid, stdout=False)) == [b"e1\n", b"e2\n", b"e3\n"]
    info = engine.inspect_container(cid)
    assert info.state is ContainerState.EXITED and info.exit_code == 3 and info.pid == 0
    with pytest.raises(Conflict):
        engine.exec_in_container(cid, ["true"])


def test_stop_kill_restart(engine: FakeEngine, run: Callable[..., str]) -> None:
    trap = "trap 'exit 42' TERM; echo ready; while :; do sleep 0.1; done"
    cid = run(["sh", "-c", trap])
    _wait_ready(engine, cid)
    engine.kill_container(cid, "TERM")
    assert engine.wait_container(cid, timeout=10) == 42
    with pytest.raises(Conflict):
        engine.kill_container(cid)
    engine.start_container(cid)
    assert engine.inspect_container(cid).running
    engine.kill_container(cid, signal.SIGKILL)
    assert engine.wait_container(cid, timeout=10) == 137
    cid = run(["sleep", "300"])
    engine.stop_container(cid, timeout=5)
    assert engine.inspect_container(cid).exit_code == 128 + signal.SIGTERM
    ignoring = run(["sh", "-c", "trap '' TERM; echo ready; while :; do sleep 0.1; done"])
    _wait_ready(engine, ignoring)
    engine.stop_container(ignoring, timeout=0.3)
    assert engine.inspect_container(ignoring).exit_code == 137


def test_children_die_with_the_container(engine: FakeEngine, run: Callable[..., str]) -> None:
    cid = run(["sh", "-c", "sleep 300 & sleep 300"])
    _exec(engine, cid, ["sh", "-c", "sleep 300 >/tmp/x 2>&1 &"])
    root = engine._containers[cid].root
    engine.kill_container(cid)
    engine.wait_container(cid, timeout=10)
    assert kill_confined(root) == 0


def test_create_errors(engine: FakeEngine, run: Callable[..., str]) -> None:
    with pytest.raises(ImageNotFound):
        engine.create_container(RunSpec(image="no/such:image"))
    cid = run(["/no/such/command"], started=False)
    with pytest.raises(CommandDoesNotExistException):
        engine.start_container(cid)
    assert engine.inspect_container(cid).state is ContainerState.CREATED
    assert engine.wait_container(cid) == 0
    engine.remove_container(cid)
    with pytest.raises(ContainerNotFound):
        engine.inspect_container(cid)
    with pytest.raises(ContainerNotFound):
        engine.remove_container(cid, force=True)
    cid = run(["true"], auto_remove=True)
    deadline = time.monotonic() + 10
    while cid in engine._containers and time.monotonic() < deadline:
        time.sleep(0.02)
    with pytest.raises(ContainerNotFound):
        engine.inspect_container(cid)


def test_user_and_workdir(engine: FakeEngine, run: Callable[..., str]) -> None:
    cid = run(["sh", "-c", "pwd; id -u; id -g"], user="1000:1000", working_dir="/srv/new")
    assert engine.wait_container(cid, timeout=10) == 0
    assert list(engine.container_logs(cid)) == [b"/srv/new\n", b"1000\n", b"1000\n"]


def test_stat_path(engine: FakeEngine, run: Callable[..., str]) -> None:
    cid = run(started=False)
    info = engine.stat_path(cid, "/srv/data/file.txt")
    assert info is not None and info.kind is PathKind.FILE and info.size == 5
    assert stat.S_ISREG(info.mode) and info.name == "file.txt" and info.uid == 0
    directory = engine.stat_path(cid, "/srv/data")
    assert directory is not None and directory.kind is PathKind.DIRECTORY and directory.size == 0
    link = engine.stat_path(cid, "/srv/abs-link")
    assert link is not None and link.kind is PathKind.SYMLINK and link.link_target == "/etc/motd"
    target = engine.stat_path(cid, "/srv/abs-link", follow=True)
    assert target is not None and target.kind is PathKind.FILE and target.size == 18
    escape = engine.stat_path(cid, "/srv/data/escape", follow=True)
    assert escape is not None and escape.kind is PathKind.FILE and escape.size == 18
    assert engine.stat_path(cid, "/srv/data/escape/x") is None
    assert engine.stat_path(cid, "/srv/none") is None
    assert engine.stat_path(cid, "/srv/data/file.txt/x") is None
    assert engine.stat_path(cid, "/srv/../../..").kind is PathKind.DIRECTORY  # type: ignore[union-attr]


def _members(chunks: Iterator[bytes]) -> dict[str, tarfile.TarInfo]:
    with tarfile.open(fileobj=io.BytesIO(b"".join(chunks))) as tar:
        return {member.name: member for member in tar.getmembers()}


def test_archives(engine: FakeEngine, run: Callable[..., str], tmp_path: Path) -> None:
    cid = run(["sleep", "300"])
    members = _members(engine.get_archive(cid, "/srv/data"))
    assert sorted(members) == ["data", "data/escape", "data/file.txt", "data/sub"]
    assert members["data/escape"].issym()
    link = _members(engine.get_archive(cid, "/srv/abs-link"))
    assert link["abs-link"].linkname == "/etc/motd"
    with pytest.raises(NotFound):
        engine.get_archive(cid, "/srv/none")
    (tmp_path / "in.txt").write_text("payload\n")
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        tar.add(tmp_path / "in.txt", arcname="in.txt")
    engine.put_archive(cid, "/tmp", buffer.getvalue())
    assert _exec(engine, cid, ["cat", "/tmp/in.txt"]) == (0, b"payload\n")
    with pytest.raises(NotFound):
        engine.put_archive(cid, "/no/dir", buffer.getvalue())
    exported = _members(engine.export_container(cid))
    assert "bin/busybox" in exported and "tmp/in.txt" in exported and exported["bin/sh"].issym()


def test_commit_tag_save_load_remove(
    engine: FakeEngine, image: str, run: Callable[..., str], tmp_path: Path
) -> None:
    cid = run(["sh", "-c", "echo made > /made; rm /srv/www/index.html"])
    assert engine.wait_container(cid, timeout=10) == 0
    committed = engine.commit_container(cid, labels={"committed": "yes"})
    info = engine.inspect_image(committed)
    assert info.names == () and info.labels["committed"] == "yes"
    assert len(engine.image_history(committed)) == 4
    new = engine.create_container(RunSpec(image=committed, command=["cat", "/made"]))
    try:
        assert engine.stat_path(new, "/made") is not None
        assert engine.stat_path(new, "/srv/www/index.html") is None  # the whiteout
        with pytest.raises(Conflict):
            engine.remove_image(committed)
    finally:
        engine.remove_container(new)
    engine.tag_image(committed, Reference.parse("fake/committed"))
    engine.tag_image(committed, Reference.parse("fake/committed:two"))
    assert engine.inspect_image("fake/committed").id == committed
    saved = tmp_path / "saved.tar"
    saved.write_bytes(b"".join(engine.save_image("fake/committed:latest")))
    with tarfile.open(saved) as tar:
        assert "manifest.json" in tar.getnames()
    with pytest.raises(Conflict):
        engine.remove_image(committed)  # by id, while it has two names
    engine.remove_image("fake/committed:two")  # a name: only that name
    assert engine.inspect_image(committed).names == ("fake/committed:latest",)
    engine.remove_image(committed, prune=False)
    with pytest.raises(ImageNotFound):
        engine.inspect_image(committed)
    assert engine.load_image(saved) == ["fake/committed:latest"]
    assert engine.inspect_image("fake/committed").id == committed  # same config, same id
    assert len(engine.image_history(committed)) == 4
    engine.remove_image("fake/committed")
    assert engine.inspect_image(image).id == image


def test_build_from_image(engine: FakeEngine, image: str, tmp_path: Path) -> None:
    (tmp_path / "dir" / "sub").mkdir(parents=True)
    (tmp_path / "dir" / "sub" / "leaf").write_text("leaf\n")
    (tmp_path / "Dockerfile").write_text(
        "FROM conu-conformance/busybox\n"
        "ARG WHO=world\n"
        "ENV GREETING hello $WHO\n"
        "WORKDIR /app\n"
        "COPY dir /app/tree/\n"
        'RUN ["sh", "-c", "echo $GREETING > greeting"]\n'
        "USER 1000\n"
        'ENTRYPOINT ["cat"]\nCMD greeting\nLABEL a=b c="d e"\nEXPOSE 53/udp\n'
    )
    built = engine.build_image(BuildSpec(path=str(tmp_path), build_args={"WHO": "you"}))
    info = engine.inspect_image(built)
    assert info.names == () and info.working_dir == "/app" and info.user == "1000"
    assert info.entrypoint == ("cat",) and info.command == ("/bin/sh", "-c", "greeting")
    assert info.labels["c"] == "d e" and info.labels["conu.conformance"] == "image"
    assert info.exposed_ports == ("53/udp", "8080/tcp")
    cid = engine.create_container(RunSpec(image=built, command=["greeting", "tree/sub/leaf"]))
    try:
        engine.start_container(cid)
        assert engine.wait_container(cid, timeout=10) == 0
        assert list(engine.container_logs(cid)) == [b"hello you\n", b"leaf\n"]
    finally:
        engine.remove_container(cid, force=True)
    engine.remove_image(built)
    assert engine.inspect_image(image).id == image  # a named parent is not pruned


def test_build_failure(engine: FakeEngine, tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM conu-conformance/busybox\nRUN echo oops; exit 3\n")
    with pytest.raises(BuildFailed, match=r"exit code 3(.|\n)*oops"):
        engine.build_image(BuildSpec(path=str(tmp_path)))
    (tmp_path / "Dockerfile").write_text("FROM no/such\n")
    with pytest.raises(BuildFailed):
        engine.build_image(BuildSpec(path=str(tmp_path)))
    (tmp_path / "Dockerfile").write_text("FROM scratch\nCOPY ../../etc/passwd /\n")
    with pytest.raises(BuildFailed):
        engine.build_image(BuildSpec(path=str(tmp_path)))


def test_sessions(engine: FakeEngine, image: str, run: Callable[..., str], tmp_path: Path) -> None:
    labels = {SESSION_LABEL: "fake-test-session"}
    cid = run(["sleep", "300"], labels=labels)
    (tmp_path / "Dockerfile").write_text("FROM conu-conformance/busybox\n")
    built = engine.build_image(BuildSpec(path=str(tmp_path), labels=labels, tag="fake/session"))
    found = [dict(x) for x in engine.list_session_labels()]
    assert found == [{"built": "yes", "conu.conformance": "image", **labels}] * 2
    counts = engine.remove_session("fake-test-session")
    assert counts == {"containers": 1, "networks": 0, "volumes": 0, "images": 1}
    with pytest.raises(ContainerNotFound):
        engine.inspect_container(cid)
    with pytest.raises(ImageNotFound):
        engine.inspect_image(built)
    assert engine.inspect_image(image).id == image
