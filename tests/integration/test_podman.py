"""The Podman backend through conu 1.0's import paths and its user surface (real podman)."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conu.conformance.conftest import IMAGE_DIR
from conu.labels import SESSION_ID, session_labels
from conu.probes import wait_for

pytestmark = pytest.mark.engine

BUSYBOX = "/bin/busybox"


@pytest.fixture(scope="module")
def podman_image(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The conformance image, built with podman for this module; removed afterwards."""
    from conu import PodmanImage

    if shutil.which("podman") is None:
        pytest.fail("podman is not installed (scripts/engine.sh installs it)")
    context = tmp_path_factory.mktemp("podman-context")
    shutil.copytree(IMAGE_DIR, context, dirs_exist_ok=True)
    shutil.copy2(BUSYBOX, context / "busybox")
    tag = f"conu-test/podman-compat:{SESSION_ID.replace('-', '_')}"
    image = PodmanImage.build(str(context), tag=tag, labels=session_labels(), nocache=True)
    yield image
    image.rmi(force=True)


def test_conu_1_0_import_paths() -> None:
    import conu
    from conu import PodmanBackend, PodmanImage, PodmanImagePullPolicy, PodmanRunBuilder
    from conu.backend.podman.backend import PodmanBackend as ByModule
    from conu.backend.podman.container import PodmanContainer
    from conu.utils import check_podman_command_works

    assert PodmanBackend is ByModule is conu.get_backend("podman")
    assert PodmanImagePullPolicy is conu.DockerImagePullPolicy
    assert PodmanImage.container_class is PodmanContainer
    builder = PodmanRunBuilder(["ls"], ["-e", "A=b"])
    builder.image_name = "img"
    assert builder.build() == [
        "podman",
        "run",
        "-e",
        "A=b",
        "-l",
        "conu.test_artifact",
        "img",
        "ls",
    ]
    assert check_podman_command_works() is True


def test_get_version(podman_backend: Any) -> None:
    version = podman_backend.get_version()
    assert version and version[0].isdigit() and "." in version


def test_run_and_list_metadata(podman_image: Any, podman_backend: Any) -> None:
    container = podman_image.run_via_binary(
        command=["sleep", "300"], additional_opts=["-e", "FOO=BAR"]
    )
    try:
        assert container.is_running()
        listed = {c.get_id(): c for c in podman_backend.list_containers()}
        md = listed[container.get_id()].metadata
        assert md.command == ["sleep", "300"]  # conu 1.0's podman list had neither of these
        assert md.env_variables["FOO"] == "BAR"
        assert md.env_variables["CONFORMANCE"] == "yes"
        assert md.image is not None
    finally:
        container.delete(force=True)


def test_foreground_and_stdin(podman_image: Any) -> None:
    container = podman_image.run_via_binary_in_foreground(
        command=["cat"],
        additional_opts=["-i"],
        popen_params={"stdin": subprocess.PIPE, "stdout": subprocess.PIPE},
    )
    try:
        assert container.is_running()
        container.write_to_stdin("echo palacinky\n")
        popen = container.popen_instance
        assert popen is not None and popen.stdout is not None
        os.set_blocking(popen.stdout.fileno(), True)
        assert popen.stdout.readline() == b"echo palacinky\n"
    finally:
        container.delete(force=True)
        popen = container.popen_instance
        for stream in (popen.stdin, popen.stdout):
            if stream is not None:
                stream.close()
        popen.wait(timeout=30)


def test_files_and_copies(podman_image: Any, tmp_path: Path) -> None:
    assert podman_image.read_file("/srv/data/escape") == "conformance image\n"
    container = podman_image.run_via_binary(command=["sleep", "300"])
    try:
        src = tmp_path / "in.txt"
        src.write_text("payload\n")
        container.copy_to(str(src), "/tmp")
        assert container.execute(["cat", "/tmp/in.txt"]) == [b"payload\n"]
        container.copy_from("/srv/abs-link", str(tmp_path))
        assert os.readlink(tmp_path / "abs-link") == "/etc/motd"  # the link itself, like cp
        with container.mount() as fs:
            fs.copy_from("/srv/abs-link", str(tmp_path / "out"))
            assert (tmp_path / "out").read_text() == "conformance image\n"
    finally:
        container.delete(force=True)
    wait_for(lambda: not container.is_running(), timeout=30, what="the container to go")
