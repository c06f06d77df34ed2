"""``conu validate``'s upstream flags and drivers on the real engine: reports written to
files, quiet runs, environment options as upstream treats them, kept containers, runtimes,
platforms, OCI layouts loaded with skopeo, the host driver, parallel jobs and the one-pass
license test."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest
import yaml

from conu.cst.loader import parse
from conu.cst.runner import Options, run_config
from conu.labels import OWNER_LABEL, SESSION_ID, SESSION_LABEL, session_filter

DOCKERFILE = """\
FROM conu-test/busybox
RUN mkdir -p /usr/share/doc /etc/app \\
 && for p in $(seq 1 40); do mkdir -p /usr/share/doc/pkg$p \\
      && echo "License: GPL-2+ ($p)" > /usr/share/doc/pkg$p/copyright; done \\
 && echo 'conf=1' > /etc/app/app.conf
ENV FROM_IMAGE=image-value
LABEL conu.flags=yes
"""


@pytest.fixture(scope="module")
def flags_image(make_image: Callable[..., Any]) -> Any:
    return make_image(DOCKERFILE)


@pytest.fixture(autouse=True)
def _nothing_left(no_session_containers: None) -> None:
    """No test leaves a container."""


def _conu(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """``conu`` in this session (its containers carry this session's labels)."""
    child = {**os.environ, "CONU_SESSION_ID": SESSION_ID, **(env or {})}
    child.pop("PYTEST_XDIST_WORKER", None)  # SESSION_ID has the worker's suffix already
    child["CONU_SESSION_OWNER"] = f"{socket.gethostname()}/{os.getpid()}"
    command = [sys.executable, "-m", "conu", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=300, env=child)


def _write(path: Path, doc: dict[str, Any]) -> str:
    path.write_text(yaml.safe_dump({"schemaVersion": "2.0.0", **doc}))
    return str(path)


ECHO = {"commandTests": [{"name": "echo", "command": "echo", "args": ["hi"]}]}
ABSENT = {"fileExistenceTests": [{"name": "absent", "path": "/nope"}]}


def test_version() -> None:
    from conu.version import __version__

    done = _conu("--version")
    assert done.returncode == 0 and done.stdout.strip() == f"conu {__version__}"


def test_reports_to_files_quiet_and_suite_names(flags_image: Any, tmp_path: Path) -> None:
    image, good = flags_image.get_id(), _write(tmp_path / "good.yaml", ECHO)
    bad = _write(tmp_path / "bad.yaml", ABSENT)
    report = tmp_path / "report.json"
    done = _conu("validate", "-i", image, "-c", good, "-c", bad, "--test-report", str(report))
    assert done.returncode == 1 and done.stdout == ""  # the report went to the file
    assert "writing JSON" in done.stderr
    document = json.loads(report.read_text())
    assert (document["Pass"], document["Fail"], document["Total"]) == (1, 1, 2)
    assert isinstance(document["Duration"], int) and document["Duration"] > 1000  # ns
    assert [r["Name"] for r in document["Results"]] == [
        "Command Test: echo",
        "File Existence Test: absent",
    ]
    junit = tmp_path / "report.xml"
    done = _conu(
        "validate", "-i", image, "-c", good, "-o", "junit", "--test-report", str(junit),
        "--junit-suite-name", "images",
    )  # fmt: skip
    assert done.returncode == 0
    suites = ElementTree.parse(junit).getroot()
    assert [s.get("name") for s in suites.findall("testsuite")] == ["images"]
    done = _conu("validate", "-i", image, "-c", bad, "-q")
    assert (done.returncode, done.stdout) == (1, "")
    done = _conu("validate", "-i", image, "-c", good, "--json", "--no-color")
    assert done.returncode == 0 and json.loads(done.stdout)["Pass"] == 1
    assert "\x1b[" not in _conu("validate", "-i", image, "-c", good, "--no-color").stdout


def test_env_options_as_upstream(
    flags_image: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: Any
) -> None:
    monkeypatch.delenv("FROM_IMAGE", raising=False)
    monkeypatch.setenv("EMPTY_ON_HOST", "")
    env_file = tmp_path / "vars.env"
    env_file.write_text("FROM_FILE=filed\nBLANK=\n")
    command = {
        "name": "env",
        "command": "env",
        "expectedOutput": ["FROM_IMAGE=image-value", "FROM_FILE=filed"],
        "excludedOutput": ["BLANK=", "EMPTY_ON_HOST="],
    }
    options = {"envVars": ["FROM_IMAGE", "EMPTY_ON_HOST"], "envFile": str(env_file)}
    config = parse(
        {"schemaVersion": "2.0.0", "containerRunOptions": options, "commandTests": [command]},
        "env.yaml",
    )
    [result] = run_config(flags_image, config)
    assert result.passed, result.errors  # unset host variables keep the image's value
    missing = {**options, "envFile": str(tmp_path / "missing.env")}
    command["expectedOutput"] = ["FROM_IMAGE=image-value"]
    command["excludedOutput"] = ["FROM_FILE=", "BLANK=", "EMPTY_ON_HOST="]
    config = parse(
        {"schemaVersion": "2.0.0", "containerRunOptions": missing, "commandTests": [command]},
        "env.yaml",
    )
    [result] = run_config(flags_image, config)
    assert result.passed, result.errors  # a missing envFile is warned about, not fatal
    assert "missing.env" in caplog.text


def test_save_keeps_containers(flags_image: Any, tmp_path: Path, engine: Any) -> None:
    config = _write(tmp_path / "echo.yaml", ECHO)
    before = {c["Id"] for c in engine.containers(all=True, filters=session_filter())}
    done = _conu("validate", "-i", flags_image.get_id(), "-c", config, "--save")
    assert done.returncode == 0, done.stdout + done.stderr
    kept = [
        c for c in engine.containers(all=True, filters=session_filter()) if c["Id"] not in before
    ]
    try:
        assert len(kept) == 1 and kept[0]["Labels"][SESSION_LABEL] == SESSION_ID
        assert kept[0]["Labels"][OWNER_LABEL].endswith(f"/{os.getpid()}")
    finally:
        for container in kept:
            engine.remove_container(container["Id"], force=True)


def test_runtime_and_platform(flags_image: Any, tmp_path: Path) -> None:
    image, config = flags_image.get_id(), _write(tmp_path / "echo.yaml", ECHO)
    assert _conu("validate", "-i", image, "-c", config, "--runtime", "runc").returncode == 0
    done = _conu("validate", "-i", image, "-c", config, "--runtime", "no-such-runtime")
    assert done.returncode == 1 and "no-such-runtime" in done.stdout
    arch = {"x86_64": "amd64", "aarch64": "arm64"}.get(os.uname().machine, os.uname().machine)
    done = _conu("validate", "-i", image, "-c", config, "--platform", f"linux/{arch}")
    assert done.returncode == 0, done.stderr
    other = "linux/s390x" if arch != "s390x" else "linux/amd64"
    done = _conu("validate", "-i", image, "-c", config, "--platform", other)
    assert done.returncode == 2 and other in done.stderr
    done = _conu("validate", "-i", image, "-c", config, "--platform", "amd64")
    assert done.returncode == 2 and "os/arch" in done.stderr


def _layout(image: Any, directory: Path, ref: str | None) -> None:
    """An OCI layout of ``image`` (skopeo writes the ref annotation when given one)."""
    target = f"oci:{directory}" + (f":{ref}" if ref else "")
    engine = []  # the engine of DOCKER_HOST (make test-remote: TCP with TLS)
    if os.environ.get("DOCKER_HOST"):
        engine.append(f"--src-daemon-host={os.environ['DOCKER_HOST']}")
        if os.environ.get("DOCKER_CERT_PATH") and os.environ.get("DOCKER_TLS_VERIFY"):
            engine.append(f"--src-cert-dir={os.environ['DOCKER_CERT_PATH']}")
    subprocess.run(
        ["skopeo", "copy", *engine, f"docker-daemon:{image.get_full_name()}", target],
        check=True,
        capture_output=True,
        timeout=120,
    )


@pytest.mark.skipif(shutil.which("skopeo") is None, reason="needs skopeo (scripts/engine.sh)")
def test_image_from_oci_layout(
    flags_image: Any, tmp_path: Path, make_image: Callable[..., Any], engine: Any
) -> None:
    import docker.errors

    named = make_image(DOCKERFILE, tag=f"conu-test/flags:{SESSION_ID.lower()}")
    config = _write(tmp_path / "echo.yaml", ECHO)
    tagged, bare = tmp_path / "tagged", tmp_path / "bare"
    _layout(named, tagged, f"conu-test/oci-loaded:{SESSION_ID.lower()}")
    _layout(named, bare, None)
    loaded = []
    try:
        done = _conu("validate", "--image-from-oci-layout", str(tagged), "-c", config)
        assert done.returncode == 0, done.stderr
        loaded.append(f"conu-test/oci-loaded:{SESSION_ID.lower()}")
        done = _conu("validate", "--image-from-oci-layout", str(bare), "-c", config)
        assert done.returncode == 2 and "--default-image-tag" in done.stderr
        default = f"conu-test/oci-default:{SESSION_ID.lower()}"
        done = _conu(
            "validate", "--image-from-oci-layout", str(tagged), "-c", config,
            "--ignore-ref-annotation", "--default-image-tag", default,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        loaded.append(default)
        done = _conu("validate", "--image-from-oci-layout", str(tmp_path), "-c", config)
        assert done.returncode == 2 and "not an OCI image layout" in done.stderr
        done = _conu("validate", "-i", "x", "--image-from-oci-layout", str(bare), "-c", config)
        assert done.returncode == 2 and "exactly one" in done.stderr
    finally:
        for name in loaded:  # untag only: the image is the session's own (named)
            with contextlib.suppress(docker.errors.NotFound):
                engine.remove_image(name, noprune=True)


HOST_METADATA = {
    "config": {
        "Env": ["PATH=/usr/bin:/bin", "MODE=host"],
        "Cmd": ["sh"],
        "WorkingDir": "/srv",
        "ExposedPorts": {"80/tcp": {}},
    }
}


def test_host_driver(tmp_path: Path) -> None:
    metadata = tmp_path / "metadata.json"
    metadata.write_text(json.dumps(HOST_METADATA))
    marker = tmp_path / "marker"
    config = _write(
        tmp_path / "host.yaml",
        {
            "commandTests": [
                {
                    "name": "host command",
                    "setup": [["sh", "-c", f"echo set > {marker}"]],
                    "command": "cat",
                    "args": [str(marker)],
                    "expectedOutput": ["set"],
                }
            ],
            "fileExistenceTests": [{"name": "os-release", "path": "/etc/os-release"}],
            "fileContentTests": [
                {"name": "marker", "path": str(marker), "expectedContents": ["set"]}
            ],
            "metadataTest": {
                "envVars": [{"key": "MODE", "value": "host"}],
                "cmd": ["sh"],
                "workdir": "/srv",
                "exposedPorts": ["80"],
            },
        },
    )
    done = _conu("validate", "--driver", "host", "--metadata", str(metadata), "-c", config, "-f")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Passes:      4" in done.stdout
    done = _conu("validate", "-d", "host", "--metadata", str(metadata), "-c", config)
    assert done.returncode == 2 and "--force" in done.stderr  # no terminal to ask
    done = _conu("validate", "-d", "host", "-c", config, "-f")
    assert done.returncode == 2 and "--metadata" in done.stderr
    done = _conu("validate", "-d", "host", "--metadata", str(config), "-c", config, "-f")
    assert done.returncode == 2 and "not valid JSON" in done.stderr


def _many_tests() -> dict[str, Any]:
    return {
        "commandTests": [
            {"name": f"sleep {i}", "command": "sh", "args": ["-c", f"sleep 1; echo {i}"],
             "expectedOutput": [f"^{i}$"]}
            for i in range(6)
        ],
        "fileExistenceTests": [
            {"name": "conf", "path": "/etc/app/app.conf"},
            ABSENT["fileExistenceTests"][0],
        ],
    }  # fmt: skip


def test_jobs_keep_the_order_and_go_faster(flags_image: Any) -> None:
    config = parse({"schemaVersion": "2.0.0", **_many_tests()}, "many.yaml")
    started = time.monotonic()
    serial = run_config(flags_image, config, Options(jobs=1))
    serial_time = time.monotonic() - started
    started = time.monotonic()
    parallel = run_config(flags_image, config, Options(jobs=6))
    parallel_time = time.monotonic() - started
    assert [(r.name, r.passed, r.errors) for r in parallel] == [
        (r.name, r.passed, r.errors) for r in serial
    ]
    assert [r.passed for r in serial] == [True] * 7 + [False]
    print(f"serial {serial_time:.1f}s, -j 6 {parallel_time:.1f}s")


def test_license_test_uses_one_helper_container(
    flags_image: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = flags_image._engine("test")
    created: list[str] = []
    create = engine.create_container

    def counting(spec: Any) -> str:
        cid = create(spec)
        created.append(cid)
        return str(cid)

    monkeypatch.setattr(engine, "create_container", counting)
    config = parse({"schemaVersion": "2.0.0", "licenseTests": [{"debian": True}]}, "l.yaml")
    started = time.monotonic()
    [result] = run_config(flags_image, config)
    elapsed = time.monotonic() - started
    assert result.passed, result.errors
    # 40 packages: one helper container for every lookup, none where the engine's layers
    # are read (a local overlay2 engine).
    layers = engine.image_layers(flags_image.get_id())
    assert len(created) == (0 if layers is not None else 1)
    print(f"license test over 40 packages: {elapsed:.2f}s")


FILES_ONLY = {
    "fileExistenceTests": [
        {"name": "conf", "path": "/etc/app/app.conf", "permissions": "-rw-r--r--", "uid": 0},
        ABSENT["fileExistenceTests"][0],
    ],
    "fileContentTests": [
        {"name": "conf", "path": "/etc/app/app.conf", "expectedContents": ["^conf=1$"]}
    ],
    "licenseTests": [{"debian": True}],
    "metadataTest": {
        "envVars": [{"key": "FROM_IMAGE", "value": "image-value"}],
        "labels": [{"key": "conu.flags", "value": "yes"}],
    },
}


def test_tar_driver_answers_as_the_docker_driver(
    flags_image: Any, tmp_path: Path, engine: Any
) -> None:
    archive = tmp_path / "image.tar"
    with archive.open("wb") as stream:
        for chunk in engine.get_image(flags_image.get_id()):
            stream.write(chunk)
    config = _write(tmp_path / "files.yaml", FILES_ONLY)
    docker = _conu("validate", "-i", flags_image.get_id(), "-c", config, "-o", "json")
    expected = [
        (r["Name"], r["Pass"], r.get("Errors")) for r in json.loads(docker.stdout)["Results"]
    ]
    assert [passed for _name, passed, _errors in expected] == [True, True, False, True, True]
    sources = [str(archive)]
    if shutil.which("skopeo"):
        _layout(flags_image, tmp_path / "layout", None)
        sources.append(str(tmp_path / "layout"))
    for source in sources:
        done = _conu("validate", "--driver", "tar", "-i", source, "-c", config, "-o", "json")
        assert done.returncode == 1, done.stderr
        found = [
            (r["Name"], r["Pass"], r.get("Errors")) for r in json.loads(done.stdout)["Results"]
        ]
        assert found == expected, source
    commands = _write(tmp_path / "echo.yaml", ECHO)
    done = _conu("validate", "-d", "tar", "-i", str(archive), "-c", commands, "-o", "json")
    [result] = json.loads(done.stdout)["Results"]
    assert not result["Pass"] and "'archive' does not support" in result["Errors"][0]
    done = _conu(
        "validate", "-d", "tar", "-i", str(archive), "-c", config, "--platform", "linux/s390x"
    )
    assert done.returncode == 2 and "linux/s390x" in done.stderr
    done = _conu("validate", "-d", "tar", "-i", str(tmp_path / "none.tar"), "-c", config)
    assert done.returncode == 2 and "none.tar" in done.stderr
    done = _conu("validate", "-d", "tar", "-i", str(archive), "-c", config, "--pull")
    assert done.returncode == 2 and "--pull is for the docker driver" in done.stderr
