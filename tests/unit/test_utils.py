"""Unit tests of the host helpers in ``conu.utils``."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fake_commands import fake_command

import conu.exceptions
from conu.exceptions import ConuException, InvalidArgument, InvalidReference
from conu.utils import (
    CommandDoesNotExistException,
    are_we_root,
    chcon_command_exists,
    check_docker_command_works,
    check_port,
    command_exists,
    convert_kv_to_dict,
    get_selinux_status,
    getenforce_command_exists,
    graceful_get,
    is_selinux_disabled,
    mkdtemp,
    mkstemp,
    oc_command_exists,
    parse_reference,
    random_str,
    random_tmp_filename,
    run_cmd,
    s2i_command_exists,
    setfacl_command_exists,
)

LOOP = ["bash", "-c", "for x in `seq 1 5`; do echo $x; sleep 0.01; done"]


@pytest.fixture
def listener() -> Iterator[int]:
    """A TCP socket listening on 127.0.0.1; yields its port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


def closed_port() -> int:
    """A loopback port nobody listens on (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_import_is_cheap() -> None:
    code = (
        "import sys, conu.utils\n"
        "heavy = {'attrs', 'requests', 'docker'} & set(sys.modules)\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_command_does_not_exist_is_reexported() -> None:
    assert CommandDoesNotExistException is conu.exceptions.CommandDoesNotExistException
    assert issubclass(CommandDoesNotExistException, ConuException)


def test_run_cmd_success() -> None:
    assert not run_cmd(LOOP)
    assert run_cmd(LOOP, return_output=True) == "1\n2\n3\n4\n5\n"


def test_run_cmd_merges_stderr_and_passes_kwargs() -> None:
    cmd = ["sh", "-c", 'echo "$X"; echo err >&2']
    output = run_cmd(cmd, return_output=True, env={"X": "hello"}, log_output=False)
    assert output == "hello\nerr\n"


def test_run_cmd_failure_raises_with_output() -> None:
    with pytest.raises(subprocess.CalledProcessError) as info:
        run_cmd(["sh", "-c", "echo oops; exit 5"])
    assert info.value.returncode == 5
    assert info.value.output == "oops\n"


def test_run_cmd_ignore_status() -> None:
    assert run_cmd(["sh", "-c", "exit 5"], ignore_status=True) == 5
    output = run_cmd(["sh", "-c", "echo x; exit 5"], ignore_status=True, return_output=True)
    assert output == "x\n"


def test_run_cmd_killed_by_signal_is_a_failure() -> None:
    with pytest.raises(subprocess.CalledProcessError) as info:
        run_cmd(["sh", "-c", "kill -9 $$"])
    assert info.value.returncode == -9
    assert run_cmd(["sh", "-c", "kill -9 $$"], ignore_status=True) == -9


def test_run_cmd_missing_binary() -> None:
    with pytest.raises(CommandDoesNotExistException, match="'conu-no-such-command'"):
        run_cmd(["conu-no-such-command", "--help"])


def test_run_cmd_missing_cwd_is_not_a_missing_command(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        run_cmd(["true"], cwd=str(tmp_path / "missing"))


def test_check_port_open_and_closed(listener: int) -> None:
    assert check_port(listener, "127.0.0.1", timeout=2) is True
    assert check_port(str(listener), "localhost", timeout=2) is True
    assert check_port(closed_port(), "127.0.0.1", timeout=2) is False


def test_check_port_ipv6() -> None:
    if not socket.has_ipv6:
        pytest.skip("no IPv6 support")
    try:
        sock = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        sock.bind(("::1", 0))
    except OSError:
        pytest.skip("::1 is not available")
    with sock:
        sock.listen()
        assert check_port(sock.getsockname()[1], "::1", timeout=2) is True


@pytest.mark.parametrize("port", [0, 65536, -1, "http", None])
def test_check_port_invalid_port(port: object) -> None:
    with pytest.raises(InvalidArgument):
        check_port(port, "127.0.0.1")  # type: ignore[arg-type]


def test_random_strings() -> None:
    value = random_str()
    assert len(value) == 10
    assert value.isascii()
    assert value.isalpha()
    assert value.islower()
    assert len(random_str(size=3)) == 3
    name = random_tmp_filename()
    assert name.startswith("conu-")
    assert len(name) == len("conu-") + 32


def test_graceful_get() -> None:
    data = {"a": [{1: 2}, {"b": "c"}]}
    assert graceful_get(data, "a", 1, "b") == "c"
    assert graceful_get(data, "a", 5, "b") is None
    assert graceful_get(data, "x", default="d") == "d"
    assert graceful_get(data, "a", 0, 1, "z", default=0) == 0
    assert graceful_get({}, "a", default=[]) == []
    assert graceful_get(None, "a") is None
    assert graceful_get(data) is data


def test_command_exists(bin_dir: Path) -> None:
    fake_command(bin_dir, "present", "exit 0")
    assert command_exists("present", ["present"], "unused") is True
    with pytest.raises(CommandDoesNotExistException, match=r"^install it$"):
        command_exists("absent", ["absent"], "install it")


@pytest.mark.parametrize(
    ("check", "command", "package"),
    [
        (s2i_command_exists, "s2i", "source-to-image"),
        (oc_command_exists, "oc", "origin-clients"),
        (chcon_command_exists, "chcon", "coreutils"),
        (setfacl_command_exists, "setfacl", "acl"),
        (getenforce_command_exists, "getenforce", "libselinux-utils"),
    ],
)
def test_command_wrappers(
    bin_dir: Path, check: Callable[[], bool], command: str, package: str
) -> None:
    with pytest.raises(CommandDoesNotExistException, match=package) as info:
        check()
    assert repr(command) in str(info.value)
    fake_command(bin_dir, command, "exit 0")
    assert check() is True


def test_check_docker_command_works(bin_dir: Path) -> None:
    with pytest.raises(CommandDoesNotExistException, match="'docker'"):
        check_docker_command_works()
    fake_command(bin_dir, "docker", "echo no engine; exit 1")
    with pytest.raises(ConuException, match="no engine") as info:
        check_docker_command_works()
    assert isinstance(info.value.__cause__, subprocess.CalledProcessError)
    fake_command(bin_dir, "docker", "exit 0")
    assert check_docker_command_works() is True


@pytest.mark.parametrize(("status", "disabled"), [("Disabled", True), ("Enforcing", False)])
def test_selinux_status(bin_dir: Path, status: str, disabled: bool) -> None:
    fake_command(bin_dir, "getenforce", f"echo {status}")
    assert get_selinux_status() == status
    assert is_selinux_disabled() is disabled


def test_selinux_status_without_getenforce(bin_dir: Path) -> None:
    with pytest.raises(CommandDoesNotExistException):
        get_selinux_status()


def test_temporary_paths(tmp_path: Path) -> None:
    fd, path = mkstemp(dir=str(tmp_path))
    os.close(fd)
    assert Path(path).parent == tmp_path
    assert Path(path).name.startswith("conu-")
    directory = mkdtemp()
    try:
        assert Path(directory).is_dir()
        assert Path(directory).name.startswith("conu-")
    finally:
        os.rmdir(directory)


def test_convert_kv_to_dict() -> None:
    text = 'NAME="Fedora"\n\n# comment\nVERSION_ID=27\nEMPTY=\nURL=a=b\n'
    expected = {"NAME": '"Fedora"', "VERSION_ID": "27", "EMPTY": "", "URL": "a=b"}
    assert convert_kv_to_dict(text) == expected
    with pytest.raises(InvalidArgument, match="'garbage'"):
        convert_kv_to_dict("A=1\ngarbage\n")


def test_are_we_root() -> None:
    assert are_we_root() is (os.geteuid() == 0)


@pytest.mark.parametrize(
    ("reference", "expected"),
    [
        ("registry.fedoraproject.org/fedora:27", ("registry.fedoraproject.org/fedora", "27")),
        ("fedora", ("fedora", "latest")),
        ("host:7890/fedora", ("host:7890/fedora", "latest")),
        ("host:7890/fedora:rawhide", ("host:7890/fedora", "rawhide")),
        ("x@sha256:" + "a" * 64, ("x", "sha256:" + "a" * 64)),
        ("x:1@sha256:" + "b" * 64, ("x", "sha256:" + "b" * 64)),
    ],
)
def test_parse_reference(reference: str, expected: tuple[str, str]) -> None:
    assert parse_reference(reference) == expected


@pytest.mark.parametrize("reference", ["", "UPPER/Case", "a:b:c:d", "x y"])
def test_parse_reference_invalid(reference: str) -> None:
    with pytest.raises(InvalidReference):
        parse_reference(reference)
