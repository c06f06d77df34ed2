"""DockerBackend against the real engine: listing, classes, session-scoped cleanup."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from typing import Any

import pytest

from conu import CleanupPolicy, DockerBackend, DockerContainer, DockerImage
from conu.apidefs.metadata import ContainerMetadata, ImageMetadata
from conu.exceptions import ContainerNotFound, ConuException, NotFound
from conu.labels import ARTIFACT_LABEL, SESSION_LABEL


def test_classes(backend: Any) -> None:
    assert isinstance(backend, DockerBackend)
    assert backend.name == "docker"
    assert backend.ContainerClass is DockerContainer
    assert backend.ImageClass is DockerImage


def test_list_containers(backend: Any, run: Callable[..., Any], busybox_image: Any) -> None:
    c = run(["sleep", "300"], ["-e", "FOO=BAR", "-p", "1234"])
    stopped = run(["true"])
    stopped.wait(timeout=10)
    listed = {x.get_id(): x for x in backend.list_containers()}
    for container in (c, stopped):
        found = listed[container.get_id()]
        assert isinstance(found, DockerContainer)
        assert isinstance(found.metadata, ContainerMetadata)
        assert found.metadata.identifier == container.get_id()
        assert found.metadata.image
        assert found.name == container.name
        assert found.image.get_id() == busybox_image.get_id()
    assert listed[c.get_id()].is_running()
    assert not listed[stopped.get_id()].is_running()


def test_list_images(backend: Any, busybox_image: Any, httpd_image: Any) -> None:
    images = backend.list_images()
    assert images
    assert all(isinstance(i, DockerImage) for i in images)
    by_id = {i.get_id(): i for i in images}
    busybox = by_id[busybox_image.get_id()]
    assert isinstance(busybox.metadata, ImageMetadata)
    assert busybox.metadata.identifier == busybox_image.get_id().split(":", 1)[1]
    assert "conu-test/busybox:latest" in busybox.metadata.image_names
    assert busybox.get_full_name() == "conu-test/busybox:latest"
    assert by_id[httpd_image.get_id()].metadata.labels["org.example.role"] == "httpd"


def test_cleanup_containers_of_this_session_only(
    busybox_image: Any, engine: Any, track: Callable[[Any], Any]
) -> None:
    # a container of another session (same conu label, other session id)
    foreign = engine.create_container(
        busybox_image.get_id(),
        command=["sleep", "300"],
        labels={ARTIFACT_LABEL: "", SESSION_LABEL: "another-session"},
    )["Id"]
    try:
        with DockerBackend(cleanup=[CleanupPolicy.CONTAINERS]) as b:
            assert isinstance(b, DockerBackend)
            running = track(busybox_image.run_via_binary(command=["sleep", "300"]))
            exited = track(busybox_image.run_via_binary(command=["true"]))
            created = track(busybox_image.create_container())
            apid = track(busybox_image.run_via_api())
        for container in (running, exited, created, apid):
            with pytest.raises(ContainerNotFound):
                container.inspect()
        assert engine.inspect_container(foreign)["Id"] == foreign
    finally:
        engine.remove_container(foreign, force=True)


def test_cleanup_nothing_by_default(busybox_image: Any, track: Callable[[Any], Any]) -> None:
    with DockerBackend() as b:
        assert b.cleanup == [CleanupPolicy.NOTHING]
        c = track(busybox_image.run_via_binary(command=["sleep", "300"]))
    assert c.is_running()


def test_tmp_dirs_policy() -> None:
    with DockerBackend(cleanup=[CleanupPolicy.TMP_DIRS]) as b:
        tmpdir = b.tmpdir
        assert tmpdir
        assert os.path.isdir(tmpdir)
    assert not os.path.exists(tmpdir)


def test_cleanup_policy_arguments() -> None:
    with pytest.raises(ConuException):
        DockerBackend(cleanup=[CleanupPolicy.NOTHING, CleanupPolicy.CONTAINERS])


def test_cleanup_tolerates_gone_containers(backend: Any, busybox_image: Any) -> None:
    c = busybox_image.run_via_binary(command=["true"], additional_opts=["--rm"])
    with contextlib.suppress(NotFound):
        c.wait(timeout=10)
    backend.cleanup_containers()  # nothing left, or only gone ones: no error
