"""Untrusted images on the real engine: links out of the root, ``..``, device nodes, setuid
files, hard links and a multi-gigabyte sparse file. Mounting, copying and reading stay inside
their root or destination, and memory stays bounded.

The image carries links to an absolute path that also exists on the host, with other
contents: whatever conu reads must be the image's copy, never the host's.
"""

from __future__ import annotations

import os
import stat
import time
import tracemalloc
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from conu.exceptions import WrongFileType
from conu.labels import SESSION_ID

SECRET_DIR = f"/tmp/conu-untrusted-{SESSION_ID}"
SPARSE_BYTES = 3 * 1024**3
BOUND = 32 * 1024 * 1024  # bytes of Python memory a mount may hold at its peak


@pytest.fixture(scope="module")
def host_secret() -> Iterator[Path]:
    """A file on the host at the path the image's links name."""
    directory = Path(SECRET_DIR)
    directory.mkdir(exist_ok=True)
    (directory / "secret").write_text("HOST SECRET\n")
    yield directory / "secret"
    (directory / "secret").unlink()
    directory.rmdir()


@pytest.fixture(scope="module")
def evil_image(make_image: Callable[..., Any], host_secret: Path) -> Any:
    return make_image(
        f"""FROM conu-test/busybox
RUN mkdir -p {SECRET_DIR} /evil/dir \\
 && echo 'IMAGE SECRET' > {SECRET_DIR}/secret \\
 && ln -s {SECRET_DIR}/secret /evil/abs \\
 && ln -s ../../../../../../..{SECRET_DIR}/secret /evil/rel \\
 && ln -s / /evil/root \\
 && ln -s /evil/loop2 /evil/loop1 && ln -s /evil/loop1 /evil/loop2 \\
 && mknod /evil/null c 1 3 && mkfifo /evil/fifo \\
 && cp /bin/busybox /evil/suid && chmod 4755 /evil/suid \\
 && ln /etc/motd /evil/hard \\
 && truncate -s {SPARSE_BYTES} /evil/sparse
"""
    )


def test_image_reads_stay_in_the_image(evil_image: Any, host_secret: Path) -> None:
    assert evil_image.read_file("/evil/abs") == "IMAGE SECRET\n"
    assert evil_image.read_file("/evil/rel") == "IMAGE SECRET\n"
    assert evil_image.read_file("/evil/root/etc/motd") == "conu test image\n"
    assert evil_image.read_file(f"/../../..{SECRET_DIR}/secret") == "IMAGE SECRET\n"
    assert evil_image.read_file("/evil/hard") == "conu test image\n"
    assert not evil_image.file_is_present("/evil/loop1")  # a loop resolves to nothing
    with pytest.raises(WrongFileType):
        evil_image.file_is_present("/evil/null")
    assert host_secret.read_text() == "HOST SECRET\n"


def test_mount_stays_in_its_root(evil_image: Any, host_secret: Path) -> None:
    tracemalloc.start()
    started = time.monotonic()
    try:
        with evil_image.mount() as fs:
            elapsed = time.monotonic() - started
            root = Path(fs.mount_point)
            assert fs.read_file("/evil/abs") == "IMAGE SECRET\n"
            assert fs.read_file("/evil/rel") == "IMAGE SECRET\n"
            assert fs.read_file("/evil/root/etc/motd") == "conu test image\n"
            assert fs.read_file(f"/../..{SECRET_DIR}/secret") == "IMAGE SECRET\n"
            assert fs.p(f"/../..{SECRET_DIR}/secret").startswith(str(root))
            assert os.readlink(root / "evil" / "abs") == f"{SECRET_DIR}/secret"  # kept as is
            assert not (root / "evil" / "null").exists()  # devices and fifos are not made
            assert not (root / "evil" / "fifo").exists()
            suid = (root / "evil" / "suid").stat()
            assert not suid.st_mode & (stat.S_ISUID | stat.S_ISGID)
            assert suid.st_uid == os.getuid()
            sparse = (root / "evil" / "sparse").stat()
            assert sparse.st_size == SPARSE_BYTES
            assert sparse.st_blocks * 512 < 64 * 1024 * 1024  # holes, not 3 GB of zeros
            assert (root / "evil" / "hard").stat().st_ino == (root / "etc" / "motd").stat().st_ino
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert not root.exists()
    assert host_secret.read_text() == "HOST SECRET\n"
    assert peak < BOUND, f"the mount held {peak / 1e6:.0f} MB"
    print(f"mounted a {SPARSE_BYTES >> 30} GiB image in {elapsed:.1f}s, peak {peak / 1e6:.1f} MB")


def test_copy_from_stays_in_its_destination(
    evil_image: Any, host_secret: Path, track: Callable[[Any], Any], tmp_path: Path
) -> None:
    container = track(evil_image.run_via_binary(command=["sleep", "300"]))
    dest = tmp_path / "dest"
    dest.mkdir()
    outside = set(os.listdir(tmp_path))
    container.copy_from("/evil/dir", str(dest / "copied"))
    container.copy_from("/evil/abs", str(dest))  # the link itself, as docker cp does
    assert os.readlink(dest / "abs") == f"{SECRET_DIR}/secret"
    # Copying a directory again into a path that is now a link must not write through it.
    (dest / "through").symlink_to(tmp_path)
    with pytest.raises(Exception):  # noqa: B017 - any conu error; what matters is below
        container.copy_from("/evil/dir", str(dest / "through" / "x" / "y"))
    assert set(os.listdir(tmp_path)) == outside
    assert host_secret.read_text() == "HOST SECRET\n"
