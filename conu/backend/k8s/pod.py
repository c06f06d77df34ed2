"""conu 1.0's :class:`Pod`: one pod of a cluster, made from a spec or a manifest.

Every request goes through :class:`~conu.backend.k8s.api.KubeApi`, with the API's JSON
documents; the ``kubernetes`` client's models appear only as accepted input (converted with
its ``sanitize_for_serialization``) and as the answer of :meth:`Pod.get_status`. Each pod
carries the session labels (valid ones as labels, all of them in the
:data:`~conu.backend.k8s.pods.LABELS_ANNOTATION` annotation), so a session's cleanup finds it.

The manifests and waits it shares with :mod:`~conu.backend.k8s.deployment` and
:mod:`~conu.backend.k8s.service` are in :mod:`~conu.backend.k8s.manifests`.
"""

from __future__ import annotations

import enum
import secrets
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from conu.backend.k8s.manifests import (
    Document,
    describe_pod,
    engine_or_default,
    image_container,
    labelled,
    to_document,
    wait_for_object,
)
from conu.exceptions import ConuException, InvalidArgument

if TYPE_CHECKING:
    from conu.backend.k8s.engine import K8sEngine

__all__ = ["Pod", "PodCondition", "PodPhase", "run_image_in_pod"]


class PodPhase(enum.Enum):
    """The phase of a pod; TERMINATING once its deletion has begun."""

    PENDING = 0
    RUNNING = 1
    SUCCEEDED = 2
    FAILED = 3
    UNKNOWN = 4
    TERMINATING = 5

    @classmethod
    def get_from_string(cls, string: str | None) -> PodPhase:
        """Return the phase named ``string`` (any case); UNKNOWN for anything else."""
        return cls.__members__.get((string or "").upper(), cls.UNKNOWN)


class PodCondition(enum.Enum):
    """A condition type of a pod."""

    SCHEDULED = 0
    READY = 1
    INITIALIZED = 2
    UNSCHEDULABLE = 3
    CONTAINERS_READY = 4
    UNKNOWN = 5

    @classmethod
    def get_from_string(cls, string: str | None) -> PodCondition:
        """Return the condition of type ``string`` (``"PodScheduled"``, ``"Ready"``,
        ``"Initialized"``, ``"Unschedulable"``, ``"ContainersReady"``; any case)."""
        key = (string or "").lower().removeprefix("pod")
        found = [m for name, m in cls.__members__.items() if name.replace("_", "").lower() == key]
        return found[0] if found else cls.UNKNOWN


class Pod:
    """A pod of the cluster, created at once (conu 1.0's ``Pod``).

    Args:
        namespace: where it is made; the template's, then the session's namespace
            (created on first use) when None.
        name: its name; the template's, then a generated ``pod-<hex>``, when None.
        spec: a pod spec (dict or ``V1PodSpec``).
        from_template: a whole pod manifest (dict, YAML string or ``V1Pod``) instead.
        engine: the cluster; ``K8sEngine.default()`` when None.
        image_pull_policy: set on every container that has no ``imagePullPolicy``.

    Raises:
        InvalidArgument: neither ``spec`` nor ``from_template`` is given, or it is malformed.
        EngineError: the cluster refused the pod.
    """

    def __init__(
        self,
        namespace: str | None = None,
        name: str | None = None,
        spec: Any = None,
        from_template: Any = None,
        *,
        engine: K8sEngine | None = None,
        image_pull_policy: str | None = None,
    ) -> None:
        engine = engine_or_default(engine)
        body = _manifest(spec, from_template, name, image_pull_policy)
        metadata = body["metadata"]
        namespace = namespace or metadata.get("namespace") or engine.ensure_namespace()
        body["metadata"] = {**labelled(metadata), "namespace": namespace}
        what = f"create pod {namespace}/{metadata['name']}"
        path = f"/api/v1/namespaces/{namespace}/pods"
        answer = engine.api.request("POST", path, what=what, body=body)
        self._bind(engine, answer)

    @classmethod
    def from_document(cls, engine: K8sEngine, document: Mapping[str, Any]) -> Pod:
        """Return the pod of ``document`` (as the API lists it), without creating it."""
        pod = cls.__new__(cls)
        pod._bind(engine, dict(document))
        return pod

    def _bind(self, engine: K8sEngine, document: Document) -> None:
        self._engine = engine
        self._api = engine.api
        self._document = document
        self.name: str = document["metadata"]["name"]
        self.namespace: str = document["metadata"]["namespace"]

    def __repr__(self) -> str:
        return f"Pod(namespace={self.namespace!r}, name={self.name!r})"

    @property
    def _path(self) -> str:
        return f"/api/v1/namespaces/{self.namespace}/pods/{self.name}"

    def _get(self) -> Document:
        self._document = self._api.request(
            "GET", self._path, what=f"read pod {self.namespace}/{self.name}"
        )
        return self._document

    def delete(self, grace_period: int | None = None) -> None:
        """Delete the pod.

        Args:
            grace_period: seconds between SIGTERM and SIGKILL; the pod's own when None
                (0 removes the pod from the API at once, the node cleans up after).

        Raises:
            NotFound: it does not exist (any more).
        """
        body = None if grace_period is None else {"gracePeriodSeconds": grace_period}
        what = f"delete pod {self.namespace}/{self.name}"
        self._api.request("DELETE", self._path, what=what, body=body)

    def get_logs(self) -> str:
        """Return the whole log of the pod's first container.

        Raises:
            InvalidArgument: the container has not started yet.
        """
        containers = self._document.get("spec", {}).get("containers") or [{}]
        query = {"container": containers[0].get("name")}
        what = f"read the log of pod {self.namespace}/{self.name}"
        path = self._path + "/log"
        response = self._api.request("GET", path, what=what, query=query, stream=True)
        return b"".join(self._api.stream_chunks(response, what)).decode("utf-8", "replace")

    def get_status(self) -> Any:
        """Return the pod's status as the ``kubernetes`` client's ``V1PodStatus``."""
        from kubernetes.client import V1PodStatus

        return V1PodStatus.from_dict(self._get().get("status") or {})

    def get_phase(self) -> PodPhase:
        """Return the pod's phase (TERMINATING once its deletion has begun)."""
        return _phase(self._get())

    def get_conditions(self) -> list[PodCondition]:
        """Return the pod's conditions that hold (status ``"True"``)."""
        conditions = self._get().get("status", {}).get("conditions") or ()
        holding = [c.get("type") for c in conditions if c.get("status") == "True"]
        return [PodCondition.get_from_string(kind) for kind in holding]

    def is_ready(self) -> bool:
        """Tell whether the pod is ready (its ``Ready`` condition holds)."""
        return _ready(self._get())

    def get_ip(self) -> str | None:
        """Return the pod's IP, None before it has one."""
        return self._get().get("status", {}).get("podIP") or None

    def wait(self, timeout: float = 15) -> None:
        """Wait, watching the pod, until it is ready.

        Raises:
            ProbeTimeout: it was not ready within ``timeout`` seconds.
            ConuException: it ended (Failed or Succeeded) or was deleted first.
        """
        what = f"see pod {self.namespace}/{self.name} ready"
        self._document = wait_for_object(
            self._api,
            f"/api/v1/namespaces/{self.namespace}/pods",
            self.name,
            what=what,
            timeout=timeout,
            done=lambda pod: _ready_or_fail(pod, what),
            describe=describe_pod,
        )

    @staticmethod
    def create(image_data: Any, image_pull_policy: str = "IfNotPresent") -> Document:
        """Return the manifest of a pod running an image (conu 1.0's ``Pod.create``).

        Args:
            image_data: an image (``get_full_name()``) or its metadata (``.name``).
            image_pull_policy: the container's ``imagePullPolicy``.

        Raises:
            InvalidArgument: ``image_data`` is neither.
        """
        container = image_container(image_data, image_pull_policy)
        metadata = {"name": f"{container['name']}-{secrets.token_hex(4)}"}
        return {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": metadata,
            "spec": {"containers": [container]},
        }


def _manifest(spec: Any, template: Any, name: str | None, policy: str | None) -> Document:
    if template is not None:
        body = to_document(template, "a pod template")
        if body.get("kind", "Pod") != "Pod":
            raise InvalidArgument(f"a pod template must be of kind Pod, not {body['kind']!r}")
    elif spec is not None:
        body = {"spec": to_document(spec, "a pod spec")}
    else:
        raise InvalidArgument("a Pod needs a spec or a template (from_template)")
    body.update(apiVersion="v1", kind="Pod")
    metadata = body["metadata"] = dict(body.get("metadata") or {})
    metadata["name"] = name or metadata.get("name") or f"pod-{secrets.token_hex(4)}"
    for container in (body.get("spec") or {}).get("containers") or ():
        if policy and not container.get("imagePullPolicy"):
            container["imagePullPolicy"] = policy
    return body


def _phase(pod: Mapping[str, Any]) -> PodPhase:
    if pod.get("metadata", {}).get("deletionTimestamp"):
        return PodPhase.TERMINATING
    return PodPhase.get_from_string(pod.get("status", {}).get("phase"))


def _ready(pod: Mapping[str, Any]) -> bool:
    conditions = pod.get("status", {}).get("conditions") or ()
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


def _ready_or_fail(pod: Mapping[str, Any], what: str) -> bool:
    if _phase(pod) in (PodPhase.FAILED, PodPhase.SUCCEEDED):
        raise ConuException(f"cannot {what}: it ended first ({describe_pod(pod)})")
    return _ready(pod)


def run_image_in_pod(
    image: Any,
    namespace: str | None = None,
    engine: K8sEngine | None = None,
    *,
    image_pull_policy: str = "IfNotPresent",
) -> Pod:
    """Run ``image`` (``get_full_name()``; ports from ``get_metadata().exposed_ports``
    when the image's engine has it) in a new pod; return it (not waited for).

    Args:
        image: the image.
        namespace: where; the session's namespace when None.
        engine: the cluster; ``K8sEngine.default()`` when None.
        image_pull_policy: the container's ``imagePullPolicy``.

    Raises:
        EngineError: the cluster refused the pod.
    """
    manifest = Pod.create(image, image_pull_policy)
    return Pod(namespace=namespace, from_template=manifest, engine=engine)
