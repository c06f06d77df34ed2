"""File checks on a small (2 MB) and a big (> 100 MB) image, and unpacking the big one.

conu: ``DockerImage.file_is_present(path)``, ``read_file``, ``path_info`` and
``list_directory``; on a local overlay2 engine they read the image's layers (no container).
Raw: what one does with the SDK alone: create a container of the image, ``get_archive`` the
path (the whole stream read), remove the container.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from typing import Any

from harness import Scenario

from conu import DockerImage
from conu.backend.docker.client import get_client
from conu.labels import session_labels

BIG_BYTES = 105 * 1000 * 1000
PATH = "/etc/motd"
CHECKS = (
    ("file_is_present", PATH),
    ("read_file", PATH),
    ("path_info", PATH),
    ("list_directory", "/etc"),
)
"""The file checks timed: the method of ``DockerImage`` and the path it is given."""
CHECK_TARGET = 0.05
"""conu's file checks read the layers: at most 1/20 of the raw create + archive + remove."""


def _raw_file_is_present(client: Any, image_id: str, path: str) -> bool:
    import docker.errors

    cid = client.create_container(image_id, entrypoint=["/nonexistent"], command=[])["Id"]
    try:
        stream, _stat = client.get_archive(cid, path)
        for _chunk in stream:
            pass
        return True
    except docker.errors.NotFound:
        return False
    finally:
        client.remove_container(cid, force=True)


def _raw_export(client: Any, image_id: str) -> None:
    """Unpack the image's filesystem to a temporary directory with the SDK and tarfile."""
    import shutil
    import tarfile

    cid = client.create_container(image_id, entrypoint=["/nonexistent"], command=[])["Id"]
    target = tempfile.mkdtemp(prefix="conu-bench-raw-", dir="/var/tmp")
    try:
        with tarfile.open(fileobj=_Chunks(client.export(cid)), mode="r|") as tar:
            tar.extractall(target, filter="tar")
    finally:
        client.remove_container(cid, force=True)
        shutil.rmtree(target)


class _Chunks:
    """A file-like read() over an iterator of byte chunks."""

    def __init__(self, chunks: Any) -> None:
        self.chunks = iter(chunks)
        self.buffer = b""

    def read(self, size: int = -1) -> bytes:
        while size < 0 or len(self.buffer) < size:
            chunk = next(self.chunks, b"")
            if not chunk:
                break
            self.buffer += chunk
        size = len(self.buffer) if size < 0 else size
        data, self.buffer = self.buffer[:size], self.buffer[size:]
        return data


def _conu_mount(image: DockerImage) -> None:
    with image.mount():
        pass


def build_big_image() -> DockerImage:
    """Build an image of busybox plus a file of random bytes (labelled with the session)."""
    with tempfile.TemporaryDirectory(prefix="conu-bench-") as context:
        with open(os.path.join(context, "Dockerfile"), "w") as out:
            out.write(f"FROM conu-test/busybox\nRUN head -c {BIG_BYTES} /dev/urandom > /big.bin\n")
        return DockerImage.build(context, labels=session_labels())


def scenarios(small: DockerImage, big: DockerImage) -> list[Scenario]:
    """The file-check scenarios on ``small`` and ``big``, and the unpacking of ``big``."""
    client = get_client()
    made = []
    for method, path in CHECKS:
        for label, image in (("2 MB", small), (f"{big.inspect()['Size'] / 1e6:.0f} MB", big)):
            ident = image.get_id()
            check = getattr(image, method)
            made.append(
                Scenario(
                    name=f"{method}, {label} image",
                    conu=lambda check=check, path=path: check(path),
                    raw=lambda ident=ident, path=path: _raw_file_is_present(client, ident, path),
                    target=CHECK_TARGET,
                )
            )
    made.append(
        Scenario(
            name=f"mount (unpack) the {big.inspect()['Size'] / 1e6:.0f} MB image",
            conu=lambda: _conu_mount(big),
            raw=lambda: _raw_export(client, big.get_id()),
            reps=5,
            note="raw: export + tarfile.extractall(filter='tar'), no confinement checks",
        )
    )
    return made


@contextlib.contextmanager
def images() -> Any:
    """Yield (small, big) images; the big one is removed afterwards."""
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "scripts"))
    import images as test_images

    root = os.path.join(os.path.dirname(__file__), "..", "tests", "images")
    small = test_images.build(os.path.join(root, "busybox"), "conu-test/busybox:latest")
    big = build_big_image()
    try:
        yield small, big
    finally:
        big.rmi(force=True)
