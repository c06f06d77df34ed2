"""The one boundary between conu and a Kubernetes API server.

:class:`KubeApi` loads a kubeconfig (or the in-cluster service account) with the official
``kubernetes`` client, imported on first use, and sends every request through
:meth:`KubeApi.request`, :meth:`KubeApi.watch` or :meth:`KubeApi.exec`: the client's
transport, authentication and WebSocket channel protocol are used, its generated models are
not (the API's own JSON documents are returned, as ``kubectl get -o json`` shows them).
Errors are translated into :mod:`conu.exceptions` here and nowhere else
(:func:`conu.backend.k8s.errors.translate`), with the client's exception as ``__cause__``.
"""

from __future__ import annotations

import json
import os
import threading
from typing import Any

from conu.backend.k8s.api_streams import Query, StreamsMixin
from conu.backend.k8s.errors import translate, unreachable
from conu.exceptions import ConuException, EngineUnreachable

__all__ = ["CONNECT_TIMEOUT", "READ_TIMEOUT", "KubeApi", "Query"]

CONNECT_TIMEOUT = 5.0
"""Seconds to open a connection to the API server (an unreachable cluster fails in ~5 s)."""
READ_TIMEOUT = 60.0
"""Seconds the API server may stay silent on a plain request."""
PROBE_TIMEOUT = 8.0
"""Seconds the first request (``/version``) may wait for an answer."""


class KubeApi(StreamsMixin):
    """A connection to one cluster: kubeconfig (and context), or the in-cluster account.

    Args:
        kubeconfig: path of the kubeconfig; ``$KUBECONFIG`` (its first file), then
            ``~/.kube/config``, then the in-cluster service account when None.
        context: the kubeconfig context; its current context when None.
    """

    def __init__(self, kubeconfig: str | None = None, context: str | None = None) -> None:
        self.kubeconfig = kubeconfig or _default_kubeconfig()
        self.context = context
        self.token: str | None = None
        """A bearer token used instead of the kubeconfig's credentials (set before use)."""
        self._client: Any = None
        self._lock = threading.Lock()

    def describe(self) -> str:
        """Say which cluster this is, for messages: kubeconfig, context and server."""
        where = f"kubeconfig {self.kubeconfig!r}" if self.kubeconfig else "in-cluster config"
        context = f", context {self.context!r}" if self.context else ""
        host = f" (server {self._client.configuration.host})" if self._client else ""
        return f"{where}{context}{host}"

    @property
    def client(self) -> Any:
        """The client's ``ApiClient``, created on first use.

        Raises:
            EngineUnreachable: the kubeconfig cannot be loaded.
        """
        with self._lock:
            if self._client is None:
                client = self._load()
                self._check(client)
                self._client = client
        return self._client

    def _check(self, client: Any) -> None:
        """Ask ``/version`` once, with short timeouts: an unreachable cluster is reported
        within ``CONNECT_TIMEOUT + PROBE_TIMEOUT`` seconds, naming the kubeconfig."""
        params = client.param_serialize(
            method="GET",
            resource_path="/version",
            header_params={"Accept": "application/json"},
            auth_settings=["BearerToken"],
        )
        try:
            answer = client.call_api(*params, _request_timeout=(CONNECT_TIMEOUT, PROBE_TIMEOUT))
            answer.response.read()
            answer.response.release_conn()
        except Exception as exc:  # urllib3's errors, or the client's ApiException
            where = f"{self.describe()} (server {client.configuration.host})"
            msg = f"the Kubernetes cluster of {where} does not answer: {type(exc).__name__}: {exc}"
            raise EngineUnreachable(msg) from exc

    def _load(self) -> Any:
        try:  # the SDK is imported on first use only
            from kubernetes import client, config
        except ImportError as exc:
            msg = (
                "the kubernetes backend needs the kubernetes client: pip install 'conu[kubernetes]'"
            )
            raise EngineUnreachable(msg) from exc

        configuration = client.Configuration()
        try:
            if self.kubeconfig and os.path.exists(self.kubeconfig):
                config.load_kube_config(
                    self.kubeconfig, self.context, client_configuration=configuration
                )
            elif self.kubeconfig is None and "KUBERNETES_SERVICE_HOST" in os.environ:
                config.load_incluster_config(client_configuration=configuration)
            else:
                msg = f"no kubeconfig at {self.kubeconfig!r}: set KUBECONFIG or pass kubeconfig="
                raise EngineUnreachable(msg)
        except (config.ConfigException, OSError, ValueError, TypeError) as exc:
            msg = f"cannot load the Kubernetes {self.describe()}: {exc}"
            raise EngineUnreachable(msg) from exc
        if self.token:
            configuration.api_key["BearerToken"] = f"Bearer {self.token}"
        configuration.retries = 0  # fail fast: one try, CONNECT_TIMEOUT each
        return client.ApiClient(configuration)

    # -- requests ---------------------------------------------------------------------------

    def _serialize(
        self,
        method: str,
        path: str,
        query: Query | None,
        body: Any,
        content_type: str = "application/json",
    ) -> tuple[Any, ...]:
        pairs = [(k, _query_value(v)) for k, v in (query or {}).items() if v is not None]
        headers = {"Accept": "application/json", "Content-Type": content_type}
        return tuple(
            self.client.param_serialize(
                method=method,
                resource_path=path,
                query_params=pairs,
                header_params=headers,
                body=body,
                auth_settings=["BearerToken"],
            )
        )

    def request(
        self,
        method: str,
        path: str,
        *,
        what: str,
        query: Query | None = None,
        body: Any = None,
        content_type: str = "application/json",
        timeout: float = READ_TIMEOUT,
        stream: bool = False,
        not_found: type[ConuException] | None = None,
    ) -> Any:
        """Send one request; return the decoded JSON answer (the raw, unread response of
        ``urllib3`` with ``stream=True``, for the caller to read and release).

        Args:
            method: ``"GET"``, ``"POST"``, ``"PATCH"``, ``"DELETE"``...
            path: the API path (``/api/v1/namespaces/x/pods``).
            what: what is done, for messages (``"create pod 'x/y'"``).
            query: query parameters (None values are left out).
            body: the JSON body (a dict).
            content_type: its type (``application/merge-patch+json`` for merge patches).
            timeout: seconds the server may stay silent.
            stream: return the response unread (logs, watches).
            not_found: the exception of a 404 (NotFound by default).

        Raises:
            EngineUnreachable: the API server does not answer.
            NotFound, Conflict, InvalidArgument, EngineError: it refused (see
                :func:`conu.backend.k8s.errors.translate`).
        """
        params = self._serialize(method, path, query, body, content_type)
        try:
            answer = self.client.call_api(*params, _request_timeout=(CONNECT_TIMEOUT, timeout))
        except Exception as exc:  # the client's transport errors: urllib3's, or ApiException
            raise unreachable(self.describe(), what, exc) from exc
        response = answer.response
        if not 200 <= answer.status <= 299:
            data = response.read()
            response.release_conn()
            raise translate(what, answer.status, data, not_found=not_found)
        if stream:
            return response
        try:
            data = response.read()
        finally:
            response.release_conn()
        return json.loads(data) if data else {}


def _default_kubeconfig() -> str | None:
    value = os.environ.get("KUBECONFIG")
    if value:
        return value.split(os.pathsep)[0]
    home = os.path.expanduser("~/.kube/config")
    if os.path.exists(home) or "KUBERNETES_SERVICE_HOST" not in os.environ:
        return home
    return None


def _query_value(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    return value
