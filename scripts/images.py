"""Build the images the tests and the demo use, from Dockerfiles in the repository.

No registry is involved: the base is ``FROM scratch`` plus the host's static busybox
(Debian's busybox-static), copied into a temporary build context next to the Dockerfile's
directory. Builds are idempotent: the engine's cache makes a rebuild instant.
"""

from __future__ import annotations

import os
import shutil
import tempfile

from conu import DockerImage

BUSYBOX_CANDIDATES = ("/bin/busybox", "/usr/bin/busybox")


def host_busybox() -> str:
    """Return the path of the host's busybox binary."""
    for path in BUSYBOX_CANDIDATES:
        if os.path.isfile(path):
            return path
    msg = "busybox is not installed on this host: apt-get install busybox-static"
    raise RuntimeError(msg)


def build(directory: str, tag: str) -> DockerImage:
    """Build ``directory`` (with busybox added to its context) as ``tag`` and return the image."""
    with tempfile.TemporaryDirectory(prefix="conu-build-") as context:
        shutil.copytree(directory, context, dirs_exist_ok=True)
        shutil.copy2(host_busybox(), os.path.join(context, "busybox"))
        return DockerImage.build(context, tag=tag)


if __name__ == "__main__":
    import sys

    if len(sys.argv) != 3:
        sys.exit("usage: python scripts/images.py DIRECTORY TAG")
    built = build(sys.argv[1], sys.argv[2])
    print(f"built {sys.argv[2]} ({built.get_id()[:19]})")
