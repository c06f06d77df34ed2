"""conu 1.0's :class:`Service`: a ClusterIP service in front of pods.

Requests go through :class:`~conu.backend.k8s.api.KubeApi` with JSON documents; the service
carries the session labels. Service IPs need a kube-proxy on the way, so
:meth:`Service.http_request` does not connect to them: it goes through the API server's
service proxy (``/api/v1/namespaces/<ns>/services/<name>:<port>/proxy/<path>``), which
works wherever the API server is reachable.
"""

from __future__ import annotations

import json as jsonlib
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import attrs

from conu.backend.k8s.manifests import Document, engine_or_default, labelled, to_document
from conu.exceptions import (
    Conflict,
    ConuException,
    EngineError,
    EngineUnreachable,
    InvalidArgument,
    NotFound,
)

if TYPE_CHECKING:
    from conu.backend.k8s.engine import K8sEngine

__all__ = ["Service", "ServiceResponse"]

_STATUS_OF = ((NotFound, 404), (InvalidArgument, 400), (Conflict, 409), (EngineError, 500))


@attrs.frozen
class ServiceResponse:
    """The answer of :meth:`Service.http_request`, shaped like a ``requests.Response``."""

    status_code: int
    """The HTTP status (approximate for errors: see :meth:`Service.http_request`)."""
    content: bytes
    """The body."""
    headers: dict[str, str] = attrs.field(factory=dict)
    """The headers of the answer (none for errors)."""
    url: str = ""
    """The API path that was asked."""

    @property
    def text(self) -> str:
        """The body, decoded as UTF-8."""
        return self.content.decode("utf-8", "replace")

    @property
    def ok(self) -> bool:
        """Whether the status is below 400."""
        return self.status_code < 400

    def json(self) -> Any:
        """Return the body decoded as JSON (raises ``ValueError`` if it is not)."""
        return jsonlib.loads(self.content)

    def raise_for_status(self) -> None:
        """Raise ConuException if the status is not :attr:`ok`."""
        if not self.ok:
            raise ConuException(f"{self.url} answered {self.status_code}: {self.text}")


def service_port(key: str) -> Document:
    """Return the service port of ``"port[:target][/protocol]"`` (``"80:8080/tcp"``).

    Raises:
        InvalidArgument: ``key`` is malformed.
    """
    ports, _, protocol = str(key).partition("/")
    port, _, target = ports.partition(":")
    if not port.isdigit() or (target and not target.replace("-", "").isalnum()):
        raise InvalidArgument(f"a service port is 'port[:target][/protocol]', not {key!r}")
    protocol = (protocol or "tcp").upper()
    target_port: int | str = int(target) if target.isdigit() else (target or int(port))
    return {
        "name": f"{protocol.lower()}-{port}",
        "port": int(port),
        "targetPort": target_port,
        "protocol": protocol,
    }


class Service:
    """A service (conu 1.0's).

    Args:
        name: its name.
        ports: its ports, e.g. ``["8080"]``, ``["8080/tcp"]`` or ``["80:8080/tcp"]``
            (service port, then the pods' target port).
        namespace: where it is made; the session's namespace (created on first use) when
            None.
        labels: its labels (the session labels are added).
        selector: the labels of the pods it sends to.
        create_in_cluster: create it at once.
        spec: a whole service spec (dict or ``V1ServiceSpec``) instead of ``ports`` and
            ``selector``.
        engine: the cluster; ``K8sEngine.default()`` when None.

    Raises:
        InvalidArgument: a port or ``spec`` is malformed.
    """

    def __init__(
        self,
        name: str,
        ports: Sequence[str],
        namespace: str | None = "default",
        labels: Mapping[str, str] | None = None,
        selector: Mapping[str, str] | None = None,
        create_in_cluster: bool = False,
        spec: Any = None,
        *,
        engine: K8sEngine | None = None,
    ) -> None:
        self._engine = engine_or_default(engine)
        self._api = self._engine.api
        self.name = name
        self.namespace = namespace
        self.ports = list(ports)
        if spec is not None:
            spec = to_document(spec, "a service spec")
        else:
            spec = {"type": "ClusterIP", "ports": [service_port(p) for p in self.ports]}
            if selector:
                spec["selector"] = dict(selector)
        metadata = labelled({"name": name, "labels": dict(labels or {})})
        self.body: Document = {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": metadata,
            "spec": spec,
        }
        self._document: Document = self.body
        if create_in_cluster:
            self.create_in_cluster()

    @classmethod
    def from_document(cls, engine: K8sEngine, document: Mapping[str, Any]) -> Service:
        """Return the service of ``document`` (as the API lists it), without creating it."""
        service = cls.__new__(cls)
        service._engine = engine
        service._api = engine.api
        service.body = service._document = dict(document)
        service.name = document["metadata"]["name"]
        service.namespace = document["metadata"]["namespace"]
        ports = document.get("spec", {}).get("ports") or ()
        service.ports = [f"{p['port']}/{p.get('protocol', 'TCP').lower()}" for p in ports]
        return service

    def __repr__(self) -> str:
        return f"Service(namespace={self.namespace!r}, name={self.name!r})"

    @property
    def _path(self) -> str:
        return f"/api/v1/namespaces/{self.namespace}/services/{self.name}"

    def create_in_cluster(self) -> None:
        """Create the service (in the session's namespace when it has none).

        Raises:
            Conflict: it exists already.
            EngineError: the cluster refused it.
        """
        self.namespace = self.namespace or self._engine.ensure_namespace()
        body = {**self.body, "metadata": {**self.body["metadata"], "namespace": self.namespace}}
        path = f"/api/v1/namespaces/{self.namespace}/services"
        what = f"create service {self.namespace}/{self.name}"
        self._document = self._api.request("POST", path, what=what, body=body)

    def delete(self) -> None:
        """Delete the service.

        Raises:
            NotFound: it does not exist (any more).
        """
        self._api.request("DELETE", self._path, what=f"delete service {self.namespace}/{self.name}")

    def _get(self) -> Document:
        self._document = self._api.request(
            "GET", self._path, what=f"read service {self.namespace}/{self.name}"
        )
        return self._document

    def get_status(self) -> Any:
        """Return the service's status as the ``kubernetes`` client's ``V1ServiceStatus``."""
        from kubernetes.client import V1ServiceStatus

        return V1ServiceStatus.from_dict(self._get().get("status") or {})

    def get_ip(self) -> str | None:
        """Return the service's cluster IP (None for a headless service)."""
        ip = self._get().get("spec", {}).get("clusterIP")
        return None if ip in (None, "", "None") else str(ip)

    def http_request(
        self,
        path: str = "",
        method: str = "GET",
        host: str | None = None,
        port: int | str | None = None,
        json: Any = False,
        data: str | bytes | None = None,
    ) -> ServiceResponse:
        """Send an HTTP request to the service through the API server's service proxy.

        A 2xx answer is returned exactly. The API server's refusals and the pods' own
        non-2xx answers reach conu as exceptions (:class:`~conu.backend.k8s.api.KubeApi`
        raises them), so their status is approximate (404, 400, 409, else 500) and their body
        is the message.

        Args:
            path: the path on the service (``"index.html"``).
            method: the HTTP method.
            host: ignored: the API server decides where the request goes (kept for conu
                1.0's signature).
            port: the service port (number or name); its first port when None.
            json: a body to send as JSON (False: none).
            data: a body to send as is (when ``json`` is False).

        Raises:
            EngineUnreachable: the API server does not answer.
            ProbeTimeout: the service did not answer in time.
        """
        port = port or self._first_port()
        url = f"{self._path}:{port}/proxy/{path.lstrip('/')}"
        body, content_type = (
            (json, "application/json") if json is not False else (data, "application/octet-stream")
        )
        where = f"service {self.namespace}/{self.name}"
        what = f"{method} {path or '/'} of {where} through the API server proxy"
        try:
            response = self._api.request(
                method, url, what=what, body=body, content_type=content_type, stream=True
            )
        except ConuException as exc:
            return _error_response(exc, what, url)
        content = b"".join(self._api.stream_chunks(response, what))
        return ServiceResponse(response.status, content, dict(response.headers), url)

    def _first_port(self) -> int:
        ports = self._document.get("spec", {}).get("ports") or ()
        if not ports:
            raise InvalidArgument(f"service {self.namespace}/{self.name} has no port: pass port=")
        return int(ports[0]["port"])


def _error_response(exc: ConuException, what: str, url: str) -> ServiceResponse:
    """Return the answer a refusal stands for (status from the exception's kind, the
    message as body); re-raise what is no answer (unreachable, timed out)."""
    status = next((code for kind, code in _STATUS_OF if isinstance(exc, kind)), None)
    if status is None or isinstance(exc, EngineUnreachable):
        raise exc
    text = str(exc).removeprefix(f"cannot {what}: ")
    return ServiceResponse(status, text.encode(), url=url)
