"""conu 1.0's :class:`Deployment`: an ``apps/v1`` Deployment, from a manifest or from an
image's metadata.

Requests go through :class:`~conu.backend.k8s.api.KubeApi` with JSON documents. The
deployment and its pod template carry the session labels (valid ones as labels, all of them
in the :data:`~conu.backend.k8s.pods.LABELS_ANNOTATION` annotation), so its pods are the
session's too.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from conu.backend.k8s.manifests import (
    Document,
    engine_or_default,
    image_container,
    labelled,
    to_document,
    wait_for_object,
)
from conu.exceptions import ConuException, InvalidArgument

if TYPE_CHECKING:
    from conu.backend.k8s.engine import K8sEngine

__all__ = ["Deployment"]


class Deployment:
    """A Deployment (conu 1.0's): either ``from_template`` or all of ``name``,
    ``selector``, ``labels`` and ``image_metadata``.

    Args:
        name: its name.
        selector: the labels (``matchLabels``) that select its pods.
        labels: the labels of its pods (they must match ``selector``).
        image_metadata: what the pods run: ``.name`` (the image), optionally
            ``.exposed_ports``, ``.env_variables`` and ``.command`` (an
            ``ImageMetadata``), or an image.
        namespace: where it is made; the session's namespace (created on first use) when
            None. A template's own namespace wins.
        create_in_cluster: create it at once.
        from_template: a Deployment manifest (dict, YAML string or ``V1Deployment``).
        engine: the cluster; ``K8sEngine.default()`` when None.
        image_pull_policy: the container's ``imagePullPolicy`` (not for templates).
        replicas: how many pods (not for templates).

    Raises:
        ConuException: the template is given with the other arguments, or neither is.
        InvalidArgument: the template is malformed.
    """

    def __init__(
        self,
        name: str | None = None,
        selector: Mapping[str, str] | None = None,
        labels: Mapping[str, str] | None = None,
        image_metadata: Any = None,
        namespace: str | None = "default",
        create_in_cluster: bool = False,
        from_template: Any = None,
        *,
        engine: K8sEngine | None = None,
        image_pull_policy: str = "IfNotPresent",
        replicas: int = 1,
    ) -> None:
        self._engine = engine_or_default(engine)
        self._api = self._engine.api
        given = (name, selector, labels, image_metadata)
        if from_template is not None:
            if any(v is not None for v in given):
                msg = (
                    "from_template cannot be combined with name, selector, labels or image_metadata"
                )
                raise ConuException(msg)
            self.body = _from_template(from_template)
        elif any(v is None for v in given):
            raise ConuException("a Deployment needs name, selector, labels and image_metadata")
        else:
            container = image_container(image_metadata, image_pull_policy)
            self.body = _build(
                str(name), dict(selector or {}), dict(labels or {}), container, replicas
            )
        metadata = self.body["metadata"]
        self.name: str = metadata["name"]
        self.namespace: str | None = metadata.get("namespace") or namespace
        self._document: Document = self.body
        if create_in_cluster:
            self.create_in_cluster()

    @classmethod
    def from_document(cls, engine: K8sEngine, document: Mapping[str, Any]) -> Deployment:
        """Return the deployment of ``document`` (as the API lists it), without creating it."""
        deployment = cls.__new__(cls)
        deployment._engine = engine
        deployment._api = engine.api
        deployment.body = dict(document)
        deployment._document = deployment.body
        deployment.name = document["metadata"]["name"]
        deployment.namespace = document["metadata"]["namespace"]
        return deployment

    def __repr__(self) -> str:
        return f"Deployment(namespace={self.namespace!r}, name={self.name!r})"

    @property
    def _collection(self) -> str:
        return f"/apis/apps/v1/namespaces/{self.namespace}/deployments"

    @property
    def _path(self) -> str:
        return f"{self._collection}/{self.name}"

    def create_in_cluster(self) -> None:
        """Create the deployment (in the session's namespace when it has none).

        Raises:
            Conflict: it exists already.
            EngineError: the cluster refused it.
        """
        self.namespace = self.namespace or self._engine.ensure_namespace()
        body = {**self.body, "metadata": {**self.body["metadata"], "namespace": self.namespace}}
        what = f"create deployment {self.namespace}/{self.name}"
        self._document = self._api.request("POST", self._collection, what=what, body=body)

    def delete(self) -> None:
        """Delete the deployment; its replica sets and pods follow, in the background.

        Raises:
            NotFound: it does not exist (any more).
        """
        body = {"propagationPolicy": "Background"}
        self._api.request(
            "DELETE", self._path, what=f"delete deployment {self.namespace}/{self.name}", body=body
        )

    def _get(self) -> Document:
        self._document = self._api.request(
            "GET", self._path, what=f"read deployment {self.namespace}/{self.name}"
        )
        return self._document

    def get_status(self) -> Any:
        """Return the deployment's status as the ``kubernetes`` client's
        ``V1DeploymentStatus``."""
        from kubernetes.client import V1DeploymentStatus

        return V1DeploymentStatus.from_dict(self._get().get("status") or {})

    def all_pods_ready(self) -> bool:
        """Tell whether every replica is ready and the status reports the current spec."""
        return _all_ready(self._get())

    def wait(self, timeout: float = 15) -> None:
        """Wait, watching the deployment, until all its pods are ready.

        Raises:
            ProbeTimeout: they were not within ``timeout`` seconds.
            NotFound: the deployment does not exist.
            ConuException: it was deleted meanwhile.
        """
        self._document = wait_for_object(
            self._api,
            self._collection,
            self.name,
            what=f"see all pods of deployment {self.namespace}/{self.name} ready",
            timeout=timeout,
            done=_all_ready,
            describe=_describe,
        )


def _from_template(template: Any) -> Document:
    body = to_document(template, "a deployment template")
    if body.get("kind", "Deployment") != "Deployment" or not (body.get("metadata") or {}).get(
        "name"
    ):
        raise InvalidArgument("a deployment template must be of kind Deployment, with a name")
    body.update(apiVersion=body.get("apiVersion", "apps/v1"), kind="Deployment")
    body["metadata"] = labelled(body["metadata"])
    pod = body.setdefault("spec", {}).setdefault("template", {})
    pod["metadata"] = labelled(pod.get("metadata") or {})
    return body


def _build(
    name: str, selector: dict[str, str], labels: dict[str, str], container: Document, replicas: int
) -> Document:
    template = {"metadata": labelled({"labels": labels}), "spec": {"containers": [container]}}
    spec = {"replicas": replicas, "selector": {"matchLabels": selector}, "template": template}
    metadata = labelled({"name": name, "labels": dict(labels)})
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": metadata, "spec": spec}


def _all_ready(deployment: Mapping[str, Any]) -> bool:
    wanted = deployment.get("spec", {}).get("replicas", 1)
    status = deployment.get("status") or {}
    generation = deployment.get("metadata", {}).get("generation", 0)
    current = status.get("observedGeneration", 0) >= generation
    return (
        current and status.get("readyReplicas", 0) == wanted and status.get("replicas", 0) == wanted
    )


def _describe(deployment: Mapping[str, Any]) -> str:
    status = deployment.get("status") or {}
    wanted = deployment.get("spec", {}).get("replicas", 1)
    text = f"{status.get('readyReplicas', 0)}/{wanted} ready"
    for condition in status.get("conditions") or ():
        if condition.get("status") != "True" or condition.get("type") == "ReplicaFailure":
            text += f"; {condition.get('type')}: {condition.get('message', '')}"
    return text
