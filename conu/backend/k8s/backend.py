"""The Kubernetes backend: the generic backend over :class:`K8sEngine`, plus conu 1.0's
namespace, pod, deployment and service helpers."""

from __future__ import annotations

import enum
import logging
import secrets
from typing import TYPE_CHECKING, Any, ClassVar

from conu.apidefs.backend import Backend, CleanupPolicy
from conu.backend.k8s.container import K8sContainer
from conu.backend.k8s.engine import K8sEngine
from conu.backend.k8s.image import K8sImage
from conu.exceptions import ConuException
from conu.labels import SESSION_ID

if TYPE_CHECKING:
    from conu.apidefs.engine import Engine
    from conu.backend.k8s.deployment import Deployment
    from conu.backend.k8s.pod import Pod
    from conu.backend.k8s.service import Service

__all__ = ["K8sBackend", "K8sCleanupPolicy"]


class K8sCleanupPolicy(enum.Enum):
    """What :class:`K8sBackend` removes when its context manager exits (conu 1.0's names);
    only what this session created is touched."""

    NOTHING = "nothing"
    EVERYTHING = "everything"
    PODS = "pods"
    SERVICES = "services"
    DEPLOYMENTS = "deployments"
    NAMESPACES = "namespaces"


_GENERIC = {
    CleanupPolicy.NOTHING: {K8sCleanupPolicy.NOTHING},
    CleanupPolicy.EVERYTHING: {K8sCleanupPolicy.EVERYTHING},
    CleanupPolicy.CONTAINERS: {K8sCleanupPolicy.DEPLOYMENTS, K8sCleanupPolicy.PODS},
    CleanupPolicy.VOLUMES: {K8sCleanupPolicy.SERVICES, K8sCleanupPolicy.NAMESPACES},
}


def _k8s_policies(cleanup: list[Any] | None) -> tuple[list[CleanupPolicy], set[K8sCleanupPolicy]]:
    given = list(cleanup or [K8sCleanupPolicy.NOTHING])
    wrong = [p for p in given if not isinstance(p, CleanupPolicy | K8sCleanupPolicy)]
    if wrong:
        msg = f"cleanup must hold CleanupPolicy or K8sCleanupPolicy members, not {wrong[0]!r}"
        raise TypeError(msg)
    generic = [p for p in given if isinstance(p, CleanupPolicy)]
    k8s = {p for p in given if isinstance(p, K8sCleanupPolicy)}
    for policy in generic:
        k8s |= _GENERIC.get(policy, set())
    if K8sCleanupPolicy.NOTHING in k8s and len(k8s) > 1:
        msg = f"K8sCleanupPolicy.NOTHING cannot be combined with other policies: {given}"
        raise ConuException(msg)
    if K8sCleanupPolicy.EVERYTHING in k8s:
        k8s = set(K8sCleanupPolicy) - {K8sCleanupPolicy.NOTHING, K8sCleanupPolicy.EVERYTHING}
    return (generic or [CleanupPolicy.NOTHING]), k8s


class K8sBackend(Backend):
    """A Kubernetes cluster (registered as ``kubernetes`` and ``k8s``).

    Args:
        api_key: a bearer token to use instead of the kubeconfig's credentials.
        logging_level: level for the ``conu`` logger.
        logging_kwargs: further arguments for :func:`conu.apidefs.backend.set_logging`.
        cleanup: :class:`K8sCleanupPolicy` (or generic
            :class:`~conu.apidefs.backend.CleanupPolicy`) members applied on exit.
        kubeconfig: the kubeconfig; ``$KUBECONFIG``, then ``~/.kube/config``, then the
            in-cluster account when None.
        context: the kubeconfig context (its current one when None).
        namespace: where containers are created (the session's namespace when None).

    Raises:
        ConuException: NOTHING is combined with other policies.
    """

    name: ClassVar[str] = "kubernetes"
    engine_class = K8sEngine
    ContainerClass = K8sContainer
    ImageClass = K8sImage

    def __init__(
        self,
        api_key: str | None = None,
        logging_level: int = logging.INFO,
        logging_kwargs: dict[str, Any] | None = None,
        cleanup: list[Any] | None = None,
        *,
        kubeconfig: str | None = None,
        context: str | None = None,
        namespace: str | None = None,
    ) -> None:
        generic, self.k8s_cleanup = _k8s_policies(cleanup)
        super().__init__(
            logging_level=logging_level,
            logging_kwargs=logging_kwargs,
            cleanup=[p for p in generic if p is not CleanupPolicy.NOTHING] or None,
        )
        self.managed_namespaces: list[str] = []
        self._own: K8sEngine | None = None
        if api_key or kubeconfig or context or namespace:
            self._own = K8sEngine(kubeconfig, context, namespace)
            if api_key:
                self._own.api.token = api_key

    def _engine(self, operation: str) -> Engine:
        return self._own or K8sEngine.default()

    @property
    def k8s(self) -> K8sEngine:
        """The engine, typed."""
        engine = self._engine("k8s")
        assert isinstance(engine, K8sEngine)
        return engine

    @property
    def core_api(self) -> Any:
        """The ``kubernetes`` client's ``CoreV1Api`` on this cluster (conu 1.0's attribute)."""
        from kubernetes import client

        return client.CoreV1Api(self.k8s.api.client)

    @property
    def apps_api(self) -> Any:
        """The ``kubernetes`` client's ``AppsV1Api`` on this cluster."""
        from kubernetes import client

        return client.AppsV1Api(self.k8s.api.client)

    def get_version(self) -> str:
        """Return the API server's version, e.g. ``"v1.20.2"``."""
        return self.k8s.version()

    # -- namespaces -------------------------------------------------------------------------

    def create_namespace(self) -> str:
        """Create a namespace with a random name (``conu-…``), labelled with the session;
        wait until pods can be created in it; return its name."""
        name = f"conu-{secrets.token_hex(4)}"
        self.k8s.create_namespace(name)
        self.managed_namespaces.append(name)
        return name

    def delete_namespace(self, namespace: str) -> None:
        """Delete ``namespace`` and all it holds (the cluster finishes shortly after).

        Raises:
            NotFound: no such namespace.
        """
        self.k8s.api.request(
            "DELETE", f"/api/v1/namespaces/{namespace}", what=f"delete namespace {namespace}"
        )
        if namespace in self.managed_namespaces:
            self.managed_namespaces.remove(namespace)

    # -- listings ---------------------------------------------------------------------------

    def _items(self, prefix: str, plural: str, namespace: str | None) -> list[dict[str, Any]]:
        where = f"/namespaces/{namespace}" if namespace else ""
        listed = self.k8s.api.request("GET", f"{prefix}{where}/{plural}", what=f"list {plural}")
        return list(listed.get("items", []))

    def list_pods(self, namespace: str | None = None) -> list[Pod]:
        """Return the pods of ``namespace`` (of every namespace when None)."""
        from conu.backend.k8s.pod import Pod

        return [
            Pod.from_document(self.k8s, item) for item in self._items("/api/v1", "pods", namespace)
        ]

    def list_services(self, namespace: str | None = None) -> list[Service]:
        """Return the services of ``namespace`` (of every namespace when None)."""
        from conu.backend.k8s.service import Service

        items = self._items("/api/v1", "services", namespace)
        return [Service.from_document(self.k8s, item) for item in items]

    def list_deployments(self, namespace: str | None = None) -> list[Deployment]:
        """Return the deployments of ``namespace`` (of every namespace when None)."""
        from conu.backend.k8s.deployment import Deployment

        items = self._items("/apis/apps/v1", "deployments", namespace)
        return [Deployment.from_document(self.k8s, item) for item in items]

    # -- cleanup ----------------------------------------------------------------------------

    def cleanup_pods(self) -> None:
        """Delete this session's pods (at once)."""
        self.k8s.remove_session(SESSION_ID, kinds=("containers",))

    def cleanup_deployments(self) -> None:
        """Delete this session's deployments (their pods go with them)."""
        for item in self.k8s._session_items("/apis/apps/v1", "deployments", SESSION_ID):
            self.k8s._delete("/apis/apps/v1", "deployments", item)

    def cleanup_services(self) -> None:
        """Delete this session's services."""
        for item in self.k8s._session_items("/api/v1", "services", SESSION_ID):
            self.k8s._delete("/api/v1", "services", item)

    def cleanup_namespaces(self) -> None:
        """Delete this session's namespaces, with everything in them."""
        for item in self.k8s._session_items("/api/v1", "namespaces", SESSION_ID):
            self.k8s._delete("/api/v1", "namespaces", item)
        self.managed_namespaces.clear()
        self.k8s._namespace_state()[1].clear()

    def _clean(self) -> None:
        """Apply the cleanup policies: deployments, pods, services, then namespaces."""
        order = (
            (K8sCleanupPolicy.DEPLOYMENTS, self.cleanup_deployments),
            (K8sCleanupPolicy.PODS, self.cleanup_pods),
            (K8sCleanupPolicy.SERVICES, self.cleanup_services),
            (K8sCleanupPolicy.NAMESPACES, self.cleanup_namespaces),
        )
        for policy, clean in order:
            if policy in self.k8s_cleanup:
                clean()
        if K8sCleanupPolicy.PODS in self.k8s_cleanup:
            self.k8s.forget_ports()  # the session's pods are gone: so are their relays
        if CleanupPolicy.TMP_DIRS in self.cleanup or CleanupPolicy.EVERYTHING in self.cleanup:
            self._clean_tmp_dirs()
