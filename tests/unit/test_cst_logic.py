"""container-structure-test logic that needs no engine: schema, modes, expansion, reports."""

from __future__ import annotations

import json
import stat
from typing import Any
from xml.etree import ElementTree

import pytest

from conu.cst.checks import Result, expand, go_filemode, regex_problems
from conu.cst.loader import parse
from conu.cst.report import go_duration, go_float, render
from conu.exceptions import InvalidConfig


@pytest.mark.parametrize(
    ("mode", "text"),
    [
        (stat.S_IFREG | 0o644, "-rw-r--r--"),
        (stat.S_IFDIR | 0o755, "drwxr-xr-x"),
        (stat.S_IFDIR | 0o1777, "dtrwxrwxrwx"),
        (stat.S_IFLNK | 0o777, "Lrwxrwxrwx"),
        (stat.S_IFREG | 0o4755, "urwxr-xr-x"),
        (stat.S_IFREG | 0o2755, "grwxr-xr-x"),
        (stat.S_IFCHR | 0o666, "Dcrw-rw-rw-"),
        (stat.S_IFBLK | 0o660, "Drw-rw----"),
        (stat.S_IFIFO | 0o600, "prw-------"),
        (stat.S_IFSOCK | 0o777, "Srwxrwxrwx"),
    ],
)
def test_go_filemode(mode: int, text: str) -> None:
    assert go_filemode(mode) == text


def test_expand() -> None:
    env = {"A": "1", "LONG_NAME": "x"}
    assert expand("$A-${LONG_NAME}-$MISSING-${}-$", env) == "1-x---$"
    assert expand("no vars", env) == "no vars"


def test_regex_problems() -> None:
    assert regex_problems(["^b$"], "a\nb\n", expected=True, what="output") == []
    assert regex_problems(["c"], "ab", expected=True, what="output") == [
        "Expected 'c' not found in output: 'ab'"
    ]
    assert regex_problems(["a"], "ab", expected=False, what="output") == [
        "Excluded 'a' found in output: 'ab'"
    ]


def test_parse_full_v2() -> None:
    config = parse(
        {
            "schemaVersion": "2.0.0",
            "globalEnvVars": [{"key": "A", "value": "b"}],
            "commandTests": [{"name": "n", "command": "ls", "args": ["-l", 1]}],
            "fileExistenceTests": [{"name": "f", "path": "/", "isExecutableBy": "any"}],
            "fileContentTests": [{"name": "c", "path": "/x"}],
            "metadataTest": {"env": [{"key": "K", "value": "v"}], "unboundEnv": ["U"]},
            "licenseTests": [{"debian": True}],
            "containerRunOptions": {"user": "root", "allocateTty": True},
        }
    )
    assert config.command_tests[0].args == ["-l", "1"]
    assert config.file_existence_tests[0].should_exist is True
    assert config.metadata_test is not None and config.metadata_test.unbound_env_vars == ["U"]
    assert config.run_options.allocate_tty
    assert config.test_count() == 5


def test_parse_v1_command_is_argv() -> None:
    config = parse(
        {"schemaVersion": "1.0.0", "commandTests": [{"name": "n", "command": ["ls", "-a"]}]}
    )
    test = config.command_tests[0]
    assert (test.command, test.args) == ("ls", ["-a"])


def test_empty_metadata_test_is_not_a_test() -> None:
    assert parse({"schemaVersion": "2.0.0", "metadataTest": {}}).metadata_test is None
    assert parse({"schemaVersion": "2.0.0", "metadataTest": {"cmd": []}}).metadata_test is not None


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        (None, "is empty"),
        ([], "expected a mapping"),
        ({"schemaVersion": 2}, "schemaVersion: '2' is not supported"),
        ({"schemaVersion": "2.0.0", "extra": 1}, "extra: unknown field"),
        (
            {"schemaVersion": "2.0.0", "commandTests": [{"name": "n"}]},
            "commandTests[0].command: is required",
        ),
        (
            {
                "schemaVersion": "2.0.0",
                "commandTests": [{"name": "n", "command": "x", "setup": [[]]}],
            },
            "commandTests[0].setup[0]: a command must not be empty",
        ),
        (
            {
                "schemaVersion": "2.0.0",
                "commandTests": [{"name": "n", "command": "x", "exitCode": "1"}],
            },
            "commandTests[0].exitCode: expected an integer, got str '1'",
        ),
        (
            {
                "schemaVersion": "2.0.0",
                "fileExistenceTests": [{"name": "n", "path": "/", "shouldExist": "yes"}],
            },
            "fileExistenceTests[0].shouldExist: expected true or false",
        ),
        (
            {
                "schemaVersion": "2.0.0",
                "fileExistenceTests": [{"name": "n", "path": "/", "isExecutableBy": "me"}],
            },
            "isExecutableBy: must be one of owner, group, other, any",
        ),
        (
            {
                "schemaVersion": "2.0.0",
                "fileExistenceTests": [{"name": "n", "path": "/", "permissions": "rw"}],
            },
            "permissions: expected a mode string",
        ),
        (
            {"schemaVersion": "2.0.0", "globalEnvVars": [{"value": "x"}]},
            "globalEnvVars[0].key: is required",
        ),
        (
            {"schemaVersion": "2.0.0", "metadataTest": {"labels": [{"key": " ", "value": "x"}]}},
            "metadataTest.labels[0].key: must not be empty",
        ),
        (
            {"schemaVersion": "2.0.0", "containerRunOptions": {"privileged": "true"}},
            "containerRunOptions.privileged: expected true or false",
        ),
    ],
)
def test_parse_rejects(doc: Any, message: str) -> None:
    with pytest.raises(InvalidConfig) as info:
        parse(doc, "f.yaml")
    assert str(info.value).startswith("f.yaml: ")
    assert message in str(info.value)


def _runs() -> list[tuple[str, list[Result]]]:
    failed = Result(
        "File Existence Test: x", passed=False, errors=["File /x should exist but does not"]
    )
    return [("dir/a.yaml", [Result("Metadata Test", duration=0.5), failed])]


def test_text_report() -> None:
    text = render(_runs(), "text")
    assert "====== Test file: a.yaml ======" in text
    assert "--- FAIL" in text and "Error: File /x should exist but does not" in text
    assert "Passes:      1\nFailures:    1" in text
    assert text.rstrip().endswith("FAIL")


def test_json_report() -> None:
    report = json.loads(render(_runs(), "json"))
    assert (report["Pass"], report["Fail"], report["Total"]) == (1, 1, 2)
    assert report["Duration"] == 500_000_000  # integer nanoseconds, as upstream
    assert report["Results"][0] == {"Name": "Metadata Test", "Pass": True, "Duration": 500000000}


def _upstream_runs() -> list[tuple[str, list[Result]]]:
    """The summary of upstream's own output test (pkg/output): durations of 1 ns each."""
    return [
        (
            "a.yaml",
            [
                Result("my first test", stdout="it works!", duration=1e-9),
                Result(
                    "my fail",
                    passed=False,
                    stderr="this failed",
                    errors=["this failed because of that"],
                    duration=1e-9,
                ),
            ],
        )
    ]


UPSTREAM_JSON = (
    '{"Pass":1,"Fail":1,"Total":2,"Duration":2,"Results":[{"Name":"my first test","Pass":true,'
    '"Stdout":"it works!","Duration":1},{"Name":"my fail","Pass":false,"Stderr":"this failed",'
    '"Errors":["this failed because of that"],"Duration":1}]}'
)
UPSTREAM_JUNIT = (
    '<?xml version="1.0" encoding="UTF-8"?><testsuites failures="1" tests="2" time="2e-09">'
    '<testsuite name="{suite}"><testcase name="my first test" time="1e-09"><system-out>'
    'it works!</system-out><system-err></system-err></testcase><testcase name="my fail" '
    'time="1e-09"><failure>this failed because of that</failure><system-out></system-out>'
    "<system-err>this failed</system-err></testcase></testsuite></testsuites>"
)


def test_reports_are_upstreams_byte_for_byte() -> None:
    assert render(_upstream_runs(), "json") == UPSTREAM_JSON + "\n"
    junit = render(_upstream_runs(), "junit")
    assert junit == UPSTREAM_JUNIT.format(suite="container-structure-test.test") + "\n"
    custom = render(_upstream_runs(), "junit", junit_suite="custom-suite-name")
    assert custom == UPSTREAM_JUNIT.format(suite="custom-suite-name") + "\n"


def test_reports_escape_as_go_does() -> None:
    runs = [("a.yaml", [Result("<a> & 'b'", stdout='x\ty\n"z"', duration=1.5)])]
    assert '"Name":"\\u003ca\\u003e \\u0026 \'b\'"' in render(runs, "json")
    junit = render(runs, "junit")
    assert 'name="&lt;a&gt; &amp; &#39;b&#39;" time="1.5"' in junit
    assert "<system-out>x&#x9;y&#xA;&#34;z&#34;</system-out>" in junit
    assert ElementTree.fromstring(junit.split("?>", 1)[1]).find("testsuite/testcase") is not None


@pytest.mark.parametrize(
    ("seconds", "go"),
    [
        (0, "0s"),
        (1e-9, "1ns"),
        (0.0015, "1.5ms"),
        (1.5, "1.5s"),
        (62.25, "1m2.25s"),
        (3725.5, "1h2m5.5s"),
    ],
)
def test_go_durations(seconds: float, go: str) -> None:
    assert go_duration(seconds) == go


@pytest.mark.parametrize(
    ("value", "go"),
    [
        (2e-9, "2e-09"),
        (0.5, "0.5"),
        (1.0, "1"),
        (0.0001, "0.0001"),
        (123456.0, "123456"),
        (1234567.0, "1.234567e+06"),
    ],
)
def test_go_floats(value: float, go: str) -> None:
    assert go_float(value) == go


def test_junit_report() -> None:
    root = ElementTree.fromstring(render(_runs(), "junit").split("?>", 1)[1])
    assert root.tag == "testsuites" and root.get("tests") == "2" and root.get("failures") == "1"
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == ["container-structure-test.test"]
    cases = root.findall("testsuite/testcase")
    assert [c.get("name") for c in cases] == ["Metadata Test", "File Existence Test: x"]
    assert cases[1].find("failure") is not None
