"""Unit tests of image reference parsing (``conu.utils.reference``)."""

from __future__ import annotations

import re

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from conu.exceptions import InvalidArgument, InvalidReference
from conu.utils.reference import Reference

SHA = "sha256:" + "0123456789abcdef" * 4


@pytest.mark.parametrize(
    ("text", "registry", "repository", "tag", "digest"),
    [
        ("fedora", None, "fedora", None, None),
        ("fedora:27", None, "fedora", "27", None),
        ("library/fedora", None, "library/fedora", None, None),
        (
            "registry.fedoraproject.org/fedora:27",
            "registry.fedoraproject.org",
            "fedora",
            "27",
            None,
        ),
        ("host:7890/fedora", "host:7890", "fedora", None, None),
        ("localhost/a/b/c:T_1.x-y", "localhost", "a/b/c", "T_1.x-y", None),
        ("[::1]:5000/repo", "[::1]:5000", "repo", None, None),
        ("quay.io/user-cont/conu", "quay.io", "user-cont/conu", None, None),
        ("a__b.c---d", None, "a__b.c---d", None, None),
        ("my-host.example/e", "my-host.example", "e", None, None),
        (f"repo@{SHA}", None, "repo", None, SHA),
        (f"repo:tag@{SHA}", None, "repo", "tag", SHA),
        (f"my.registry:5000/ns/repo:v1@{SHA}", "my.registry:5000", "ns/repo", "v1", SHA),
        ("repo@sha512:" + "f" * 128, None, "repo", None, "sha512:" + "f" * 128),
        ("repo@md5x:" + "F" * 32, None, "repo", None, "md5x:" + "F" * 32),
    ],
)
def test_parse_valid(
    text: str, registry: str | None, repository: str, tag: str | None, digest: str | None
) -> None:
    reference = Reference.parse(text)
    assert reference == Reference(registry, repository, tag, digest)
    assert str(reference) == text


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "empty"),
        ("UPPER/Case", "'UPPER' must be lowercase"),
        ("a:b:c:d", "'a:b:c' is not valid"),
        ("fedora 27", "whitespace"),
        ("fedora\n", "whitespace"),
        ("fedora:", "tag ''"),
        ("fedora:-x", "tag '-x'"),
        ("fedora:" + "x" * 129, "tag 'xxx"),
        ("fedora@", "digest ''"),
        ("fedora@sha256:abc", "sha256:abc"),
        ("fedora@sha256:" + "A" * 64, "sha256 takes 64 lowercase hex digits"),
        ("fedora@sha256:" + "a" * 63, "sha256 takes 64"),
        ("a@b@c", "more than one '@'"),
        ("localhost/", "component ''"),
        ("/fedora", "component ''"),
        ("fedora/", "component ''"),
        ("a//b", "component ''"),
        ("-bad.host:5000/x", "registry '-bad.host:5000'"),
        ("fe_dora-", "'fe_dora-'"),
        ("a" * 256, "longer than 255"),
    ],
)
def test_parse_invalid(text: str, problem: str) -> None:
    with pytest.raises(InvalidReference) as info:
        Reference.parse(text)
    message = str(info.value)
    assert f"invalid image reference {text!r}" in message
    assert problem in message


def test_invalid_reference_is_invalid_argument() -> None:
    with pytest.raises(InvalidArgument):
        Reference.parse("UPPER")
    with pytest.raises(ValueError):
        Reference.parse("UPPER")


@pytest.mark.parametrize("value", [None, 5, b"fedora", ["fedora"]])
def test_parse_non_string(value: object) -> None:
    with pytest.raises(TypeError):
        Reference.parse(value)  # type: ignore[arg-type]


def test_name_and_with_tag() -> None:
    reference = Reference.parse(f"localhost:5000/fedora:27@{SHA}")
    assert reference.name == "localhost:5000/fedora"
    assert str(reference.with_tag("28")) == f"localhost:5000/fedora:28@{SHA}"
    assert str(reference.with_tag(None)) == f"localhost:5000/fedora@{SHA}"
    with pytest.raises(InvalidReference):
        reference.with_tag("bad tag")


def test_frozen() -> None:
    reference = Reference.parse("fedora")
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        reference.tag = "27"  # type: ignore[misc]


def test_direct_construction_is_validated() -> None:
    with pytest.raises(InvalidReference):
        Reference(None, "Fedora")


# --- property tests -------------------------------------------------------------------------

_component = st.from_regex(
    re.compile(r"[a-z0-9]{1,5}(?:(?:[._]|__|-{1,3})[a-z0-9]{1,5}){0,2}"), fullmatch=True
)
# Without a registry, a first component with a dot would be taken for a registry.
_first_component = st.from_regex(
    re.compile(r"[a-z0-9]{1,5}(?:(?:_|__|-{1,3})[a-z0-9]{1,5}){0,2}"), fullmatch=True
)
_domain_label = st.from_regex(
    re.compile(r"[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,6}[a-zA-Z0-9])?"), fullmatch=True
)
_registry = st.builds(
    lambda labels, port: ".".join(labels) + (f":{port}" if port is not None else ""),
    st.lists(_domain_label, min_size=2, max_size=3),
    st.none() | st.integers(min_value=1, max_value=65535),
) | st.just("localhost")
_tag = st.from_regex(re.compile(r"\w[\w.-]{0,20}", re.ASCII), fullmatch=True)
_digest = st.builds(
    lambda hex_digits: f"sha256:{hex_digits}",
    st.text(alphabet="0123456789abcdef", min_size=64, max_size=64),
)


@st.composite
def references(draw: st.DrawFn) -> str:
    """Generate valid reference strings from the grammar."""
    registry = draw(st.none() | _registry)
    first = draw(_component if registry else _first_component)
    rest = draw(st.lists(_component, max_size=3))
    name = "/".join([first, *rest])
    if registry:
        name = f"{registry}/{name}"
    tag = draw(st.none() | _tag)
    digest = draw(st.none() | _digest)
    return name + (f":{tag}" if tag else "") + (f"@{digest}" if digest else "")


@given(references())
def test_valid_references_round_trip(text: str) -> None:
    reference = Reference.parse(text)
    assert str(reference) == text
    assert Reference.parse(str(reference)) == reference


@given(st.text())
def test_arbitrary_text_parses_or_raises_invalid_reference(text: str) -> None:
    try:
        reference = Reference.parse(text)
    except InvalidReference:
        return
    assert str(reference) == text


@given(st.text(alphabet="abc:/@.-_A1", max_size=30))
def test_reference_like_text_parses_or_raises_invalid_reference(text: str) -> None:
    try:
        reference = Reference.parse(text)
    except InvalidReference:
        return
    assert str(reference) == text
