"""Run the benchmarks: conu against the raw docker SDK, side by side, with targets.

    python bench/run.py [--reps N] [--json PATH] [--only SUBSTRING ...] [--smoke]

Prints a table of medians and median ratios conu / raw (and the extra numbers some
scenarios gather), and writes the numbers as JSON. The exit status is 1 when a target is
missed, 2 when benchmark containers were left on the engine; with ``--smoke`` (every scenario
once, no warm-up, no JSON unless ``--json``) a missed target does not count.
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import cleanup
import common
import containers
import cst
import image_files
import load
import readiness
import startup
from harness import Result, Scenario, print_extras, print_table, run_scenario, write_json

DEFAULT_JSON = "bench/results.json"
CST_NAMES = (
    "CST license test, Debian minbase (NN packages)",
    "CST failure config, Debian: -j 4 vs serial",
    "CST failure config, Debian: -j 8 vs serial",
    "engine floor: the N command tests' containers, raw SDK, at once vs one by one",
)
"""cst's scenarios (the Debian image is made, once per machine, only when one may run)."""

# The names of image_files' scenarios with each digit as N (their sizes are known only once
# the big image is built), to skip building that image when --only cannot select them.
IMAGE_FILE_NAMES = (
    *(
        f"{method}, {size} MB image"
        for method in ("file_is_present", "read_file", "path_info", "list_directory")
        for size in ("N", "NNN")
    ),
    "mount (unpack) the NNN MB image",
)


def _selected(name: str, only: list[str]) -> bool:
    """Whether scenario ``name`` is selected (no ``--only``: all of them)."""
    return not only or any(part in name for part in only)


def _may_select_image_files(only: list[str]) -> bool:
    if not only:
        return True
    return any(_may_select_one(part) for part in only)


def _may_select_one(only: str) -> bool:
    pattern = re.sub(r"\d", "N", only)
    return any(pattern in name for name in IMAGE_FILE_NAMES)


def _run(scenarios: list[Scenario], only: list[str], reps: int, warmup: int) -> list[Result]:
    results = []
    for scenario in scenarios:
        if _selected(scenario.name, only):
            results.append(run_scenario(scenario, reps, warmup))
            print(f"done: {scenario.name}", file=sys.stderr)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=20, help="repetitions per scenario")
    parser.add_argument("--json", default=None, help=f"where to write JSON ({DEFAULT_JSON})")
    parser.add_argument(
        "--only",
        action="append",
        default=[],
        help="run scenarios whose name contains this (repeat it for several)",
    )
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="every scenario once, without warm-up; exit 0 unless something crashes",
    )
    args = parser.parse_args(argv)
    logging.getLogger("conu").setLevel(logging.WARNING)
    reps, warmup = (1, 0) if args.smoke else (args.reps, 1)
    json_path = args.json or (None if args.smoke else DEFAULT_JSON)

    results: list[Result] = []
    try:
        image = common.busybox()
        results += _run(
            [
                *startup.scenarios(),
                *containers.scenarios(image),
                *readiness.scenarios(image),
                *cleanup.scenarios(image),
                *load.scenarios(image),
            ],
            args.only,
            reps,
            warmup,
        )
        if any(_selected(name, args.only) for name in CST_NAMES):
            results += _run(cst.scenarios(cst.debian()), args.only, reps, warmup)
        if _may_select_image_files(args.only):
            with image_files.images() as (small, big):
                results += _run(image_files.scenarios(small, big), args.only, reps, warmup)
    finally:
        left = common.sweep()
    print_table(results)
    print_extras(results)
    print(f"\nbenchmark containers left on the engine: {left}")
    if json_path:
        write_json(results, json_path, {"reps": reps, "warmup": warmup, "smoke": args.smoke})
        print(f"JSON: {json_path}")
    if left:
        return 2
    if args.smoke:
        return 0
    return 0 if all(r.verdict != "MISSED" for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
