"""Resolving container paths inside a root, with links written by an untrusted image."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conu.exceptions import UnsafePath
from conu.utils.rootfs import MAX_SYMLINK_EXPANSIONS, is_within, resolve_in_root


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """A small container root: etc/passwd, usr/lib, and lib -> usr/lib as in merged-usr."""
    top = tmp_path / "root"
    (top / "etc").mkdir(parents=True)
    (top / "etc" / "passwd").write_text("root:x:0:0::/root:/bin/sh\n")
    (top / "usr" / "lib").mkdir(parents=True)
    (top / "lib").symlink_to("usr/lib")
    return top


def test_plain_paths_are_joined_onto_the_root(root: Path) -> None:
    assert resolve_in_root(root, "/etc/passwd") == str(root / "etc" / "passwd")
    assert resolve_in_root(root, "etc/passwd") == str(root / "etc" / "passwd")
    assert resolve_in_root(root, "/") == str(root)
    assert resolve_in_root(root, "//etc/./passwd") == str(root / "etc" / "passwd")


def test_dotdot_at_the_root_stays_at_the_root(root: Path) -> None:
    assert resolve_in_root(root, "/../../etc/x") == str(root / "etc" / "x")
    assert resolve_in_root(root, "../../..") == str(root)


def test_absolute_link_restarts_from_the_root(root: Path) -> None:
    (root / "etc" / "alias").symlink_to("/etc/passwd")

    assert resolve_in_root(root, "/etc/alias") == str(root / "etc" / "passwd")


def test_absolute_link_to_a_host_directory_stays_in_the_root(root: Path) -> None:
    (root / "hostetc").symlink_to("/etc")

    assert resolve_in_root(root, "/hostetc/shadow") == str(root / "etc" / "shadow")


def test_relative_link_is_taken_from_its_directory(root: Path) -> None:
    assert resolve_in_root(root, "/lib/libc.so") == str(root / "usr" / "lib" / "libc.so")


def test_relative_link_climbing_out_is_clamped_at_the_root(root: Path) -> None:
    (root / "usr" / "lib" / "escape").symlink_to("../../../../../../etc")

    assert resolve_in_root(root, "/usr/lib/escape/passwd") == str(root / "etc" / "passwd")


def test_dotdot_after_a_link_applies_to_the_link_target(root: Path) -> None:
    # The kernel resolves "lib" first, so ".." leaves usr/lib for usr, not for the root.
    assert resolve_in_root(root, "/lib/../bin") == str(root / "usr" / "bin")


def test_link_chains_are_followed(root: Path) -> None:
    (root / "one").symlink_to("two")
    (root / "two").symlink_to("/three")
    (root / "three").symlink_to("etc/passwd")

    assert resolve_in_root(root, "/one") == str(root / "etc" / "passwd")


def test_missing_components_are_kept_as_they_are(root: Path) -> None:
    assert resolve_in_root(root, "/no/such/file") == str(root / "no" / "such" / "file")
    assert resolve_in_root(root, "/etc/passwd/x") == str(root / "etc" / "passwd" / "x")


def test_dangling_link_resolves_to_its_missing_target(root: Path) -> None:
    (root / "dangling").symlink_to("/nowhere/file")

    assert resolve_in_root(root, "/dangling") == str(root / "nowhere" / "file")


def test_follow_last_false_leaves_the_last_link_alone(root: Path) -> None:
    (root / "etc" / "alias").symlink_to("/etc/passwd")

    assert resolve_in_root(root, "/etc/alias", follow_last=False) == str(root / "etc" / "alias")
    assert resolve_in_root(root, "/lib", follow_last=False) == str(root / "lib")
    assert resolve_in_root(root, "/lib/x", follow_last=False) == str(root / "usr" / "lib" / "x")
    assert resolve_in_root(root, "/lib/", follow_last=False) == str(root / "usr" / "lib")


@pytest.mark.parametrize(
    "links", [{"a": "a"}, {"a": "b", "b": "a"}, {"a": "/b/c", "b": "/a"}, {"a": "./a/"}]
)
def test_loops_raise(root: Path, links: dict[str, str]) -> None:
    for name, target in links.items():
        (root / name).symlink_to(target)

    with pytest.raises(UnsafePath, match="too many levels of symbolic links"):
        resolve_in_root(root, "/a/x")


def test_the_expansion_limit_is_that_of_linux(root: Path) -> None:
    for index in range(MAX_SYMLINK_EXPANSIONS + 1):
        (root / f"l{index}").symlink_to(f"l{index + 1}")

    assert resolve_in_root(root, "/l1") == str(root / f"l{MAX_SYMLINK_EXPANSIONS + 1}")
    with pytest.raises(UnsafePath):
        resolve_in_root(root, "/l0")


def test_root_may_be_relative_or_have_a_trailing_slash(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(root.parent)

    assert resolve_in_root("root/", "/lib") == str(root / "usr" / "lib")


def test_is_within_compares_whole_components(tmp_path: Path) -> None:
    top = tmp_path / "root"

    assert is_within(top, top)
    assert is_within(top, top / "etc" / "passwd")
    assert not is_within(top, tmp_path / "rootx")
    assert not is_within(top, tmp_path)
    assert not is_within(top, f"{top}/../x")


_NAMES = st.sampled_from(["a", "b", "c", "..", ".", ""])
_TARGETS = st.lists(_NAMES, max_size=5).map("/".join) | st.lists(_NAMES, max_size=5).map(
    lambda parts: "/" + "/".join(parts)
)


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(links=st.dictionaries(st.sampled_from(["a", "b", "c", "d/a"]), _TARGETS), path=_TARGETS)
def test_any_link_farm_resolves_inside_the_root(
    tmp_path: Path, links: dict[str, str], path: str
) -> None:
    top = tmp_path / f"farm{len(os.listdir(tmp_path))}"
    (top / "d").mkdir(parents=True)
    for name, target in links.items():
        (top / name).symlink_to(target or ".")
    try:
        resolved = resolve_in_root(top, path)
    except UnsafePath:
        return
    assert is_within(top, resolved)
