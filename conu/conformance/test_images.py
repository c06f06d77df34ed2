"""Images: identity, metadata, presence, files without running, build and removal."""

from __future__ import annotations

import os
import shutil
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from conu.apidefs.backend import Backend, Capability
from conu.apidefs.metadata import ImageMetadata, PathKind
from conu.conformance.conftest import IMAGE_NAME
from conu.exceptions import ConuException, NotFound, WrongFileType
from conu.labels import SESSION_ID, SESSION_LABEL, session_labels


def test_identity(image: Any, backend: Backend) -> None:
    assert isinstance(image, backend.ImageClass)
    assert image.is_present()
    assert image.get_id()
    assert IMAGE_NAME in image.get_full_name()


def test_metadata(image: Any) -> None:
    md = image.get_metadata()
    assert isinstance(md, ImageMetadata)
    assert (md.labels or {}).get("conu.conformance") == "image"
    assert md.env_variables["CONFORMANCE"] == "yes"
    assert md.command == ["sh"]
    assert md.exposed_ports == ["8080/tcp"]
    assert md.identifier and image.get_id().endswith(md.identifier)


@pytest.fixture
def image_files(require: Callable[[Capability], None], image: Any) -> Any:
    require(Capability.IMAGE_FILES)
    return image


def _session_containers(backend: Backend) -> set[str]:
    """This session's containers (others come and go meanwhile, e.g. parallel sessions)."""
    found = set()
    for container in backend.list_containers():
        try:
            labels = container.get_metadata().labels or {}
        except NotFound:
            continue
        if labels.get(SESSION_LABEL) == SESSION_ID:
            found.add(container.get_id())
    return found


def test_file_checks_without_running(image_files: Any, backend: Backend) -> None:
    before = _session_containers(backend)
    assert image_files.file_is_present("/srv/data/file.txt")
    assert image_files.directory_is_present("/srv/data/sub")
    assert not image_files.file_is_present("/srv/none")
    assert not image_files.directory_is_present("/srv/none")
    assert image_files.read_file("/srv/www/index.html") == "hello from conu\n"
    assert image_files.read_file("/srv/data/escape") == "conformance image\n"
    with pytest.raises(WrongFileType):
        image_files.file_is_present("/srv/data")
    with pytest.raises(WrongFileType):
        image_files.directory_is_present("/srv/data/file.txt")
    with pytest.raises(ConuException):
        image_files.read_file("/srv/none")
    assert _session_containers(backend) == before  # no helper left


def test_mount_image(require: Callable[[Capability], None], image: Any) -> None:
    require(Capability.MOUNT)
    with image.mount() as fs:
        root = fs.mount_point
        assert fs.read_file("/srv/abs-link") == "conformance image\n"
        assert fs.directory_is_present("/bin")
    assert not os.path.exists(root)


def test_build_tag_and_remove(
    require: Callable[[Capability], None], backend: Backend, image: Any, tmp_path: Path
) -> None:
    require(Capability.BUILD)
    (tmp_path / "Dockerfile").write_text(f"FROM {image.get_full_name()}\nLABEL built=yes\n")
    built = backend.ImageClass.build(
        str(tmp_path), tag="conu-conformance/built:latest", labels=session_labels(), nocache=True
    )
    try:
        assert built.is_present()
        labels = built.get_metadata().labels or {}
        assert labels.get("built") == "yes"
        assert labels.get("conu.conformance") == "image"  # inherited
        assert built.get_id() in {i.get_id() for i in backend.list_images()}
    finally:
        built.rmi(force=True)
    assert not built.is_present()


def test_layers(image: Any) -> None:
    ids = image.get_layer_ids()
    assert ids and len(image.layers()) >= 1


def test_build_failure(
    require: Callable[[Capability], None], backend: Backend, image: Any, tmp_path: Path
) -> None:
    require(Capability.BUILD)
    (tmp_path / "Dockerfile").write_text(f"FROM {image.get_full_name()}\nRUN exit 3\n")
    with pytest.raises(ConuException):
        backend.ImageClass.build(str(tmp_path), labels=session_labels(), nocache=True)
    shutil.rmtree(tmp_path)


def test_path_info_and_list_directory(image_files: Any) -> None:
    info = image_files.path_info("/srv/data/file.txt")
    assert info is not None and info.kind is PathKind.FILE
    assert stat.S_ISREG(info.mode) and info.size == len("data\n")
    link = image_files.path_info("/srv/abs-link")
    assert link is not None and link.kind is PathKind.SYMLINK and link.link_target == "/etc/motd"
    assert image_files.path_info("/srv/none") is None
    assert image_files.list_directory("/srv/data") == ["escape", "file.txt", "sub"]
    with pytest.raises(ConuException):
        image_files.list_directory("/srv/data/file.txt")


def test_run_command(image: Any, backend: Backend) -> None:
    result = image.run_command(["sh", "-c", "echo out; echo err >&2; exit 3"], env={"A": "b"})
    if Capability.LOG_STREAMS in backend.capabilities:
        assert (result.exit_code, result.stdout, result.stderr) == (3, b"out\n", b"err\n")
    else:  # one log: stderr is merged into stdout
        assert (result.exit_code, sorted(result.stdout.split()), result.stderr) == (
            3,
            [b"err", b"out"],
            b"",
        )
    assert image.run_command(["sh", "-c", "echo $A"], env={"A": "b"}).stdout == b"b\n"


def test_run_command_and_commit(require: Callable[[Capability], None], image: Any) -> None:
    require(Capability.COMMIT)
    committed = image.run_command(["sh", "-c", "echo made > /made"], commit=True).image
    try:
        assert committed.run_command(["cat", "/made"]).stdout == b"made\n"
    finally:
        committed.rmi(force=True, prune=False)
    assert image.is_present()
