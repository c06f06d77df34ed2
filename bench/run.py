"""Run the benchmarks: conu against the raw docker SDK, side by side, with targets.

    python bench/run.py [--reps N] [--json PATH] [--only SUBSTRING]

Prints a table of medians and median ratios conu / raw, and writes the numbers as JSON.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import image_files
from harness import print_table, run_scenario, write_json


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=20, help="repetitions per scenario")
    parser.add_argument("--json", default="bench/results.json", help="where to write JSON")
    parser.add_argument("--only", default="", help="run scenarios whose name contains this")
    args = parser.parse_args(argv)
    logging.getLogger("conu").setLevel(logging.WARNING)

    results = []
    with image_files.images() as (small, big):
        for scenario in image_files.scenarios(small, big):
            if args.only in scenario.name:
                results.append(run_scenario(scenario, args.reps))
                print(f"done: {scenario.name}", file=sys.stderr)
    print_table(results)
    write_json(results, args.json, {"reps": args.reps})
    print(f"\nJSON: {args.json}")
    return 0 if all(r.verdict != "MISSED" for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
