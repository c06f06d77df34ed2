"""What the container scenarios share: the raw client, the test image, labels, sweeping.

The raw side talks to the engine through its own ``docker.APIClient``, made as a user of
the SDK makes one (from the environment, API version negotiated), never through conu's
process-wide client. Every container a scenario makes, on either side, carries
:data:`BENCH_LABEL` (and conu's session labels), so :func:`sweep` finds what a crashed
scenario left behind.
"""

from __future__ import annotations

import functools
import os
import sys
from typing import Any

from conu import DockerImage
from conu.labels import session_labels

__all__ = [
    "BENCH_LABEL",
    "IMAGE",
    "busybox",
    "labels",
    "leftovers",
    "raw_client",
    "sweep",
]

IMAGE = "conu-test/busybox:latest"
BENCH_LABEL = "conu.bench"
"""Label on every container the benchmarks make; its value says ``conu`` or ``raw``."""


@functools.cache
def raw_client() -> Any:
    """Return the raw side's own low-level client."""
    import docker
    from docker.utils import kwargs_from_env

    return docker.APIClient(version="auto", **kwargs_from_env())


@functools.cache
def busybox() -> DockerImage:
    """Build (or find up to date) the busybox test image and return it."""
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
    sys.path.insert(0, os.path.join(root, "scripts"))
    import images as test_images

    image: DockerImage = test_images.build(os.path.join(root, "tests", "images", "busybox"), IMAGE)
    return image


def labels(side: str) -> dict[str, str]:
    """Return the labels of a raw container: conu's session labels and the bench label."""
    return {**session_labels(), BENCH_LABEL: side}


def leftovers() -> list[str]:
    """Return the ids of the benchmark containers on the engine (there should be none)."""
    found = raw_client().containers(all=True, filters={"label": [BENCH_LABEL]})
    return [entry["Id"] for entry in found]


def sweep() -> int:
    """Force-remove every benchmark container; return how many there were."""
    ids = leftovers()
    for cid in ids:
        raw_client().remove_container(cid, force=True, v=True)
    return len(ids)
