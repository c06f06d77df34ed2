"""Sessions on a cluster: one namespace per conu session, and the sweep of what it made.

The session's namespace, ``conu-<session id>``, is created on first use and carries the
session labels (the owner, ``host/pid``, is not a valid label value: every label is kept
exactly in the :data:`~conu.backend.k8s.pods.LABELS_ANNOTATION` annotation).

:meth:`SessionsMixin.remove_session` maps the engine interface's resource kinds onto the
cluster's: ``containers`` are the session's deployments and pods (in every namespace),
``networks`` its services and namespaces; a cluster has no session volumes or images.
"""

from __future__ import annotations

import contextlib
import json
import re
import threading
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from conu.apidefs.engine import RESOURCE_KINDS
from conu.backend.k8s.pods import LABELS_ANNOTATION, is_stopped, pod_labels
from conu.exceptions import Conflict, NotFound, ProbeTimeout
from conu.labels import SESSION_ID, SESSION_LABEL, session_labels

if TYPE_CHECKING:
    from conu.backend.k8s.api import KubeApi

__all__ = ["ACCOUNT_TIMEOUT", "SessionsMixin", "session_namespace"]

ACCOUNT_TIMEOUT = 60.0
"""Seconds a new namespace may take to get its ``default`` service account."""

NAMESPACE_TIMEOUT = 120.0
"""Seconds a namespace being deleted may take to disappear."""

_KINDS = {
    "containers": (("/apis/apps/v1", "deployments"), ("/api/v1", "pods")),
    "networks": (("/api/v1", "services"), ("/api/v1", "namespaces")),
}
_SWEPT = (
    ("/api/v1", "namespaces"),
    ("/api/v1", "pods"),
    ("/apis/apps/v1", "deployments"),
    ("/api/v1", "services"),
)


def session_namespace(session: str = SESSION_ID) -> str:
    """Return the name of session ``session``'s namespace (a valid DNS label)."""
    name = re.sub(r"[^a-z0-9-]+", "-", f"conu-{session}".lower())[:63]
    return name.rstrip("-")


def _labels(item: Mapping[str, Any]) -> dict[str, str]:
    metadata = item.get("metadata", {})
    labels = dict(metadata.get("labels") or {})
    stored = (metadata.get("annotations") or {}).get(LABELS_ANNOTATION)
    if stored:
        with contextlib.suppress(ValueError):
            labels.update(json.loads(stored))
    return labels


class SessionsMixin:
    """The session's namespace, and sweeping sessions."""

    api: KubeApi
    _namespace: str | None
    release: Callable[[str, str], None]

    def _namespace_state(self) -> tuple[threading.Lock, set[str]]:
        state = self.__dict__.get("_ns_state")
        if state is None:
            state = self.__dict__["_ns_state"] = (threading.Lock(), set())
        return state

    @property
    def namespace(self) -> str:
        """The namespace containers are created in: the one given, or the session's."""
        return self._namespace or session_namespace()

    def ensure_namespace(self) -> str:
        """Create the session's namespace on first use (and wait until pods can be made
        in it: its ``default`` service account exists); return its name."""
        lock, ready = self._namespace_state()
        name = self.namespace
        with lock:
            if name in ready:
                return name
            if self._namespace is None:
                self.create_namespace(name)
            ready.add(name)
        return name

    def create_namespace(self, name: str, labels: Mapping[str, str] | None = None) -> None:
        """Create namespace ``name`` with the session labels (it may exist already) and
        wait, bounded, for its ``default`` service account.

        Raises:
            ProbeTimeout: the account did not appear within :data:`ACCOUNT_TIMEOUT`.
        """
        every = {**session_labels(), **(labels or {})}
        body = {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {
                "name": name,
                "labels": pod_labels(every),
                "annotations": {LABELS_ANNOTATION: json.dumps(every, sort_keys=True)},
            },
        }
        what = f"create namespace {name}"
        try:
            self.api.request("POST", "/api/v1/namespaces", what=what, body=body)
        except Conflict:  # made already (by this session, or given), or still being deleted
            if self._terminating(name):
                self.api.request("POST", "/api/v1/namespaces", what=what, body=body)
        what = f"see the default service account of namespace {name}"
        query = {"fieldSelector": "metadata.name=default"}
        path = f"/api/v1/namespaces/{name}/serviceaccounts"
        for kind, account in self.api.watch(path, what=what, query=query, timeout=ACCOUNT_TIMEOUT):
            # Until its token secret is made, pods that mount the token are refused (1.20).
            if kind in ("LISTED", "ADDED", "MODIFIED") and account.get("secrets"):
                return
        raise ProbeTimeout(f"timed out waiting to {what}")  # pragma: no cover (watch raises)

    def _terminating(self, name: str) -> bool:
        """Wait until namespace ``name`` is gone if it is being deleted; tell whether it was."""
        what = f"see namespace {name} deleted"
        query = {"fieldSelector": f"metadata.name={name}"}
        terminating = False
        for kind, item in self.api.watch(
            "/api/v1/namespaces", what=what, query=query, timeout=NAMESPACE_TIMEOUT
        ):
            if kind == "LISTED":
                terminating = item.get("status", {}).get("phase") == "Terminating"
            elif kind == "SYNCED" and not terminating:
                return False
            elif kind == "DELETED":
                return True
        return terminating  # pragma: no cover (watch raises ProbeTimeout)

    def _session_items(self, prefix: str, plural: str, session: str | None) -> list[dict[str, Any]]:
        selector = f"{SESSION_LABEL}={session}" if session else SESSION_LABEL
        path = f"{prefix}/{plural}"
        listed = self.api.request(
            "GET", path, what=f"list {plural}", query={"labelSelector": selector}
        )
        return list(listed.get("items", []))

    def list_session_labels(self) -> list[Mapping[str, str]]:
        """Return the labels of every namespace, pod, deployment and service of a session."""
        return [
            _labels(item)
            for prefix, plural in _SWEPT
            for item in self._session_items(prefix, plural, None)
        ]

    def remove_session(self, session: str, kinds: Iterable[str] = RESOURCE_KINDS) -> dict[str, int]:
        """Delete session ``session``'s deployments and pods (``containers``), services
        and namespaces (``networks``), at once (no grace period); return how many of each
        kind were found. A deleted namespace disappears shortly after, with its contents."""
        counts = {kind: 0 for kind in kinds}
        for kind in kinds:
            for prefix, plural in _KINDS.get(kind, ()):
                for item in self._session_items(prefix, plural, session):
                    counts[kind] += self._delete(prefix, plural, item)
        if "networks" in counts and session == SESSION_ID:
            self._namespace_state()[1].clear()
        return counts

    def _delete(self, prefix: str, plural: str, item: Mapping[str, Any]) -> int:
        metadata = item.get("metadata", {})
        ns = metadata.get("namespace")
        where = f"namespaces/{ns}/" if ns else ""
        path = f"{prefix}/{where}{plural}/{metadata['name']}"
        body: dict[str, Any] = {"propagationPolicy": "Background"}
        if plural == "pods":
            body["gracePeriodSeconds"] = 0
            if is_stopped(item):
                self.release(path, f"let stopped pod {ns}/{metadata['name']} go")
        elif plural == "namespaces":
            self._release_stopped(metadata["name"])
        try:
            self.api.request(
                "DELETE", path, what=f"delete {plural[:-1]} {metadata['name']}", body=body
            )
        except NotFound:
            return 0  # gone meanwhile (its namespace went first)
        return 1

    def _release_stopped(self, namespace: str) -> None:
        """Let go of the stopped pods of ``namespace``, which would keep it from going."""
        path = f"/api/v1/namespaces/{namespace}/pods"
        listed = self.api.request("GET", path, what=f"list pods of namespace {namespace}")
        for pod in listed.get("items", []):
            if is_stopped(pod):
                name = pod["metadata"]["name"]
                self.release(f"{path}/{name}", f"let stopped pod {namespace}/{name} go")
