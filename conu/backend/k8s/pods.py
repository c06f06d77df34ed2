"""conu containers as Kubernetes pods: a :class:`RunSpec` becomes a pod manifest, a pod a
:class:`ContainerInfo`.

A container is a pod of one container named :data:`CONTAINER` with ``restartPolicy:
Never``; its id is ``<namespace>/<pod name>``. Labels whose values Kubernetes refuses (the
owner label holds ``host/pid``) travel in the annotation :data:`LABELS_ANNOTATION`, which
keeps every label exactly.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Mapping
from typing import Any

from conu.apidefs.specs import ContainerInfo, ContainerState, RunSpec
from conu.exceptions import InvalidArgument, UnsupportedOperation

__all__ = [
    "CONTAINER",
    "GRACE_SECONDS",
    "LABELS_ANNOTATION",
    "STOP_FINALIZER",
    "container_status",
    "info_of",
    "label_selector",
    "manifest",
    "pod_labels",
    "split_id",
    "state_of",
]

CONTAINER = "main"
"""Name of the one container in a conu pod."""
GRACE_SECONDS = 10
"""Default ``terminationGracePeriodSeconds``: SIGTERM, then SIGKILL this much later."""
LABELS_ANNOTATION = "conu.labels"
"""Annotation holding every conu label as JSON."""
STOP_FINALIZER = "conu/stopped-container"
"""Finalizer of a pod conu stopped: Kubernetes stops a pod only by deleting it, and this
keeps the deleted pod, with its container's exit status, until conu removes it."""

_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
_LABEL_KEY = re.compile(
    r"^([a-z0-9]([-a-z0-9.]*[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$"
)
_FAILED_START = ("StartError", "ContainerCannotRun", "CreateContainerError", "RunContainerError")


def split_id(container_id: str, namespace: str) -> tuple[str, str]:
    """Return ``(namespace, name)`` of ``ns/name`` (a bare name is in ``namespace``)."""
    if not isinstance(container_id, str) or not container_id:
        msg = f"a container id must be a non-empty str, not {container_id!r}"
        raise InvalidArgument(msg)
    ns, _, name = container_id.rpartition("/")
    return ns or namespace, name


def pod_name(spec: RunSpec) -> str:
    """Return the pod's name: ``spec.name``, checked, or made from the image's name."""
    if spec.name:
        if len(spec.name) > 63 or not _NAME.match(spec.name):
            msg = (
                f"container name {spec.name!r} is not a valid Kubernetes pod name: lower-case"
                " letters, digits and '-', at most 63"
            )
            raise InvalidArgument(msg)
        return spec.name
    base = spec.image.rsplit("/", 1)[-1].split("@")[0].split(":")[0]
    base = re.sub(r"[^a-z0-9-]+", "-", base.lower()).strip("-")[:40] or "conu"
    return f"{base}-{secrets.token_hex(4)}"


def pod_labels(labels: Mapping[str, str]) -> dict[str, str]:
    """Return the labels Kubernetes accepts as labels (the others stay in the annotation)."""
    return {
        k: v
        for k, v in labels.items()
        if _LABEL_KEY.match(k) and len(v) <= 63 and _LABEL_VALUE.match(v)
    }


def label_selector(labels: Mapping[str, str] | None) -> str | None:
    """Return a label selector for the labels that are valid Kubernetes labels."""
    return ",".join(f"{k}={v}" for k, v in pod_labels(labels or {}).items()) or None


def _security(spec: RunSpec) -> dict[str, Any]:
    context: dict[str, Any] = {}
    if spec.privileged:
        context["privileged"] = True
    if spec.cap_add:
        context["capabilities"] = {"add": [c.upper().removeprefix("CAP_") for c in spec.cap_add]}
    if spec.user:
        uid, _, gid = spec.user.partition(":")
        if not uid.isdigit() or (gid and not gid.isdigit()):
            msg = f"Kubernetes runs as numeric ids only (uid[:gid]), not user {spec.user!r}"
            raise InvalidArgument(msg)
        context["runAsUser"] = int(uid)
        if gid:
            context["runAsGroup"] = int(gid)
    return context


def _volumes(spec: RunSpec) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    volumes, mounts = [], []
    for index, bind in enumerate(spec.binds):
        parts = bind.split(":")
        if len(parts) < 2 or not parts[0].startswith("/"):
            msg = f"a bind mount is host_path:container_path[:ro], not {bind!r}"
            raise InvalidArgument(msg)
        volume = f"bind-{index}"
        volumes.append({"name": volume, "hostPath": {"path": parts[0]}})
        mount: dict[str, Any] = {"name": volume, "mountPath": parts[1]}
        if len(parts) > 2 and "ro" in parts[2].split(","):
            mount["readOnly"] = True
        mounts.append(mount)
    return volumes, mounts


def _container(spec: RunSpec, image: str) -> dict[str, Any]:
    options = spec.engine_options
    container: dict[str, Any] = {
        "name": CONTAINER,
        "image": image,
        "imagePullPolicy": options.get("image_pull_policy", "IfNotPresent"),
        "env": [{"name": k, "value": v} for k, v in spec.env.items()],
        "tty": spec.tty,
        "stdin": spec.stdin_open,
    }
    if spec.entrypoint is not None:
        container["command"] = list(spec.entrypoint)
    if spec.command is not None:
        container["args"] = list(spec.command)
    if spec.working_dir:
        container["workingDir"] = spec.working_dir
    ports = []
    for key in spec.ports:
        number, _, protocol = key.partition("/")
        ports.append({"containerPort": int(number), "protocol": (protocol or "tcp").upper()})
    if ports:
        container["ports"] = ports
    security = _security(spec)
    if security:
        container["securityContext"] = security
    return container


def manifest(spec: RunSpec, image: str, namespace: str) -> dict[str, Any]:
    """Return the pod manifest of ``spec`` (``image``: the reference to run).

    Engine options: ``image_pull_policy`` (``IfNotPresent``), ``termination_grace_period``
    (seconds, :data:`GRACE_SECONDS`), ``node_name``, ``service_account``.

    Raises:
        InvalidArgument: ``spec`` asks what a pod cannot be (a named network, a user name,
            an invalid name).
        UnsupportedOperation: ``auto_remove`` (nothing removes an exited pod).
    """
    if spec.auto_remove:
        raise UnsupportedOperation("kubernetes", "create_container(auto_remove=True)")
    if spec.network not in (None, "host", "bridge", "default"):
        msg = (
            "a Kubernetes pod has the cluster's network or the node's ('host'),"
            f" not {spec.network!r}"
        )
        raise InvalidArgument(msg)
    options = spec.engine_options
    volumes, mounts = _volumes(spec)
    container = _container(spec, image)
    if mounts:
        container["volumeMounts"] = mounts
    pod_spec: dict[str, Any] = {
        "containers": [container],
        "restartPolicy": "Never",
        "terminationGracePeriodSeconds": int(
            options.get("termination_grace_period", GRACE_SECONDS)
        ),
        "enableServiceLinks": False,
        "automountServiceAccountToken": False,
        "hostNetwork": spec.network == "host",
    }
    for option, field in (("node_name", "nodeName"), ("service_account", "serviceAccountName")):
        if options.get(option):
            pod_spec[field] = options[option]
    if volumes:
        pod_spec["volumes"] = volumes
    if spec.hostname:
        pod_spec["hostname"] = spec.hostname
    metadata = {
        "name": pod_name(spec),
        "namespace": namespace,
        "labels": pod_labels(spec.labels),
        "annotations": {LABELS_ANNOTATION: json.dumps(dict(spec.labels), sort_keys=True)},
    }
    return {"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": pod_spec}


def container_status(pod: Mapping[str, Any]) -> dict[str, Any]:
    """Return the status of the pod's main container (``{}`` before the kubelet reports)."""
    for status in pod.get("status", {}).get("containerStatuses") or ():
        if status.get("name") == CONTAINER:
            return dict(status)
    statuses = pod.get("status", {}).get("containerStatuses") or ()
    return dict(statuses[0]) if statuses else {}


def state_of(pod: Mapping[str, Any]) -> ContainerState:
    """Map a pod onto a portable state: its container's state, REMOVING once deleted (a pod
    conu stopped, kept by :data:`STOP_FINALIZER`, has its container's state)."""
    metadata = pod.get("metadata", {})
    if metadata.get("deletionTimestamp") and not is_stopped(pod):
        return ContainerState.REMOVING
    state = container_status(pod).get("state") or {}
    if "running" in state:
        return ContainerState.RUNNING
    if "terminated" in state:
        return ContainerState.EXITED
    if pod.get("status", {}).get("phase") in ("Succeeded", "Failed"):
        return ContainerState.EXITED
    return ContainerState.CREATED


def is_stopped(pod: Mapping[str, Any]) -> bool:
    """Tell whether conu stopped ``pod``: it is deleted and kept by :data:`STOP_FINALIZER`."""
    metadata = pod.get("metadata", {})
    return STOP_FINALIZER in (metadata.get("finalizers") or ())


def start_failure(pod: Mapping[str, Any]) -> str | None:
    """Return why the container could not start (a missing command...), or None."""
    state = container_status(pod).get("state") or {}
    for key in ("terminated", "waiting"):
        detail = state.get(key) or {}
        if detail.get("reason") in _FAILED_START:
            return str(detail.get("message") or detail["reason"])
    return None


def _exit_code(pod: Mapping[str, Any]) -> int | None:
    terminated = (container_status(pod).get("state") or {}).get("terminated")
    if terminated is not None:
        return int(terminated.get("exitCode", 0))
    return None if pod.get("status", {}).get("phase") in ("Failed",) else 0


def _labels(metadata: Mapping[str, Any]) -> dict[str, str]:
    stored = (metadata.get("annotations") or {}).get(LABELS_ANNOTATION)
    if stored:
        try:
            return {**(metadata.get("labels") or {}), **json.loads(stored)}
        except ValueError:
            pass
    return dict(metadata.get("labels") or {})


def info_of(pod: Mapping[str, Any], image_env: tuple[str, ...] = ()) -> ContainerInfo:
    """Return the :class:`ContainerInfo` of ``pod`` (``image_env``: its image's environment,
    which the container's own entries override)."""
    metadata = pod.get("metadata", {})
    spec = pod.get("spec", {})
    status = pod.get("status", {})
    main = next((c for c in spec.get("containers", ()) if c.get("name") == CONTAINER), None)
    main = main or (spec.get("containers") or [{}])[0]
    own = {e["name"]: e.get("value", "") for e in main.get("env") or () if "name" in e}
    inherited = [item for item in image_env if item.split("=", 1)[0] not in own]
    addresses = [a["ip"] for a in status.get("podIPs") or () if "." in a.get("ip", "")]
    if not addresses and status.get("podIP"):
        addresses = [status["podIP"]]
    ports = {
        f"{p['containerPort']}/{p.get('protocol', 'TCP').lower()}": None
        for p in main.get("ports") or ()
    }
    image_id = container_status(pod).get("imageID") or None
    return ContainerInfo(
        id=f"{metadata.get('namespace')}/{metadata.get('name')}",
        name=metadata.get("name"),
        image=main.get("image"),
        image_id=image_id,
        state=state_of(pod),
        exit_code=_exit_code(pod),
        labels=_labels(metadata),
        env=(*inherited, *(f"{k}={v}" for k, v in own.items())),
        command=main.get("args"),
        hostname=spec.get("hostname") or metadata.get("name"),
        ports=ports,
        exposed_ports=tuple(ports),
        requested_ports={key: () for key in ports},
        ipv4_addresses=addresses,
        ipv6_addresses=[a["ip"] for a in status.get("podIPs") or () if ":" in a.get("ip", "")],
        network_mode="host" if spec.get("hostNetwork") else "pod",
        created=metadata.get("creationTimestamp"),
        raw=pod,
    )
