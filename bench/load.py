"""Load: 8 threads sharing one backend, 25 containers each (run, exec, logs, delete).

conu: one image (and conu's one process-wide engine client) shared by 8 threads, each
running 25 containers one after the other with ``run_via_api`` (``DockerContainerParameters``),
``execute``, ``logs`` and ``delete(force=True)``. Raw: 8 threads sharing one
``docker.APIClient`` doing ``create_container`` + ``start``, ``exec_create`` +
``exec_start``, ``logs`` and ``remove_container(force=True)``. The wall time of the whole
load is compared; an error in any thread fails the scenario.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from common import BENCH_LABEL, labels, raw_client
from harness import Scenario

from conu import DockerImage
from conu.backend.docker.container_parameters import DockerContainerParameters

THREADS = 8
PER_THREAD = 25
COMMAND = ["sleep", "600"]


def _conu_worker(image: DockerImage) -> None:
    params = DockerContainerParameters(command=COMMAND, labels={BENCH_LABEL: "conu"})
    for _ in range(PER_THREAD):
        container = image.run_via_api(params)
        try:
            assert b"".join(container.execute(["echo", "hi"])) == b"hi\n"
            list(container.logs())
        finally:
            container.delete(force=True)


def _raw_worker(client: Any, image_id: str) -> None:
    for _ in range(PER_THREAD):
        cid = client.create_container(image_id, command=COMMAND, labels=labels("raw"))["Id"]
        try:
            client.start(cid)
            exec_id = client.exec_create(cid, ["echo", "hi"])
            assert client.exec_start(exec_id) == b"hi\n"
            client.logs(cid)
        finally:
            client.remove_container(cid, force=True)


def _in_threads(work: Any) -> None:
    with ThreadPoolExecutor(THREADS) as pool:
        for future in [pool.submit(work) for _ in range(THREADS)]:
            future.result()  # re-raises the first error of a thread


def scenarios(image: DockerImage) -> list[Scenario]:
    """The load scenario (slow: a few repetitions)."""
    client, ident = raw_client(), image.get_id()
    return [
        Scenario(
            name=f"load: {THREADS} threads x {PER_THREAD} containers",
            conu=lambda: _in_threads(lambda: _conu_worker(image)),
            raw=lambda: _in_threads(lambda: _raw_worker(client, ident)),
            target=None,
            reps=3,
            note="run, exec, logs, delete; wall time of the whole load",
        )
    ]
