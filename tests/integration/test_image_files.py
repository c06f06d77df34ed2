"""Files of images on the real engine, without running them: checks, reads, mounts, rpm."""

from __future__ import annotations

import os
import tracemalloc
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from conu import DockerImage, DockerImagePullPolicy
from conu.apidefs.filesystem import Filesystem
from conu.exceptions import (
    CommandDoesNotExistException,
    CommandFailed,
    ConuException,
    InvalidArgument,
    PackageSignatureException,
    WrongFileType,
)

IMAGES = Path(__file__).resolve().parent.parent / "images"
BIG_BYTES = 105 * 1000 * 1000  # the generated image is > 100 MB

LINKS_DOCKERFILE = """\
FROM conu-test/busybox
RUN mkdir -p /data/sub && echo hello > /data/hello.txt \\
 && ln -s /etc/motd /abs-link \\
 && ln -s ../../../../../../etc/motd /data/escape \\
 && ln -s /nowhere /dangling \\
 && ln -s /data /data-link
"""


@pytest.fixture(scope="module")
def links_image(make_image: Callable[..., Any]) -> Any:
    return make_image(LINKS_DOCKERFILE)


@pytest.fixture(scope="module")
def big_image(make_image: Callable[..., Any]) -> Any:
    return make_image(f"FROM conu-test/busybox\nRUN head -c {BIG_BYTES} /dev/urandom > /big.bin\n")


@pytest.fixture(autouse=True)
def _no_helpers_left(no_session_containers: None) -> Iterator[None]:
    """Every test here checks that no helper container is left, failures included."""
    yield


def test_presence_checks(links_image: Any) -> None:
    assert links_image.file_is_present("/data/hello.txt")
    assert links_image.file_is_present("data/hello.txt")  # relative to the root
    assert links_image.directory_is_present("/data/sub")
    assert links_image.directory_is_present("/")
    assert not links_image.file_is_present("/data/missing")
    assert not links_image.directory_is_present("/missing/dir")
    with pytest.raises(WrongFileType):
        links_image.file_is_present("/data")
    with pytest.raises(OSError):  # conu 1.0 raised IOError
        links_image.directory_is_present("/data/hello.txt")


def test_symlinks_resolve_inside_the_image(links_image: Any) -> None:
    assert links_image.file_is_present("/abs-link")
    assert links_image.read_file("/abs-link") == "conu test image\n"
    # A relative link climbing above the root stays at the image's root, not the host's.
    assert links_image.read_file("/data/escape") == "conu test image\n"
    assert links_image.directory_is_present("/data-link")
    assert links_image.file_is_present("/data-link/hello.txt")
    assert not links_image.file_is_present("/dangling")


def test_read_file(links_image: Any) -> None:
    assert links_image.read_file("/data/hello.txt") == "hello\n"
    assert "root:x:0:0" in links_image.read_file("/etc/passwd")
    with pytest.raises(ConuException, match="does not exist"):
        links_image.read_file("/data/missing")
    with pytest.raises(ConuException, match="not a regular file"):
        links_image.read_file("/data")
    with pytest.raises(InvalidArgument):
        links_image.read_file("")


def test_listing_and_walking_the_root_and_a_directory(busybox_image: Any) -> None:
    root = busybox_image.list_directory("/")
    assert {"bin", "etc"} <= set(root) and all("/" not in name for name in root)
    assert "motd" in busybox_image.list_directory("/etc")
    walked = {path: info for path, info, _ in busybox_image.walk("/")}
    assert walked["bin"].kind.value == "directory" and "bin/sh" in walked
    read = {p: d for p, _, d in busybox_image.walk("/etc", lambda p: p == "motd")}
    assert read["motd"] and read["passwd"] is None  # only what was asked for is read


def test_image_without_command_can_be_checked(make_image: Callable[..., Any]) -> None:
    image = make_image("FROM conu-test/busybox\nCMD []\nENTRYPOINT []\n")
    assert image.file_is_present("/etc/motd")


def test_mount_image(links_image: Any) -> None:
    with links_image.mount() as fs:
        assert isinstance(fs, Filesystem)
        root = fs.mount_point
        assert fs.file_is_present("/data/hello.txt")
        assert fs.read_file("/data/hello.txt") == "hello\n"
        assert fs.read_file("/abs-link") == "conu test image\n"  # the image's, not the host's
        assert fs.read_file("/data/escape") == "conu test image\n"
        assert os.path.islink(os.path.join(root, "abs-link"))
        assert fs.p("/abs-link") == os.path.join(root, "etc", "motd")
        assert fs.directory_is_present("/bin")
    assert not os.path.exists(root)


def test_mount_into_given_directory_is_kept(links_image: Any, tmp_path: Path) -> None:
    target = tmp_path / "root"
    with links_image.mount(str(target)) as fs:
        assert fs.file_is_present("/data/hello.txt")
    assert (target / "data" / "hello.txt").read_text() == "hello\n"


def test_big_image_file_checks(big_image: Any, busybox_image: Any) -> None:
    assert big_image.inspect()["Size"] > 100 * 1000 * 1000
    assert big_image.file_is_present("/big.bin")
    assert not busybox_image.file_is_present("/big.bin")
    assert big_image.file_is_present("/etc/motd") and busybox_image.file_is_present("/etc/motd")


def test_big_image_mount_streams_to_disk(big_image: Any) -> None:
    tracemalloc.start()
    try:
        with big_image.mount() as fs:
            size = os.path.getsize(fs.p("/big.bin"))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert size == BIG_BYTES
    assert peak < 32 * 1024 * 1024, f"mount held {peak / 1e6:.0f} MB in memory"


@pytest.fixture(scope="module")
def rpm_image(make_image: Callable[..., Any]) -> Any:
    directory = IMAGES / "rpm"
    files = {name: (directory / name).read_text() for name in ("rpm", "rpm-list")}
    return make_image((directory / "Dockerfile").read_text(), files=files)


def test_pkgs_signed_with_allowed_key(rpm_image: Any) -> None:
    assert rpm_image.has_pkgs_signed_with(["199E2F91FD431D51"]) is True
    assert rpm_image.has_pkgs_signed_with(["0000000000000000", "199e2f91fd431d51"]) is True


def test_pkgs_signed_with_other_key(rpm_image: Any) -> None:
    with pytest.raises(PackageSignatureException) as info:
        rpm_image.has_pkgs_signed_with(["0000000000000000"])
    message = str(info.value)
    assert "3 package(s)" in message
    assert "bash is signed with key 199e2f91fd431d51" in message
    assert "gpg-pubkey" not in message


def test_pkgs_signed_without_rpm(make_image: Callable[..., Any]) -> None:
    image = make_image("FROM conu-test/busybox\nRUN rm /bin/rpm\n")
    with pytest.raises(CommandDoesNotExistException, match="'rpm'"):
        image.has_pkgs_signed_with(["199e2f91fd431d51"])


def test_pkgs_signed_when_rpm_fails(busybox_image: Any) -> None:
    # busybox's rpm applet cannot list a database: rpm exists but fails.
    with pytest.raises(CommandFailed, match="exit code 1") as info:
        busybox_image.has_pkgs_signed_with(["199e2f91fd431d51"])
    assert info.value.exit_code == 1
    assert b"invalid option" in info.value.output


def test_pkgs_signed_with_needs_keys(rpm_image: Any) -> None:
    for bad in ([], "199e2f91fd431d51", None):
        with pytest.raises(InvalidArgument):
            rpm_image.has_pkgs_signed_with(bad)


def test_checks_on_missing_image() -> None:
    image = DockerImage("conu-test/not-there", tag="x", pull_policy=DockerImagePullPolicy.NEVER)
    with pytest.raises(ConuException, match="not-there"):
        image.file_is_present("/etc/motd")


def test_the_layer_route_is_taken_exactly_for_a_local_engine(busybox_image: Any) -> None:
    # make test: a local overlay2 engine, as root, reads the layers; make test-remote (an
    # engine over TCP, whose files are not here) asks helper containers. The route itself is
    # compared with the helper containers in test_image_layers.py (local engines only).
    from conu.backend.docker import layer_access

    view = busybox_image.engine.image_layers(busybox_image.get_id())
    assert (view is not None) == layer_access.enabled()
    assert busybox_image.file_is_present("/etc/motd")
