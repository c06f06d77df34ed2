"""Reports of container-structure-test runs, in the upstream tool's formats.

* ``text``: for people, as upstream prints it (banners, ``=== RUN``, ``--- PASS``, Go-style
  durations, the RESULTS summary), coloured on a terminal unless ``color=False``;
* ``json``: upstream's summary object, byte for byte: ``{"Pass","Fail","Total","Duration",
  "Results":[{"Name","Pass","Stdout"?,"Stderr"?,"Errors"?,"Duration"}]}``, compact, with
  durations in integer nanoseconds and ``<``, ``>``, ``&`` escaped as Go's encoder does;
* ``junit``: upstream's JUnit XML: one ``<testsuite>`` named
  :data:`DEFAULT_JUNIT_SUITE` (or ``junit_suite``) holding every test, durations in float
  seconds, a ``<failure>`` per error, ``<system-out>`` and ``<system-err>`` always present.
"""

from __future__ import annotations

import decimal
import json
import os

from conu.cst.checks import Result

__all__ = ["DEFAULT_JUNIT_SUITE", "FORMATS", "go_duration", "go_float", "render"]

FORMATS = ("text", "json", "junit")
DEFAULT_JUNIT_SUITE = "container-structure-test.test"
"""The name upstream gives its one JUnit test suite (``--junit-suite-name`` changes it)."""
Run = list[tuple[str, list[Result]]]
"""Per configuration file: its path and the results of its tests."""

_COLORS = {"green": 32, "red": 31, "yellow": 33, "blue": 34, "purple": 35, "cyan": 36}


def render(runs: Run, output: str = "text", *, junit_suite: str = "", color: bool = False) -> str:
    """Render ``runs`` in ``output`` format (one of :data:`FORMATS`)."""
    if output == "json":
        return _json(runs)
    if output == "junit":
        return _junit(runs, junit_suite or DEFAULT_JUNIT_SUITE)
    return _text(runs, color)


def _all(runs: Run) -> list[Result]:
    return [result for _path, results in runs for result in results]


def _nanoseconds(seconds: float) -> int:
    return round(seconds * 1e9)


def go_float(value: float) -> str:
    """Format ``value`` as Go's ``strconv.FormatFloat(value, 'g', -1, 64)`` (what its XML
    encoder writes): the shortest digits, exponent form below 1e-4 and from 1e6 on."""
    if value == 0:
        return "0"
    sign, digits, exponent = decimal.Decimal(repr(float(value))).as_tuple()
    assert isinstance(exponent, int)
    figures = list(digits)
    while len(figures) > 1 and figures[-1] == 0:
        figures.pop()
        exponent += 1
    text = "".join(map(str, figures))
    point = len(figures) + exponent  # digits before the decimal point
    power = point - 1
    prefix = "-" if sign else ""
    if power < -4 or power >= 6:
        mantissa = text[0] + ("." + text[1:] if len(text) > 1 else "")
        return f"{prefix}{mantissa}e{'-' if power < 0 else '+'}{abs(power):02d}"
    if point <= 0:
        return f"{prefix}0.{'0' * -point}{text}"
    if point >= len(text):
        return prefix + text + "0" * (point - len(text))
    return f"{prefix}{text[:point]}.{text[point:]}"


def go_duration(seconds: float) -> str:
    """Format a duration as Go's ``time.Duration.String()``: ``1.5s``, ``1m2.25s``,
    ``250ms``, ``3.5µs``, ``0s``."""
    ns = _nanoseconds(seconds)
    if ns == 0:
        return "0s"
    sign, ns = ("-" if ns < 0 else ""), abs(ns)
    if ns < 1000:
        return f"{sign}{ns}ns"
    if ns < 1_000_000_000:
        unit, size = ("µs", 1000) if ns < 1_000_000 else ("ms", 1_000_000)
        return sign + _fraction(ns, size) + unit
    hours, rest = divmod(ns, 3600 * 1_000_000_000)
    minutes, rest = divmod(rest, 60 * 1_000_000_000)
    text = _fraction(rest, 1_000_000_000) + "s"
    if hours:
        return f"{sign}{hours}h{minutes}m{text}"
    return f"{sign}{minutes}m{text}" if minutes else sign + text


def _fraction(value: int, size: int) -> str:
    whole, part = divmod(value, size)
    digits = str(part).rjust(len(str(size)) - 1, "0").rstrip("0")
    return f"{whole}.{digits}" if digits else str(whole)


def _json(runs: Run) -> str:
    every = _all(runs)
    failed = sum(not r.passed for r in every)
    document: dict[str, object] = {
        "Pass": len(every) - failed,
        "Fail": failed,
        "Total": len(every),
        "Duration": sum(_nanoseconds(r.duration) for r in every),
    }
    results = []
    for r in every:
        item: dict[str, object] = {"Name": r.name, "Pass": r.passed}
        item.update({k: v for k, v in (("Stdout", r.stdout), ("Stderr", r.stderr)) if v})
        if r.errors:
            item["Errors"] = list(r.errors)
        item["Duration"] = _nanoseconds(r.duration)
        results.append(item)
    if results:
        document["Results"] = results
    text = json.dumps(document, ensure_ascii=False, separators=(",", ":"))
    for char, escaped in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026")):
        text = text.replace(char, escaped)
    return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029") + "\n"


def _xml_escape(text: str) -> str:
    """Escape as Go's ``encoding/xml`` does (quotes, tabs and newlines as references)."""
    out = []
    for char in text:
        code = ord(char)
        if char in _XML_ESCAPES:
            out.append(_XML_ESCAPES[char])
        elif code < 0x20 or 0xD800 <= code <= 0xDFFF or code in (0xFFFE, 0xFFFF):
            out.append("\ufffd")  # not allowed in XML 1.0
        else:
            out.append(char)
    return "".join(out)


_XML_ESCAPES = {
    '"': "&#34;",
    "'": "&#39;",
    "&": "&amp;",
    "<": "&lt;",
    ">": "&gt;",
    "\t": "&#x9;",
    "\n": "&#xA;",
    "\r": "&#xD;",
}


def _junit(runs: Run, suite: str) -> str:
    every = _all(runs)
    failed = sum(not r.passed for r in every)
    total = sum(_nanoseconds(r.duration) for r in every) / 1e9
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<testsuites failures="{failed}" tests="{len(every)}" time="{go_float(total)}">',
        f'<testsuite name="{_xml_escape(suite)}">',
    ]
    for r in every:
        seconds = _nanoseconds(r.duration) / 1e9
        parts.append(f'<testcase name="{_xml_escape(r.name)}" time="{go_float(seconds)}">')
        parts += [f"<failure>{_xml_escape(error)}</failure>" for error in r.errors]
        parts.append(f"<system-out>{_xml_escape(r.stdout)}</system-out>")
        parts.append(f"<system-err>{_xml_escape(r.stderr)}</system-err></testcase>")
    parts.append("</testsuite></testsuites>")
    return "".join(parts) + "\n"


def _paint(text: str, color: str | None, enabled: bool) -> str:
    if not enabled or color is None:
        return text
    return f"\x1b[{_COLORS[color]}m{text}\x1b[0m"


def _text(runs: Run, color: bool) -> str:
    lines: list[str] = []
    banner_length = 27
    for path, results in runs:
        banner = f"====== Test file: {os.path.basename(path)} ======"
        banner_length = len(banner)
        rule = _paint("=" * banner_length, "purple", color)
        lines += ["", rule, _paint(banner, "purple", color), rule]
        for result in results:
            lines += _text_result(result, color)
    every = _all(runs)
    if not every:
        return "\n".join([*lines, _paint("No tests run! Check config file format.", "red", color)])
    failed = sum(not r.passed for r in every)
    width = banner_length + 1 if banner_length % 2 == 0 else banner_length
    side = "=" * ((width - 9) // 2)
    lines += [
        "",
        "=" * width,
        f"{side} RESULTS {side}",
        "=" * width,
        _paint(f"Passes:      {len(every) - failed}", "green", color),
        _paint(f"Failures:    {failed}", "red", color),
        f"Duration:    {go_duration(sum(r.duration for r in every))}",
        _paint(f"Total tests: {len(every)}", "cyan", color),
        "",
        _paint("PASS", "green", color) if not failed else _paint("FAIL", "red", color),
    ]
    return "\n".join(lines) + "\n"


def _text_result(result: Result, color: bool) -> list[str]:
    lines = [
        f"=== RUN: {result.name}",
        _paint("--- PASS", "green", color) if result.passed else _paint("--- FAIL", "red", color),
        f"duration: {go_duration(result.duration)}",
    ]
    lines += [_paint(f"stdout: {result.stdout}", "blue", color)] if result.stdout else []
    lines += [_paint(f"stderr: {result.stderr}", "blue", color)] if result.stderr else []
    return lines + [_paint(f"Error: {error}", "yellow", color) for error in result.errors]
