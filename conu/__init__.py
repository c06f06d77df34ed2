"""conu: one Python API to test containers and container images, over pluggable engines.

Importing ``conu`` is cheap: every public name is loaded on first access, so neither the
docker SDK nor any backend is imported until it is used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# Eager, so that conu.version stays the version string as in conu 1.0: importing the
# submodule later would bind the module there.
from conu.version import __version__

version = __version__

if TYPE_CHECKING:
    from conu.apidefs.backend import CleanupPolicy
    from conu.backend.archive.backend import ArchiveBackend
    from conu.backend.archive.container import ArchiveContainer
    from conu.backend.archive.image import ArchiveImage
    from conu.backend.docker.backend import DockerBackend
    from conu.backend.docker.container import DockerContainer
    from conu.backend.docker.filesystem import (
        DockerContainerFS,
        DockerContainerViaExportFS,
        DockerImageViaArchiveFS,
    )
    from conu.backend.docker.image import DockerImage, DockerImagePullPolicy, S2IDockerImage
    from conu.backend.docker.run_builder import DockerRunBuilder
    from conu.backend.k8s.backend import K8sBackend, K8sCleanupPolicy
    from conu.backend.k8s.container import K8sContainer
    from conu.backend.k8s.image import K8sImage
    from conu.backend.podman.backend import PodmanBackend
    from conu.backend.podman.container import PodmanContainer
    from conu.backend.podman.image import PodmanImage, PodmanImagePullPolicy
    from conu.backend.podman.run_builder import PodmanRunBuilder
    from conu.exceptions import ConuException, CountExceeded, ProbeTimeout
    from conu.plugins import available_backends, get_backend
    from conu.probes import Probe
    from conu.utils import check_port, get_selinux_status, random_str, run_cmd
    from conu.utils.filesystem import Directory

__all__ = [
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

_LAZY = {
    "ArchiveBackend": "conu.backend.archive.backend",
    "ArchiveContainer": "conu.backend.archive.container",
    "ArchiveImage": "conu.backend.archive.image",
    "CleanupPolicy": "conu.apidefs.backend",
    "ConuException": "conu.exceptions",
    "CountExceeded": "conu.exceptions",
    "ProbeTimeout": "conu.exceptions",
    "Directory": "conu.utils.filesystem",
    "DockerBackend": "conu.backend.docker.backend",
    "DockerContainer": "conu.backend.docker.container",
    "DockerContainerFS": "conu.backend.docker.filesystem",
    "DockerContainerViaExportFS": "conu.backend.docker.filesystem",
    "DockerImageViaArchiveFS": "conu.backend.docker.filesystem",
    "DockerImage": "conu.backend.docker.image",
    "DockerImagePullPolicy": "conu.backend.docker.image",
    "S2IDockerImage": "conu.backend.docker.image",
    "DockerRunBuilder": "conu.backend.docker.run_builder",
    "K8sBackend": "conu.backend.k8s.backend",
    "K8sCleanupPolicy": "conu.backend.k8s.backend",
    "K8sContainer": "conu.backend.k8s.container",
    "K8sImage": "conu.backend.k8s.image",
    "PodmanBackend": "conu.backend.podman.backend",
    "PodmanContainer": "conu.backend.podman.container",
    "PodmanImage": "conu.backend.podman.image",
    "PodmanImagePullPolicy": "conu.backend.podman.image",
    "PodmanRunBuilder": "conu.backend.podman.run_builder",
    "Probe": "conu.probes",
    "available_backends": "conu.plugins",
    "get_backend": "conu.plugins",
    "check_port": "conu.utils",
    "get_selinux_status": "conu.utils",
    "random_str": "conu.utils",
    "run_cmd": "conu.utils",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
    else:
        msg = f"module 'conu' has no attribute {name!r}"
        raise AttributeError(msg)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
