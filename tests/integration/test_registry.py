"""Registry operations on the real engine and a loopback docker-registry; skopeo and s2i."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from conu import DockerImage, DockerImagePullPolicy
from conu.backend.docker.image import S2IDockerImage
from conu.backend.docker.skopeo import SkopeoTransport
from conu.exceptions import (
    CommandDoesNotExistException,
    CommandFailed,
    ImageNotFound,
    RegistryError,
)
from conu.labels import SESSION_ID

NEVER = DockerImagePullPolicy.NEVER
TAG = SESSION_ID.replace("-", "_")
FAKES = Path(__file__).resolve().parent.parent / "fakes"


@pytest.fixture(scope="module")
def local_image(make_image: Callable[..., Any]) -> Any:
    """A fresh image (its own id) to push around; removed at the end of the session."""
    return make_image(
        "FROM conu-test/busybox\nRUN echo pushed > /pushed\n", tag=f"conu-test/pushed:{TAG}"
    )


@pytest.fixture(scope="module")
def pushed(local_image: Any, registry: str) -> Any:
    """``local_image`` pushed to the registry as ``<registry>/conu/pushed:<session>``."""
    return local_image.push(f"{registry}/conu/pushed", TAG)


def test_push_returns_the_pushed_image(pushed: Any, local_image: Any, registry: str) -> None:
    assert pushed.get_full_name() == f"{registry}/conu/pushed:{TAG}"
    assert pushed.get_id() == local_image.get_id()
    md = pushed.get_metadata()
    assert md.digest is not None and md.digest.startswith(f"{registry}/conu/pushed@sha256:")
    assert md.repo_digests == [md.digest]


def test_pull_after_removal(pushed: Any, registry: str) -> None:
    name = f"{registry}/conu/pushed"
    pushed.rmi(via_name=True)
    assert not DockerImage(name, tag=TAG, pull_policy=NEVER).is_present()
    pulled = DockerImage(name, tag=TAG)  # IF_NOT_PRESENT pulls
    assert pulled.is_present()
    assert pulled.read_file("/pushed") == "pushed\n"
    again = DockerImage(name, tag=TAG, pull_policy=DockerImagePullPolicy.ALWAYS)
    assert again.get_id() == pulled.get_id()
    pulled.pull()  # an explicit pull of a present image is fine too


def test_pull_by_digest(pushed: Any) -> None:
    digest = pushed.get_metadata().digest
    by_digest = DockerImage(digest)
    assert by_digest.get_full_name() == digest
    assert by_digest.reference.digest == digest.split("@", 1)[1]
    assert by_digest.get_id() == pushed.get_id()


def test_push_without_arguments(local_image: Any, registry: str) -> None:
    named = local_image.tag_image(f"{registry}/conu/plain", "v1")
    assert named.push() is named
    named.rmi(via_name=True)
    assert DockerImage(f"{registry}/conu/plain", tag="v1").is_present()


def test_pull_of_missing_image_names_reference_and_reason(registry: str) -> None:
    with pytest.raises(ImageNotFound) as info:
        DockerImage(f"{registry}/conu/nothing-here", tag=TAG)
    message = str(info.value)
    assert f"{registry}/conu/nothing-here:{TAG}" in message
    assert "manifest unknown" in message or "not found" in message


def test_pull_from_unreachable_registry(registry: str) -> None:
    with pytest.raises(RegistryError) as info:
        DockerImage("127.0.0.1:1/conu/unreachable", tag=TAG)
    message = str(info.value)
    assert "127.0.0.1:1/conu/unreachable" in message
    assert "connection refused" in message


def test_push_to_unreachable_registry(local_image: Any) -> None:
    target = "127.0.0.1:1/conu/unreachable"
    try:
        with pytest.raises(RegistryError, match=re.escape(target)):
            local_image.push(target, TAG)
    finally:
        DockerImage(target, tag=TAG, pull_policy=NEVER).rmi(via_name=True)


# -- skopeo -------------------------------------------------------------------------------


def test_skopeo_push_and_pull(local_image: Any, registry: str) -> None:
    remote = local_image.skopeo_push(f"{registry}/conu/skopeo", TAG)
    assert remote.transport is SkopeoTransport.DOCKER
    assert remote.get_full_name() == f"{registry}/conu/skopeo:{TAG}"
    assert not remote.is_present()  # pushed with skopeo: not in the engine under that name
    local = remote.skopeo_pull()
    try:
        assert local.transport is SkopeoTransport.DOCKER_DAEMON
        assert local.is_present()
        assert local.read_file("/pushed") == "pushed\n"
    finally:
        local.rmi(via_name=True)


def test_copy_through_a_directory_and_archives(local_image: Any, tmp_path: Path) -> None:
    directory = local_image.copy(
        target_transport=SkopeoTransport.DIRECTORY, target_path=str(tmp_path / "dir")
    )
    assert directory.transport is SkopeoTransport.DIRECTORY
    assert (tmp_path / "dir" / "manifest.json").is_file()
    back = directory.copy(
        "conu-test/from-dir", "oldest", target_transport=SkopeoTransport.DOCKER_DAEMON
    )
    try:
        assert back.is_present()
        assert back.read_file("/pushed") == "pushed\n"
        oci = DockerImage("conu-test/oci", tag="3.7", pull_policy=NEVER)
        oci.using_transport(SkopeoTransport.OCI)  # a temporary path
        back.save_to(oci)
        assert oci.path and os.path.isfile(os.path.join(oci.path, "index.json"))
        back.rmi(force=True, via_name=True)
        assert not back.is_present()
        back.load_from(oci)  # skopeo again, from the OCI layout into the engine
        assert back.is_present()
    finally:
        back.rmi(via_name=True)


def test_transport_stays_the_engine_after_rmi(local_image: Any) -> None:
    """conu 1.0's test_copy_save: an image of the engine removed with rmi() is restored by
    ``oci.save_to(image)``, into the engine, not pushed to a registry."""
    tagged = local_image.tag_image("conu-test/after-rmi", TAG)
    image = DockerImage("conu-test/after-rmi", tag=TAG)  # present: found, not pulled
    oci = image.copy("conu-test/after-rmi-oci", TAG, target_transport=SkopeoTransport.OCI)
    try:
        image.rmi(force=True, via_name=True)
        assert not image.is_present()
        assert image.transport is SkopeoTransport.DOCKER_DAEMON
        oci.save_to(image)
        assert image.is_present()
        assert image.read_file("/pushed") == "pushed\n"
    finally:
        tagged.rmi(via_name=True)


def test_skopeo_failure_is_a_conu_error(registry: str) -> None:
    missing = DockerImage(f"{registry}/conu/nothing-here", tag=TAG, pull_policy=NEVER)
    with pytest.raises(CommandFailed, match="nothing-here") as info:
        missing.skopeo_pull()
    assert info.value.exit_code != 0


def test_without_skopeo(local_image: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(CommandDoesNotExistException, match="skopeo"):
        local_image.copy(target_transport=SkopeoTransport.DIRECTORY)


# -- s2i ----------------------------------------------------------------------------------


@pytest.fixture
def fake_s2i(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    log = tmp_path / "s2i.log"
    monkeypatch.setenv("PATH", f"{FAKES}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_S2I_LOG", str(log))
    return log


def test_s2i_extend_and_usage(local_image: Any, fake_s2i: Path, tmp_path: Path) -> None:
    builder = S2IDockerImage("conu-test/pushed", tag=TAG, pull_policy=NEVER)
    source = tmp_path / "app"
    source.mkdir()
    new = builder.extend(str(source), f"conu-test/extended:{TAG}", s2i_args=["--pull-policy=never"])
    try:
        assert isinstance(new, S2IDockerImage)
        assert new.get_full_name() == f"conu-test/extended:{TAG}"
        assert new.get_id() == local_image.get_id()
        calls = fake_s2i.read_text().splitlines()
        assert calls == [
            f"build --pull-policy=never {source} conu-test/pushed:{TAG} conu-test/extended:{TAG}"
        ]
        assert builder.usage() == f"This is the usage of conu-test/pushed:{TAG}\n"
    finally:
        new.rmi(via_name=True)


def test_s2i_failure(fake_s2i: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("FAKE_S2I_FAIL", "1")
    builder = S2IDockerImage("conu-test/busybox", pull_policy=NEVER)
    with pytest.raises(CommandFailed, match="assemble script exited 1"):
        builder.extend(str(tmp_path), "conu-test/never-extended")


def test_without_s2i(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    builder = S2IDockerImage("conu-test/busybox", pull_policy=NEVER)
    with pytest.raises(CommandDoesNotExistException, match="s2i"):
        builder.usage()
    with pytest.raises(CommandDoesNotExistException, match="s2i"):
        builder.extend(str(tmp_path), "conu-test/never-extended")
