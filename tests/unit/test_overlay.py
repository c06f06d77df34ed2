"""The overlay2 layer view on layer directories made here, and when the engine may use it.

Whiteouts are character devices 0/0 and opaque directories carry ``trusted.overlay.opaque``:
making them needs root (the tests that need them are skipped otherwise).
"""

from __future__ import annotations

import os
import socket
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from conu.apidefs import layers
from conu.apidefs.metadata import PathKind
from conu.apidefs.specs import ImageInfo
from conu.backend.docker import init_layer, layer_access
from conu.backend.docker.overlay import OPAQUE, OverlayView
from conu.exceptions import ConuException

ROOT_ONLY = pytest.mark.skipif(os.geteuid() != 0, reason="whiteouts and trusted.* need root")


class Layers:
    """Layer directories under ``tmp``: ``layer(0)`` is the top one."""

    def __init__(self, tmp: Path, count: int) -> None:
        self.dirs = [tmp / f"layer{n}" for n in range(count)]
        for directory in self.dirs:
            directory.mkdir()

    def file(self, n: int, path: str, text: str = "", mode: int = 0o644) -> None:
        target = self.dirs[n] / path.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
        target.chmod(mode)

    def dir(self, n: int, path: str, *, opaque: bool = False) -> None:
        target = self.dirs[n] / path.lstrip("/")
        target.mkdir(parents=True, exist_ok=True)
        if opaque:
            os.setxattr(target, OPAQUE, b"y")

    def link(self, n: int, path: str, target: str) -> None:
        where = self.dirs[n] / path.lstrip("/")
        where.parent.mkdir(parents=True, exist_ok=True)
        where.symlink_to(target)

    def whiteout(self, n: int, path: str) -> None:
        target = self.dirs[n] / path.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        os.mknod(target, stat.S_IFCHR | 0o600, os.makedev(0, 0))

    def view(self) -> OverlayView:
        return OverlayView([str(d) for d in self.dirs])


@pytest.fixture
def made(tmp_path: Path) -> Layers:
    return Layers(tmp_path, 3)


@ROOT_ONLY
def test_whiteouts_opaque_directories_and_replacements(made: Layers) -> None:
    made.file(2, "/d/gone", "g")
    made.file(2, "/d/kept", "k")
    made.whiteout(1, "/d/gone")
    made.file(2, "/o/old")
    made.dir(1, "/o", opaque=True)
    made.file(1, "/o/new", "n")
    made.dir(2, "/f2d")
    made.file(2, "/f2d/below")
    made.file(1, "/f2d", "now a file")
    made.file(2, "/d2f", "was a file")
    made.dir(0, "/d2f")
    made.file(0, "/d2f/x")
    view = made.view()
    assert view.lstat("/d/gone") is None and view.read("/d/kept") == b"k"
    assert layers.list_names(view, "/d") == ["kept"]
    assert layers.list_names(view, "/o") == ["new"]
    assert view.read("/f2d") == b"now a file" and view.lstat("/f2d/below") is None
    assert layers.list_names(view, "/d2f") == ["x"]
    names = layers.list_names(view, "/")
    assert {"d", "o", "f2d", "d2f", "proc", "sys", "dev", "etc", ".dockerenv"} == set(names)


def test_docker_s_init_layer(made: Layers) -> None:
    made.file(1, "/etc/hosts", "127.0.0.1 image")
    made.file(1, "/etc/passwd", "root:x:0:0::/:/bin/sh\n")
    made.link(1, "/dev", "/nowhere")
    made.dir(1, "/proc/1")
    view = made.view()
    hosts = view.lstat("/etc/hosts")
    assert hosts is not None and (hosts.mode, hosts.size, hosts.uid) == (0o100755, 0, 0)
    assert layers.read_bytes(view, "/etc/hosts") == b""  # the engine's empty file
    mtab = view.lstat("/etc/mtab")
    assert mtab is not None and mtab.link_target == "/proc/mounts"
    assert layers.list_names(view, "/dev") == ["console", "pts", "shm"]  # no longer a link
    assert layers.list_names(view, "/proc") == ["1"]  # a directory there is kept
    assert layers.list_names(view, "/etc") == ["hostname", "hosts", "mtab", "passwd", "resolv.conf"]


def test_init_layer_alone() -> None:
    made: dict[str, tuple[int, str | None]] = {}

    def make(path: str, mode: int, link: str | None) -> None:
        made[path] = (mode, link)

    init_layer.apply(lambda path: path in made and stat.S_ISDIR(made[path][0]), make)
    assert made["/dev"] == (stat.S_IFDIR | 0o755, None)
    assert made["/etc/mtab"] == (stat.S_IFLNK | 0o777, "/proc/mounts")
    assert made["/.dockerenv"] == (stat.S_IFREG | 0o755, None)
    assert len(made) == len(init_layer.INIT_LAYER) + 2  # and /dev, /etc on the way


def test_symlinks_stay_inside_the_image(made: Layers) -> None:
    made.file(1, "/etc/passwd", "the image's\n")
    made.link(0, "/a/abs", "/etc/passwd")
    made.link(0, "/a/escape", "../../../../../../etc/passwd")
    made.link(0, "/a/dir", "/etc")
    made.link(0, "/a/loop", "loop")
    made.link(0, "/a/through", "/etc/passwd/x")
    made.link(0, "/a/dangling", "/nowhere")
    view = made.view()
    for path in ("/a/abs", "/a/escape", "/a/dir/passwd", "/a/../a/dir/passwd"):
        assert layers.read_bytes(view, path) == b"the image's\n", path
    assert view.lstat("/a/dir/../etc/passwd") is None  # ".." is lexical, as in the engine
    assert view.lstat("/a/loop") is None and view.stat("/a/loop") is None  # as Docker
    assert view.lstat("/a/through") is None  # Docker's stat resolves a final link too
    dangling = view.lstat("/a/dangling")
    assert dangling is not None and dangling.kind is PathKind.SYMLINK
    assert view.stat("/a/dangling") is None
    assert view.lstat("/etc/passwd/") is None and view.lstat("/etc/passwd/x") is None
    with pytest.raises(ConuException, match="does not exist"):
        layers.read_bytes(view, "/a/loop")


def test_names_as_docker_s_archive_gives_them(made: Layers) -> None:
    made.dir(0, "/d/sub")
    view = made.view()
    found = {path: view.lstat(path) for path in ("/", "/d", "/d/", "/d/.", "/d/sub/..")}
    assert {path: info.name for path, info in found.items() if info} == {
        "/": "",
        "/d": "d",
        "/d/": "d",
        "/d/.": ".",
        "/d/sub/..": "d",
    }


def test_sockets_are_left_out_and_hard_links_found(made: Layers) -> None:
    made.file(0, "/d/b", "shared")
    os.link(made.dirs[0] / "d/b", made.dirs[0] / "d/a")
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(made.dirs[0] / "d/sock"))
        view = made.view()
        walked = [(path, info.kind, info.link_target) for path, info, _ in view.walk("/d", bool)]
        assert view.lstat("/d/sock") is None and "sock" not in view.names("/d")
        found = view.stat("/d/sock")
        assert found is not None and stat.S_ISSOCK(found.mode)  # as Docker's path stat
    assert walked == [("a", PathKind.FILE, None), ("b", PathKind.HARDLINK, "d/a")]


# -- when the engine may read its layers ---------------------------------------------------


def _engine_info(root: Path, **changes: Any) -> dict[str, Any]:
    return {"Driver": "overlay2", "DockerRootDir": str(root), "SecurityOptions": [], **changes}


def _image(made: Layers, **changes: Any) -> ImageInfo:
    data = {"UpperDir": str(made.dirs[0]), "LowerDir": ":".join(str(d) for d in made.dirs[1:])}
    raw = {"GraphDriver": {"Name": "overlay2", "Data": data}}
    return ImageInfo(**{"id": "sha256:" + "ab" * 32, "raw": raw, **changes})


@pytest.fixture
def store(tmp_path: Path, made: Layers) -> Path:
    """An engine root holding the config of the image :func:`_image` describes."""
    configs = tmp_path / "docker" / "image" / "overlay2" / "imagedb" / "content" / "sha256"
    configs.mkdir(parents=True)
    (configs / ("ab" * 32)).write_text("{}")
    made.dir(0, "/work")
    return tmp_path / "docker"


def _get(views: layer_access.LayerViews, info: dict[str, Any], image: ImageInfo) -> Any:
    return views.get(image.id, lambda: info, lambda _ident: image)


@ROOT_ONLY
def test_when_the_view_is_used(made: Layers, store: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DOCKER_HOST", raising=False)
    monkeypatch.delenv(layer_access.ENVIRONMENT, raising=False)
    info, image = _engine_info(store), _image(made, working_dir="/work")
    assert _get(layer_access.LayerViews(), info, image) is not None
    refused: list[tuple[dict[str, Any], ImageInfo]] = [
        (_engine_info(store, SecurityOptions=["name=userns"]), image),
        (_engine_info(store, SecurityOptions=["name=rootless"]), image),
        (_engine_info(store, Driver="btrfs"), image),
        (info, _image(made, volumes=("/vol",))),
        (info, _image(made, working_dir="/missing")),
        (info, _image(made, raw={"GraphDriver": {"Name": "vfs", "Data": {}}})),
    ]
    for engine_info, refused_image in refused:
        assert _get(layer_access.LayerViews(), engine_info, refused_image) is None


@ROOT_ONLY
def test_switches_and_a_removed_image(
    made: Layers, store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DOCKER_HOST", raising=False)
    views, info, image = layer_access.LayerViews(), _engine_info(store), _image(made)
    view = _get(views, info, image)
    assert view is not None and _get(views, info, image) is view  # kept
    monkeypatch.setenv(layer_access.ENVIRONMENT, "0")
    assert _get(views, info, image) is None
    monkeypatch.delenv(layer_access.ENVIRONMENT)
    monkeypatch.setenv("DOCKER_HOST", "tcp://127.0.0.1:2375")
    assert _get(views, info, image) is None  # the engine is not (known to be) here
    monkeypatch.delenv("DOCKER_HOST")
    next(store.rglob("ab" * 32)).unlink()  # the image was removed
    assert _get(views, info, image) is None


@pytest.mark.parametrize(
    ("driver", "expected"),
    [
        ({"Name": "overlay2", "Data": {"UpperDir": "/u", "LowerDir": "/a:/b"}}, ["/u", "/a", "/b"]),
        ({"Name": "overlay2", "Data": {"UpperDir": "/u"}}, ["/u"]),
        ({"Name": "overlay2", "Data": {"LowerDir": "/a"}}, None),
        ({"Name": "overlay2", "Data": {"UpperDir": "u"}}, None),
        ({"Name": "btrfs", "Data": {"UpperDir": "/u"}}, None),
        (None, None),
    ],
)
def test_layer_dirs(driver: dict[str, Any] | None, expected: list[str] | None) -> None:
    assert layer_access.layer_dirs(driver) == expected


def test_storage_root(tmp_path: Path) -> None:
    check: Callable[..., str | None] = layer_access.storage_root
    assert check(_engine_info(tmp_path)) == str(tmp_path)
    assert check(_engine_info(tmp_path / "missing")) is None
    assert check(_engine_info(tmp_path, SecurityOptions=["name=userns"])) is None
