"""Manifests and waits shared by conu 1.0's :class:`~conu.backend.k8s.pod.Pod`,
:class:`~conu.backend.k8s.deployment.Deployment` and :class:`~conu.backend.k8s.service.Service`:
documents from dicts, YAML or client models, the session labels, a container for an image,
and a bounded watch of one object.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from conu.backend.k8s.pods import LABELS_ANNOTATION, pod_labels
from conu.exceptions import ConuException, InvalidArgument, NotFound, ProbeTimeout
from conu.labels import session_labels

if TYPE_CHECKING:
    from conu.backend.k8s.api import KubeApi
    from conu.backend.k8s.engine import K8sEngine

__all__ = [
    "Document",
    "describe_pod",
    "dns_label",
    "engine_or_default",
    "image_container",
    "labelled",
    "to_document",
    "wait_for_object",
]

Document = dict[str, Any]


def to_document(value: Any, what: str) -> Document:
    """Return a JSON document of its own from a dict, a YAML string or a client model.

    Raises:
        InvalidArgument: ``value`` is none of these, or YAML that is not a mapping.
    """
    if isinstance(value, str):
        import yaml

        value = yaml.safe_load(value)
    elif not isinstance(value, Mapping) and hasattr(value, "to_dict"):
        from kubernetes.client import ApiClient

        value = ApiClient().sanitize_for_serialization(value)
    if not isinstance(value, Mapping):
        msg = f"{what} must be a dict, a YAML mapping or a kubernetes model, not {value!r}"
        raise InvalidArgument(msg)
    return copy.deepcopy(dict(value))


def labelled(metadata: Mapping[str, Any]) -> Document:
    """Return ``metadata`` with the session labels added to its labels and annotation."""
    every = {**(metadata.get("labels") or {}), **session_labels()}
    annotations = {**(metadata.get("annotations") or {})}
    annotations[LABELS_ANNOTATION] = json.dumps(every, sort_keys=True)
    labels = {**(metadata.get("labels") or {}), **pod_labels(session_labels())}
    return {**metadata, "labels": labels, "annotations": annotations}


def dns_label(text: str) -> str:
    """Return ``text`` as a DNS label of at most 40 characters (``conu`` when empty)."""
    return re.sub(r"[^a-z0-9-]+", "-", text.lower()).strip("-")[:40].strip("-") or "conu"


def _image_facts(image: Any) -> tuple[str, Any, bool]:
    """Return (reference, metadata or None, whether the metadata's env applies)."""
    if hasattr(image, "get_full_name"):
        try:
            metadata = image.get_metadata() if hasattr(image, "get_metadata") else None
        except ConuException:  # its engine does not hold it (only the cluster does): no ports
            metadata = None
        return str(image.get_full_name()), metadata, False
    if getattr(image, "name", None):
        return str(image.name), image, True
    msg = f"an image (get_full_name()) or image metadata (.name) is needed, not {image!r}"
    raise InvalidArgument(msg)


def image_container(image: Any, image_pull_policy: str = "IfNotPresent") -> Document:
    """Return a container running ``image``: an image (``get_full_name()``, ports from its
    metadata) or an ``ImageMetadata``-like object (``.name``, ``.exposed_ports``,
    ``.env_variables``, ``.command`` as the container's ``args``). Its name is the image's
    base name, as a DNS label.

    Raises:
        InvalidArgument: ``image`` is neither, or has a malformed port.
    """
    reference, metadata, with_env = _image_facts(image)
    base = reference.rsplit("/", 1)[-1].split("@")[0].split(":")[0]
    container: Document = {
        "name": dns_label(base),
        "image": reference,
        "imagePullPolicy": image_pull_policy,
    }
    ports = [_port(p) for p in getattr(metadata, "exposed_ports", None) or ()]
    if ports:
        container["ports"] = ports
    env = getattr(metadata, "env_variables", None) if with_env else None
    if env:
        container["env"] = [{"name": k, "value": str(v)} for k, v in env.items()]
    command = getattr(metadata, "command", None) if with_env else None
    if command:
        container["args"] = list(command)  # the image's CMD: its ENTRYPOINT stays
    return container


def _port(key: str) -> Document:
    number, _, protocol = str(key).partition("/")
    if not number.isdigit():
        raise InvalidArgument(f"a port is '<number>[/<protocol>]', not {key!r}")
    return {"containerPort": int(number), "protocol": (protocol or "tcp").upper()}


def wait_for_object(
    api: KubeApi,
    collection: str,
    name: str,
    *,
    what: str,
    timeout: float,
    done: Callable[[Document], bool],
    describe: Callable[[Document], str],
) -> Document:
    """Watch object ``name`` of ``collection`` until ``done(object)``; return it.

    Raises:
        NotFound: there is no such object.
        ConuException: it was deleted meanwhile (or ``done`` raised it).
        ProbeTimeout: ``timeout`` seconds passed; the message says what was last seen.
    """
    seen: Document = {}
    query = {"fieldSelector": f"metadata.name={name}"}
    try:
        for kind, item in api.watch(collection, what=what, query=query, timeout=timeout):
            if kind == "SYNCED" and not seen:
                raise NotFound(f"cannot {what}: it does not exist")
            if kind == "DELETED":
                raise ConuException(f"cannot {what}: it was deleted")
            if kind in ("LISTED", "ADDED", "MODIFIED"):
                seen = item
                if done(item):
                    return item
    except ProbeTimeout as exc:
        raise ProbeTimeout(f"{exc} (last seen: {describe(seen)})") from exc
    raise ProbeTimeout(f"timed out waiting to {what}")  # pragma: no cover (watch raises)


def describe_pod(pod: Mapping[str, Any]) -> str:
    """Say where a pod is: its phase and why its containers wait or ended."""
    status = pod.get("status") or {}
    parts = [f"phase {status.get('phase', 'unknown')}"]
    for container in status.get("containerStatuses") or ():
        for state, detail in (container.get("state") or {}).items():
            why = " ".join(str(v) for k, v in (detail or {}).items() if k in ("reason", "message"))
            parts.append(f"{container.get('name')} {state} {why}".strip())
    return "; ".join(parts)


def engine_or_default(engine: K8sEngine | None) -> K8sEngine:
    """Return ``engine``, or the process's shared :class:`K8sEngine` when None."""
    from conu.backend.k8s.engine import K8sEngine

    return engine or K8sEngine.default()
