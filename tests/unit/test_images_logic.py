"""Pure logic behind images: RPM signature checks, skopeo references, event streams,
and reference validation before any engine call."""

from __future__ import annotations

from typing import Any

import pytest

from conu.apidefs.image import Image
from conu.backend.docker import image as image_module
from conu.backend.docker.events import consume
from conu.backend.docker.skopeo import SkopeoTransport, transport_param
from conu.exceptions import (
    BuildFailed,
    InvalidArgument,
    InvalidReference,
    PackageSignatureException,
    UnsupportedOperation,
)
from conu.utils.rpms import RPM_QUERY_FORMAT, check_signatures

KEY = "199e2f91fd431d51"
SIGNED = f"bash RSA/SHA256, Tue 02 Aug 2022 10:00:00 AM UTC, Key ID {KEY}"


def test_query_format() -> None:
    assert RPM_QUERY_FORMAT == "%{NAME} %{SIGPGP:pgpsig}\n"


def test_signatures_pass() -> None:
    check_signatures([SIGNED, "", "gpg-pubkey (none)", SIGNED.replace(KEY, KEY.upper())], [KEY])
    check_signatures([SIGNED], [KEY.upper()])


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("vim (none)", "vim is not signed"),
        (SIGNED.replace(KEY, "0" * 16), "signed with key 0000000000000000"),
        ("garbage", "cannot parse 'garbage'"),
    ],
)
def test_signatures_fail(line: str, problem: str) -> None:
    with pytest.raises(PackageSignatureException, match=problem):
        check_signatures([SIGNED, line], [KEY])


def test_signature_message_is_bounded() -> None:
    with pytest.raises(PackageSignatureException) as info:
        check_signatures([f"p{i} (none)" for i in range(25)], [KEY])
    assert "25 package(s)" in str(info.value)
    assert "(and 15 more)" in str(info.value)


class _Img:
    """What transport_param reads of an image."""

    def __init__(self, transport: Any, path: str | None = None, named: bool = True) -> None:
        from conu.utils.reference import Reference

        self.transport = transport
        self.path = path
        self.tag = "3.7"
        self.reference = Reference.parse("quay.io/ns/app:3.7") if named else None

    def get_full_name(self) -> str:
        return str(self.reference) if self.reference else "sha256:" + "a" * 64


@pytest.mark.parametrize(
    ("transport", "path", "expected"),
    [
        (None, None, "docker://quay.io/ns/app:3.7"),
        (SkopeoTransport.DOCKER, None, "docker://quay.io/ns/app:3.7"),
        (SkopeoTransport.DOCKER_DAEMON, None, "docker-daemon:quay.io/ns/app:3.7"),
        (SkopeoTransport.CONTAINERS_STORAGE, None, "containers-storage:quay.io/ns/app:3.7"),
        (SkopeoTransport.DIRECTORY, "/d", "dir:/d"),
        (SkopeoTransport.OCI, "/o", "oci:/o:3.7"),
        (SkopeoTransport.OSTREE, None, "ostree:quay.io/ns/app:3.7"),
        (SkopeoTransport.OSTREE, "/repo", "ostree:quay.io/ns/app:3.7@/repo"),
        (SkopeoTransport.DOCKER_ARCHIVE, "/a.tar", "docker-archive:/a.tar:quay.io/ns/app:3.7"),
    ],
)
def test_transport_param(transport: Any, path: str | None, expected: str) -> None:
    assert transport_param(_Img(transport, path)) == expected  # type: ignore[arg-type]


def test_transport_param_unnamed_archive() -> None:
    image = _Img(SkopeoTransport.DOCKER_ARCHIVE, "/a.tar", named=False)
    assert transport_param(image) == "docker-archive:/a.tar"  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "transport", [SkopeoTransport.DIRECTORY, SkopeoTransport.OCI, SkopeoTransport.DOCKER_ARCHIVE]
)
def test_transport_param_needs_path(transport: SkopeoTransport) -> None:
    with pytest.raises(ValueError, match="needs a path"):
        transport_param(_Img(transport))  # type: ignore[arg-type]


def test_consume_returns_announced_ids() -> None:
    events = [{"stream": "Step 1/1\n"}, {"aux": {"ID": "sha256:1"}}, {"status": "done"}]
    assert consume(iter(events), "build", BuildFailed) == ["sha256:1"]


def test_consume_raises_with_reason_and_context() -> None:
    events = [
        {"stream": "Step 2/2 : RUN false\n"},
        {"errorDetail": {"message": "returned a non-zero code: 1"}, "error": "x"},
        {"stream": "never read"},
    ]
    with pytest.raises(BuildFailed) as info:
        consume(iter(events), "build '.'", BuildFailed)
    assert str(info.value) == "cannot build '.': returned a non-zero code: 1\nStep 2/2 : RUN false"


@pytest.mark.parametrize("reference", ["UPPER/Case", "a:b:c:d", "", "two words", "x@@y"])
def test_references_are_checked_before_the_engine(
    reference: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_engine() -> Any:
        raise AssertionError("the engine was asked")

    monkeypatch.setattr(image_module.DockerEngine, "inspect_image", no_engine)
    monkeypatch.setattr(image_module.DockerEngine, "pull_image", no_engine)
    with pytest.raises(InvalidReference):
        image_module.DockerImage(reference)


def test_image_needs_a_name_or_id(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(InvalidArgument):
        image_module.DockerImage(None)


@pytest.mark.parametrize(
    ("operation", "args"),
    [
        ("push", ()),
        ("tag_image", ("r",)),
        ("get_layer_ids", ()),
        ("layers", ()),
        ("save_to", ("/x.tar",)),
        ("load_from", ("/x.tar",)),
        ("has_pkgs_signed_with", (["k"],)),
    ],
)
def test_generic_image_operations_are_unsupported(operation: str, args: tuple[Any, ...]) -> None:
    with pytest.raises(UnsupportedOperation, match=rf"Image\.{operation}"):
        getattr(Image("x"), operation)(*args)
    with pytest.raises(UnsupportedOperation, match=r"Image\.build"):
        Image.build("/ctx")
