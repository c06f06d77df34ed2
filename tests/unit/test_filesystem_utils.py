"""Unit tests of ``conu.utils.filesystem``: Directory and Volume.

They run as root, so changing owners works; SELinux tests that need a real SELinux host are
skipped when ``getenforce`` is missing or reports it disabled.
"""

from __future__ import annotations

import grp
import os
import pwd
import shutil
import stat
import subprocess
from pathlib import Path

import pytest
from fake_commands import fake_command

from conu.exceptions import CommandDoesNotExistException, ConuException, InvalidArgument
from conu.utils.filesystem import Directory, Volume

NOBODY = 65534
needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="changing owners needs root")


def selinux_enabled() -> bool:
    if shutil.which("getenforce") is None:
        return False
    result = subprocess.run(["getenforce"], capture_output=True, text=True, check=False)
    return result.stdout.strip() in {"Enforcing", "Permissive"}


# --- Directory ------------------------------------------------------------------------------


def test_create_write_remove(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b"
    with Directory(str(path)) as directory:
        assert directory.initialized
        assert path.is_dir()
        (path / "file").write_text("content")
    assert not path.exists()
    assert not directory.initialized


def test_path_like_and_formats(tmp_path: Path) -> None:
    directory = Directory(tmp_path / "d")
    assert directory.path == str(tmp_path / "d")
    assert str(directory) == str(tmp_path / "d")
    assert repr(directory) == f"Directory(path={tmp_path / 'd'})"


def test_mode_ignores_umask(tmp_path: Path) -> None:
    path = tmp_path / "private"
    old_umask = os.umask(0o077)
    try:
        with Directory(str(path), mode=0o755):
            assert stat.S_IMODE(path.stat().st_mode) == 0o755
    finally:
        os.umask(old_umask)
    with Directory(str(path), mode=0o700):
        assert stat.S_IMODE(path.stat().st_mode) == 0o700


def test_existing_directory_gets_mode(tmp_path: Path) -> None:
    tmp_path.joinpath("existing").mkdir(mode=0o755)
    directory = Directory(str(tmp_path / "existing"), mode=0o700)
    directory.initialize()
    assert stat.S_IMODE((tmp_path / "existing").stat().st_mode) == 0o700


def test_initialize_twice_and_clean_without_initialize(tmp_path: Path) -> None:
    path = tmp_path / "d"
    directory = Directory(str(path))
    directory.clean()
    directory.initialize()
    (path / "keep").write_text("x")
    directory.initialize()
    assert (path / "keep").exists()
    shutil.rmtree(path)
    directory.clean()


def test_no_host_tools_needed_for_plain_directory(tmp_path: Path, bin_dir: Path) -> None:
    with Directory(str(tmp_path / "d"), mode=0o700, user_owner=0, group_owner=0) as directory:
        assert Path(directory.path).is_dir()


@needs_root
@pytest.mark.parametrize("owner", [NOBODY, "nobody"])
def test_user_owner(tmp_path: Path, owner: int | str) -> None:
    path = tmp_path / "d"
    with Directory(str(path), user_owner=owner) as directory:
        assert directory.owner == NOBODY
        assert path.stat().st_uid == NOBODY
        assert path.stat().st_gid == os.getegid()


@needs_root
@pytest.mark.parametrize("group", [NOBODY, "nobody"])
def test_group_owner(tmp_path: Path, group: int | str) -> None:
    path = tmp_path / "d"
    with Directory(str(path), group_owner=group) as directory:
        assert directory.group == NOBODY
        assert path.stat().st_gid == NOBODY
        assert path.stat().st_uid == os.geteuid()


@needs_root
def test_owner_zero_is_honoured(tmp_path: Path) -> None:
    path = tmp_path / "d"
    path.mkdir()
    os.chown(path, NOBODY, NOBODY)
    Directory(str(path), user_owner=0, group_owner=0).initialize()
    assert (path.stat().st_uid, path.stat().st_gid) == (0, 0)


def test_group_name_from_group_database() -> None:
    user_names = {entry.pw_name for entry in pwd.getpwall()}
    groups = [entry for entry in grp.getgrall() if entry.gr_name not in user_names]
    if not groups:
        pytest.skip("every group has a same-named user")
    assert Directory("/unused", group_owner=groups[0].gr_name).group == groups[0].gr_gid


def test_unknown_user_or_group() -> None:
    with pytest.raises(InvalidArgument, match="'conu-no-such-user'"):
        Directory("/unused", user_owner="conu-no-such-user")
    with pytest.raises(ConuException, match="'conu-no-such-group'"):
        Directory("/unused", group_owner="conu-no-such-group")


def test_facl_rules_need_setfacl_only_when_requested(tmp_path: Path, bin_dir: Path) -> None:
    directory = Directory(str(tmp_path / "d"), facl_rules=["u:26:rwx"])
    with pytest.raises(CommandDoesNotExistException, match="setfacl"):
        directory.initialize()


def test_facl_rules_are_passed_to_setfacl(tmp_path: Path, bin_dir: Path) -> None:
    log = tmp_path / "args"
    fake_command(bin_dir, "setfacl", f'echo "$@" > {log}')
    path = tmp_path / "d"
    with Directory(str(path), facl_rules=["u:26:rwx", "g:26:r"]):
        assert log.read_text() == f"-m u:26:rwx,g:26:r {path}\n"


def test_setfacl_failure_is_a_conu_exception(tmp_path: Path, bin_dir: Path) -> None:
    fake_command(bin_dir, "setfacl", "echo bad rule; exit 1")
    directory = Directory(str(tmp_path / "d"), facl_rules=["nonsense"])
    with pytest.raises(ConuException, match="bad rule"):
        directory.initialize()
    assert not (tmp_path / "d").exists()


def test_failed_set_up_keeps_existing_directory(tmp_path: Path, bin_dir: Path) -> None:
    (tmp_path / "d").mkdir()
    directory = Directory(str(tmp_path / "d"), facl_rules=["u:26:rwx"])
    with pytest.raises(CommandDoesNotExistException):
        directory.initialize()
    assert (tmp_path / "d").is_dir()


@pytest.mark.skipif(shutil.which("getfacl") is None, reason="needs setfacl and getfacl")
def test_facl_rules_real(tmp_path: Path) -> None:
    with Directory(str(tmp_path / "d"), facl_rules=["u:26:rwx"]) as directory:
        output = subprocess.run(
            ["getfacl", directory.path], capture_output=True, text=True, check=True
        ).stdout
    assert "user:26:rwx" in output


def test_selinux_context_with_fields_is_refused() -> None:
    with pytest.raises(InvalidArgument):
        Directory("/unused", selinux_context="system_u:object_r:unlabeled_t:s0", selinux_type="x")


def test_selinux_labels_need_getenforce(bin_dir: Path) -> None:
    with pytest.raises(CommandDoesNotExistException, match="getenforce"):
        Directory("/unused", selinux_type="container_file_t")


def test_selinux_labels_on_disabled_selinux(bin_dir: Path) -> None:
    fake_command(bin_dir, "getenforce", "echo Disabled")
    with pytest.raises(ConuException, match="SELinux is disabled"):
        Directory("/unused", selinux_type="container_file_t")


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        (
            {"selinux_context": "system_u:object_r:unlabeled_t:s0"},
            "system_u:object_r:unlabeled_t:s0",
        ),
        ({"selinux_type": "container_file_t"}, "-t container_file_t"),
        ({"selinux_user": "system_u", "selinux_range": "s0"}, "-u system_u -l s0"),
    ],
)
def test_selinux_labels_are_passed_to_chcon(
    tmp_path: Path, bin_dir: Path, kwargs: dict[str, str], expected: str
) -> None:
    log = tmp_path / "args"
    fake_command(bin_dir, "getenforce", "echo Enforcing")
    fake_command(bin_dir, "chcon", f'echo "$@" > {log}')
    path = tmp_path / "d"
    with Directory(str(path), **kwargs):  # type: ignore[arg-type]
        assert log.read_text() == f"{expected} {path}\n"


@pytest.mark.skipif(not selinux_enabled(), reason="needs getenforce and SELinux enabled")
def test_selinux_type_real(tmp_path: Path) -> None:
    with Directory(str(tmp_path / "d"), selinux_type="container_file_t") as directory:
        output = subprocess.run(
            ["ls", "-Zd", directory.path], capture_output=True, text=True, check=True
        ).stdout
    assert "container_file_t" in output


# --- Volume ---------------------------------------------------------------------------------


def test_volume_formats(tmp_path: Path) -> None:
    assert str(Volume("/t")) == "/t"
    assert str(Volume("/t", source="/s")) == "/s:/t"
    assert str(Volume("/t", source="/s", mode="Z")) == "/s:/t:Z"
    volume = Volume("/t", source=tmp_path, mode="ro")
    assert isinstance(volume.source, Directory)
    assert not volume.source.initialized
    assert repr(volume) == f"Volume(target='/t', source=Directory(path={tmp_path}), mode='ro')"


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("/t", "/t"),
        (("/t",), "/t"),
        (["/t"], "/t"),
        (("/s", "/t"), "/s:/t"),
        (["/s", "/t"], "/s:/t"),
        (("/s", "/t", "Z"), "/s:/t:Z"),
        ((Path("/s"), "/t", "ro"), "/s:/t:ro"),
    ],
)
def test_volume_from_spec(spec: object, expected: str) -> None:
    assert str(Volume.create_from_tuple(spec)) == expected


def test_volume_from_spec_with_directory(tmp_path: Path) -> None:
    directory = Directory(str(tmp_path))
    volume = Volume.create_from_tuple((directory, "/mountpoint", "Z"))
    assert volume.source is directory
    assert str(volume) == f"{tmp_path}:/mountpoint:Z"
    assert Volume.create_from_tuple(volume) is volume


@pytest.mark.parametrize(
    ("spec", "bad"),
    [
        ((), "()"),
        (("/s", "/t", "Z", "x"), "'x'"),
        (42, "42"),
        (None, "None"),
        ((1, "/t"), "source 1"),
        (("/s", 2), "target 2"),
        (("/s", "/t", 3), "mode 3"),
        (("",), "target ''"),
    ],
)
def test_volume_from_bad_spec(spec: object, bad: str) -> None:
    with pytest.raises(InvalidArgument) as info:
        Volume.create_from_tuple(spec)
    assert bad in str(info.value)
