"""Build the images the tests and the demo use, from Dockerfiles in the repository.

No registry is involved: the base is ``FROM scratch`` plus the host's static busybox
(Debian's busybox-static), copied into a temporary build context next to the Dockerfile's
directory. Builds are idempotent: the engine's cache makes a rebuild instant.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import tempfile
from collections.abc import Iterator

from conu import DockerImage

BUSYBOX_CANDIDATES = ("/bin/busybox", "/usr/bin/busybox")


def host_busybox() -> str:
    """Return the path of the host's busybox binary."""
    for path in BUSYBOX_CANDIDATES:
        if os.path.isfile(path):
            return path
    msg = "busybox is not installed on this host: apt-get install busybox-static"
    raise RuntimeError(msg)


@contextlib.contextmanager
def _locked(directory: str) -> Iterator[None]:
    fd = os.open(directory, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


def build(directory: str, tag: str) -> DockerImage:
    """Build ``directory`` (with busybox added to its context) as ``tag`` and return the image.

    Builds of one directory are serialized across processes (a lock on the directory): two
    xdist workers building the same image at once on an engine with an empty cache would
    make two images, and the tag would stay with only one of them.
    """
    with _locked(directory), tempfile.TemporaryDirectory(prefix="conu-build-") as context:
        shutil.copytree(directory, context, dirs_exist_ok=True)
        shutil.copy2(host_busybox(), os.path.join(context, "busybox"))
        return DockerImage.build(context, tag=tag)


if __name__ == "__main__":
    import sys

    if len(sys.argv) != 3:
        sys.exit("usage: python scripts/images.py DIRECTORY TAG")
    built = build(sys.argv[1], sys.argv[2])
    print(f"built {sys.argv[2]} ({built.get_id()[:19]})")
