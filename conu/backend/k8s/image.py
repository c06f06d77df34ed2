"""Kubernetes images: images a cluster runs by reference, described by their registry."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from conu.apidefs.image import Image
from conu.apidefs.specs import PullPolicy
from conu.backend.k8s.container import K8sContainer
from conu.backend.k8s.engine import K8sEngine

if TYPE_CHECKING:
    from conu.apidefs.engine import Engine

__all__ = ["K8sImage"]


class K8sImage(Image):
    """An image for pods (see :class:`conu.apidefs.image.Image`).

    Its metadata (labels, environment, command, ports, layers) comes from the registry the
    nodes pull it from; ``pull()`` checks that the registry serves it.

    Args:
        repository: ``registry[:port]/name``; a ``:tag`` or ``@digest`` in it is honoured.
        tag: the tag (``"latest"`` by default).
        identifier: the image id (``sha256:`` of its config), when known.
        pull_policy: when to check the registry at construction.
    """

    backend_name: ClassVar[str] = "kubernetes"
    engine_class = K8sEngine
    container_class = K8sContainer

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
