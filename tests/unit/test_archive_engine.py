"""The archive backend's pure logic on archives crafted here: layers and whiteouts, the index,
symlink rules, digests, selection of an image, platforms of an image index. No engine."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import stat
import tarfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest

from conu.apidefs.backend import Capability
from conu.apidefs.metadata import PathKind
from conu.apidefs.specs import PullPolicy
from conu.backend.archive.config import docker_config
from conu.backend.archive.engine import ArchiveEngine
from conu.backend.archive.image import ArchiveImage
from conu.backend.archive.manifests import familiar
from conu.backend.archive.platforms import Platform
from conu.backend.archive.root import ROOTS
from conu.backend.archive.selection import split_reference
from conu.exceptions import (
    ConuException,
    ImageNotFound,
    InvalidArgument,
    UnsafePath,
    UnsupportedOperation,
    WrongFileType,
)

Member = tuple[tarfile.TarInfo, bytes | None]


def entry(name: str, data: bytes | None = None, **fields: Any) -> Member:
    """A layer member: a file when ``data`` is given, otherwise what ``fields`` say."""
    info = tarfile.TarInfo(name)
    info.mode = fields.pop("mode", 0o755 if data is None else 0o644)
    info.type = fields.pop("type", tarfile.DIRTYPE if data is None else tarfile.REGTYPE)
    for key, value in fields.items():
        setattr(info, key, value)
    if data is not None:
        info.size = len(data)
    return info, data


def link(name: str, target: str) -> Member:
    return entry(name, type=tarfile.SYMTYPE, linkname=target, mode=0o777)


def tar_of(members: Iterable[Member]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for info, data in members:
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return buffer.getvalue()


def digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def config_of(layers: list[bytes], **config: Any) -> bytes:
    document = {
        "architecture": "amd64",
        "os": "linux",
        "created": "2024-01-02T03:04:05.123456789Z",
        "config": config,
        "rootfs": {"type": "layers", "diff_ids": [digest(layer) for layer in layers]},
        "history": [{"created_by": f"step {i}"} for i in range(len(layers))],
    }
    return json.dumps(document).encode()


def docker_archive(path: Path, images: list[tuple[list[str], bytes, list[bytes]]]) -> Path:
    """Write a ``docker save`` archive; a layer seen before is a symlink, as Docker writes."""
    files: dict[str, bytes] = {}
    links: dict[str, str] = {}
    manifest = []
    for tags, config, layers in images:
        names = []
        for layer in layers:
            name = f"{digest(layer)[7:]}/layer.tar"
            if name in files or name in links:
                alias = f"{digest(layer + b'alias')[7:]}/layer.tar"
                links[alias] = f"../{name}"
                name = alias
            else:
                files[name] = layer
            names.append(name)
        files[f"{digest(config)[7:]}.json"] = config
        manifest.append({"Config": f"{digest(config)[7:]}.json", "RepoTags": tags, "Layers": names})
    files["manifest.json"] = json.dumps(manifest).encode()
    members = [entry(name, data) for name, data in files.items()]
    members += [entry(name, type=tarfile.SYMTYPE, linkname=to) for name, to in links.items()]
    path.write_bytes(tar_of(members))
    return path


def blob(layout: Path, data: bytes) -> dict[str, Any]:
    (layout / "blobs" / "sha256").mkdir(parents=True, exist_ok=True)
    (layout / "blobs" / "sha256" / digest(data)[7:]).write_bytes(data)
    return {"digest": digest(data), "size": len(data)}


def oci_manifest(layout: Path, layers: list[bytes], **config: Any) -> dict[str, Any]:
    """Store an image (gzip layers) in ``layout``; return its manifest's descriptor."""
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": blob(layout, config_of(layers, **config)),
        "layers": [
            {**blob(layout, gzip.compress(layer)), "mediaType": "tar+gzip"} for layer in layers
        ],
    }
    data = json.dumps(manifest).encode()
    return {**blob(layout, data), "mediaType": manifest["mediaType"]}


def oci_layout(layout: Path, descriptors: list[dict[str, Any]]) -> Path:
    layout.mkdir(parents=True, exist_ok=True)
    (layout / "oci-layout").write_text('{"imageLayoutVersion": "1.0.0"}')
    (layout / "index.json").write_text(json.dumps({"schemaVersion": 2, "manifests": descriptors}))
    return layout


BASE = tar_of(
    [
        entry("etc/"),
        entry("etc/motd", b"base motd\n"),
        entry("etc/passwd", b"root:x:0:0::/root:/bin/sh\n"),
        entry("data/"),
        entry("data/deleted", b"gone\n"),
        entry("data/suid", b"s\n", mode=0o4755),
        entry("data/owned", b"o\n", uid=1000, gid=1001),
        entry("data/hard1", b"hard\n"),
        entry("data/hard2", type=tarfile.LNKTYPE, linkname="data/hard1", mode=0o644),
        entry("data/null", type=tarfile.CHRTYPE, devmajor=1, devminor=3, mode=0o666),
        entry("data/fifo", type=tarfile.FIFOTYPE, mode=0o644),
        entry("data/dir/"),
        entry("data/dir/inside", b"inside\n"),
        entry("opaque/"),
        entry("opaque/lower", b"lower\n"),
        entry("implicit/parent/file", b"no parent headers\n"),
        link("srv/abs", "/etc/motd"),
        link("srv/rel", "../etc/motd"),
        link("srv/escape", "../../../../etc/motd"),
        link("srv/escape-dir", "../../../../etc"),
        link("srv/dangling", "/nowhere"),
        link("srv/loop", "loop"),
        link("srv/null", "/data/null"),
    ]
)
TOP = tar_of(
    [
        entry("data/"),
        entry("data/.wh.deleted", b""),
        entry("data/dir", b"now a file\n"),
        entry("opaque/"),
        entry("opaque/.wh..wh..opq", b""),
        entry("opaque/upper", b"upper\n"),
        entry("etc/motd", b"top motd\n", mode=0o600),
        entry("srv/.wh.nothing-here", b""),
    ]
)

FEATURES_CONFIG = config_of([BASE, TOP], Env=["A=1"], Cmd=["sh"], Labels={"k": "v"}, User="1000")


@pytest.fixture
def engine(tmp_path: Path) -> ArchiveEngine:
    ROOTS.clear()
    return ArchiveEngine(tmpdir=str(tmp_path))


@pytest.fixture
def features(tmp_path: Path, engine: ArchiveEngine) -> ArchiveImage:
    images = [(["example/features:1"], FEATURES_CONFIG, [BASE, TOP])]
    path = docker_archive(tmp_path / "features.tar", images)
    return ArchiveImage(str(path), engine=engine)


def test_layers_whiteouts_and_opaque_directories(features: ArchiveImage) -> None:
    assert features.path_info("/data/deleted") is None
    assert features.list_directory("/opaque") == ["upper"]
    assert features.read_file("/data/dir") == "now a file\n"
    assert features.path_info("/data/dir/inside") is None
    motd = features.path_info("/etc/motd")
    assert motd is not None and motd.mode == stat.S_IFREG | 0o600 and motd.size == 9
    listed = ["dir", "fifo", "hard1", "hard2", "null", "owned", "suid"]
    assert features.list_directory("/data") == listed


def test_modes_owners_devices_and_hard_links_from_the_headers(features: ArchiveImage) -> None:
    suid = features.path_info("/data/suid")
    assert suid is not None and suid.mode == stat.S_IFREG | 0o4755
    owned = features.path_info("/data/owned")
    assert owned is not None and (owned.uid, owned.gid) == (1000, 1001)
    null = features.path_info("/data/null")
    assert null is not None and null.kind is PathKind.OTHER and stat.S_ISCHR(null.mode)
    assert not os.path.exists(os.path.join(features.extracted_root().root, "data/null"))
    fifo = features.path_info("/data/fifo")
    assert fifo is not None and stat.S_ISFIFO(fifo.mode)
    hard = features.path_info("/data/hard2")
    assert hard is not None and hard.kind is PathKind.FILE and hard.size == 5
    root = features.extracted_root().root
    assert os.stat(f"{root}/data/hard1").st_ino == os.stat(f"{root}/data/hard2").st_ino
    implicit = features.path_info("/implicit/parent")
    assert implicit is not None and implicit.mode == stat.S_IFDIR | 0o755


def test_symlinks_resolve_inside_the_image(features: ArchiveImage) -> None:
    for link_path in ("/srv/abs", "/srv/rel", "/srv/escape"):
        assert features.read_file(link_path) == "top motd\n"
        assert features.file_is_present(link_path)
    info = features.path_info("/srv/escape")
    assert info is not None and info.kind is PathKind.SYMLINK
    assert info.link_target == "../../../../etc/motd"
    assert features.list_directory("/srv/escape-dir") == ["motd", "passwd"]
    assert features.directory_is_present("/srv/escape-dir")
    assert not features.file_is_present("/srv/dangling")
    assert features.path_info("/srv/dangling") is not None  # lstat: the link is there
    assert features.path_info("/srv/loop") is None  # a loop is nothing, as for Docker
    assert features.path_info("/etc/motd/") is None  # a file with a trailing slash
    assert features.path_info("/etc/motd/x") is None  # through a file
    with pytest.raises(WrongFileType):
        features.file_is_present("/srv/null")  # a link to a device: not a regular file
    with pytest.raises(WrongFileType):
        features.directory_is_present("/srv/abs")
    with pytest.raises(ConuException):
        features.read_file("/srv/dangling")


def test_metadata_from_the_config(features: ArchiveImage, tmp_path: Path) -> None:
    md = features.get_metadata()
    assert md.image_names == ["example/features:1"]
    assert (md.env_variables, md.command, md.user) == ({"A": "1"}, ["sh"], "1000")
    assert md.labels == {"k": "v"}
    raw = features.inspect()
    assert raw["Id"] == features.get_id() == digest(FEATURES_CONFIG)
    assert raw["Config"]["Hostname"] == "" and raw["Config"]["Volumes"] is None
    assert raw["Archive"]["Format"] == "docker-archive"
    assert features.get_layer_ids() == [features.get_id(), "<missing>"]


def test_docker_config_fills_what_docker_shows() -> None:
    shown = docker_config({"Env": ["A=1"], "ExposedPorts": {}, "Custom": 1})
    assert shown["Tty"] is False and shown["Cmd"] is None and shown["Image"] == ""
    assert "ExposedPorts" not in shown and shown["Custom"] == 1 and shown["Env"] == ["A=1"]


def test_damaged_and_hostile_layers(tmp_path: Path, engine: ArchiveEngine) -> None:
    config = config_of([BASE])
    damaged = docker_archive(
        tmp_path / "d.tar", [(["x/y:1"], config, [BASE.replace(b"base motd", b"BASE MOTD")])]
    )
    before = set(os.listdir(tmp_path))
    with pytest.raises(InvalidArgument, match="damaged"):
        ArchiveImage(str(damaged), engine=engine).file_is_present("/etc/motd")
    assert set(os.listdir(tmp_path)) == before  # nothing extracted is left
    for hostile in (
        tar_of([entry("../outside", b"x\n")]),
        tar_of([link("lnk", "/"), entry("lnk/etc/x", b"x\n")]),
        tar_of([entry("h", type=tarfile.LNKTYPE, linkname="/etc/passwd")]),
    ):
        path = docker_archive(tmp_path / "h.tar", [(["x/h:1"], config_of([hostile]), [hostile])])
        with pytest.raises(UnsafePath):
            ArchiveImage(str(path), engine=engine).path_info("/")
        ROOTS.clear()
    assert not os.path.exists(tmp_path.parent / "outside")


def test_zstd_layers_are_refused_clearly(tmp_path: Path, engine: ArchiveEngine) -> None:
    layer = b"\x28\xb5\x2f\xfd" + bytes(100)
    path = docker_archive(tmp_path / "z.tar", [(["x/z:1"], config_of([layer]), [layer])])
    with pytest.raises(InvalidArgument, match="zstd"):
        ArchiveImage(str(path), engine=engine).path_info("/")


def test_several_images_and_shared_layers(tmp_path: Path, engine: ArchiveEngine) -> None:
    other = tar_of([entry("other", b"other\n")])
    path = docker_archive(
        tmp_path / "multi.tar",
        [
            (["example/a:1", "docker.io/library/alias:2"], config_of([BASE]), [BASE]),
            (["example/b:latest"], config_of([BASE, other]), [BASE, other]),
        ],
    )
    with pytest.raises(InvalidArgument, match=r"holds 2 images \(example/a:1, "):
        ArchiveImage(str(path), engine=engine).get_id()
    b = ArchiveImage(f"{path}:example/b", engine=engine)  # ":latest" implied
    assert b.read_file("/other") == "other\n"  # its BASE layer is a symlink in the archive
    assert ArchiveImage(str(path), tag="1", engine=engine).get_id() == digest(config_of([BASE]))
    assert ArchiveImage(f"{path}@alias:2", engine=engine).get_metadata().image_names == [
        "example/a:1",
        "alias:2",
    ]
    assert ArchiveImage(f"{path}@{digest(config_of([BASE]))}", engine=engine).is_present()
    with pytest.raises(ImageNotFound, match="example/b:latest"):
        ArchiveImage(f"{path}:nosuch", engine=engine).get_id()


def test_platforms_of_an_oci_image_index(tmp_path: Path) -> None:
    layout = tmp_path / "multi-arch"
    amd = oci_manifest(layout, [tar_of([entry("arch", b"amd64\n")])])
    arm = oci_manifest(layout, [tar_of([entry("arch", b"arm64\n")])])
    attestation = oci_manifest(layout, [tar_of([entry("sbom", b"{}\n")])])
    index = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [
            {**arm, "platform": {"os": "linux", "architecture": "arm64", "variant": "v8"}},
            {**amd, "platform": {"os": "linux", "architecture": "amd64"}},
            {**attestation, "platform": {"os": "unknown", "architecture": "unknown"}},
        ],
    }
    named = {**blob(layout, json.dumps(index).encode()), "mediaType": index["mediaType"]}
    named["annotations"] = {"org.opencontainers.image.ref.name": "v1"}
    oci_layout(layout, [named])
    ROOTS.clear()
    assert ArchiveImage(str(layout), engine=ArchiveEngine()).read_file("/arch") == "amd64\n"
    arm_image = ArchiveImage(f"{layout}:v1", platform="linux/arm64")
    assert arm_image.read_file("/arch") == "arm64\n"
    assert arm_image.get_metadata().image_names == []  # "v1" is a tag, not a name
    with pytest.raises(ImageNotFound, match="linux/arm64/v8, linux/amd64, unknown/unknown"):
        ArchiveImage(str(layout), platform="linux/s390x").get_id()
    with pytest.raises(InvalidArgument, match="os/architecture"):
        ArchiveEngine(platform="amd64")
    assert Platform.parse("linux/arm64").matches({"os": "linux", "architecture": "arm64"})


def test_damaged_oci_documents(tmp_path: Path, engine: ArchiveEngine) -> None:
    layout = tmp_path / "layout"
    descriptor = oci_manifest(layout, [BASE])
    oci_layout(layout, [{**descriptor, "digest": "sha256:" + "0" * 64}])
    with pytest.raises(InvalidArgument, match="incomplete"):
        ArchiveImage(str(layout), engine=engine).get_id()
    oci_layout(layout, [{**descriptor, "digest": "../../etc/passwd"}])
    with pytest.raises(InvalidArgument, match="invalid digest"):
        ArchiveImage(str(layout), engine=engine).get_id()
    (layout / "index.json").write_text("{not json")
    with pytest.raises(InvalidArgument, match="not valid JSON"):
        ArchiveImage(str(layout), engine=engine).get_id()
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(InvalidArgument, match=r"neither manifest\.json"):
        ArchiveImage(str(empty), engine=engine).get_id()


def test_references_split_where_the_path_exists(tmp_path: Path) -> None:
    odd = tmp_path / "a:b@c.tar"
    odd.write_bytes(b"")
    assert split_reference(str(odd)) == (str(odd), None)
    assert split_reference(f"{odd}:repo/x:1") == (str(odd), "repo/x:1")
    assert split_reference(f"{odd}@sha256:abc") == (str(odd), "sha256:abc")
    with pytest.raises(ImageNotFound, match="no image archive"):
        split_reference(str(tmp_path / "missing.tar:1"))
    with pytest.raises(InvalidArgument):
        split_reference("")


def test_familiar_names() -> None:
    assert familiar("docker.io/library/busybox:1") == "busybox:1"
    assert familiar("docker.io/team/app:1") == "team/app:1"
    assert familiar("quay.io/team/app:1") == "quay.io/team/app:1"


def test_nothing_runs_and_capabilities(features: ArchiveImage) -> None:
    assert features.engine is not None
    assert features.engine.capabilities == {Capability.IMAGE_FILES, Capability.MOUNT}
    with pytest.raises(UnsupportedOperation, match="'archive' does not support"):
        features.run_command(["true"])
    with pytest.raises(UnsupportedOperation, match="pull"):
        ArchiveImage("/nowhere.tar", pull_policy=PullPolicy.ALWAYS)
    container = features.create_container()
    assert container.inspect()["Config"]["Env"] == ["A=1"]
    with pytest.raises(UnsupportedOperation, match="start_container"):
        container.start()
    with pytest.raises(UnsupportedOperation, match="put_archive"):
        container.copy_to(__file__, "/etc")
    container.delete()


def test_views_copy_out_and_mount(features: ArchiveImage, tmp_path: Path) -> None:
    container = features.create_container()
    try:
        assert container.get_status() == "created" and not container.is_running()
        container.copy_from("/srv/escape-dir", str(tmp_path / "etc-copy"))
        assert (tmp_path / "etc-copy").is_symlink()  # a final link is copied as a link
        container.copy_from("/etc", str(tmp_path / "etc-copy2"))
        assert (tmp_path / "etc-copy2" / "motd").read_text() == "top motd\n"
        with container.mount() as fs:
            assert fs.read_file("/srv/rel") == "top motd\n"
            assert fs.directory_is_present("/data")
    finally:
        container.delete()
    with features.mount(str(tmp_path / "mnt")) as fs:
        assert fs.read_file("/data/hard2") == "hard\n"
        assert not fs.file_is_present("/data/deleted")
    assert (tmp_path / "mnt" / "etc" / "passwd").is_file()  # a given mount point stays
