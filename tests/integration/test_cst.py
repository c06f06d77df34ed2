"""container-structure-test files on the real engine: every test kind passing and failing,
``conu validate`` and its exit codes, and pytest collection."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest
import yaml

from conu.cst.loader import parse
from conu.cst.runner import run_config

CST_DOCKERFILE = """\
FROM conu-test/busybox
RUN mkdir -p /usr/share/doc/good /usr/share/doc/bad /usr/share/doc/libgnutls30 /app \\
 && echo 'License: GPL-2+' > /usr/share/doc/good/copyright \\
 && echo 'License: agpl-3' > /usr/share/doc/bad/copyright \\
 && echo 'License: AGPL-3' > /usr/share/doc/libgnutls30/copyright \\
 && cp /bin/busybox /app/suid && chmod 4755 /app/suid \\
 && echo owned > /app/owned && chown 1000:2000 /app/owned && chmod 640 /app/owned \\
 && ln -s /app/owned /app/link
ENV APP_HOME=/app GREETING=hello
LABEL vendor=conu version=1.2.3
EXPOSE 8080 9090/udp
VOLUME /data
WORKDIR /app
ENTRYPOINT ["/bin/false"]
CMD ["sh"]
"""


@pytest.fixture(scope="module")
def cst_image(make_image: Callable[..., Any]) -> Any:
    return make_image(CST_DOCKERFILE)


def _run(image: Any, doc: dict[str, Any]) -> dict[str, Any]:
    results = run_config(image, parse({"schemaVersion": "2.0.0", **doc}, "test.yaml"))
    return {r.name: r for r in results}


def _ok(image: Any, doc: dict[str, Any]) -> None:
    failed = {n: r.errors for n, r in _run(image, doc).items() if not r.passed}
    assert not failed


def _failures(image: Any, doc: dict[str, Any]) -> dict[str, list[str]]:
    results = _run(image, doc)
    passed = [n for n, r in results.items() if r.passed]
    assert not passed, f"these should have failed: {passed}"
    return {n: r.errors for n, r in results.items()}


@pytest.fixture(autouse=True)
def _nothing_left(no_session_containers: None) -> None:
    """No test leaves a container (setup, command and helper containers)."""


def test_command_tests_pass(cst_image: Any) -> None:
    _ok(
        cst_image,
        {
            "globalEnvVars": [{"key": "WHERE", "value": "$APP_HOME/x"}],
            "commandTests": [
                {
                    "name": "out",
                    "command": "echo",
                    "args": ["$GREETING", "${APP_HOME}"],
                    "expectedOutput": ["^hello /app$"],
                    "excludedOutput": ["bye"],
                },
                {
                    "name": "err",
                    "command": "sh",
                    "args": ["-c", "echo problem >&2; exit 3"],
                    "expectedError": ["prob"],
                    "excludedError": ["fatal"],
                    "exitCode": 3,
                },
                {
                    "name": "env",
                    "command": "sh",
                    # $VAR in a command expands from the image's environment and the
                    # globals, as upstream does; the test's own variables are in the
                    # container's environment.
                    "args": ["-c", "echo $WHERE; env | grep ^LOCAL="],
                    "envVars": [{"key": "LOCAL", "value": "$GREETING-local"}],
                    "expectedOutput": ["^/app/x\nLOCAL=hello-local\n$"],
                },
                {
                    "name": "setup",
                    "setup": [["sh", "-c", "echo one > /s1"], ["cp", "/s1", "/s2"]],
                    "teardown": [["rm", "/s2"]],
                    "command": "cat",
                    "args": ["/s2"],
                    "expectedOutput": ["one"],
                },
                {"name": "no entrypoint", "command": "true"},
            ],
        },
    )


def test_command_tests_fail(cst_image: Any) -> None:
    failures = _failures(
        cst_image,
        {
            "commandTests": [
                {"name": "out", "command": "echo", "args": ["hi"], "expectedOutput": ["bye"]},
                {"name": "excluded", "command": "echo", "args": ["hi"], "excludedOutput": ["h."]},
                {
                    "name": "err",
                    "command": "sh",
                    "args": ["-c", "echo x >&2"],
                    "expectedError": ["y"],
                },
                {"name": "exit", "command": "false"},
                {"name": "missing", "command": "no-such-command"},
            ],
        },
    )
    assert failures["Command Test: out"] == ["Expected 'bye' not found in output: 'hi\\n'"]
    assert "Excluded 'h.' found in output" in failures["Command Test: excluded"][0]
    assert "Expected: 0, Actual: 1" in failures["Command Test: exit"][0]
    assert "does not exist" in failures["Command Test: missing"][0]


def test_run_options(cst_image: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env_file = tmp_path / "test.env"
    env_file.write_text("# comment\nFROM_FILE=filed\nexport QUOTED='q v'\n")
    monkeypatch.setenv("FROM_HOST", "hosted")
    (tmp_path / "shared.txt").write_text("bound\n")
    tmp_path.chmod(0o755)  # readable by uid 1000 in the container
    _ok(
        cst_image,
        {
            "containerRunOptions": {
                "user": "1000:2000",
                "privileged": False,
                "allocateTty": True,
                "envFile": str(env_file),
                "envVars": ["FROM_HOST"],
                "capabilities": ["NET_ADMIN"],
                "bindMounts": [f"{tmp_path}:/mnt/host:ro"],
            },
            "commandTests": [
                {
                    "name": "all",
                    "command": "sh",
                    "args": [
                        "-c",
                        "id -u; env | sort; cat /mnt/host/shared.txt",
                    ],
                    "expectedOutput": [
                        "1000",
                        "FROM_FILE=filed",
                        "QUOTED=q v",
                        "FROM_HOST=hosted",
                        "bound",
                    ],
                },
            ],
        },
    )


def test_file_existence(cst_image: Any) -> None:
    _ok(
        cst_image,
        {
            "fileExistenceTests": [
                {
                    "name": "file",
                    "path": "/app/owned",
                    "permissions": "-rw-r-----",
                    "uid": 1000,
                    "gid": 2000,
                },
                {
                    "name": "dir",
                    "path": "$APP_HOME",
                    "permissions": "drwxr-xr-x",
                    "isExecutableBy": "other",
                },
                {
                    "name": "setuid",
                    "path": "/app/suid",
                    "permissions": "urwxr-xr-x",
                    "isExecutableBy": "any",
                },
                {"name": "sticky", "path": "/tmp", "permissions": "dtrwxrwxrwx"},
                {"name": "link", "path": "/app/link", "permissions": "Lrwxrwxrwx"},
                {"name": "absent", "path": "/nope", "shouldExist": False},
            ]
        },
    )
    failures = _failures(
        cst_image,
        {
            "fileExistenceTests": [
                {"name": "missing", "path": "/nope"},
                {"name": "present", "path": "/app", "shouldExist": False},
                {"name": "mode", "path": "/app/owned", "permissions": "-rw-r--r--"},
                {"name": "owner", "path": "/app/owned", "uid": 0, "gid": 0},
                {"name": "exec", "path": "/app/owned", "isExecutableBy": "owner"},
            ]
        },
    )
    assert failures["File Existence Test: missing"] == ["File /nope should exist but does not"]
    assert "Expected: -rw-r--r--, Actual: -rw-r-----" in failures["File Existence Test: mode"][0]
    assert len(failures["File Existence Test: owner"]) == 2
    assert "not executable by owner" in failures["File Existence Test: exec"][0]


def test_file_content(cst_image: Any) -> None:
    _ok(
        cst_image,
        {
            "fileContentTests": [
                {
                    "name": "c",
                    "path": "/app/owned",
                    "expectedContents": ["^owned$"],
                    "excludedContents": ["secret"],
                }
            ]
        },
    )
    failures = _failures(
        cst_image,
        {
            "fileContentTests": [
                {"name": "expected", "path": "/app/owned", "expectedContents": ["other"]},
                {"name": "excluded", "path": "/app/owned", "excludedContents": ["own"]},
                {"name": "dir", "path": "/app", "expectedContents": ["x"]},
                {"name": "missing", "path": "/nope"},
            ]
        },
    )
    assert failures["File Content Test: dir"] == ["/app is a directory, not a file"]
    assert failures["File Content Test: missing"] == ["File /nope does not exist"]


def test_metadata(cst_image: Any) -> None:
    _ok(
        cst_image,
        {
            "metadataTest": {
                "envVars": [
                    {"key": "GREETING", "value": "hello"},
                    {"key": "APP_HOME", "value": "^/a", "isRegex": True},
                ],
                "unboundEnvVars": [{"key": "NOT_SET"}],
                "labels": [
                    {"key": "vendor", "value": "conu"},
                    {"key": "version", "value": "^\\d+\\.\\d+\\.\\d+$", "isRegex": True},
                ],
                "entrypoint": ["/bin/false"],
                "cmd": ["sh"],
                "workdir": "/app",
                "exposedPorts": ["8080", "9090/udp"],
                "unexposedPorts": ["22"],
                "volumes": ["/data"],
                "unmountedVolumes": ["/other"],
            }
        },
    )
    failures = _failures(
        cst_image,
        {
            "metadataTest": {
                "envVars": [{"key": "GREETING", "value": "bye"}, {"key": "MISSING", "value": "x"}],
                "unboundEnvVars": ["GREETING"],
                "labels": [{"key": "vendor", "value": "^x", "isRegex": True}],
                "entrypoint": [],
                "cmd": ["bash"],
                "workdir": "/",
                "user": "nobody",
                "exposedPorts": ["22"],
                "unexposedPorts": ["8080"],
                "volumes": [],
                "unmountedVolumes": ["/data"],
            }
        },
    )
    assert len(failures["Metadata Test"]) == 12, failures


def test_license(cst_image: Any) -> None:
    _ok(
        cst_image, {"licenseTests": [{"debian": False, "files": ["/usr/share/doc/good/copyright"]}]}
    )
    failures = _failures(cst_image, {"licenseTests": [{"debian": True}]})
    assert failures["License Test"] == [
        "Invalid license for /usr/share/doc/bad/copyright, license contains AGPL"
    ]


def _conu(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "conu", *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def _write(path: Path, doc: dict[str, Any]) -> str:
    path.write_text(yaml.safe_dump({"schemaVersion": "2.0.0", **doc}))
    return str(path)


PASSING = {
    "commandTests": [{"name": "echo", "command": "echo", "args": ["hi"], "expectedOutput": ["hi"]}]
}
FAILING = {"fileExistenceTests": [{"name": "absent", "path": "/nope"}]}


def test_validate_exit_codes_and_outputs(cst_image: Any, tmp_path: Path) -> None:
    ident = cst_image.get_id()
    good, bad = _write(tmp_path / "good.yaml", PASSING), _write(tmp_path / "bad.yaml", FAILING)
    done = _conu("validate", "--image", ident, "--config", good)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "=== RUN: Command Test: echo" in done.stdout and done.stdout.rstrip().endswith("PASS")

    done = _conu(
        "validate", "--image", ident, "--config", good, "--config", bad, "--output", "json"
    )
    assert done.returncode == 1
    report = json.loads(done.stdout)
    assert (report["Pass"], report["Fail"], report["Total"]) == (1, 1, 2)
    assert report["Results"][1]["Errors"] == ["File /nope should exist but does not"]

    done = _conu("validate", "--image", ident, "--config", bad, "--output", "junit")
    assert done.returncode == 1
    suites = ElementTree.fromstring(done.stdout)
    assert suites.get("failures") == "1"
    assert suites.find("testsuite/testcase/failure") is not None


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ("schemaVersion: 3.0.0\n", "schemaVersion: '3.0.0' is not supported"),
        ("commandTests: []\n", "schemaVersion: is required"),
        ("schemaVersion: 2.0.0\ncommandTests: {name: x}\n", "commandTests: expected a list"),
        (
            "schemaVersion: 2.0.0\ncommandTests: [{command: ls}]\n",
            "commandTests[0].name: is required",
        ),
        (
            "schemaVersion: 2.0.0\ncommandTests: [{name: a, command: ls, args: x}]\n",
            "commandTests[0].args: expected a list of strings",
        ),
        (
            "schemaVersion: 2.0.0\nfileExistenceTests: [{name: a, path: /, uid: root}]\n",
            "fileExistenceTests[0].uid: expected an integer",
        ),
        (
            "schemaVersion: 2.0.0\nmetadataTest: {cmd: [sh], color: red}\n",
            "metadataTest.color: unknown field",
        ),
        (
            "schemaVersion: 2.0.0\ncommandTests: [{name: a, command: ls, expectedOutput: ['(']}]\n",
            "expectedOutput[0]: not a valid regular expression",
        ),
        ("schemaVersion: [2.0.0\n", "is not valid YAML"),
    ],
)
def test_validate_unusable_config(
    cst_image: Any, tmp_path: Path, document: str, message: str
) -> None:
    config = tmp_path / "broken.yaml"
    config.write_text(document)
    done = _conu("validate", "--image", cst_image.get_id(), "--config", str(config))
    assert done.returncode == 2
    assert str(config) in done.stderr and message in done.stderr, done.stderr


def test_validate_unusable_image(tmp_path: Path) -> None:
    good = _write(tmp_path / "good.yaml", PASSING)
    for image, message in [("conu-test/absent:nope", "no image"), ("Not/Valid", "lowercase")]:
        done = _conu("validate", "--image", image, "--config", good)
        assert done.returncode == 2 and message in done.stderr, done.stderr
    done = _conu(
        "validate", "--image", "conu-test/busybox", "--config", str(tmp_path / "none.yaml")
    )
    assert done.returncode == 2 and "cannot be read" in done.stderr


def test_pytest_collects_cst_files(cst_image: Any, tmp_path: Path) -> None:
    _write(tmp_path / "image.cst.yaml", {**PASSING, **FAILING})
    other = _write(tmp_path / "other.yaml", PASSING)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "-q",
            str(tmp_path),
            "--conu-cst-image",
            cst_image.get_id(),
            "--conu-cst-config",
            other,
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
        env=env,
        check=False,
    )
    assert "1 failed, 2 passed" in done.stdout, done.stdout + done.stderr
    assert "File /nope should exist but does not" in done.stdout
    assert textwrap.dedent("image.cst.yaml::File Existence Test: absent") in done.stdout
