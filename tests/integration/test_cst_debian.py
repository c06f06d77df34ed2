"""container-structure-test on a realistic image: Debian bookworm minbase, made with
debootstrap from the machine's Debian mirror by ``scripts/debian-image.sh`` (cached)."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from conu.cst.loader import load, parse
from conu.cst.runner import Options, run_config

ROOT = Path(__file__).resolve().parents[2]
DEBIAN = "conu-test/debian:bookworm"
FAILURE = ROOT / "tests" / "images" / "debian" / "failure-test.yaml"


@pytest.fixture(scope="module")
def debian_image(backend: Any) -> Any:
    """The Debian image; made (once per machine) by the script, which needs root."""
    from conu import DockerImage
    from conu.backend.docker.image import DockerImagePullPolicy

    script = ROOT / "scripts" / "debian-image.sh"
    done = subprocess.run(["bash", str(script), DEBIAN], capture_output=True, text=True)
    if done.returncode:
        if os.environ.get("CI"):
            pytest.fail(f"CI needs the Debian test image: {done.stderr}")
        pytest.skip(f"no Debian test image: {done.stderr}")
    repository, tag = DEBIAN.split(":")
    return DockerImage(repository, tag=tag, pull_policy=DockerImagePullPolicy.NEVER)


@pytest.fixture(autouse=True)
def _nothing_left(no_session_containers: None) -> None:
    """No test leaves a container."""


PASSING = {
    "schemaVersion": "2.0.0",
    "commandTests": [
        {"name": "apt-get", "command": "apt-get", "args": ["--version"],
         "expectedOutput": ["^apt "]},
        {"name": "setup then command", "setup": [["sh", "-c", "echo conu > /etc/conu"]],
         "command": "cat", "args": ["/etc/conu"], "expectedOutput": ["^conu$"]},
    ],
    "fileExistenceTests": [
        {"name": "bash", "path": "/usr/bin/bash", "permissions": "-rwxr-xr-x", "uid": 0,
         "isExecutableBy": "other"},
        {"name": "/bin is a link", "path": "/bin", "shouldExist": True},
    ],
    "fileContentTests": [
        {"name": "bookworm", "path": "/etc/os-release",
         "expectedContents": ["VERSION_CODENAME=bookworm"]},
    ],
    "metadataTest": {"cmd": ["bash"], "envVars": [{"key": "PATH", "value": "/usr/bin",
                                                   "isRegex": True}]},
}  # fmt: skip


def test_a_debian_config_passes(debian_image: Any) -> None:
    results = run_config(debian_image, parse(PASSING, "debian.yaml"), Options(jobs=4))
    assert {r.name: r.errors for r in results if not r.passed} == {}
    assert len(results) == 6


def test_the_debian_license_test_in_one_pass(debian_image: Any) -> None:
    config = parse({"schemaVersion": "2.0.0", "licenseTests": [{"debian": True}]}, "l.yaml")
    [result] = run_config(debian_image, config)
    # minbase's perl-base documents itself in /usr/share/doc/perl without a copyright file:
    # upstream fails that too.
    assert result.errors == [
        "Error reading license file /usr/share/doc/perl/copyright: it does not exist"
    ]
    packages = len(debian_image.list_directory("/usr/share/doc"))
    print(f"license test over {packages} packages: {result.duration:.2f}s")


def test_the_failure_config_fails_everywhere_and_in_parallel(debian_image: Any) -> None:
    config = load(str(FAILURE))
    started = time.monotonic()
    serial = run_config(debian_image, config)
    serial_time = time.monotonic() - started
    started = time.monotonic()
    parallel = run_config(debian_image, config, Options(jobs=4))
    parallel_time = time.monotonic() - started
    failed = [r.name for r in serial if not r.passed]
    assert failed == [r.name for r in serial]  # every test fails, as the file means
    assert len(serial) == 13
    assert [(r.name, r.errors) for r in parallel] == [(r.name, r.errors) for r in serial]
    license_test = next(r for r in serial if r.name == "License Test")
    assert any("no-such-license" in e for e in license_test.errors)
    print(f"failure config: serial {serial_time:.1f}s, -j 4 {parallel_time:.1f}s")
