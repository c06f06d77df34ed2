"""The archive backend against the Docker engine on the same images.

Images are built by Docker, written with ``docker save`` and converted by skopeo to an OCI
layout (gzip layers) and an OCI archive; every file check and the metadata of the archive
backend must be Docker's answer for the same image. The layers hold what makes applying them
hard: a file deleted later, an opaque directory, a directory replaced by a file, hard links,
symlinks (absolute, relative, escaping with ``..``, dangling, looping), a setuid file, an
owned file, a device node and a fifo.
"""

from __future__ import annotations

import glob
import gzip
import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from conu import DockerImage
from conu.apidefs.backend import Capability
from conu.exceptions import (
    ConuException,
    ImageNotFound,
    InvalidArgument,
    UnsupportedOperation,
    WrongFileType,
)
from conu.labels import SESSION_ID, tmp_prefix

FEATURES = """\
FROM conu-test/busybox:latest
RUN mkdir -p /data/private /opaque/keep /srv && echo gone > /data/deleted.txt \\
 && echo a > /opaque/a && echo k > /opaque/keep/k \\
 && echo hard > /data/hard1 && ln /data/hard1 /data/hard2 \\
 && ln -s /etc/motd /srv/abs-link && ln -s ../etc/motd /srv/rel-link \\
 && ln -s ../../../../etc/motd /srv/escape && ln -s ../../../../etc /srv/escape-dir \\
 && ln -s /nowhere /srv/dangling && ln -s loop /srv/loop \\
 && echo s > /data/suid && chmod 4755 /data/suid && echo o > /data/owned \\
 && chown 1000:1000 /data/owned && mknod /data/null c 1 3 && mkfifo /data/fifo \\
 && chmod 0700 /data/private && echo p > /data/private/inside
RUN rm /data/deleted.txt && rm -rf /opaque && mkdir /opaque && echo c > /opaque/c \\
 && rm -rf /data/private && echo now-a-file > /data/private
ENV A=1 B="x y"
LABEL org.example.archive=features
EXPOSE 8080 53/udp
VOLUME /vol
WORKDIR /data
USER 1000
ENTRYPOINT ["/bin/sh", "-c"]
CMD ["echo hi"]
"""
OTHER = "FROM conu-test/busybox:latest\nRUN echo other > /etc/other\nLABEL which=other\n"

PATHS = [
    "/data",
    "/data/suid",
    "/data/owned",
    "/data/hard1",
    "/data/hard2",
    "/data/null",
    "/data/fifo",
    "/data/private",
    "/data/private/inside",
    "/data/deleted.txt",
    "/opaque",
    "/opaque/a",
    "/opaque/keep",
    "/opaque/keep/k",
    "/opaque/c",
    "/srv/abs-link",
    "/srv/rel-link",
    "/srv/escape",
    "/srv/escape-dir",
    "/srv/escape-dir/motd",
    "/srv/escape/x",
    "/srv/dangling",
    "/srv/loop",
    "/bin/sh",
    "/bin/busybox",
    "/etc/motd",
    "/etc/../etc/passwd",
    "srv/abs-link",
    "/data/hard1/",
    "/nope",
    "/nope/deeper",
]
DIRECTORIES = ["/data", "/opaque", "/srv", "/bin", "/etc", "/srv/escape-dir", "/data/private"]
DIRECTORIES += ["/nope", "/srv/dangling"]
INIT_LAYER = {"hostname", "hosts", "mtab", "resolv.conf"}
"""What Docker's (never started) container of an image adds to its /etc."""
INSPECT_KEYS = ["Id", "Created", "Config", "Architecture", "Os", "RootFS", "Author", "Comment"]
INSPECT_KEYS += ["DockerVersion", "Container", "ContainerConfig"]


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        message = f"the archive tests need {name} (run scripts/engine.sh as root)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return found


def _run(*argv: str) -> None:
    result = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=300)
    assert result.returncode == 0, f"{argv}: {result.stderr}"


def _outcome(call: Callable[..., Any], *args: Any) -> Any:
    """What a check answers: its value, WrongFileType, or another ConuException (other
    errors are not told apart)."""
    try:
        return call(*args)
    except WrongFileType:
        return "WrongFileType"
    except ConuException:
        return "ConuException"


class Built:
    """The test images, as Docker holds them and as archives of every kind."""

    def __init__(self, make_image: Callable[..., Any], tmp: Path) -> None:
        suffix = SESSION_ID.lower()
        self.name = f"conu-test/archive-features-{suffix}:latest"
        self.other_name = f"conu-test/archive-other-{suffix}:latest"
        self.features = make_image(FEATURES, tag=self.name)
        self.other = make_image(OTHER, tag=self.other_name)
        self.docker_archive = tmp / "features.tar"
        self.features.save_to(str(self.docker_archive))
        self.multi = tmp / "multi.tar"
        _run(_tool("docker"), "save", "-o", str(self.multi), self.name, self.other_name)
        skopeo = _tool("skopeo")
        self.oci = tmp / "oci-layout"
        _run(
            skopeo,
            "copy",
            "-q",
            f"docker-archive:{self.docker_archive}",
            f"oci:{self.oci}:{self.name}",
        )
        self.oci_archive = tmp / "oci-archive.tar"
        archive = f"oci-archive:{self.oci_archive}:{self.name}"
        _run(skopeo, "copy", "-q", f"docker-archive:{self.docker_archive}", archive)
        # Docker's view of the OCI image (its config is skopeo's): the same config digest.
        back = tmp / "oci-back.tar"
        self.oci_name = f"conu-test/archive-oci-{suffix}:latest"
        _run(skopeo, "copy", "-q", f"oci:{self.oci}", f"docker-archive:{back}:{self.oci_name}")
        self.oci_docker = DockerImage.load_from_file(str(back))

    def remove(self) -> None:
        for image in (self.oci_docker, self.features, self.other):
            image.rmi(force=True)


@pytest.fixture(scope="module")
def built(
    busybox_image: Any, make_image: Callable[..., Any], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Built]:
    images = Built(make_image, tmp_path_factory.mktemp("archives"))
    try:
        yield images
    finally:
        images.remove()


@pytest.fixture(scope="module")
def archives(built: Built) -> dict[str, Any]:
    """The features image through the archive backend, from each kind of archive."""
    from conu.backend.archive.image import ArchiveImage

    return {
        "docker-archive": ArchiveImage(str(built.docker_archive)),
        "oci": ArchiveImage(str(built.oci)),
        "oci-archive": ArchiveImage(str(built.oci_archive)),
        "multi": ArchiveImage(f"{built.multi}:{built.name}"),
    }


KINDS = ["docker-archive", "oci", "oci-archive", "multi"]


@pytest.mark.parametrize("kind", KINDS)
def test_path_info_is_dockers(built: Built, archives: dict[str, Any], kind: str) -> None:
    image = archives[kind]
    for path in PATHS:
        assert image.path_info(path) == built.features.path_info(path), path


@pytest.mark.parametrize("kind", KINDS)
def test_presence_checks_are_dockers(built: Built, archives: dict[str, Any], kind: str) -> None:
    image, docker = archives[kind], built.features
    for path in PATHS:
        for check in ("file_is_present", "directory_is_present"):
            mine = _outcome(getattr(image, check), path)
            assert mine == _outcome(getattr(docker, check), path), (check, path)


@pytest.mark.parametrize("kind", KINDS)
def test_reads_and_listings_are_dockers(built: Built, archives: dict[str, Any], kind: str) -> None:
    image, docker = archives[kind], built.features
    for path in PATHS:
        assert _outcome(image.read_file, path) == _outcome(docker.read_file, path), path
    for path in DIRECTORIES:
        mine, theirs = _outcome(image.list_directory, path), _outcome(docker.list_directory, path)
        if path in ("/etc", "/srv/escape-dir"):  # Docker's helper container adds its files
            assert set(theirs) - set(mine) == INIT_LAYER
            assert set(mine) <= set(theirs)
        else:
            assert mine == theirs, path


def test_the_layers_were_applied(archives: dict[str, Any]) -> None:
    image = archives["oci"]
    assert image.path_info("/data/deleted.txt") is None  # deleted in a later layer
    assert image.list_directory("/opaque") == ["c"]  # made opaque: the lower files are gone
    assert image.read_file("/data/private") == "now-a-file\n"  # a directory replaced
    assert image.read_file("/srv/escape") == "conu test image\n"  # ".." stops at the root
    assert image.read_file("/srv/abs-link") == "conu test image\n"  # the image's /etc/motd
    hard = image.path_info("/data/hard2")
    assert hard is not None and hard.size == len("hard\n")
    null = image.path_info("/data/null")
    assert null is not None and null.kind.value == "other" and null.mode == 0o20644


def test_the_oci_layout_has_gzip_layers(built: Built) -> None:
    index = json.loads((built.oci / "index.json").read_text())
    digest = index["manifests"][0]["digest"].split(":")[1]
    manifest = json.loads((built.oci / "blobs" / "sha256" / digest).read_text())
    assert {layer["mediaType"] for layer in manifest["layers"]} == {
        "application/vnd.oci.image.layer.v1.tar+gzip"
    }


def test_ids_are_the_config_digests_docker_gives(built: Built, archives: dict[str, Any]) -> None:
    assert archives["docker-archive"].get_id() == built.features.get_id()
    assert archives["multi"].get_id() == built.features.get_id()
    assert archives["oci"].get_id() == built.oci_docker.get_id()
    assert archives["oci-archive"].get_id() == built.oci_docker.get_id()


@pytest.mark.parametrize("kind", ["docker-archive", "multi"])
def test_metadata_is_dockers(built: Built, archives: dict[str, Any], kind: str) -> None:
    image = archives[kind]
    assert image.get_metadata() == built.features.get_metadata()
    mine, docker = image.inspect(), built.features.inspect()
    assert {k: mine.get(k) for k in INSPECT_KEYS} == {k: docker.get(k) for k in INSPECT_KEYS}
    assert mine["RepoTags"] == [built.name]


@pytest.mark.parametrize("kind", ["oci", "oci-archive"])
def test_oci_metadata_is_dockers(built: Built, archives: dict[str, Any], kind: str) -> None:
    md, docker = archives[kind].get_metadata(), built.oci_docker.get_metadata()
    assert md.image_names == [built.name]
    assert docker.image_names == [built.oci_name]
    md.image_names, md.name = docker.image_names, docker.name
    assert md == docker
    assert md.labels is not None and md.labels["org.example.archive"] == "features"
    assert (md.user, md.working_dir, md.volumes) == ("1000", "/data", ["/vol"])
    assert md.exposed_ports == ["53/udp", "8080/tcp"]
    assert md.entrypoint == ["/bin/sh", "-c"] and md.command == ["echo hi"]
    mine, theirs = archives[kind].inspect(), built.oci_docker.inspect()
    assert {k: mine.get(k) for k in INSPECT_KEYS} == {k: theirs.get(k) for k in INSPECT_KEYS}


def test_a_multi_image_archive_needs_a_choice(built: Built) -> None:
    from conu.backend.archive.image import ArchiveImage

    with pytest.raises(InvalidArgument, match="holds 2 images") as info:
        ArchiveImage(str(built.multi)).get_id()
    assert built.name in str(info.value) and built.other_name in str(info.value)
    other = ArchiveImage(str(built.multi), tag=built.other_name)
    assert other.get_id() == built.other.get_id()
    assert other.read_file("/etc/other") == "other\n"
    assert not other.file_is_present("/data/suid")
    with pytest.raises(ImageNotFound, match="no image 'nosuch'") as missing:
        ArchiveImage(f"{built.multi}:nosuch").get_id()
    assert built.other_name in str(missing.value)


def test_unknown_and_corrupt_archives(built: Built, tmp_path: Path) -> None:
    from conu.backend.archive.image import ArchiveImage

    missing = ArchiveImage(str(tmp_path / "nothing.tar"))
    assert not missing.is_present()
    with pytest.raises(ImageNotFound):
        missing.file_is_present("/etc/motd")
    garbage = tmp_path / "garbage.tar"
    garbage.write_bytes(b"this is not an archive\n" * 100)
    with pytest.raises(InvalidArgument, match="not an image archive"):
        ArchiveImage(str(garbage)).get_id()
    truncated = tmp_path / "truncated.tar"
    data = built.docker_archive.read_bytes()
    truncated.write_bytes(data[: len(data) // 2])
    with pytest.raises(InvalidArgument):
        ArchiveImage(str(truncated)).file_is_present("/etc/motd")


def test_a_damaged_layer_is_refused(built: Built, tmp_path: Path) -> None:
    from conu.backend.archive.image import ArchiveImage
    from conu.backend.archive.root import ROOTS

    layout = tmp_path / "damaged"
    shutil.copytree(built.oci, layout)
    index = json.loads((layout / "index.json").read_text())
    manifest_digest = index["manifests"][0]["digest"].split(":")[1]
    manifest = json.loads((layout / "blobs" / "sha256" / manifest_digest).read_text())
    smallest = min(manifest["layers"], key=lambda layer: layer["size"])
    blob = layout / "blobs" / "sha256" / smallest["digest"].split(":")[1]
    content = gzip.decompress(blob.read_bytes())
    blob.write_bytes(gzip.compress(content[:-1024] + b"x" * 1024))  # same size, other bytes
    ROOTS.clear()  # the same image id is never extracted twice: forget the intact one
    pattern = os.path.join(tempfile.gettempdir(), tmp_prefix() + "archive-*")
    before = set(glob.glob(pattern))
    with pytest.raises(InvalidArgument, match="damaged"):
        ArchiveImage(str(layout)).file_is_present("/etc/motd")
    assert set(glob.glob(pattern)) == before  # nothing half-extracted is left


def test_extracted_once_in_a_session_temporary_directory(archives: dict[str, Any]) -> None:
    from conu.backend.archive.root import ROOTS

    image = archives["docker-archive"]
    root = image.extracted_root()
    assert os.path.basename(root.directory).startswith(tmp_prefix() + "archive-")
    assert image.extracted_root() is root  # reused by every check
    assert archives["multi"].extracted_root() is root  # same image, same id
    assert ROOTS.clear() >= 1
    assert not os.path.exists(root.directory)
    assert image.file_is_present("/etc/motd")  # extracted again on demand


def test_mount(archives: dict[str, Any]) -> None:
    image = archives["oci"]
    with image.mount() as fs:
        mount_point = fs.mount_point
        assert fs.read_file("/srv/escape") == "conu test image\n"
        assert fs.directory_is_present("/opaque")
        assert not fs.file_is_present("/data/deleted.txt")
    assert not os.path.exists(mount_point)
    assert image.read_file("/opaque/c") == "c\n"  # the extraction is intact


def test_nothing_runs(archives: dict[str, Any]) -> None:
    image = archives["docker-archive"]
    calls: list[Callable[[], Any]] = [
        lambda: image.run_command(["true"]),
        lambda: image.run_via_binary(command=["true"]),
        lambda: image.run_via_api(),
        lambda: image.pull(),
        lambda: image.tag_image("x/y", "z"),
        lambda: image.has_pkgs_signed_with(["abcd"]),
    ]
    for call in calls:
        with pytest.raises(UnsupportedOperation, match="'archive'"):
            call()
    container = image.create_container()
    try:
        assert container.get_status() == "created"
        for operation in (container.start, lambda: container.execute(["true"])):
            with pytest.raises(UnsupportedOperation, match="'archive'"):
                operation()
        with pytest.raises(UnsupportedOperation, match="'archive'"):
            list(container.logs())
    finally:
        container.delete()


def test_registered_with_its_capabilities(built: Built) -> None:
    import conu

    backend_class = conu.get_backend("archive")
    assert backend_class is conu.ArchiveBackend
    with backend_class() as backend:
        assert backend.capabilities == {Capability.IMAGE_FILES, Capability.MOUNT}
        image = backend.ImageClass(str(built.docker_archive))
        assert image.is_present()
        assert image.get_id() in {listed.get_id() for listed in backend.list_images()}
