"""A sample image-validation suite written with conu: what `make demo` runs.

Each test checks one property of the image built from examples/sample-image.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from conu import DockerBackend, DockerRunBuilder


@pytest.fixture(scope="module")
def backend() -> Iterator[DockerBackend]:
    with DockerBackend() as b:
        yield b


@pytest.fixture
def container(backend: DockerBackend, sample_image: Any) -> Iterator[Any]:
    c = sample_image.run_via_binary(DockerRunBuilder(additional_opts=["-p", "8080"]))
    try:
        yield c
    finally:
        c.delete(force=True)


def test_busybox_is_installed(sample_image: Any) -> None:
    assert sample_image.file_is_present("/bin/busybox")
    assert sample_image.file_is_present("/bin/sh")  # a symlink, followed inside the image


def test_web_root_is_a_directory_with_an_index(sample_image: Any) -> None:
    assert sample_image.directory_is_present("/srv/www")
    assert "Hello from the conu sample image" in sample_image.read_file("/srv/www/index.html")


def test_no_package_manager_leftovers(sample_image: Any) -> None:
    assert not sample_image.file_is_present("/usr/bin/apt-get")


def test_labels(sample_image: Any) -> None:
    labels = sample_image.get_metadata().labels
    assert labels["org.opencontainers.image.title"] == "conu sample"
    assert labels["org.opencontainers.image.version"] == "1.0"


def test_environment_and_ports(sample_image: Any) -> None:
    metadata = sample_image.get_metadata()
    assert metadata.env_variables["APP_PORT"] == "8080"
    assert metadata.exposed_ports == ["8080/tcp"]


def test_command_output(container: Any) -> None:
    output = b"".join(container.execute(["cat", "/etc/app-release"]))
    assert output == b"sample-app 1.0\n"


def test_runs_as_root(container: Any) -> None:
    assert container.execute(["id", "-u"]) == [b"0\n"]


def test_serves_http(container: Any) -> None:
    container.wait_for_port(8080, timeout=10)
    response = container.http_request("/", port=8080)
    assert response.status_code == 200
    assert "Hello from the conu sample image" in response.text


def test_files_inside_running_container(container: Any) -> None:
    with container.mount() as fs:
        assert fs.directory_is_present("/srv/www")
        assert fs.read_file("/etc/app-release") == "sample-app 1.0\n"
