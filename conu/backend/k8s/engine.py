"""The Kubernetes engine: conu's primitives over a cluster's API server.

A container is a pod (:mod:`~conu.backend.k8s.pods`), created in the session's namespace
(:mod:`~conu.backend.k8s.sessions`); processes and files go through ``exec``
(:mod:`~conu.backend.k8s.engine_exec`, :mod:`~conu.backend.k8s.engine_files`); images are
described by their registries (:mod:`~conu.backend.k8s.engine_images`). Every request
passes the one boundary :class:`~conu.backend.k8s.api.KubeApi`.

What a cluster cannot do is declared, never discovered: no BUILD, PULL_PUSH, COMMIT,
MOUNT, IMAGE_FILES (files are read from running pods), PID, STDIN, RUN_VIA_BINARY,
SIGNALS or LOG_STREAMS (the log merges stdout and stderr).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from conu.apidefs.backend import Capability
from conu.apidefs.engine import Engine
from conu.apidefs.specs import ContainerInfo, ContainerState
from conu.backend.k8s.api import KubeApi
from conu.backend.k8s.engine_containers import ContainersMixin
from conu.backend.k8s.engine_exec import ExecMixin
from conu.backend.k8s.engine_files import FilesMixin
from conu.backend.k8s.engine_images import ImagesMixin
from conu.backend.k8s.sessions import SessionsMixin
from conu.exceptions import ConuException

if TYPE_CHECKING:
    from conu.utils.net import Endpoint
    from conu.utils.reference import Reference

__all__ = ["CAPABILITIES", "K8sEngine"]

CAPABILITIES = frozenset(
    {Capability.EXEC, Capability.LOGS_FOLLOW, Capability.COPY, Capability.PORTS}
)
"""What a cluster offers through its API."""

_STATES = {
    "pending": ContainerState.CREATED,
    "waiting": ContainerState.CREATED,
    "running": ContainerState.RUNNING,
    "terminated": ContainerState.EXITED,
    "succeeded": ContainerState.EXITED,
    "failed": ContainerState.EXITED,
    "terminating": ContainerState.REMOVING,
}


class K8sEngine(ContainersMixin, ExecMixin, FilesMixin, ImagesMixin, SessionsMixin, Engine):
    """A Kubernetes cluster, reached through its API server.

    Args:
        kubeconfig: the kubeconfig file; ``$KUBECONFIG``, ``~/.kube/config``, then the
            in-cluster service account when None.
        context: the kubeconfig's context; its current one when None.
        namespace: where containers are created; the session's own namespace
            (``conu-<session>``, created on first use, removed by cleanup) when None.
    """

    name: ClassVar[str] = "kubernetes"

    def __init__(
        self,
        kubeconfig: str | None = None,
        context: str | None = None,
        namespace: str | None = None,
    ) -> None:
        self.api = KubeApi(kubeconfig, context)
        self._namespace = namespace

    @property
    def capabilities(self) -> frozenset[Capability]:
        """EXEC, LOGS_FOLLOW, COPY (of running pods) and PORTS (the pod's IP)."""
        return CAPABILITIES

    def container_state(self, raw: str | None) -> ContainerState:
        """Map a pod phase (``Pending``...) or a container state key (``running``,
        ``waiting``, ``terminated``) onto a state."""
        return _STATES.get((raw or "").lower(), ContainerState.UNKNOWN)

    def container_address(self, info: ContainerInfo, port: int) -> Endpoint:
        """Return the pod's IP and ``port`` (pod IPs are routable from the nodes; from
        elsewhere, reach the pod through a :class:`~conu.backend.k8s.service.Service`).

        Raises:
            ConuException: the pod has no IP yet (or no more).
        """
        from conu.utils.net import Endpoint

        if not info.ipv4_addresses:
            msg = f"port {port} of pod {info.id!r} cannot be reached: the pod has no IP"
            raise ConuException(msg)
        return Endpoint(info.ipv4_addresses[0], port)

    def pull_image(self, reference: Reference) -> None:
        """Check that the image's registry serves it: nodes pull images themselves when a
        pod needs one.

        Raises:
            ImageNotFound: the registry has no such image.
            RegistryError: it cannot be reached.
        """
        self.inspect_image(str(reference))

    def version(self) -> str:
        """Return the API server's version, e.g. ``"v1.20.2"``.

        Raises:
            EngineUnreachable: the cluster does not answer.
        """
        answer = self.api.request("GET", "/version", what="ask the cluster's version")
        return str(answer.get("gitVersion", ""))
