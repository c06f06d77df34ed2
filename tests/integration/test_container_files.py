"""Files of containers: copy_to/copy_from and DockerContainerFS, confined to the container."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from conu import DockerContainerFS, DockerContainerViaExportFS
from conu.exceptions import ConuException, InvalidArgument, NotFound, WrongFileType
from conu.probes import wait_for
from conu.utils.rootfs import is_within

MOTD = "conu test image\n"
PASSWD = "root:x:0:0:root:/root:/bin/sh\n"


# -- copy_to / copy_from ----------------------------------------------------------------------


def test_copy_to_file(sleeper: Any, tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    secret.write_text("gardener did it")
    sleeper.copy_to(str(secret), "/")
    assert sleeper.execute(["cat", "/secret"]) == [b"gardener did it"]
    sleeper.copy_to(str(secret), "/tmp/renamed")
    assert sleeper.execute(["cat", "/tmp/renamed"]) == [b"gardener did it"]


def test_copy_to_directory(sleeper: Any, tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    (tree / "sub").mkdir(parents=True)
    (tree / "sub" / "f").write_text("deep")
    sleeper.copy_to(str(tree), "/tmp")
    assert sleeper.execute(["cat", "/tmp/tree/sub/f"]) == [b"deep"]


def test_copy_to_failures(sleeper: Any, tmp_path: Path) -> None:
    with pytest.raises(ConuException, match="no such file"):
        sleeper.copy_to(str(tmp_path / "missing"), "/tmp")
    (tmp_path / "f").write_text("x")
    with pytest.raises(NotFound):
        sleeper.copy_to(str(tmp_path / "f"), "/no/such/dir/f")
    with pytest.raises(ConuException):
        sleeper.copy_to(str(tmp_path / "f"), "")


def test_copy_from_file(sleeper: Any, tmp_path: Path) -> None:
    sleeper.copy_from("/etc/motd", str(tmp_path))
    assert (tmp_path / "motd").read_text() == MOTD
    sleeper.copy_from("/etc/motd", str(tmp_path / "renamed"))
    assert (tmp_path / "renamed").read_text() == MOTD


def test_copy_from_directory(sleeper: Any, tmp_path: Path) -> None:
    sleeper.copy_from("/etc", str(tmp_path))  # into an existing dir: keeps the name
    assert (tmp_path / "etc" / "passwd").read_text() == PASSWD
    sleeper.copy_from("/etc", str(tmp_path / "copy"))  # a new dir named dest
    assert (tmp_path / "copy" / "motd").read_text() == MOTD


def test_copy_from_stopped_container(run: Callable[..., Any], tmp_path: Path) -> None:
    c = run(["sh", "-c", "echo made > /made"])
    c.wait(timeout=10)
    c.copy_from("/made", str(tmp_path))
    assert (tmp_path / "made").read_text() == "made\n"


def test_copy_from_missing(sleeper: Any, tmp_path: Path) -> None:
    with pytest.raises(NotFound) as info:
        sleeper.copy_from("/no/such/file", str(tmp_path))
    assert isinstance(info.value, ConuException)
    assert "/no/such/file" in str(info.value)
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(ConuException, match="does not exist"):
        sleeper.copy_from("/etc/motd", str(tmp_path / "missing-parent" / "x"))
    with pytest.raises(InvalidArgument):
        sleeper.copy_from(None, str(tmp_path))


# -- DockerContainerFS ------------------------------------------------------------------------


def test_mount_temporary(sleeper: Any) -> None:
    fs = sleeper.mount()
    assert isinstance(fs, DockerContainerFS)
    assert DockerContainerViaExportFS is DockerContainerFS
    assert fs.container is sleeper
    with fs as entered:
        assert entered is fs
        mount_point = fs.mount_point
        assert mount_point.startswith("/var/tmp/")
        assert os.path.isdir(os.path.join(mount_point, "etc"))
        assert fs.p("/etc/motd") == os.path.join(mount_point, "etc", "motd")
        assert fs.p("etc/motd") == fs.p("/etc/motd")
        assert os.path.islink(os.path.join(mount_point, "bin", "sh"))
        assert os.stat(os.path.join(mount_point, "etc")).st_uid == os.getuid()
    assert not os.path.exists(mount_point)


def test_mount_provided_is_kept(sleeper: Any, tmp_path: Path) -> None:
    mount_point = tmp_path / "mp"
    with sleeper.mount(str(mount_point)) as fs:
        assert fs.mount_point == str(mount_point)
        assert fs.read_file("/etc/motd") == MOTD
    assert (mount_point / "etc" / "motd").read_text() == MOTD


def test_mount_stopped_container(run: Callable[..., Any]) -> None:
    c = run(["sh", "-c", "echo made > /made"])
    c.wait(timeout=10)
    with c.mount() as fs:
        assert fs.read_file("/made") == "made\n"


def test_mount_removed_on_error(sleeper: Any) -> None:
    fs = sleeper.mount()
    with pytest.raises(RuntimeError), fs:
        mount_point = fs.mount_point
        raise RuntimeError
    assert not os.path.exists(mount_point)


def test_fs_read_and_presence(sleeper: Any, tmp_path: Path) -> None:
    with sleeper.mount() as fs:
        assert fs.read_file("/etc/motd") == MOTD
        with pytest.raises(ConuException):
            fs.read_file("/no/such/file")
        with fs.get_file("/etc/motd") as f:
            assert f.fileno()
            assert "/etc/motd" in f.name
            assert f.read() == MOTD
        with fs.get_file("/etc/motd", "rb") as f:
            assert f.read() == MOTD.encode()

        assert fs.file_is_present("/etc/motd") is True
        assert fs.file_is_present("/no/such/file") is False
        with pytest.raises(IOError):
            fs.file_is_present("/etc")
        assert fs.directory_is_present("/etc/") is True
        assert fs.directory_is_present("/etc") is True
        assert fs.directory_is_present("/no/such/dir") is False
        with pytest.raises(WrongFileType):
            fs.directory_is_present("/etc/motd")

        fs.copy_from("/etc/motd", str(tmp_path))
        assert (tmp_path / "motd").read_text() == MOTD
        fs.copy_from("/etc", str(tmp_path / "etc-copy"))
        assert (tmp_path / "etc-copy" / "passwd").read_text() == PASSWD
        with pytest.raises(FileExistsError):
            fs.copy_from("/etc", str(tmp_path / "etc-copy"))
        with pytest.raises(ConuException):
            fs.copy_from("/no/such/file", str(tmp_path))
        with pytest.raises(ConuException):
            fs.copy_to(str(tmp_path / "motd"), "/")


# -- confinement: symlinks written for the container never reach host files -------------------


@pytest.fixture
def linked(run: Callable[..., Any], tmp_path: Path) -> tuple[Any, Path]:
    """A container whose absolute symlinks name a host file that exists (with other content)."""
    host_dir = tmp_path / f"conu-confine-{uuid.uuid4().hex[:8]}"
    host_dir.mkdir()
    (host_dir / "secret").write_text("HOST SECRET\n")
    (host_dir / "host-only").write_text("HOST ONLY\n")
    script = (
        f"mkdir -p {host_dir} && echo inside > {host_dir}/secret"
        f" && ln -s {host_dir}/secret /etc/link"
        f" && ln -s {host_dir}/host-only /etc/dangling"
        f" && ln -s {host_dir} /etc/dirlink"
        " && ln -s ../../../../../etc/passwd /tmp/climb"
        " && touch /ready && exec sleep 300"
    )
    c = run(["sh", "-c", script])
    wait_for(lambda: _has_ready(c), timeout=10, pause=0.02, what="the symlinks")
    return c, host_dir


def _has_ready(container: Any) -> bool:
    return b"ready" in b"".join(container.execute(["ls", "/"]))


def test_fs_symlinks_stay_inside(linked: tuple[Any, Path]) -> None:
    c, host_dir = linked
    with c.mount() as fs:
        root = fs.mount_point
        resolved = fs.p("/etc/link")
        assert is_within(root, resolved)
        assert resolved == os.path.join(root, str(host_dir).lstrip("/"), "secret")
        assert fs.read_file("/etc/link") == "inside\n"
        assert fs.file_is_present("/etc/link") is True
        with fs.get_file("/etc/link") as f:
            assert f.read() == "inside\n"
        assert fs.directory_is_present("/etc/dirlink") is True
        assert fs.read_file("/etc/dirlink/secret") == "inside\n"

        # the link's target exists on the host only
        assert is_within(root, fs.p("/etc/dangling"))
        assert fs.file_is_present("/etc/dangling") is False
        with pytest.raises(ConuException):
            fs.read_file("/etc/dangling")

        # ".." stops at the container's root
        for path in ("/../../etc/passwd", "../../../etc/passwd", "/etc/../../../etc/passwd"):
            assert is_within(root, fs.p(path))
            assert fs.read_file(path) == PASSWD
        assert fs.read_file("/tmp/climb") == PASSWD
        assert is_within(root, fs.p("/tmp/climb"))


def test_fs_copy_from_symlink(linked: tuple[Any, Path], tmp_path: Path) -> None:
    c, _ = linked
    out = tmp_path / "out"
    out.mkdir()
    with c.mount() as fs:
        fs.copy_from("/etc/link", str(out / "copied"))
        assert (out / "copied").read_text() == "inside\n"
        with pytest.raises(ConuException):
            fs.copy_from("/etc/dangling", str(out / "dangling"))
        assert not os.path.lexists(out / "dangling")


def test_fs_copy_from_symlink_into_directory_keeps_its_name(
    linked: tuple[Any, Path], tmp_path: Path
) -> None:
    """conu 1.0 (and ``cp``): ``copy_from("/etc/system-release", dir)`` on a symlink gives
    ``dir/system-release``; ``get_file().name`` is the path asked for, not the resolved one."""
    c, _ = linked
    out = tmp_path / "into"
    out.mkdir()
    with c.mount() as fs:
        fs.copy_from("/etc/link", str(out))
        assert sorted(os.listdir(out)) == ["link"]
        assert (out / "link").read_text() == "inside\n"
        with fs.get_file("/etc/link") as f:
            assert f.name == os.path.join(fs.mount_point, "etc/link")
            assert f.read() == "inside\n"
        with fs.get_file("/etc/link", "rb") as f:
            assert f.name.endswith("/etc/link") and f.read() == b"inside\n"


def test_container_copy_from_symlink(linked: tuple[Any, Path], tmp_path: Path) -> None:
    c, host_dir = linked
    out = tmp_path / "out"
    out.mkdir()
    for src in ("/etc/link", "/etc/dangling"):
        dest = out / os.path.basename(src)
        c.copy_from(src, str(dest))
        # like docker cp: the link itself, or the container's file; never the host's file
        if os.path.islink(dest):
            assert os.readlink(dest).startswith(str(host_dir))
        else:
            assert dest.read_text() == "inside\n"
    assert (host_dir / "secret").read_text() == "HOST SECRET\n"


def test_read_host_file_unchanged_by_copy_to(linked: tuple[Any, Path], tmp_path: Path) -> None:
    c, host_dir = linked
    payload = tmp_path / "payload"
    payload.write_text("overwritten?\n")
    c.copy_to(str(payload), "/etc/link")  # writes through the link, inside the container
    assert (host_dir / "secret").read_text() == "HOST SECRET\n"
    with c.mount() as fs:
        assert fs.read_file(str(host_dir / "secret")) in ("overwritten?\n", "inside\n")
