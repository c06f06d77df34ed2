"""Container primitives of :class:`~conu.backend.k8s.engine.K8sEngine`: pods.

Kubernetes has no "created but not started" pod and no stop of a running one, so:

* ``create_container`` creates the pod, which the kubelet starts as soon as it can;
  ``start_container`` waits until its container runs (or fails to start);
* ``stop_container`` and ``kill_container`` delete the pod with a grace period, keeping it
  with a finalizer (:data:`~conu.backend.k8s.pods.STOP_FINALIZER`): the kubelet sends
  SIGTERM, then SIGKILL after the grace period, and the pod stays, with its exit code,
  until ``remove_container`` (or the session's cleanup) lets it go;
* ``start_container`` of an exited pod creates it anew from its own spec, under the same
  name (the container's filesystem starts afresh, unlike Docker's).

Every wait is a watch of the pod, bounded, with a message that says what it waited for.
"""

from __future__ import annotations

import contextlib
import signal as signals
from collections.abc import Callable, Mapping
from typing import Any

from conu.apidefs.specs import ContainerState, RunSpec
from conu.backend.k8s import pods
from conu.backend.k8s.pod_access import MERGE_PATCH, PodAccessMixin
from conu.exceptions import (
    CommandDoesNotExistException,
    Conflict,
    ContainerFailed,
    ContainerNotFound,
    InvalidArgument,
    NotFound,
    UnsupportedOperation,
)

__all__ = ["START_TIMEOUT", "ContainersMixin"]

START_TIMEOUT = 120.0
"""Seconds a pod may take to be scheduled, get its image and start."""
GONE_TIMEOUT = 60.0
"""Seconds a deleted pod may take to disappear."""
STOP_MARGIN = 30.0
"""Seconds a stopped pod may take to be reported exited after its SIGKILL."""
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


class ContainersMixin(PodAccessMixin):
    """Pods as containers."""

    image_reference: Callable[[str], str]
    ensure_namespace: Callable[[], str]
    forget_ports: Callable[[str], None]

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

    def _end(self, container_id: str, grace: int | None, verb: str) -> None:
        """End the running pod: delete it, kept by :data:`pods.STOP_FINALIZER`, so that the
        kubelet sends SIGTERM, then SIGKILL ``grace`` seconds later (at least 2: the
        kubelet's minimum), and the pod stays with its exit code; wait until it exited."""
        pod = self._get_pod(container_id)
        state = pods.state_of(pod)
        if state is ContainerState.EXITED:
            return
        if state is ContainerState.CREATED:
            self.start_container(container_id)
        elif state is not ContainerState.RUNNING:
            raise Conflict(f"cannot {verb} pod {container_id!r}: it does not run")
        ns, name, path = self._pod_path(container_id)
        what = f"{verb} pod {ns}/{name}"
        keep = {"metadata": {"finalizers": [pods.STOP_FINALIZER]}}
        self.api.request(
            "PATCH",
            path,
            what=what,
            body=keep,
            not_found=ContainerNotFound,
            content_type=MERGE_PATCH,
        )
        if grace is None:
            grace = int(pod["spec"].get("terminationGracePeriodSeconds") or pods.GRACE_SECONDS)
        body = {"gracePeriodSeconds": grace, "preconditions": {"uid": pod["metadata"]["uid"]}}
        self.api.request("DELETE", path, what=what, body=body, not_found=ContainerNotFound)
        self._await(
            container_id,
            lambda p: p is None or pods.state_of(p) is ContainerState.EXITED,
            max(grace, 2) + STOP_MARGIN,
            f"see pod {ns}/{name} exit ({verb})",
        )

    def stop_container(self, container_id: str, timeout: float | None = None) -> None:
        """SIGTERM, then SIGKILL ``timeout`` seconds later (the pod's grace period when
        None; 2 s at least); wait until it exited. The pod stays, with its exit code.

        Raises:
            ContainerNotFound: no such pod.
            ProbeTimeout: it had not exited :data:`STOP_MARGIN` seconds after the SIGKILL.
        """
        self._end(container_id, None if timeout is None else int(timeout), "stop")

    def kill_container(self, container_id: str, signal: str | int | None = None) -> None:
        """End the pod: SIGKILL (the default) is the kubelet's SIGTERM followed by SIGKILL
        2 s later; SIGTERM is followed by SIGKILL after the pod's grace period (a process
        that ignores it does not survive, unlike on Docker). Kubernetes cannot deliver
        another signal. The pod stays, with its exit code.

        Raises:
            ContainerNotFound: no such pod.
            Conflict: it does not run.
            UnsupportedOperation: ``signal`` is neither SIGTERM nor SIGKILL.
        """
        number = _signal(signal)
        if number not in _TERMINATING:
            raise UnsupportedOperation("kubernetes", f"kill_container(signal={signal!r})")
        pod = self._get_pod(container_id)
        if pods.state_of(pod) is ContainerState.EXITED:
            raise Conflict(f"cannot kill pod {container_id!r}: it does not run")
        self._end(container_id, None if number == signals.SIGTERM else 0, "kill")

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
        if pods.is_stopped(pod):
            self.release(path, f"remove pod {ns}/{name}")
        body = {"gracePeriodSeconds": 0, "preconditions": {"uid": uid}}
        with contextlib.suppress(NotFound):  # gone meanwhile (a released pod goes at once)
            self.api.request("DELETE", path, what=f"remove pod {ns}/{name}", body=body)
        self._await(
            container_id,
            lambda p: p is None or p["metadata"].get("uid") != uid,
            GONE_TIMEOUT,
            f"see pod {ns}/{name} gone",
        )
        self.forget_ports(f"{ns}/{name}")


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
