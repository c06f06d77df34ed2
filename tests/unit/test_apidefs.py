"""The abstract API: backend, cleanup policies, logging, temporary dirs, generic stubs."""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

import conu.apidefs.backend as backend_module
from conu.apidefs.backend import (
    Backend,
    Capability,
    CleanupPolicy,
    get_backend_tmpdir,
    set_logging,
)
from conu.apidefs.container import ContainerName
from conu.apidefs.image import Image, S2Image
from conu.exceptions import ConuException, UnsupportedOperation


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Temporary dirs under tmp_path, a fresh global tmpdir, the conu logger restored."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.setattr(backend_module, "_global_tmpdir", None)
    log = logging.getLogger("conu")
    level, handlers = log.level, list(log.handlers)
    yield
    log.setLevel(level)
    log.handlers[:] = handlers


def test_cleanup_policy_members() -> None:
    assert {m.name: m.value for m in CleanupPolicy} == {
        "NOTHING": 0,
        "EVERYTHING": 1,
        "CONTAINERS": 2,
        "VOLUMES": 3,
        "IMAGES": 4,
        "TMP_DIRS": 5,
    }


def test_capability_values_are_lowercase_names() -> None:
    assert all(c.value == c.name.lower() for c in Capability)


def test_default_cleanup_is_nothing() -> None:
    assert Backend().cleanup == [CleanupPolicy.NOTHING]


def test_nothing_cannot_be_combined() -> None:
    with pytest.raises(ConuException, match="NOTHING"):
        Backend(cleanup=[CleanupPolicy.NOTHING, CleanupPolicy.CONTAINERS])


def test_set_logging_twice_adds_one_handler() -> None:
    log = logging.getLogger("conu")
    log.handlers[:] = []
    set_logging()
    assert set_logging(level=logging.DEBUG) is log
    assert len(log.handlers) == 1 and log.level == logging.DEBUG


def test_set_logging_other_handler_class() -> None:
    log = set_logging("conu.test-apidefs", handler_class=logging.NullHandler)
    set_logging("conu.test-apidefs", handler_class=logging.NullHandler)
    assert [type(h) for h in log.handlers] == [logging.NullHandler]
    log.handlers[:] = []


def test_backend_welcomes_on_logger_conu(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="conu")
    Backend(logging_level=logging.DEBUG)
    records = [r for r in caplog.records if r.name == "conu"]
    assert (records[0].levelno, records[0].getMessage()) == (
        logging.INFO,
        "conu has initiated, welcome to the party!",
    )
    assert records[1].levelno == logging.DEBUG and records[1].msg == "conu version: %s"


def test_tmp_dirs_cleanup_removes_the_backend_tmpdir(tmp_path: Path) -> None:
    with Backend(cleanup=[CleanupPolicy.TMP_DIRS]) as backend:
        tmpdir = backend.tmpdir
        assert tmpdir is not None and os.path.isdir(tmpdir)
        assert Path(tmpdir).parent == tmp_path and Path(tmpdir).name.startswith("conu-")
    assert not os.path.exists(tmpdir)
    assert backend.tmpdir is None


def test_default_policy_keeps_the_tmpdir_with_its_files() -> None:
    with Backend() as backend:
        tmpdir = backend.get_tmpdir()
        Path(tmpdir, "kept").write_text("x")
    assert os.path.isdir(tmpdir) and backend.tmpdir == tmpdir
    shutil.rmtree(tmpdir)


def test_an_empty_tmpdir_is_removed_on_exit() -> None:
    with Backend() as backend:
        tmpdir = backend.tmpdir
        assert tmpdir is not None and os.path.isdir(tmpdir)
    assert not os.path.exists(tmpdir) and backend.tmpdir is None


def test_get_backend_tmpdir_is_one_per_process(tmp_path: Path) -> None:
    first = get_backend_tmpdir()
    assert get_backend_tmpdir() == first
    assert Path(first).parent == tmp_path and Path(first).name.startswith("conu-")


@pytest.mark.parametrize("policy", [CleanupPolicy.CONTAINERS, CleanupPolicy.EVERYTHING])
def test_generic_backend_cannot_clean_containers(policy: CleanupPolicy) -> None:
    backend = Backend(cleanup=[policy])
    with pytest.raises(UnsupportedOperation, match=r"Backend\.cleanup_containers"), backend:
        pass


@pytest.mark.parametrize("operation", ["list_containers", "list_images", "cleanup_volumes"])
def test_generic_backend_operations_are_unsupported(operation: str) -> None:
    with pytest.raises(UnsupportedOperation) as info:
        getattr(Backend(), operation)()
    assert info.value.backend == "<abstract_backend>"
    assert info.value.operation == f"Backend.{operation}"


def test_generic_image_pull_is_unsupported() -> None:
    image = Image("x")
    assert (image.name, image.tag) == ("x", None)
    with pytest.raises(UnsupportedOperation, match=r"Image\.pull") as info:
        image.pull()
    assert isinstance(info.value, NotImplementedError)
    assert info.value.backend == "<abstract_backend>"


def test_generic_image_load_from_file_is_unsupported() -> None:
    with pytest.raises(UnsupportedOperation, match=r"Image\.load_from_file"):
        Image.load_from_file("/nonexistent.tar")


def test_s2image_extend_is_unsupported() -> None:
    with pytest.raises(UnsupportedOperation, match=r"S2Image\.extend"):
        S2Image().extend("src", "new")


def test_container_name_is_a_callable_str() -> None:
    name = ContainerName("x")
    assert name == "x" and isinstance(name, str)
    assert name() == "x" and type(name()) is str
