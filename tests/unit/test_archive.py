"""Extracting hostile tar streams, removing read-only trees, making tars for put_archive."""

from __future__ import annotations

import io
import os
import re
import resource
import stat
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from conu.exceptions import ConuException, UnsafePath
from conu.utils.archive import (
    MAX_DEPTH,
    IterStream,
    extract_tar_stream,
    make_tree_writable,
    remove_tree,
    tar_path,
)

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

MTIME = 1_600_000_000
GIB = 1024**3


def member(
    name: str,
    kind: bytes = tarfile.REGTYPE,
    *,
    data: bytes = b"",
    mode: int = 0o644,
    link: str = "",
) -> tuple[tarfile.TarInfo, bytes]:
    """Describe one archive member."""
    info = tarfile.TarInfo(name)
    info.type, info.mode, info.linkname, info.mtime = kind, mode, link, MTIME
    info.size = len(data) if kind == tarfile.REGTYPE else 0
    return info, data


def directory(name: str, mode: int = 0o755) -> tuple[tarfile.TarInfo, bytes]:
    """Describe a directory member."""
    return member(name, tarfile.DIRTYPE, mode=mode)


def make_tar(*members: tuple[tarfile.TarInfo, bytes]) -> bytes:
    """Build an archive in memory; tarfile writes hostile names verbatim."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for info, data in members:
            tar.addfile(info, io.BytesIO(data) if info.isreg() else None)
    return buffer.getvalue()


class ZeroMemberTar(io.RawIOBase):
    """A tar of one member of ``size`` zero bytes, produced as it is read, never held whole."""

    def __init__(self, name: str, size: int) -> None:
        super().__init__()
        info = tarfile.TarInfo(name)
        info.size, info.mode, info.mtime = size, 0o644, MTIME
        self._head = info.tobuf(format=tarfile.PAX_FORMAT)
        padding = -size % tarfile.BLOCKSIZE
        self._total = len(self._head) + size + padding + 2 * tarfile.BLOCKSIZE
        self._pos = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer, /) -> int:
        view = memoryview(buffer).cast("B")
        count = min(len(view), self._total - self._pos)
        view[:count] = bytes(count)
        head = self._head[self._pos : self._pos + count]
        view[: len(head)] = head
        self._pos += count
        return count


@pytest.fixture
def dest(tmp_path: Path) -> Iterator[Path]:
    """The extraction directory, next to ``outside`` that nothing may touch."""
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "secret").write_text("host data")
    yield tmp_path / "dest"
    # Read-only directories would make pytest's own cleanup of tmp_path fail.
    remove_tree(tmp_path / "dest")


def assert_outside_untouched(dest: Path) -> None:
    outside = dest.parent / "outside"
    assert sorted(os.listdir(outside)) == ["secret"]
    assert (outside / "secret").read_text() == "host data"
    assert sorted(os.listdir(dest.parent)) in (["dest", "outside"], ["outside"])


def test_files_dirs_and_links_are_extracted(dest: Path) -> None:
    archive = make_tar(
        directory("etc"),
        member("etc/hosts", data=b"127.0.0.1 localhost\n"),
        member("etc/localtime", tarfile.SYMTYPE, link="/usr/share/zoneinfo/UTC"),
        member("etc/hosts.bak", tarfile.LNKTYPE, link="etc/hosts"),
        member("run/empty"),
    )

    names = extract_tar_stream(archive, dest)

    assert names == ["etc", "etc/hosts", "etc/localtime", "etc/hosts.bak", "run/empty"]
    assert (dest / "etc" / "hosts").read_bytes() == b"127.0.0.1 localhost\n"
    assert os.readlink(dest / "etc" / "localtime") == "/usr/share/zoneinfo/UTC"
    assert os.path.samefile(dest / "etc" / "hosts", dest / "etc" / "hosts.bak")
    assert (dest / "run" / "empty").stat().st_size == 0
    assert (dest / "etc" / "hosts").stat().st_mtime == MTIME
    assert (dest / "etc").stat().st_mtime == MTIME
    assert os.lstat(dest / "etc" / "localtime").st_mtime == MTIME


def test_absolute_names_are_made_relative(dest: Path) -> None:
    extract_tar_stream(make_tar(member("/etc/passwd", data=b"x"), member("//./a/./b")), dest)

    assert (dest / "etc" / "passwd").read_bytes() == b"x"
    assert (dest / "a" / "b").is_file()


def test_dotdot_inside_the_archive_is_resolved_by_name(dest: Path) -> None:
    assert extract_tar_stream(make_tar(member("a/../b")), dest) == ["b"]
    assert (dest / "b").is_file()


@pytest.mark.parametrize("name", ["../outside/evil", "../../x", "a/../../x", "/../x", ".."])
def test_names_leaving_the_destination_raise(dest: Path, name: str) -> None:
    with pytest.raises(UnsafePath, match=re.escape(repr(name))):
        extract_tar_stream(make_tar(member("ok"), member(name, data=b"evil")), dest)

    assert_outside_untouched(dest)


@pytest.mark.parametrize("target", ["/etc", "../outside", "OUTSIDE"])
def test_members_written_through_a_symlink_raise(dest: Path, target: str) -> None:
    link = str(dest.parent / "outside") if target == "OUTSIDE" else target
    archive = make_tar(
        member("a", tarfile.SYMTYPE, link=link),
        member("a/conu-test-must-not-exist", data=b"evil"),
    )

    with pytest.raises(UnsafePath, match="a/conu-test-must-not-exist"):
        extract_tar_stream(archive, dest)

    assert not os.path.lexists("/etc/conu-test-must-not-exist")
    assert os.readlink(dest / "a") == link
    assert_outside_untouched(dest)


def test_a_file_replaces_a_symlink_instead_of_writing_through_it(dest: Path) -> None:
    outside = dest.parent / "outside" / "secret"
    archive = make_tar(member("x", tarfile.SYMTYPE, link=str(outside)), member("x", data=b"new"))

    extract_tar_stream(archive, dest)

    assert not (dest / "x").is_symlink()
    assert (dest / "x").read_bytes() == b"new"
    assert_outside_untouched(dest)


def test_symlink_targets_are_kept_verbatim(dest: Path) -> None:
    archive = make_tar(
        member("abs", tarfile.SYMTYPE, link="/etc/passwd"),
        member("up", tarfile.SYMTYPE, link="../../../../outside/secret"),
    )

    extract_tar_stream(archive, dest)

    assert os.readlink(dest / "abs") == "/etc/passwd"
    assert os.readlink(dest / "up") == "../../../../outside/secret"


@pytest.mark.parametrize("target", ["/etc/shadow", "etc/shadow", "../outside/secret", "a/secret"])
def test_hard_links_to_anything_not_extracted_before_raise(dest: Path, target: str) -> None:
    archive = make_tar(
        member("a", tarfile.SYMTYPE, link=str(dest.parent / "outside")),
        member("h", tarfile.LNKTYPE, link=target),
    )

    with pytest.raises(UnsafePath, match="'h'"):
        extract_tar_stream(archive, dest)

    assert not os.path.lexists(dest / "h")
    assert (dest.parent / "outside" / "secret").stat().st_nlink == 1


def test_a_hard_link_to_an_absolute_name_of_a_member_works(dest: Path) -> None:
    archive = make_tar(
        member("/bin/sh", data=b"ELF"), member("/bin/bash", tarfile.LNKTYPE, link="/bin/sh")
    )

    extract_tar_stream(archive, dest)

    assert (dest / "bin" / "bash").stat().st_nlink == 2


def test_a_hard_link_to_a_symlink_member_links_the_symlink_itself(dest: Path) -> None:
    outside = dest.parent / "outside" / "secret"
    archive = make_tar(
        member("s", tarfile.SYMTYPE, link=str(outside)), member("h", tarfile.LNKTYPE, link="s")
    )

    extract_tar_stream(archive, dest)

    assert os.readlink(dest / "h") == str(outside)
    assert outside.stat().st_nlink == 1


@pytest.mark.parametrize("kind", [tarfile.CHRTYPE, tarfile.BLKTYPE, tarfile.FIFOTYPE])
def test_devices_and_fifos_are_skipped(dest: Path, kind: bytes) -> None:
    archive = make_tar(member("dev/node", kind, mode=0o666), member("dev/after", data=b"x"))

    names = extract_tar_stream(archive, dest)

    assert names == ["dev/after"]
    assert not os.path.lexists(dest / "dev" / "node")


def test_setuid_setgid_and_sticky_bits_are_dropped(dest: Path) -> None:
    archive = make_tar(
        member("usr/bin/su", data=b"ELF", mode=0o6755),
        directory("tmp", 0o1777),
    )

    extract_tar_stream(archive, dest)

    assert stat.S_IMODE((dest / "usr" / "bin" / "su").stat().st_mode) == 0o755
    assert stat.S_IMODE((dest / "tmp").stat().st_mode) == 0o777


def test_read_only_directories_are_filled_then_keep_their_mode(dest: Path) -> None:
    archive = make_tar(
        directory("usr", 0o755),
        directory("usr/bin", 0o555),
        member("usr/bin/ls", data=b"ELF", mode=0o755),
        directory("usr/bin/sub", 0o500),
        member("usr/bin/sub/tool", data=b"ELF", mode=0o400),
    )

    extract_tar_stream(archive, dest)

    assert (dest / "usr" / "bin").stat().st_mode == 0o40555
    assert (dest / "usr" / "bin" / "sub").stat().st_mode == 0o40500
    assert (dest / "usr" / "bin" / "ls").read_bytes() == b"ELF"
    assert stat.S_IMODE((dest / "usr" / "bin" / "sub" / "tool").stat().st_mode) == 0o400


def test_later_members_replace_earlier_ones(dest: Path) -> None:
    archive = make_tar(member("f", data=b"old"), member("f", data=b"new"), directory("d"))

    extract_tar_stream(make_tar(directory("d"), member("d/x")), dest)
    extract_tar_stream(archive, dest)

    assert (dest / "f").read_bytes() == b"new"
    assert (dest / "d" / "x").is_file()


def test_a_file_cannot_replace_a_non_empty_directory(dest: Path) -> None:
    archive = make_tar(member("d/x"), member("d", data=b"file"))

    with pytest.raises(ConuException, match="non-empty directory"):
        extract_tar_stream(archive, dest)


def test_a_member_below_a_file_raises(dest: Path) -> None:
    with pytest.raises(ConuException, match="to be a directory"):
        extract_tar_stream(make_tar(member("f"), member("f/x")), dest)


def test_members_nested_too_deep_raise(dest: Path) -> None:
    with pytest.raises(ConuException, match="nested deeper"):
        extract_tar_stream(make_tar(member("d/" * MAX_DEPTH + "f")), dest)


def test_strip_components_for_a_directory(dest: Path) -> None:
    archive = make_tar(directory("etc", 0o750), member("etc/hosts", data=b"h"))

    assert extract_tar_stream(archive, dest, strip_components=1) == ["hosts"]
    assert (dest / "hosts").read_bytes() == b"h"
    assert stat.S_IMODE(dest.stat().st_mode) == 0o750


def test_strip_components_skips_a_file_stripped_to_nothing(dest: Path) -> None:
    assert extract_tar_stream(make_tar(member("hosts")), dest, strip_components=1) == []


def test_sources_may_be_chunks_or_a_file_object(dest: Path) -> None:
    archive = make_tar(member("a/b", data=b"payload" * 1000))
    chunks = [archive[i : i + 7] for i in range(0, len(archive), 7)]

    extract_tar_stream(iter(chunks), dest / "chunks")
    extract_tar_stream(io.BytesIO(archive), dest / "file")

    assert (dest / "chunks" / "a" / "b").read_bytes() == b"payload" * 1000
    assert (dest / "file" / "a" / "b").read_bytes() == b"payload" * 1000


def test_garbage_raises_conu_exception(dest: Path) -> None:
    with pytest.raises(ConuException, match="not a valid tar archive"):
        extract_tar_stream(b"this is not a tar archive at all" * 100, dest)


def test_zero_runs_become_holes_and_data_survives(dest: Path) -> None:
    mib = 1024 * 1024
    data = b"head" + bytes(8 * mib) + b"tail" + bytes(3 * mib)

    extract_tar_stream(make_tar(member("mixed", data=data)), dest)

    written = dest / "mixed"
    assert written.read_bytes() == data
    assert written.stat().st_blocks * 512 < 4 * mib


def test_a_huge_zero_file_stays_sparse_and_memory_stays_bounded(dest: Path) -> None:
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    extract_tar_stream(ZeroMemberTar("var/log/lastlog", 3 * GIB), dest)

    grown_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert grown_kib < 100 * 1024
    written = (dest / "var" / "log" / "lastlog").stat()
    assert written.st_size == 3 * GIB
    assert written.st_blocks * 512 < 1024 * 1024


def test_iter_stream_reads_across_chunks() -> None:
    stream = IterStream([b"ab", b"", b"cde", b"f"])

    assert stream.read(1) == b"a"
    assert stream.read(3) == b"b"
    assert stream.read(3) == b"cde"
    assert stream.read() == b"f"
    assert stream.read(5) == b""


def test_iter_stream_feeds_tarfile_streaming_mode() -> None:
    archive = make_tar(member("x", data=b"1234"))

    with tarfile.open(fileobj=IterStream([archive[:100], archive[100:]]), mode="r|*") as tar:
        names = [info.name for info in tar]

    assert names == ["x"]


def test_iter_stream_close_closes_the_source() -> None:
    closed: list[bool] = []

    def chunks() -> Iterator[bytes]:
        try:
            yield b"a"
            yield b"b"
        finally:
            closed.append(True)

    stream = IterStream(chunks())
    stream.read(1)
    stream.close()

    assert closed == [True]
    assert stream.closed


def test_remove_tree_removes_read_only_trees_without_following_links(tmp_path: Path) -> None:
    guarded = tmp_path / "guarded"
    guarded.mkdir()
    (guarded / "keep").write_text("k")
    guarded.chmod(0o500)
    tree = tmp_path / "tree"
    (tree / "a" / "b").mkdir(parents=True)
    (tree / "a" / "b" / "f").write_text("x")
    (tree / "a" / "link").symlink_to(guarded)
    (tree / "a" / "b").chmod(0o000)
    (tree / "a").chmod(0o555)

    remove_tree(tree)

    assert not os.path.lexists(tree)
    assert stat.S_IMODE(guarded.stat().st_mode) == 0o500
    assert (guarded / "keep").read_text() == "k"
    guarded.chmod(0o700)


def test_make_tree_writable_leaves_a_top_level_link_alone(tmp_path: Path) -> None:
    target = tmp_path / "target"
    target.mkdir(mode=0o500)
    (tmp_path / "link").symlink_to(target)

    make_tree_writable(tmp_path / "link")

    assert stat.S_IMODE(target.stat().st_mode) == 0o500
    target.chmod(0o700)


def test_remove_tree_of_a_link_or_missing_path(tmp_path: Path) -> None:
    (tmp_path / "target").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "target")

    remove_tree(tmp_path / "link")
    remove_tree(tmp_path / "missing")

    assert not os.path.lexists(tmp_path / "link")
    assert (tmp_path / "target").is_dir()


def test_tar_path_round_trips_a_directory(tmp_path: Path) -> None:
    src = tmp_path / "src"
    (src / "sub").mkdir(parents=True)
    (src / "sub" / "f").write_bytes(b"data")
    (src / "link").symlink_to("/etc/passwd")

    with tar_path(src, arcname="copied") as archive:
        with tarfile.open(fileobj=archive, mode="r:") as tar:
            owners = {(info.uid, info.gid, info.uname) for info in tar}
        archive.seek(0)
        extract_tar_stream(archive, tmp_path / "out")

    assert owners == {(0, 0, "")}
    assert (tmp_path / "out" / "copied" / "sub" / "f").read_bytes() == b"data"
    assert os.readlink(tmp_path / "out" / "copied" / "link") == "/etc/passwd"


def test_tar_path_of_a_file_uses_its_base_name(tmp_path: Path) -> None:
    (tmp_path / "hosts").write_bytes(b"h")

    with (
        tar_path(str(tmp_path / "hosts"), uid=1000, gid=1000) as archive,
        tarfile.open(fileobj=archive, mode="r:") as tar,
    ):
        infos = tar.getmembers()

    assert [(info.name, info.uid, info.gid) for info in infos] == [("hosts", 1000, 1000)]
