"""Kubernetes containers: pods, as the generic container over :class:`K8sEngine`."""

from __future__ import annotations

from typing import ClassVar

from conu.apidefs.container import Container
from conu.backend.k8s.engine import K8sEngine

__all__ = ["K8sContainer"]


class K8sContainer(Container):
    """A pod of one container (see :class:`conu.apidefs.container.Container`); its id is
    ``<namespace>/<pod name>``.

    Args:
        image: the :class:`~conu.backend.k8s.image.K8sImage` it runs, or None.
        container_id: ``namespace/name`` (a bare name: in the session's namespace).
        name: the pod's name.
    """

    backend_name: ClassVar[str] = "kubernetes"
    engine_class = K8sEngine
