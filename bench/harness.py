"""Side-by-side timing of conu and the raw docker SDK doing the same work.

Each scenario has a ``conu`` and a ``raw`` callable. After a warm-up call of each, they run
in interleaved repetitions (the order alternates, so drift on a noisy machine hits both
alike). Reported: the median time of each, and the median of the per-repetition ratios
conu / raw, which is the number the targets are about.
"""

from __future__ import annotations

import json
import platform
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["Result", "Scenario", "print_table", "run_scenario", "write_json"]


@dataclass
class Scenario:
    """One piece of work done by conu and by the raw SDK."""

    name: str
    conu: Callable[[], object]
    raw: Callable[[], object]
    target: float | None = None
    """The highest acceptable median ratio conu / raw, or None."""
    note: str = ""
    reps: int | None = None
    """Repetitions for this scenario (slow ones take fewer); the run's default if None."""


@dataclass
class Result:
    """Timings of one scenario, in seconds."""

    name: str
    reps: int
    conu_median: float
    raw_median: float
    ratio_median: float
    target: float | None
    note: str = ""
    conu_times: list[float] = field(default_factory=list)
    raw_times: list[float] = field(default_factory=list)

    @property
    def verdict(self) -> str:
        """``ok``, ``MISSED`` or ``-`` (no target)."""
        if self.target is None:
            return "-"
        return "ok" if self.ratio_median <= self.target else "MISSED"


def _timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def run_scenario(scenario: Scenario, reps: int, warmup: int = 1) -> Result:
    """Warm up, then time ``reps`` (or the scenario's own) interleaved repetitions."""
    reps = min(reps, scenario.reps) if scenario.reps else reps
    for _ in range(warmup):
        scenario.conu()
        scenario.raw()
    conu_times: list[float] = []
    raw_times: list[float] = []
    for rep in range(reps):
        if rep % 2:
            raw_times.append(_timed(scenario.raw))
            conu_times.append(_timed(scenario.conu))
        else:
            conu_times.append(_timed(scenario.conu))
            raw_times.append(_timed(scenario.raw))
    ratios = [c / r for c, r in zip(conu_times, raw_times, strict=True)]
    return Result(
        name=scenario.name,
        reps=reps,
        conu_median=statistics.median(conu_times),
        raw_median=statistics.median(raw_times),
        ratio_median=statistics.median(ratios),
        target=scenario.target,
        note=scenario.note,
        conu_times=conu_times,
        raw_times=raw_times,
    )


def print_table(results: list[Result]) -> None:
    """Print one line per scenario: medians, ratio, target, verdict."""
    header = f"{'scenario':<44} {'conu ms':>9} {'raw ms':>9} {'ratio':>7} {'target':>7}  verdict"
    print(header)
    print("-" * len(header))
    for r in results:
        target = f"{r.target:.2f}" if r.target is not None else "-"
        print(
            f"{r.name:<44} {r.conu_median * 1e3:9.1f} {r.raw_median * 1e3:9.1f}"
            f" {r.ratio_median:7.2f} {target:>7}  {r.verdict}"
        )


def write_json(results: list[Result], path: str, extra: dict[str, Any]) -> None:
    """Write the results, with the machine and ``extra`` facts, as JSON to ``path``."""
    document = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "python": platform.python_version(),
        "machine": platform.platform(),
        **extra,
        "results": [asdict(r) | {"verdict": r.verdict} for r in results],
    }
    with open(path, "w") as out:
        json.dump(document, out, indent=2)
        out.write("\n")
