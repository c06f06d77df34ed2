"""Reading and watching pods: the part of the container primitives that does not change a
pod's life (inspect, list, wait), and the bounded watch every wait of the engine uses.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from conu.apidefs.specs import ContainerInfo, ContainerState
from conu.backend.k8s import pods
from conu.exceptions import ContainerNotFound, NotFound, ProbeTimeout

if TYPE_CHECKING:
    from conu.backend.k8s.api import KubeApi

__all__ = ["MERGE_PATCH", "PodAccessMixin"]

MERGE_PATCH = "application/strategic-merge-patch+json"


class PodAccessMixin:
    """Pods looked at, watched and waited for."""

    api: KubeApi
    image_env: Callable[[str], tuple[str, ...]]
    namespace: str

    def _pod_path(self, container_id: str) -> tuple[str, str, str]:
        ns, name = pods.split_id(container_id, self.namespace)
        return ns, name, f"/api/v1/namespaces/{ns}/pods/{name}"

    def _get_pod(self, container_id: str) -> dict[str, Any]:
        ns, name, path = self._pod_path(container_id)
        what = f"inspect pod {ns}/{name}"
        pod: dict[str, Any] = self.api.request("GET", path, what=what, not_found=ContainerNotFound)
        return pod

    def watch_pod(
        self,
        container_id: str,
        until: Callable[[dict[str, Any] | None], bool],
        *,
        timeout: float,
        what: str,
    ) -> dict[str, Any] | None:
        """Return the pod once ``until(pod)`` holds (``until(None)``: once it is gone).

        Raises:
            ProbeTimeout: it did not within ``timeout`` seconds (the message says ``what``).
        """
        ns, name, _ = self._pod_path(container_id)
        query = {"fieldSelector": f"metadata.name={name}"}
        listed = False
        for kind, pod in self.api.watch(
            f"/api/v1/namespaces/{ns}/pods", what=what, query=query, timeout=timeout
        ):
            if kind == "SYNCED":
                if not listed and until(None):
                    return None
                continue
            listed = listed or kind == "LISTED"
            current = None if kind == "DELETED" else pod
            if until(current):
                return current
        msg = f"timed out after {timeout:g} s waiting to {what}"
        raise ProbeTimeout(msg)

    def _await(
        self,
        container_id: str,
        until: Callable[[dict[str, Any] | None], bool],
        timeout: float,
        what: str,
    ) -> dict[str, Any] | None:
        """``watch_pod``, but the pod is looked at once first (no watch when it is there)."""
        try:
            pod: dict[str, Any] | None = self._get_pod(container_id)
        except ContainerNotFound:
            pod = None
        if until(pod):
            return pod
        return self.watch_pod(container_id, until, timeout=timeout, what=what)

    def release(self, path: str, what: str) -> None:
        """Drop :data:`pods.STOP_FINALIZER` from the pod at ``path`` (gone already: fine)."""
        drop = {"metadata": {"$deleteFromPrimitiveList/finalizers": [pods.STOP_FINALIZER]}}
        with contextlib.suppress(NotFound):
            self.api.request("PATCH", path, what=what, body=drop, content_type=MERGE_PATCH)

    def wait_container(self, container_id: str, timeout: float | None = None) -> int:
        """Wait until the pod's container exited; return its exit code.

        Raises:
            ContainerNotFound: no such pod (or it was deleted meanwhile).
            ProbeTimeout: it still ran after ``timeout`` seconds.
        """

        def exited(pod: dict[str, Any] | None) -> bool:
            if pod is None:
                raise ContainerNotFound(f"pod {container_id!r} was deleted while waited for")
            return pods.state_of(pod) is ContainerState.EXITED

        limit = 365 * 86400.0 if timeout is None else float(timeout)
        pod = self._await(container_id, exited, limit, f"see pod {container_id} exit")
        assert pod is not None
        code = pods.info_of(pod).exit_code
        return 0 if code is None else code

    def inspect_container(self, container_id: str) -> ContainerInfo:
        """Describe the pod (``ns/name`` or a name in the session's namespace).

        Raises:
            ContainerNotFound: no such pod.
        """
        pod = self._get_pod(container_id)
        return pods.info_of(pod, self.image_env(_image_of(pod)))

    def list_containers(self, labels: Mapping[str, str] | None = None) -> list[ContainerInfo]:
        """Return the pods of every namespace (those carrying ``labels`` if given)."""
        query = {"labelSelector": pods.label_selector(labels)}
        listed = self.api.request("GET", "/api/v1/pods", what="list pods", query=query)
        found = [pods.info_of(pod) for pod in listed.get("items", [])]
        wanted = dict(labels or {})
        return [i for i in found if all(i.labels.get(k) == v for k, v in wanted.items())]


def _image_of(pod: Mapping[str, Any]) -> str:
    containers = pod.get("spec", {}).get("containers") or [{}]
    return str(containers[0].get("image", ""))
