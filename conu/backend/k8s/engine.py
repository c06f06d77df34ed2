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

import functools
import os
from typing import TYPE_CHECKING, ClassVar

from conu.apidefs.backend import Capability
from conu.apidefs.engine import Engine
from conu.apidefs.specs import ContainerInfo, ContainerState
from conu.backend.k8s.api import KubeApi
from conu.backend.k8s.engine_containers import ContainersMixin
from conu.backend.k8s.engine_exec import ExecMixin
from conu.backend.k8s.engine_files import FilesMixin
from conu.backend.k8s.engine_images import ImagesMixin
from conu.backend.k8s.forward import PortForwarder, routable
from conu.backend.k8s.sessions import SessionsMixin
from conu.exceptions import ConuException, InvalidArgument

if TYPE_CHECKING:
    from conu.utils.net import Endpoint
    from conu.utils.reference import Reference

__all__ = ["CAPABILITIES", "PORT_ACCESS", "K8sEngine"]

PORT_ACCESS = ("auto", "pod-ip", "forward")
"""How pod ports are reached: the pod's IP when routed here (``auto``), always the pod's IP,
or always through the API server's port forwarding."""

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
        port_access: how pod ports are reached (:data:`PORT_ACCESS`);
            ``$CONU_K8S_PORT_ACCESS``, else ``auto`` when None.

    Raises:
        InvalidArgument: ``port_access`` is none of :data:`PORT_ACCESS`.
    """

    name: ClassVar[str] = "kubernetes"

    def __init__(
        self,
        kubeconfig: str | None = None,
        context: str | None = None,
        namespace: str | None = None,
        port_access: str | None = None,
    ) -> None:
        self.api = KubeApi(kubeconfig, context)
        self._namespace = namespace
        access = port_access or os.environ.get("CONU_K8S_PORT_ACCESS") or "auto"
        if access not in PORT_ACCESS:
            msg = f"port_access must be one of {', '.join(PORT_ACCESS)}, not {access!r}"
            raise InvalidArgument(msg)
        self.port_access = access
        """``auto``, ``pod-ip`` or ``forward``: how :meth:`container_address` reaches pods."""

    @property
    def capabilities(self) -> frozenset[Capability]:
        """EXEC, LOGS_FOLLOW, COPY (of running pods) and PORTS (the pod's IP)."""
        return CAPABILITIES

    def container_state(self, raw: str | None) -> ContainerState:
        """Map a pod phase (``Pending``...) or a container state key (``running``,
        ``waiting``, ``terminated``) onto a state."""
        return _STATES.get((raw or "").lower(), ContainerState.UNKNOWN)

    def container_address(self, info: ContainerInfo, port: int) -> Endpoint:
        """Return where the caller reaches ``port`` of the pod: its IP when this host routes
        to it (on a node), else a port of 127.0.0.1 forwarded through the API server (as
        ``kubectl port-forward``); :attr:`port_access` decides.

        Raises:
            ConuException: the pod has no IP yet (or no more).
        """
        from conu.utils.net import Endpoint

        if not info.ipv4_addresses:
            msg = f"port {port} of pod {info.id!r} cannot be reached: the pod has no IP"
            raise ConuException(msg)
        address = info.ipv4_addresses[0]
        if self.port_access == "pod-ip" or (self.port_access == "auto" and routable(address)):
            return Endpoint(address, port)
        ns, name, path = self._pod_path(info.id)
        local = self.forwarder.local_port(f"{ns}/{name}", path, port)
        check = functools.partial(self.forwarder.probe, path, port)
        return Endpoint("127.0.0.1", local, proxied=True, check=check)

    @functools.cached_property
    def forwarder(self) -> PortForwarder:
        """The listeners forwarding pod ports through the API server."""
        return PortForwarder(self.api)

    def forget_ports(self, pod_id: str | None = None) -> None:
        """Stop forwarding the ports of pod ``pod_id`` (``ns/name``; every pod's when None)."""
        if "forwarder" in self.__dict__:
            self.forwarder.close(pod_id)

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
