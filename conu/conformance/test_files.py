"""Copying files in and out of containers, and their filesystems on the host."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from conu.apidefs.backend import Capability
from conu.apidefs.filesystem import Filesystem


@pytest.fixture
def copying(require: Callable[[Capability], None], sleeper: Any) -> Any:
    require(Capability.COPY)
    return sleeper


def test_copy_to_and_from(copying: Any, tmp_path: Path) -> None:
    src = tmp_path / "in.txt"
    src.write_text("payload\n")
    copying.copy_to(str(src), "/tmp")
    copying.copy_to(str(src), "/tmp/renamed.txt")
    copying.copy_from("/tmp/in.txt", str(tmp_path / "out.txt"))
    assert (tmp_path / "out.txt").read_text() == "payload\n"
    copying.copy_from("/tmp/renamed.txt", str(tmp_path))
    assert (tmp_path / "renamed.txt").read_text() == "payload\n"


def test_copy_directories(copying: Any, tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    (tree / "sub").mkdir(parents=True)
    (tree / "sub" / "leaf").write_text("leaf\n")
    copying.copy_to(str(tree), "/tmp")
    copying.copy_from("/tmp/tree", str(tmp_path / "back"))
    assert (tmp_path / "back" / "sub" / "leaf").read_text() == "leaf\n"


def test_copy_from_missing_path(copying: Any, tmp_path: Path) -> None:
    from conu.exceptions import ConuException

    with pytest.raises(ConuException):
        copying.copy_from("/no/such/path", str(tmp_path / "x"))


def test_mount_container(require: Callable[[Capability], None], sleeper: Any) -> None:
    require(Capability.MOUNT)
    with sleeper.mount() as fs:
        assert isinstance(fs, Filesystem)
        root = fs.mount_point
        assert fs.read_file("/srv/data/file.txt") == "data\n"
        assert fs.file_is_present("/etc/motd")
        assert fs.directory_is_present("/srv/data/sub")
        assert not fs.file_is_present("/nope")
        # Links resolve inside the container's root, never on the host.
        assert fs.read_file("/srv/abs-link") == "conformance image\n"
        assert fs.read_file("/srv/data/escape") == "conformance image\n"
        with pytest.raises(OSError):
            fs.file_is_present("/srv/data")
    assert not os.path.exists(root)
