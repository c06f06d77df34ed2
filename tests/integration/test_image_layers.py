"""Image file checks read from overlay2's layers answer exactly as the helper container does.

The image (``tests/images/layers/Dockerfile``) has what makes reading layers hard: a file
deleted in a later layer (a whiteout), a directory removed and made again (opaque), a file
made a directory and a directory made a file, symlinks of every kind (absolute, relative,
escaping with ``..``, dangling, looping, through a file), setuid/setgid/sticky modes, an
owner other than root, an empty file, hard links, a fifo, a device, non-UTF-8 contents and a
non-ASCII name. Every method is asked about every path through both routes: the layer route
(the engine's ``image_layers``) and the helper container (``layer_files = False``); the
answers, and the errors, must be equal. No helper container may be created on the layer route.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest

from conu import DockerImage
from conu.apidefs.specs import ImageInfo
from conu.backend.docker import layer_access
from conu.backend.docker.engine import DockerEngine
from conu.exceptions import ImageNotFound
from conu.labels import session_filter

DOCKERFILE = Path(__file__).resolve().parent.parent / "images" / "layers" / "Dockerfile"

PATHS = [
    *["/", "//", "/.", "/..", "", ".", "data", "/data", "/data/", "/data/.", "/data/./"],
    *["/data/..", "/data/sub/..", "/data/sub/../kept.txt", "/nope/..", "/nope/../data"],
    *["/data/gone.txt", "/data/kept.txt", "/data/kept.txt/", "/data/kept.txt/.", "/data/hard"],
    *["/data/sub/hard", "/data/kept-later", "/data/empty", "/data/bytes.bin", "/data/café"],
    *["/data/suid", "/data/sgid", "/data/sticky", "/data/owned", "/data/sub", "/data/fifo"],
    *["/data/null", "/data/up", "/data/kept.txt/x", "/data/kept.txt/../kept.txt"],
    *["/opaque", "/opaque/new", "/opaque/old", "/opaque/inner", "/opaque/inner/x"],
    *["/to-dir", "/to-dir/z", "/to-file", "/to-file/sub", "/to-file/sub/y", "/etc/group"],
    *["/links", "/links/abs", "/links/rel", "/links/escape", "/links/escape-dir"],
    *["/links/escape-dir/", "/links/escape-dir/data/kept.txt", "/links/abs-dir"],
    *["/links/abs-dir/", "/links/abs-dir/.", "/links/abs-dir/kept.txt", "/links/rel-dir"],
    *["/links/rel-dir/sub/hard", "/links/rel-dir/up", "/links/dangling", "/links/dangling/"],
    *["/links/loop-a", "/links/loop-a/", "/links/loop-a/x", "/links/self", "/links/chain"],
    *["/links/through-file", "/links/sub-link", "/links/sub-link/", "/links/dotdot"],
    *["/links/hidden", "/links/replaced", "/links/../data/kept.txt", "/links/abs/"],
    *["/etc", "/etc/motd", "/etc/passwd", "/etc/hosts", "/etc/hostname", "/etc/resolv.conf"],
    *["/etc/mtab", "/etc/mtab/", "/.dockerenv", "/dev", "/dev/console", "/dev/pts"],
    *["/dev/shm", "/proc", "/proc/mounts", "/sys", "/bin", "/bin/sh", "/bin/busybox"],
    *["/tmp", "/nope", "/nope/deeper", "nope/"],
]
"""Every path is asked of every method (relative ones are taken from the root)."""
WALKED = ["/", "/data", "/links/abs-dir", "/links/escape-dir", "/opaque", "/etc", "/dev"]
WALKED += ["/to-file", "/links/loop-a", "/nope"]


def _outcome(call: Callable[..., Any], *args: Any) -> Any:
    """What a call answers, or the type and message of what it raises."""
    try:
        return call(*args)
    except Exception as exc:
        return ("raised", type(exc).__name__, str(exc))


@attrs.frozen
class Routes:
    """The image through the layer route (``fast``) and through helper containers."""

    fast: Any
    slow: Any

    def compare(self, method: str, *args: Any) -> None:
        got = _outcome(getattr(self.fast, method), *args)
        expected = _outcome(getattr(self.slow, method), *args)
        assert got == expected, f"{method}{args!r}"


def _image(identifier: str, *, layer_files: bool) -> Any:
    engine = DockerEngine()
    engine.layer_files = layer_files
    return DockerImage(None, identifier=identifier, engine=engine)


@pytest.fixture(scope="module")
def layered(make_image: Callable[..., Any]) -> Any:
    return make_image(DOCKERFILE.read_text())


@pytest.fixture(scope="module")
def routes(layered: Any) -> Routes:
    fast = _image(layered.get_id(), layer_files=True)
    if fast.engine.image_layers(layered.get_id()) is None:
        # Only an engine elsewhere (make test-remote) may have no layer route: the local one
        # of make test is overlay2 and the tests run as root.
        assert not layer_access.enabled(), "a local engine as root, and no layer route"
        pytest.skip("no layer route: the engine is not reached over a local socket")
    return Routes(fast, _image(layered.get_id(), layer_files=False))


@pytest.fixture(autouse=True)
def _no_helpers_left(no_session_containers: None) -> Iterator[None]:
    yield


@pytest.mark.parametrize(
    "method", ["path_info", "file_is_present", "directory_is_present", "read_file"]
)
def test_every_path_answers_as_the_helper_container(routes: Routes, method: str) -> None:
    with routes.slow.shared_helper():  # one helper container for all the paths
        for path in PATHS:
            routes.compare(method, path)


def test_listings_answer_as_the_helper_container(routes: Routes) -> None:
    with routes.slow.shared_helper():
        for path in PATHS:
            routes.compare("list_directory", path)


def test_walks_answer_as_the_helper_container(routes: Routes) -> None:
    def walked(image: Any, path: str) -> Any:
        return list(image.walk(path, lambda relative: not relative.startswith("bin/")))

    with routes.slow.shared_helper():
        for path in WALKED:
            assert _outcome(walked, routes.fast, path) == _outcome(walked, routes.slow, path), path


def test_what_the_layers_hold(routes: Routes) -> None:
    """A few answers spelled out, so that both routes being wrong alike shows too."""
    fast = routes.fast
    assert fast.read_file("/data/kept.txt") == "kept\n"
    assert not fast.file_is_present("/data/gone.txt")  # a whiteout
    assert fast.list_directory("/opaque") == ["new"]  # an opaque directory
    assert fast.list_directory("/to-dir") == ["z"] and fast.read_file("/to-file") == "now-a-file\n"
    assert fast.path_info("/data/suid").mode == 0o104755
    assert fast.path_info("/data/sticky").mode == 0o41777
    assert (fast.path_info("/data/owned").uid, fast.path_info("/data/owned").gid) == (1234, 4321)
    assert fast.read_file("/links/escape") == "kept\n"  # ".." stopped at the image's root
    assert fast.read_file("/links/abs-dir/kept.txt") == "kept\n"
    assert not fast.file_is_present("/links/loop-a")
    data = {p: d for p, _, d in fast.walk("/data", lambda p: p == "bytes.bin")}
    assert data["bytes.bin"] == b"caf\xc3\xa9 \xff\xfe\xfd latin-1: \xe9t\xe9\n"
    kinds = {p: i.kind.value for p, i, _ in fast.walk("/data", lambda p: False)}
    # Three names of one file: the first in the archive's order is the file, then links to it.
    assert kinds["hard"] == "file"
    assert sorted(p for p, k in kinds.items() if k == "hardlink") == ["kept.txt", "sub/hard"]


def _creations(engine: Any, since_ns: int) -> int:
    """Containers of this session created since ``since_ns`` (engine events)."""
    events = engine.events(
        since=since_ns // 10**9,
        until=int(time.time()) + 1,
        filters={"type": "container", "event": "create", **session_filter()},
        decode=True,
    )
    return sum(1 for event in events if int(event.get("timeNano") or 0) >= since_ns)


def _checks(image: Any) -> None:
    image.file_is_present("/data/kept.txt")
    image.directory_is_present("/data")
    image.path_info("/links/abs")
    image.read_file("/links/rel")
    image.list_directory("/links/abs-dir")
    list(image.walk("/opaque"))


def test_the_layer_route_creates_no_container(routes: Routes, engine: Any) -> None:
    start = time.time_ns()
    _checks(routes.fast)
    assert _creations(engine, start) == 0
    start = time.time_ns()
    _checks(routes.slow)  # the count sees the helper containers of the other route
    assert _creations(engine, start) >= 6


def test_switched_off_by_the_environment(routes: Routes, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONU_DOCKER_LAYER_FILES", "0")
    assert routes.fast.engine.image_layers(routes.fast.get_id()) is None
    assert routes.fast.read_file("/links/abs") == "kept\n"  # through a helper container


def test_another_storage_driver_falls_back(
    routes: Routes, engine: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    image = _image(routes.fast.get_id(), layer_files=True)
    real = image.engine.inspect_image

    def inspect(reference: str) -> ImageInfo:
        info = real(reference)
        raw = {**info.raw, "GraphDriver": {**info.raw["GraphDriver"], "Name": "btrfs"}}
        return attrs.evolve(info, raw=raw)

    monkeypatch.setattr(image.engine, "inspect_image", inspect)
    assert image.engine.image_layers(image.get_id()) is None
    start = time.time_ns()
    assert image.read_file("/links/abs") == "kept\n"
    assert _creations(engine, start) == 1


def test_an_image_with_volumes_falls_back(routes: Routes, make_image: Callable[..., Any]) -> None:
    image = make_image(
        "FROM conu-test/busybox:latest\nRUN mkdir /vol && echo v > /vol/f\nVOLUME /vol\n"
    )
    assert image.engine.image_layers(image.get_id()) is None
    assert image.read_file("/vol/f") == "v\n"  # from the helper container's volume


def test_a_removed_image_raises_as_before(routes: Routes, make_image: Callable[..., Any]) -> None:
    image = make_image("FROM conu-test/busybox:latest\nRUN echo gone-soon > /x\n")
    fast = _image(image.get_id(), layer_files=True)
    slow = _image(image.get_id(), layer_files=False)
    assert fast.read_file("/x") == "gone-soon\n"  # the view is kept now
    image.rmi(force=True)
    assert fast.engine.image_layers(image.get_id()) is None
    with pytest.raises(ImageNotFound):
        fast.file_is_present("/x")
    assert _outcome(fast.read_file, "/x") == _outcome(slow.read_file, "/x")
