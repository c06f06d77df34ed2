"""Container primitives of :class:`~conu.backend.k8s.engine.K8sEngine`: pods.

Kubernetes has no "created but not started" pod and no stop of a running one, so:

* ``create_container`` creates the pod, which the kubelet starts as soon as it can;
  ``start_container`` waits until its container runs (or fails to start);
* ``stop_container`` and ``kill_container`` end the pod through its active deadline: the
  kubelet sends SIGTERM, then SIGKILL after the pod's grace period (set at creation), and
  the pod stays, with its exit code;
* ``start_container`` of an exited pod creates it anew from its own spec, under the same
  name (the container's filesystem starts afresh, unlike Docker's).

Every wait is a watch of the pod, bounded, with a message that says what it waited for.
"""

from __future__ import annotations

import signal as signals
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from conu.apidefs.specs import ContainerInfo, ContainerState, RunSpec
from conu.backend.k8s import pods
from conu.exceptions import (
    CommandDoesNotExistException,
    Conflict,
    ContainerFailed,
    ContainerNotFound,
    InvalidArgument,
    ProbeTimeout,
    UnsupportedOperation,
)

if TYPE_CHECKING:
    from conu.backend.k8s.api import KubeApi

__all__ = ["START_TIMEOUT", "ContainersMixin"]

START_TIMEOUT = 120.0
"""Seconds a pod may take to be scheduled, get its image and start."""
GONE_TIMEOUT = 60.0
"""Seconds a deleted pod may take to disappear."""
_TERMINATING = {None, signals.SIGKILL, signals.SIGTERM}


def _signal(value: str | int | None) -> int | None:
    if value is None or isinstance(value, int):
        return value
    name = value.upper()
    name = name if name.startswith("SIG") else "SIG" + name
    try:
        return int(signals.Signals[name])
    except KeyError:
        msg = f"unknown signal {value!r}"
        raise InvalidArgument(msg) from None


class ContainersMixin:
    """Pods as containers."""

    api: KubeApi
    image_reference: Callable[[str], str]
    image_env: Callable[[str], tuple[str, ...]]
    ensure_namespace: Callable[[], str]
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

    # -- primitives -------------------------------------------------------------------------

    def create_container(self, spec: RunSpec) -> str:
        """Create the pod of ``spec`` in the session's namespace (or ``namespace`` of the
        engine options); return ``<namespace>/<name>``.

        Raises:
            Conflict: the name is taken.
            InvalidArgument: ``spec`` asks what a pod cannot do.
        """
        ns = spec.engine_options.get("namespace") or self.ensure_namespace()
        manifest = pods.manifest(spec, self.image_reference(spec.image), ns)
        name = manifest["metadata"]["name"]
        self.api.request(
            "POST", f"/api/v1/namespaces/{ns}/pods", what=f"create pod {ns}/{name}", body=manifest
        )
        return f"{ns}/{name}"

    def start_container(self, container_id: str) -> None:
        """Wait until the pod's container runs (an exited pod is first created anew).

        Raises:
            ContainerNotFound: no such pod.
            CommandDoesNotExistException: its command does not exist in the image.
            ContainerFailed: it could not start otherwise (image not found...).
            ProbeTimeout: it did not start within :data:`START_TIMEOUT`.
        """
        pod = self._get_pod(container_id)
        if pods.state_of(pod) is ContainerState.EXITED and pods.start_failure(pod) is None:
            pod = self._recreate(container_id, pod)

        def started(current: dict[str, Any] | None) -> bool:
            if current is None:
                raise ContainerNotFound(f"pod {container_id!r} was deleted while it started")
            return pods.state_of(current) is not ContainerState.CREATED or bool(
                _waiting_failure(current)
            )

        now = self._await(container_id, started, START_TIMEOUT, f"start pod {container_id}")
        assert now is not None
        failure = pods.start_failure(now)
        if failure is not None and ("not found" in failure or "no such file" in failure):
            msg = f"cannot start pod {container_id!r}: {failure}"
            raise CommandDoesNotExistException(msg)
        failure = failure or _waiting_failure(now)
        if failure is not None:
            raise ContainerFailed(f"cannot start pod {container_id!r}: {failure}")

    def _recreate(self, container_id: str, pod: dict[str, Any]) -> dict[str, Any]:
        ns, name, _ = self._pod_path(container_id)
        spec = {k: v for k, v in pod["spec"].items() if k not in ("activeDeadlineSeconds",)}
        meta = pod["metadata"]
        fresh = {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                k: meta[k] for k in ("name", "namespace", "labels", "annotations") if k in meta
            },
            "spec": spec,
        }
        self.remove_container(container_id, force=True)
        created: dict[str, Any] = self.api.request(
            "POST", f"/api/v1/namespaces/{ns}/pods", what=f"create pod {ns}/{name} anew", body=fresh
        )
        return created

    def _deadline(self, container_id: str, pod: dict[str, Any]) -> None:
        """End ``pod`` (just read) through its active deadline (SIGTERM, SIGKILL after its
        grace period)."""
        if pods.state_of(pod) is not ContainerState.RUNNING:
            if pods.state_of(pod) is ContainerState.CREATED:
                self.start_container(container_id)
            else:
                raise Conflict(f"cannot stop pod {container_id!r}: it does not run")
        started = (pod.get("status") or {}).get("startTime")
        age = 1
        if started:
            age = max(1, int(time.time() - _epoch(started)))
        ns, name, path = self._pod_path(container_id)
        self.api.request(
            "PATCH",
            path,
            what=f"stop pod {ns}/{name}",
            body={"spec": {"activeDeadlineSeconds": age}},
            content_type="application/strategic-merge-patch+json",
            not_found=ContainerNotFound,
        )

    def stop_container(self, container_id: str, timeout: float | None = None) -> None:
        """SIGTERM, then SIGKILL after the pod's grace period (``timeout`` cannot change it
        on a running pod); wait until it exited.

        Raises:
            ContainerNotFound: no such pod.
        """
        pod = self._get_pod(container_id)
        if pods.state_of(pod) is ContainerState.EXITED:
            return
        self._deadline(container_id, pod)
        self._wait_exited(container_id, pod, "stop")

    def _wait_exited(self, container_id: str, pod: dict[str, Any], verb: str) -> None:
        grace = float(pod["spec"].get("terminationGracePeriodSeconds") or pods.GRACE_SECONDS)
        self._await(
            container_id,
            lambda p: p is None or pods.state_of(p) is ContainerState.EXITED,
            grace + 30,
            f"{verb} pod {container_id}",
        )

    def kill_container(self, container_id: str, signal: str | int | None = None) -> None:
        """End the pod: Kubernetes sends SIGTERM, then SIGKILL after its grace period;
        it cannot deliver another signal.

        Raises:
            ContainerNotFound: no such pod.
            Conflict: it does not run.
            UnsupportedOperation: ``signal`` is neither SIGTERM nor SIGKILL.
        """
        number = _signal(signal)
        if number not in _TERMINATING:
            raise UnsupportedOperation("kubernetes", f"kill_container(signal={signal!r})")
        pod = self._get_pod(container_id)
        self._deadline(container_id, pod)
        self._wait_exited(container_id, pod, "kill")

    def remove_container(
        self, container_id: str, *, force: bool = False, volumes: bool = False
    ) -> None:
        """Delete the pod (at once with ``force``) and wait until it is gone.

        Raises:
            ContainerNotFound: no such pod.
            Conflict: it runs and ``force`` is False.
        """
        ns, name, path = self._pod_path(container_id)
        pod = self._get_pod(container_id)
        if not force and pods.state_of(pod) is ContainerState.RUNNING:
            raise Conflict(f"cannot remove pod {ns}/{name}: it runs (use force)")
        uid = pod["metadata"].get("uid")
        body = {"gracePeriodSeconds": 0, "preconditions": {"uid": uid}}
        self.api.request(
            "DELETE", path, what=f"remove pod {ns}/{name}", body=body, not_found=ContainerNotFound
        )
        self._await(
            container_id,
            lambda p: p is None or p["metadata"].get("uid") != uid,
            GONE_TIMEOUT,
            f"see pod {ns}/{name} gone",
        )

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


def _waiting_failure(pod: Mapping[str, Any]) -> str | None:
    """Why a container waits for ever: its image cannot be had."""
    waiting = (pods.container_status(pod).get("state") or {}).get("waiting") or {}
    if waiting.get("reason") in (
        "ErrImagePull",
        "ImagePullBackOff",
        "ErrImageNeverPull",
        "InvalidImageName",
        "CreateContainerConfigError",
    ):
        return f"{waiting['reason']}: {waiting.get('message', '')}".strip()
    return None


def _epoch(stamp: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()
