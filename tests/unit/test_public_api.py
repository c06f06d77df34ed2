"""The public surface of ``conu``: pinned names, and an import that loads no engine SDK."""

from __future__ import annotations

import subprocess
import sys

import pytest

import conu

PUBLIC = [
    "ArchiveBackend",
    "ArchiveContainer",
    "ArchiveImage",
    "CleanupPolicy",
    "ConuException",
    "CountExceeded",
    "Directory",
    "DockerBackend",
    "DockerContainer",
    "DockerContainerFS",
    "DockerContainerViaExportFS",
    "DockerImage",
    "DockerImagePullPolicy",
    "DockerImageViaArchiveFS",
    "DockerRunBuilder",
    "K8sBackend",
    "K8sCleanupPolicy",
    "K8sContainer",
    "K8sImage",
    "PodmanBackend",
    "PodmanContainer",
    "PodmanImage",
    "PodmanImagePullPolicy",
    "PodmanRunBuilder",
    "Probe",
    "ProbeTimeout",
    "S2IDockerImage",
    "__version__",
    "available_backends",
    "check_port",
    "get_backend",
    "get_selinux_status",
    "random_str",
    "run_cmd",
    "version",
]

HEAVY = ("docker", "requests", "urllib3", "stevedore", "attrs", "conu.backend")


def test_all_is_pinned_and_sorted() -> None:
    assert conu.__all__ == PUBLIC
    assert sorted(conu.__all__) == conu.__all__


@pytest.mark.parametrize("name", PUBLIC)
def test_every_public_name_resolves(name: str) -> None:
    assert getattr(conu, name) is not None
    assert name in dir(conu)


def test_unknown_attribute_raises_attribute_error() -> None:
    with pytest.raises(AttributeError, match="'nosuch'"):
        conu.nosuch  # noqa: B018


def _loaded_after(code: str) -> list[str]:
    """Run ``code`` in a fresh interpreter; return the loaded modules among HEAVY."""
    script = (
        f"import sys\n{code}\n"
        f"print('\\n'.join(m for m in sys.modules if m.split('.')[0] in {HEAVY!r} "
        f"or m.startswith('conu.backend')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    return result.stdout.split()


def test_import_conu_loads_no_engine_sdk() -> None:
    assert _loaded_after("import conu") == []


def test_cheap_names_stay_cheap() -> None:
    loaded = _loaded_after("import conu; conu.ConuException; conu.available_backends()")
    assert loaded == []


def test_docker_backend_is_loaded_on_access() -> None:
    loaded = _loaded_after("import conu; conu.DockerBackend")
    assert "conu.backend.docker.backend" in loaded
    assert conu.DockerBackend.__module__ == "conu.backend.docker.backend"
