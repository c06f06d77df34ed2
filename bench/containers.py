"""A container's life cycle, and ten containers started at once.

Cycle: run ``sleep`` in the background, execute ``echo hi`` in it, read its logs, kill it,
remove it. conu does it through ``DockerImage.run_via_binary`` (options that map onto the
API, so no ``docker run`` process), idle and under a CPU load, or ``run_via_api``, then
``execute``, ``logs``, ``kill``, ``delete``; the raw side through ``create_container`` +
``start``, ``exec_create`` + ``exec_start``, ``logs``, ``kill``, ``remove_container``.

Parallel: ten threads each start a container (conu: ``run_via_binary``; raw:
``create_container`` + ``start``), then the same threads remove them. The time of each
phase goes into the extra numbers.
"""

from __future__ import annotations

import contextlib
import statistics
import subprocess
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_all
from typing import Any, TypeVar

from common import BENCH_LABEL, labels, raw_client
from harness import Scenario

from conu import DockerContainer, DockerImage
from conu.backend.docker.container_parameters import DockerContainerParameters

T = TypeVar("T")

SLEEP = ["sleep", "600"]
ECHO = ["echo", "hi"]
PARALLEL = 10
LOAD = 2
"""CPU-bound processes of the loaded cycle (one per core of the 2-vCPU machines)."""


# -- the cycle ----------------------------------------------------------------------------


def _conu_work(container: DockerContainer) -> None:
    try:
        container.execute(ECHO)
        list(container.logs())
        container.kill()
    finally:
        container.delete(force=True)


def _conu_cycle_binary(image: DockerImage) -> None:
    opts = ["-l", f"{BENCH_LABEL}=conu"]
    _conu_work(image.run_via_binary(command=SLEEP, additional_opts=opts))


def _conu_cycle_api(image: DockerImage) -> None:
    params = DockerContainerParameters(command=SLEEP, labels={BENCH_LABEL: "conu"})
    _conu_work(image.run_via_api(params))


def _raw_cycle(client: Any, image_id: str) -> None:
    cid = client.create_container(image_id, command=SLEEP, labels=labels("raw"))["Id"]
    try:
        client.start(cid)
        exec_id = client.exec_create(cid, ECHO)
        client.exec_start(exec_id)
        client.logs(cid)
        client.kill(cid)
    finally:
        client.remove_container(cid, force=True)


@contextlib.contextmanager
def cpu_load(processes: int = LOAD) -> Iterator[None]:
    """Keep ``processes`` CPU-bound processes running (hashing zeros) inside the block."""
    hogs = [
        subprocess.Popen(["sha256sum", "/dev/zero"], stdout=subprocess.DEVNULL)
        for _ in range(processes)
    ]
    try:
        yield
    finally:
        for hog in hogs:
            hog.kill()
            hog.wait(timeout=10)


# -- ten at once --------------------------------------------------------------------------


class _Phases:
    """Start and removal times of the parallel scenario, per side, in seconds."""

    def __init__(self) -> None:
        self.times: dict[str, list[float]] = {}

    def reset(self) -> None:
        self.times.clear()

    def add(self, key: str, seconds: float) -> None:
        self.times.setdefault(key, []).append(seconds)

    def medians(self) -> dict[str, Any]:
        return {
            f"{key} ms (median)": statistics.median(values) * 1e3
            for key, values in sorted(self.times.items())
        }


def _start_and_remove(
    side: str, start: Callable[[], T], remove: Callable[[T], object], phases: _Phases
) -> None:
    """Start PARALLEL containers from as many threads, then remove them from those threads."""
    with ThreadPoolExecutor(PARALLEL) as pool:
        began = time.perf_counter()
        futures: list[Future[T]] = [pool.submit(start) for _ in range(PARALLEL)]
        wait_all(futures)
        started = time.perf_counter()
        made = [f.result() for f in futures if f.exception() is None]
        list(pool.map(remove, made))
        removed = time.perf_counter()
    for future in futures:
        future.result()  # a start that failed fails the scenario, after the removal
    phases.add(f"{side} start {PARALLEL}", started - began)
    phases.add(f"{side} remove {PARALLEL}", removed - started)


def _conu_parallel(image: DockerImage, phases: _Phases) -> None:
    opts = ["-l", f"{BENCH_LABEL}=conu"]
    _start_and_remove(
        "conu",
        lambda: image.run_via_binary(command=SLEEP, additional_opts=opts),
        lambda container: container.delete(force=True),
        phases,
    )


def _raw_parallel(client: Any, image_id: str, phases: _Phases) -> None:
    def start() -> str:
        cid: str = client.create_container(image_id, command=SLEEP, labels=labels("raw"))["Id"]
        try:
            client.start(cid)
        except Exception:
            client.remove_container(cid, force=True)
            raise
        return cid

    _start_and_remove("raw", start, lambda cid: client.remove_container(cid, force=True), phases)


def scenarios(image: DockerImage) -> list[Scenario]:
    """The cycle via the CLI and via the API, and the parallel start, on ``image``."""
    client = raw_client()
    image_id = image.get_id()
    phases = _Phases()
    return [
        Scenario(
            name="cycle: run_via_binary+exec+logs+kill+rm",
            conu=lambda: _conu_cycle_binary(image),
            raw=lambda: _raw_cycle(client, image_id),
            target=1.02,
            note="conu creates and starts through the API (the options map); raw: "
            "create_container + start",
        ),
        Scenario(
            name=f"cycle under load ({LOAD} CPU hogs): run_via_binary+exec+logs+kill+rm",
            conu=lambda: _conu_cycle_binary(image),
            raw=lambda: _raw_cycle(client, image_id),
            target=1.02,
            note=f"as above, while {LOAD} `sha256sum /dev/zero` processes keep the CPUs busy",
            around=cpu_load,
        ),
        Scenario(
            name="cycle: run_via_api+exec+logs+kill+rm",
            conu=lambda: _conu_cycle_api(image),
            raw=lambda: _raw_cycle(client, image_id),
            target=1.10,
        ),
        Scenario(
            name=f"{PARALLEL} containers from {PARALLEL} threads, then rm",
            conu=lambda: _conu_parallel(image, phases),
            raw=lambda: _raw_parallel(client, image_id, phases),
            target=1.10,
            note="conu: run_via_binary in each thread; raw: create_container + start",
            extra=phases.medians,
            reset=phases.reset,
        ),
    ]
