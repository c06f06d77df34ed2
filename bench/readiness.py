"""Waiting for a service in a container to accept connections.

The container (conu-test/busybox) runs ``sleep 0.5`` and then ``httpd`` on port 8080, so
its port opens half a second after the start. Just before it execs httpd, its shell logs
``$EPOCHREALTIME``: the moment the port opened, by the container's own clock (the host's),
at most the few hundred microseconds httpd takes to listen too early.

Each side starts its container untimed (conu: ``run_via_api``; raw: ``create_container`` +
``start``), reads its IP address untimed with one inspect, and then the clock runs while it
waits: conu's ``container.wait_for_port(8080)`` with default arguments, or a raw loop that
tries ``socket.create_connection((ip, 8080), 0.5)`` every 10 ms. Right after the wait a
connection is made; when it fails, the wait said "ready" falsely.

Extra numbers, per side: how long after the port opened the wait noticed (median, 90th
percentile, worst) and the count of false "ready".
"""

from __future__ import annotations

import socket
import statistics
import time
from typing import Any

from common import BENCH_LABEL, labels, raw_client
from harness import Measured, Scenario

from conu import DockerImage
from conu.backend.docker.container_parameters import DockerContainerParameters

PORT = 8080
SERVICE = ["sh", "-c", f"sleep 0.5; echo $EPOCHREALTIME; exec httpd -f -p {PORT} -h /tmp"]
POLL_PAUSE = 0.01
CONNECT_TIMEOUT = 0.5
DEADLINE = 10.0


class _Observations:
    """Lateness (seconds) and false readiness of each side's waits."""

    def __init__(self) -> None:
        self.late: dict[str, list[float]] = {}
        self.false_ready: dict[str, int] = {}
        self.reset()

    def reset(self) -> None:
        self.late = {"conu": [], "raw": []}
        self.false_ready = {"conu": 0, "raw": 0}

    def record(self, side: str, client: Any, cid: str, ip: str, noticed: float) -> None:
        """Check the port at once, then find when it opened from the container's log."""
        if not _connects(ip):
            self.false_ready[side] += 1
        self.late[side].append(noticed - _opened_at(client, cid))

    def summary(self) -> dict[str, Any]:
        numbers: dict[str, Any] = {}
        for side, late in self.late.items():
            ms = sorted(x * 1e3 for x in late)
            if not ms:
                continue
            numbers[f"{side} late ms (median)"] = statistics.median(ms)
            numbers[f"{side} late ms (90th percentile)"] = ms[int(0.9 * (len(ms) - 1))]
            numbers[f"{side} late ms (worst)"] = ms[-1]
            numbers[f"{side} false ready"] = self.false_ready[side]
            numbers[f"{side} waits"] = len(ms)
        return numbers


def _connects(ip: str) -> bool:
    try:
        socket.create_connection((ip, PORT), timeout=1).close()
    except OSError:
        return False
    return True


def _opened_at(client: Any, cid: str) -> float:
    """The container's ``$EPOCHREALTIME`` logged just before httpd started."""
    return float(client.logs(cid, stdout=True, stderr=False).split()[0])


def _ip(client: Any, cid: str) -> str:
    ip: str = client.inspect_container(cid)["NetworkSettings"]["IPAddress"]
    return ip


def _conu_wait(image: DockerImage, seen: _Observations) -> Measured:
    client = raw_client()
    params = DockerContainerParameters(command=SERVICE, labels={BENCH_LABEL: "conu"})
    container = image.run_via_api(params)
    try:
        ip = _ip(client, container.get_id())
        began = time.perf_counter()
        container.wait_for_port(PORT)
        ended = time.perf_counter()
        noticed = time.time()
        seen.record("conu", client, container.get_id(), ip, noticed)
        return Measured(ended - began)
    finally:
        container.delete(force=True)


def _raw_wait(image_id: str, seen: _Observations) -> Measured:
    client = raw_client()
    cid = client.create_container(image_id, command=SERVICE, labels=labels("raw"))["Id"]
    try:
        client.start(cid)
        ip = _ip(client, cid)
        began = time.perf_counter()
        while True:
            try:
                socket.create_connection((ip, PORT), timeout=CONNECT_TIMEOUT).close()
                break
            except OSError:
                if time.perf_counter() - began > DEADLINE:
                    raise
                time.sleep(POLL_PAUSE)
        ended = time.perf_counter()
        noticed = time.time()
        seen.record("raw", client, cid, ip, noticed)
        return Measured(ended - began)
    finally:
        client.remove_container(cid, force=True)


def scenarios(image: DockerImage) -> list[Scenario]:
    """The readiness scenario on the busybox ``image``."""
    image_id = image.get_id()
    seen = _Observations()
    return [
        Scenario(
            name="wait_for_port (port opens 0.5 s after start)",
            conu=lambda: _conu_wait(image, seen),
            raw=lambda: _raw_wait(image_id, seen),
            target=1.05,
            note="timed: from the start (+1 inspect) to ready; raw polls connect every 10 ms",
            extra=seen.summary,
            reset=seen.reset,
            extra_targets={"conu late ms (median)": 30.0, "conu false ready": 0},
        )
    ]
