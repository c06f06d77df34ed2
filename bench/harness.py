"""Side-by-side timing of conu and the raw docker SDK doing the same work.

Each scenario has a ``conu`` and a ``raw`` callable. After a warm-up call of each, they run
in interleaved repetitions (the order alternates, so drift on a noisy machine hits both
alike). Reported: the median time of each, and the median of the per-repetition ratios
conu / raw, which is the number the targets are about.

A callable that must do untimed work around the part that counts (create the containers
that a cleanup removes, start the container whose readiness is awaited) times that part
itself and returns it as :class:`Measured`; the harness then takes that time instead of
the whole call's.
"""

from __future__ import annotations

import contextlib
import json
import platform
import statistics
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = [
    "Measured",
    "Result",
    "Scenario",
    "print_extras",
    "print_table",
    "run_scenario",
    "write_json",
]


@dataclass(frozen=True)
class Measured:
    """What a scenario callable returns when it timed (part of) its own work."""

    seconds: float


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
    extra: Callable[[], dict[str, Any]] | None = None
    """Called once after the repetitions: further numbers the scenario gathered itself
    (they go into the JSON and are printed under the table)."""
    reset: Callable[[], object] | None = None
    """Called after the warm-up, so that ``extra`` reports on the timed repetitions only."""
    extra_targets: dict[str, float] = field(default_factory=dict)
    """The highest acceptable value of some of the ``extra`` numbers, by key."""
    around: Callable[[], AbstractContextManager[object]] | None = None
    """A context the whole scenario (warm-up and repetitions) runs in, e.g. a load."""


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
    extra: dict[str, Any] = field(default_factory=dict)
    extra_targets: dict[str, float] = field(default_factory=dict)
    conu_times: list[float] = field(default_factory=list)
    raw_times: list[float] = field(default_factory=list)

    @property
    def verdict(self) -> str:
        """``ok``, ``MISSED`` (the ratio's or an extra number's target) or ``-`` (no target)."""
        if self.target is None and not self.extra_targets:
            return "-"
        if self.target is not None and self.ratio_median > self.target:
            return "MISSED"
        return "MISSED" if self.missed_extras() else "ok"

    def missed_extras(self) -> list[str]:
        """The keys of the extra numbers above their target (or missing)."""
        return [
            key
            for key, limit in self.extra_targets.items()
            if not isinstance(self.extra.get(key), int | float) or self.extra[key] > limit
        ]


def _timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    outcome = fn()
    elapsed = time.perf_counter() - start
    return outcome.seconds if isinstance(outcome, Measured) else elapsed


def _repeat(scenario: Scenario, reps: int, warmup: int) -> tuple[list[float], list[float]]:
    for _ in range(warmup):
        scenario.conu()
        scenario.raw()
    if scenario.reset:
        scenario.reset()
    conu_times: list[float] = []
    raw_times: list[float] = []
    for rep in range(reps):
        if rep % 2:
            raw_times.append(_timed(scenario.raw))
            conu_times.append(_timed(scenario.conu))
        else:
            conu_times.append(_timed(scenario.conu))
            raw_times.append(_timed(scenario.raw))
    return conu_times, raw_times


def run_scenario(scenario: Scenario, reps: int, warmup: int = 1) -> Result:
    """Warm up, then time ``reps`` (or the scenario's own) interleaved repetitions."""
    reps = min(reps, scenario.reps) if scenario.reps else reps
    with scenario.around() if scenario.around else contextlib.nullcontext():
        conu_times, raw_times = _repeat(scenario, reps, warmup)
    ratios = [c / r for c, r in zip(conu_times, raw_times, strict=True)]
    return Result(
        name=scenario.name,
        reps=reps,
        conu_median=statistics.median(conu_times),
        raw_median=statistics.median(raw_times),
        ratio_median=statistics.median(ratios),
        target=scenario.target,
        note=scenario.note,
        extra=scenario.extra() if scenario.extra else {},
        extra_targets=dict(scenario.extra_targets),
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


def print_extras(results: list[Result]) -> None:
    """Print the further numbers of the scenarios that gathered some, one per line."""
    for r in results:
        if r.extra:
            print(f"\n{r.name}:")
            missed = r.missed_extras()
            for key, value in r.extra.items():
                shown = f"{value:.1f}" if isinstance(value, float) else str(value)
                limit = r.extra_targets.get(key)
                if limit is not None:
                    shown += f"  (target <= {limit:g}: {'MISSED' if key in missed else 'ok'})"
                print(f"  {key:<42} {shown}")


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
