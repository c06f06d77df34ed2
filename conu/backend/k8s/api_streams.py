"""The streamed requests of :class:`~conu.backend.k8s.api.KubeApi`: a response read as it
arrives, watches (list, then watch from the list's resourceVersion, bounded) and ``exec``
WebSockets. Errors are translated as in every request of the boundary.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from conu.backend.k8s.errors import api_error, translate, unreachable
from conu.exceptions import ProbeTimeout

__all__ = ["PORTFORWARD_PROTOCOL", "Query", "StreamsMixin"]

HANDSHAKE_TIMEOUT = 10.0
"""Seconds to open a ``portforward`` WebSocket (and for each of its frames to arrive)."""
PORTFORWARD_PROTOCOL = "v4.channel.k8s.io"
"""The WebSocket subprotocol of ``portforward``: binary frames, one channel byte first."""

Query = Mapping[str, Any]


class StreamsMixin:
    """Streams over the connection's ``request`` and ``_serialize``."""

    client: Any
    describe: Callable[[], str]
    request: Callable[..., Any]
    _serialize: Callable[..., tuple[Any, ...]]

    def stream_chunks(self, response: Any, what: str, size: int = 65536) -> Iterator[bytes]:
        """Yield the body of a streamed response as it arrives (one HTTP chunk at a time for
        chunked answers: logs followed, watches), releasing it at the end or when closed."""
        try:
            chunked = bool(getattr(response, "chunked", False))
            parts = (
                response.read_chunked(size) if chunked else iter(lambda: response.read(size), b"")
            )
            while True:
                try:
                    chunk = next(parts, b"")
                except Exception as exc:  # urllib3's read errors
                    raise unreachable(self.describe(), what, exc) from exc
                if not chunk:
                    return
                yield chunk
        finally:
            response.close()  # never hand a half-read connection back to the pool
            response.release_conn()

    def watch(
        self,
        path: str,
        *,
        what: str,
        query: Query | None = None,
        timeout: float,
    ) -> Iterator[tuple[str, dict[str, Any]]]:
        """Yield ``("LISTED", item)`` for each current item of the collection at ``path``,
        ``("SYNCED", {})`` once they are all listed, then ``(event type, object)`` for each
        change (``ADDED``, ``MODIFIED``, ``DELETED``), for at most ``timeout`` seconds.

        Raises:
            ProbeTimeout: ``timeout`` passed (the caller stops iterating when satisfied).
        """
        deadline = time.monotonic() + timeout
        listed = self.request("GET", path, what=what, query=query)
        for item in listed.get("items", []):
            yield "LISTED", item
        yield "SYNCED", {}
        version = listed.get("metadata", {}).get("resourceVersion")
        while (left := deadline - time.monotonic()) > 0:
            watch_query = {
                **(query or {}),
                "watch": "true",
                "resourceVersion": version,
                "timeoutSeconds": max(1, int(left + 0.999)),
                "allowWatchBookmarks": "true",
            }
            response = self.request(
                "GET", path, what=what, query=watch_query, stream=True, timeout=left + 10
            )
            for kind, item in _events(self.stream_chunks(response, what)):
                if kind == "ERROR":
                    raise api_error(what, item)
                version = item.get("metadata", {}).get("resourceVersion", version)
                if kind != "BOOKMARK":
                    yield kind, item
                if time.monotonic() > deadline:
                    break
        msg = f"timed out after {timeout:g} s waiting to {what}"
        raise ProbeTimeout(msg)

    def exec(
        self,
        path: str,
        command: Sequence[str],
        *,
        what: str,
        container: str,
        stdin: bool = False,
        tty: bool = False,
    ) -> Any:
        """Open an ``exec`` WebSocket to the pod at ``path``; return the client's
        ``WSClient`` (binary channels).

        Raises:
            EngineUnreachable: the API server does not answer.
            Conflict, EngineError: it refused (the container does not run...).
        """
        from kubernetes.stream.ws_client import WSClient, get_websocket_url

        query: dict[str, Any] = {
            "command": list(command),
            "container": container,
            "stdout": "true",
            "stderr": "false" if tty else "true",
            "stdin": "true" if stdin else "false",
            "tty": "true" if tty else "false",
        }
        _, url, headers, *_ = self._serialize("GET", path + "/exec", None, None)
        pairs = [(k, v) for k, values in query.items() for v in _as_list(values)]
        from urllib.parse import urlencode

        url = get_websocket_url(url + "?" + urlencode(pairs))
        try:
            return WSClient(self.client.configuration, url, headers, False, binary=True)
        except Exception as exc:  # websocket's handshake errors carry the status
            raise self._handshake_error(what, exc) from exc

    def portforward(self, path: str, port: int, *, what: str) -> Any:
        """Open a ``portforward`` WebSocket to ``port`` of the pod at ``path``; return the
        connected ``websocket.WebSocket`` (binary frames: a channel byte, then data; data on
        channel 0, errors on 1; the first frame of each channel starts with the port).

        Raises:
            EngineUnreachable: the API server does not answer.
            Conflict, EngineError: it refused (the pod does not run...).
        """
        from kubernetes.stream.ws_client import get_websocket_url
        from websocket import WebSocket

        _, url, headers, *_ = self._serialize("GET", path + "/portforward", None, None)
        url = get_websocket_url(f"{url}?ports={int(port)}")
        header = [f"sec-websocket-protocol: {PORTFORWARD_PROTOCOL}"]
        header += [f"{k}: {v}" for k, v in headers.items() if k.lower() == "authorization"]
        ws = WebSocket(sslopt=_ssl_options(self.client.configuration))
        try:
            ws.connect(url, header=header, timeout=HANDSHAKE_TIMEOUT)
        except Exception as exc:  # as for exec
            ws.close()
            raise self._handshake_error(what, exc) from exc
        return ws

    def _handshake_error(self, what: str, exc: Exception) -> Exception:
        status = getattr(exc, "status_code", None)
        if status:
            body = getattr(exc, "resp_body", b"") or b""
            return translate(what, status, body)
        return unreachable(self.describe(), what, exc)


def _ssl_options(configuration: Any) -> dict[str, Any]:
    """The ``websocket`` client's TLS options for the kubeconfig's ``configuration``."""
    import ssl

    if not configuration.verify_ssl:
        options: dict[str, Any] = {"cert_reqs": ssl.CERT_NONE}
    else:
        options = {"cert_reqs": ssl.CERT_REQUIRED}
        if configuration.ssl_ca_cert:
            options["ca_certs"] = configuration.ssl_ca_cert
        if configuration.assert_hostname is not None:
            options["check_hostname"] = configuration.assert_hostname
    for key, value in (
        ("certfile", configuration.cert_file),
        ("keyfile", configuration.key_file),
        ("server_hostname", configuration.tls_server_name),
    ):
        if value:
            options[key] = value
    return options


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else [value]


def _events(chunks: Iterator[bytes]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Split a watch stream (one JSON event per line) into ``(type, object)`` pairs."""
    pending = b""
    for chunk in chunks:
        pending += chunk
        *lines, pending = pending.split(b"\n")
        for line in lines:
            if line.strip():
                event = json.loads(line)
                yield event.get("type", ""), event.get("object", {})
