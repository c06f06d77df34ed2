"""conu-podman: a conu backend for podman, through the podman command line.

Importing this package is cheap: the classes are loaded on first access, and nothing here
imports the docker SDK. conu finds the backend through the ``conu.backends`` entry point::

    import conu

    Backend = conu.get_backend("podman")   # conu_podman.PodmanBackend
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from conu_podman.backend import PodmanBackend
    from conu_podman.container import PodmanContainer
    from conu_podman.filesystem import PodmanContainerFS, PodmanImageFS
    from conu_podman.image import PodmanImage, PodmanImagePullPolicy
    from conu_podman.run_builder import PodmanRunBuilder

__all__ = [
    "PodmanBackend",
    "PodmanContainer",
    "PodmanContainerFS",
    "PodmanImage",
    "PodmanImageFS",
    "PodmanImagePullPolicy",
    "PodmanRunBuilder",
]

__version__ = "0.1.0"

_LAZY = {
    "PodmanBackend": "conu_podman.backend",
    "PodmanContainer": "conu_podman.container",
    "PodmanContainerFS": "conu_podman.filesystem",
    "PodmanImage": "conu_podman.image",
    "PodmanImageFS": "conu_podman.filesystem",
    "PodmanImagePullPolicy": "conu_podman.image",
    "PodmanRunBuilder": "conu_podman.run_builder",
}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        msg = f"module 'conu_podman' has no attribute {name!r}"
        raise AttributeError(msg)
    value = getattr(importlib.import_module(_LAZY[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
