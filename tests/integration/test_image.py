"""DockerImage on the real engine: builds, metadata, names, layers, archives, listing."""

from __future__ import annotations

import os
import tarfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from conu import DockerImage, DockerImagePullPolicy
from conu.apidefs.metadata import ImageMetadata
from conu.exceptions import (
    BuildFailed,
    ConuException,
    EngineError,
    ImageNotFound,
    InvalidArgument,
    InvalidReference,
)
from conu.labels import SESSION_ID

NEVER = DockerImagePullPolicy.NEVER
TAG = SESSION_ID.replace("-", "_")

META_DOCKERFILE = """\
FROM conu-test/busybox
LABEL name=meta-test version=1.2
ENV GREETING=hello MULTI=a=b=c EMPTY=
EXPOSE 8080 9090/udp
WORKDIR /srv
USER 1000
VOLUME /data
ENTRYPOINT ["/bin/sh", "-c"]
CMD ["echo hi"]
"""


@pytest.fixture(scope="module")
def meta_image(make_image: Callable[..., Any]) -> Any:
    return make_image(META_DOCKERFILE, tag=f"conu-test/meta:{TAG}")


def test_build_returns_named_image(meta_image: Any) -> None:
    assert meta_image.get_full_name() == f"conu-test/meta:{TAG}"
    assert meta_image.get_id().startswith("sha256:")
    assert meta_image.is_present()
    assert meta_image.inspect()["RepoTags"] == [f"conu-test/meta:{TAG}"]
    assert repr(meta_image) == f"DockerImage(repository=conu-test/meta, tag={TAG})"  # conu 1.0


def test_metadata(meta_image: Any) -> None:
    md = meta_image.get_metadata()
    inspect = meta_image.inspect()
    assert isinstance(md, ImageMetadata)
    assert md.identifier == inspect["Id"].split(":", 1)[1]
    assert md.name == f"conu-test/meta:{TAG}"
    assert md.image_names == [f"conu-test/meta:{TAG}"]
    assert md.labels["name"] == "meta-test"
    assert md.labels["version"] == "1.2"
    assert md.env_variables["GREETING"] == "hello"
    assert md.env_variables["MULTI"] == "a=b=c"
    assert md.env_variables["EMPTY"] == ""
    assert sorted(md.exposed_ports) == ["8080/tcp", "9090/udp"]
    assert md.command == ["echo hi"]
    assert md.entrypoint == ["/bin/sh", "-c"]
    assert md.working_dir == "/srv"
    assert md.user == "1000"
    assert md.volumes == ["/data"]
    assert md.creation_timestamp == inspect["Created"]
    assert md.digest is None  # never pushed
    assert md["Config"]["WorkingDir"] == "/srv"  # also a mapping over inspect


def test_build_with_dockerfile_and_no_tag(tmp_path: Path) -> None:
    (tmp_path / "Other.dockerfile").write_text("FROM conu-test/busybox\nLABEL which=other\n")
    image = DockerImage.build(str(tmp_path), dockerfile="Other.dockerfile", nocache=True)
    try:
        assert image.get_full_name() == image.get_id()
        assert image.get_metadata().labels["which"] == "other"
    finally:
        image.rmi(force=True)
    assert not image.is_present()


def test_build_failure_says_why(make_image: Callable[..., Any]) -> None:
    with pytest.raises(BuildFailed) as info:
        make_image("FROM conu-test/busybox\nRUN echo about to fail && exit 3\n")
    assert "returned a non-zero code: 3" in str(info.value)
    assert "about to fail" in str(info.value)


def test_build_needs_a_directory(tmp_path: Path) -> None:
    with pytest.raises(InvalidArgument):
        DockerImage.build(str(tmp_path / "nope"))
    with pytest.raises(InvalidArgument):
        DockerImage.build("")


def test_build_of_missing_base_fails(make_image: Callable[..., Any]) -> None:
    with pytest.raises(BuildFailed, match="conu-test/no-such-base"):
        make_image("FROM 127.0.0.1:1/conu-test/no-such-base\n")


@pytest.mark.parametrize("reference", ["UPPER/Case", "a:b:c:d", "", "with space", "x@sha256:12"])
def test_malformed_reference_is_refused(reference: str) -> None:
    with pytest.raises(InvalidReference):
        DockerImage(reference)


def test_reference_forms(busybox_image: Any) -> None:
    ident = busybox_image.get_id()
    digest = "sha256:" + "a" * 64
    image = DockerImage("localhost:5000/ns/repo", identifier=ident, pull_policy=NEVER)
    assert image.get_full_name() == "localhost:5000/ns/repo:latest"
    assert image.name == "localhost:5000/ns/repo"
    assert image.tag == "latest"
    by_digest = DockerImage(f"host:5000/repo@{digest}", identifier=ident, pull_policy=NEVER)
    assert by_digest.get_full_name() == f"host:5000/repo@{digest}"
    tagged = DockerImage("conu-test/busybox:latest", pull_policy=NEVER)
    assert tagged.get_full_name() == "conu-test/busybox:latest"
    assert tagged.get_id() == ident


def test_pull_policy_never_does_not_touch_a_missing_image() -> None:
    image = DockerImage("conu-test/never-built", tag=TAG, pull_policy=NEVER)
    assert not image.is_present()
    with pytest.raises(ImageNotFound, match="never-built"):
        image.get_id()


def test_tag_image_and_rmi_by_name(meta_image: Any) -> None:
    other = meta_image.tag_image("conu-test/meta-other", TAG)
    try:
        assert other.get_full_name() == f"conu-test/meta-other:{TAG}"
        assert other.get_id() == meta_image.get_id()
        latest = meta_image.tag_image(repository="conu-test/meta-other")
        assert latest.tag == "latest"
        latest.rmi(via_name=True)
        assert not DockerImage("conu-test/meta-other", pull_policy=NEVER).is_present()
    finally:
        other.rmi(via_name=True)
    assert not other.is_present()
    assert meta_image.is_present()  # removing a name keeps the image
    with pytest.raises(ValueError):
        meta_image.tag_image()


def test_rmi_of_missing_image_is_image_not_found(meta_image: Any) -> None:
    image = DockerImage("conu-test/gone", tag=TAG, pull_policy=NEVER)
    with pytest.raises(ImageNotFound, match="conu-test/gone"):
        image.rmi(via_name=True)


def test_layers(meta_image: Any) -> None:
    ids = meta_image.get_layer_ids()
    assert ids[0] == meta_image.get_id()
    assert meta_image.get_layer_ids(rev=False) == ids[::-1]
    layers = meta_image.layers()
    assert layers[0].get_id() == meta_image.get_id()
    assert len(layers) >= 2
    assert all(layer.pull_policy is NEVER for layer in layers)
    assert [layer.get_id() for layer in meta_image.layers(rev=False)] == [
        layer.get_id() for layer in layers
    ][::-1]


def test_list_images_with_metadata(backend: Any, meta_image: Any) -> None:
    found = [i for i in backend.list_images() if i.get_id() == meta_image.get_id()]
    assert len(found) == 1
    image = found[0]
    assert image.get_full_name() == f"conu-test/meta:{TAG}"
    assert image.pull_policy is NEVER
    assert image.metadata.identifier == meta_image.get_id().split(":", 1)[1]
    assert image.metadata.image_names == [f"conu-test/meta:{TAG}"]
    assert image.metadata.labels["name"] == "meta-test"


def test_save_and_load_archive(make_image: Callable[..., Any], tmp_path: Path) -> None:
    image = make_image(
        "FROM conu-test/busybox\nRUN echo saved > /saved\n", tag=f"conu-test/saved:{TAG}"
    )
    archive = tmp_path / "saved.tar"
    image.save_to(str(archive))
    assert tarfile.is_tarfile(archive)
    assert not [p for p in os.listdir(tmp_path) if p.startswith(".conu-save-")]
    ident = image.get_id()
    image.rmi(force=True)
    assert not image.is_present()

    loaded = DockerImage.load_from_file(str(archive))
    assert loaded.get_full_name() == f"conu-test/saved:{TAG}"
    assert loaded.get_id() == ident
    assert loaded.read_file("/saved") == "saved\n"

    renamed = DockerImage("conu-test/saved-renamed", tag=TAG, pull_policy=NEVER)
    renamed.load_from(archive)  # a single image: it gets this name
    try:
        assert renamed.get_id() == ident
        assert renamed.is_present()
    finally:
        renamed.rmi(via_name=True)


def test_save_and_load_errors(meta_image: Any, tmp_path: Path) -> None:
    with pytest.raises(InvalidArgument, match="no directory"):
        meta_image.save_to(str(tmp_path / "missing" / "x.tar"))
    with pytest.raises(InvalidArgument):
        meta_image.save_to(42)
    with pytest.raises(InvalidArgument, match="no such file"):
        DockerImage.load_from_file(str(tmp_path / "none.tar"))
    junk = tmp_path / "junk.tar"
    junk.write_bytes(b"this is not an image archive")
    with pytest.raises(EngineError, match=r"junk\.tar"):
        DockerImage.load_from_file(str(junk))
    gone = DockerImage("conu-test/not-saved", tag=TAG, pull_policy=NEVER)
    with pytest.raises(ImageNotFound):
        gone.save_to(str(tmp_path / "gone.tar"))
    assert sorted(os.listdir(tmp_path)) == ["junk.tar"]


def test_image_errors_are_conu_errors() -> None:
    with pytest.raises(ConuException):
        DockerImage("conu-test/busybox", tag=DockerImagePullPolicy.NEVER)  # type: ignore[arg-type]
    with pytest.raises(ConuException):
        DockerImage("conu-test/busybox", pull_policy="never")  # type: ignore[arg-type]
