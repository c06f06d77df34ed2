"""Removing the 50 containers a test session left behind.

Before each timed call, untimed, 50 containers of busybox are created (not started) with
conu's session labels (and the bench label), the same way for both sides. conu then removes
them with ``DockerBackend.cleanup_containers()``, which finds them by the session label; the
raw side removes the 50 ids it created with ``remove_container(force=True)`` from a
``ThreadPoolExecutor(8)``.
"""

from __future__ import annotations

import logging
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from common import labels, raw_client
from harness import Measured, Scenario

from conu import DockerBackend, DockerImage
from conu.labels import session_filter

COUNT = 50
THREADS = 8
SLEEP = ["sleep", "600"]


def _create(client: Any, image_id: str, side: str) -> list[str]:
    """Create COUNT labelled containers (untimed, so in parallel to save time)."""

    def one(_: int) -> str:
        cid: str = client.create_container(image_id, command=SLEEP, labels=labels(side))["Id"]
        return cid

    with ThreadPoolExecutor(THREADS) as pool:
        return list(pool.map(one, range(COUNT)))


def _left(client: Any) -> int:
    return len(client.containers(all=True, filters=session_filter()))


def _conu_cleanup(backend: DockerBackend, image_id: str) -> Measured:
    client = raw_client()
    _create(client, image_id, "conu")
    began = time.perf_counter()
    backend.cleanup_containers()
    ended = time.perf_counter()
    if _left(client):
        msg = "cleanup_containers() left containers of the session behind"
        raise RuntimeError(msg)
    return Measured(ended - began)


def _raw_cleanup(image_id: str) -> Measured:
    client = raw_client()
    ids = _create(client, image_id, "raw")
    began = time.perf_counter()
    with ThreadPoolExecutor(THREADS) as pool:
        list(pool.map(lambda cid: client.remove_container(cid, force=True), ids))
    ended = time.perf_counter()
    return Measured(ended - began)


def scenarios(image: DockerImage) -> list[Scenario]:
    """The cleanup scenario, with containers of the busybox ``image``."""
    backend = DockerBackend(logging_level=logging.WARNING)
    image_id = image.get_id()
    return [
        Scenario(
            name=f"cleanup of {COUNT} labelled containers",
            conu=lambda: _conu_cleanup(backend, image_id),
            raw=lambda: _raw_cleanup(image_id),
            target=1.10,
            note=f"created (not started) untimed; raw: {THREADS} threads of remove_container",
        )
    ]
