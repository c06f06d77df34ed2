"""Reports of container-structure-test runs: text (for people), JSON and JUnit XML."""

from __future__ import annotations

import json
import os
from xml.etree import ElementTree

from conu.cst.checks import Result

__all__ = ["FORMATS", "render"]

FORMATS = ("text", "json", "junit")
Run = list[tuple[str, list[Result]]]
"""Per configuration file: its path and the results of its tests."""


def render(runs: Run, output: str = "text") -> str:
    """Render ``runs`` in ``output`` format (one of :data:`FORMATS`)."""
    return {"text": _text, "json": _json, "junit": _junit}[output](runs)


def _all(runs: Run) -> list[Result]:
    return [result for _path, results in runs for result in results]


def _text(runs: Run) -> str:
    lines: list[str] = []
    for path, results in runs:
        banner = f"====== Test file: {os.path.basename(path)} ======"
        lines += ["=" * len(banner), banner, "=" * len(banner)]
        for result in results:
            lines += [f"=== RUN: {result.name}", "--- PASS" if result.passed else "--- FAIL"]
            lines.append(f"duration: {result.duration:.3f}s")
            if not result.passed:
                lines += [f"stdout: {result.stdout}"] if result.stdout else []
                lines += [f"stderr: {result.stderr}"] if result.stderr else []
            lines += [f"Error: {error}" for error in result.errors]
    every = _all(runs)
    failed = sum(not r.passed for r in every)
    lines += [
        "",
        "=" * 37,
        "=" * 14 + " RESULTS " + "=" * 14,
        "=" * 37,
        f"Passes:      {len(every) - failed}",
        f"Failures:    {failed}",
        f"Duration:    {sum(r.duration for r in every):.3f}s",
        f"Total tests: {len(every)}",
        "",
        "PASS" if every and not failed else ("FAIL" if every else "No tests run!"),
    ]
    return "\n".join(lines) + "\n"


def _json(runs: Run) -> str:
    every = _all(runs)
    failed = sum(not r.passed for r in every)
    document = {
        "Pass": len(every) - failed,
        "Fail": failed,
        "Total": len(every),
        "Duration": sum(r.duration for r in every),
        "Results": [
            {
                "Name": r.name,
                "Pass": r.passed,
                **({"Stdout": r.stdout} if r.stdout else {}),
                **({"Stderr": r.stderr} if r.stderr else {}),
                **({"Errors": r.errors} if r.errors else {}),
                "Duration": r.duration,
            }
            for r in every
        ],
    }
    return json.dumps(document, indent=2) + "\n"


def _junit(runs: Run) -> str:
    every = _all(runs)
    suites = ElementTree.Element(
        "testsuites",
        failures=str(sum(not r.passed for r in every)),
        tests=str(len(every)),
        time=f"{sum(r.duration for r in every):.3f}",
    )
    for path, results in runs:
        suite = ElementTree.SubElement(suites, "testsuite", name=os.path.basename(path))
        for r in results:
            case = ElementTree.SubElement(suite, "testcase", name=r.name, time=f"{r.duration:.3f}")
            for error in r.errors:
                ElementTree.SubElement(case, "failure", message=error).text = error
            ElementTree.SubElement(case, "system-out").text = r.stdout
            ElementTree.SubElement(case, "system-err").text = r.stderr
    ElementTree.indent(suites)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        + ElementTree.tostring(suites, encoding="unicode")
        + "\n"
    )
