"""The backend registry: entry points in ``conu.backends``, ours and a real third party's."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import conu
from conu.exceptions import ConuException, UnknownBackend

FAKE_DIST = Path(__file__).resolve().parent.parent / "plugins" / "conu-fakebackend"


def test_available_backends_lists_docker_without_importing_it() -> None:
    assert "docker" in conu.available_backends()
    assert conu.available_backends() == sorted(conu.available_backends())


def test_get_backend_docker_is_the_docker_backend() -> None:
    assert conu.get_backend("docker") is conu.DockerBackend


def test_unknown_backend_lists_installed_names() -> None:
    with pytest.raises(UnknownBackend, match="'nosuch'") as info:
        conu.get_backend("nosuch")
    assert isinstance(info.value, LookupError)
    assert isinstance(info.value, ConuException)
    assert "'docker'" in str(info.value)


@pytest.mark.parametrize("name", [None, 1, b"docker"])
def test_backend_name_must_be_a_str(name: object) -> None:
    with pytest.raises(TypeError, match="must be a str"):
        conu.get_backend(name)  # type: ignore[arg-type]


def _build_isolation_flags() -> list[str]:
    """Build offline with the venv's setuptools when it can make wheels by itself.

    setuptools < 70.1 needs the ``wheel`` package for ``bdist_wheel``; without it, let pip
    fetch a build environment instead of failing.
    """
    can_build = importlib.util.find_spec("wheel") is not None or (
        importlib.util.find_spec("setuptools.command.bdist_wheel") is not None
    )
    return ["--no-build-isolation"] if can_build else []


@pytest.fixture(scope="module")
def fake_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The conu-fakebackend distribution, really installed by pip into a temporary folder."""
    target = tmp_path_factory.mktemp("fake-site")
    # Build in a copy: setuptools writes build/ and *.egg-info next to setup.cfg.
    src = tmp_path_factory.mktemp("fake-src") / FAKE_DIST.name
    shutil.copytree(FAKE_DIST, src, ignore=shutil.ignore_patterns("__pycache__"))
    cmd = [sys.executable, "-m", "pip", "install", "--no-deps", "--target", str(target)]
    result = subprocess.run(
        [*cmd, *_build_isolation_flags(), "--no-input", str(src)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return target


FAKE_SCRIPT = """
import sys
import conu
from conu.apidefs.backend import Capability
from conu.apidefs.engine import Engine

assert "fake" in conu.available_backends(), conu.available_backends()
backend_class = conu.get_backend("fake")
from conu_fakebackend import FakeBackend, FakeEngine
assert backend_class is FakeBackend
assert issubclass(FakeEngine, Engine)
with backend_class() as backend:
    assert Capability.EXEC in backend.capabilities
    assert Capability.PORTS not in backend.capabilities
    assert backend.list_containers() == []
assert "docker" not in sys.modules, "the fake backend imported docker"
print("fake backend OK")
"""


def test_third_party_backend_installed_with_pip(fake_site: Path) -> None:
    assert (fake_site / "conu_fakebackend" / "__init__.py").is_file()
    env = {**os.environ, "PYTHONPATH": str(fake_site)}
    result = subprocess.run(
        [sys.executable, "-c", FAKE_SCRIPT], capture_output=True, text=True, env=env, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "fake backend OK"


def test_the_fake_engine_passes_the_conformance_suite(fake_site: Path, tmp_path: Path) -> None:
    """The third-party engine implements only primitives; conu's surface does the rest."""
    env = {**os.environ, "PYTHONPATH": str(fake_site)}
    argv = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-rs"]
    argv += ["--pyargs", "conu.conformance", "--conu-backend=fake"]
    result = subprocess.run(
        argv, capture_output=True, text=True, env=env, cwd=tmp_path, check=False, timeout=600
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    summary = result.stdout.strip().splitlines()[-1]
    assert " passed" in summary and "failed" not in summary and "error" not in summary
    skipped = [line for line in result.stdout.splitlines() if line.startswith("SKIPPED")]
    assert all("does not declare PORTS" in line for line in skipped), skipped


def test_fake_backend_is_not_visible_without_it() -> None:
    assert "fake" not in conu.available_backends()
    with pytest.raises(UnknownBackend, match="'fake'"):
        conu.get_backend("fake")


def test_the_source_tree_stays_clean(fake_site: Path) -> None:
    leftovers = {p.name for p in FAKE_DIST.iterdir()}
    assert leftovers == {"setup.cfg", "pyproject.toml", "conu_fakebackend"}
