"""Load: 8 threads sharing one backend, 25 containers each (run, exec, logs, delete).

No error, and nothing left. The wall time against the raw SDK is measured by
``bench/load.py`` (a benchmark, not an assertion).
"""

from __future__ import annotations

import functools
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from conu.backend.docker.container_parameters import DockerContainerParameters
from conu.labels import session_filter
from conu.probes import wait_for

THREADS = 8
PER_THREAD = 25


def _logged(container: Any, marker: str) -> bool:
    return marker in container.logs_unicode()


def _worker(index: int, image: Any) -> int:
    done = 0
    for round_ in range(PER_THREAD):
        marker = f"t{index}-{round_}"
        command = ["sh", "-c", f"echo {marker}; sleep 600"]
        if index % 2:  # half the threads through the CLI, half through the API
            container = image.run_via_binary(command=command)
        else:
            container = image.run_via_api(DockerContainerParameters(command=command))
        try:
            assert b"".join(container.execute(["echo", marker])) == f"{marker}\n".encode()
            logged = functools.partial(_logged, container, marker)
            wait_for(logged, timeout=10, what=f"{marker!r} in the logs")
        finally:
            container.delete(force=True)
        done += 1
    return done


def test_threads_share_one_backend(backend: Any, busybox_image: Any, engine: Any) -> None:
    before = {c["Id"] for c in engine.containers(all=True, filters=session_filter())}
    started = time.monotonic()
    with ThreadPoolExecutor(THREADS) as pool:
        counts = list(pool.map(lambda i: _worker(i, busybox_image), range(THREADS)))
    elapsed = time.monotonic() - started
    assert counts == [PER_THREAD] * THREADS
    left = {c["Id"] for c in engine.containers(all=True, filters=session_filter())} - before
    assert not left
    print(f"{THREADS * PER_THREAD} containers from {THREADS} threads in {elapsed:.1f}s")
