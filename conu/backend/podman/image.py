"""Podman images: the generic image over :class:`PodmanEngine`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from conu.apidefs.image import Image
from conu.apidefs.specs import PullPolicy
from conu.backend.podman.container import PodmanContainer
from conu.backend.podman.engine import PodmanEngine
from conu.backend.podman.filesystem import PodmanImageFS
from conu.backend.podman.run_builder import PodmanRunBuilder

if TYPE_CHECKING:
    from conu.apidefs.engine import Engine

__all__ = ["PodmanImage", "PodmanImagePullPolicy"]

PodmanImagePullPolicy = PullPolicy
"""conu 1.0's name of :class:`conu.apidefs.specs.PullPolicy` (the same enum)."""


class PodmanImage(Image):
    """A podman image (see :class:`conu.apidefs.image.Image`).

    Args:
        repository: ``[registry[:port]/]name``; a ``:tag`` or ``@digest`` in it is honoured.
        tag: the tag (``"latest"`` by default).
        identifier: the image id, when known.
        pull_policy: when to pull at construction.
    """

    backend_name = "podman"
    engine_class = PodmanEngine
    container_class = PodmanContainer
    run_builder_class = PodmanRunBuilder
    filesystem_class = PodmanImageFS

    def __init__(
        self,
        repository: str | None,
        tag: str | None = "latest",
        identifier: str | None = None,
        pull_policy: PullPolicy = PullPolicy.IF_NOT_PRESENT,
        *,
        engine: Engine | None = None,
    ) -> None:
        super().__init__(repository, tag, identifier, pull_policy, engine=engine)
