"""Pod ports reached through the API server, as ``kubectl port-forward`` does.

When the caller cannot route to a pod's IP (a cluster elsewhere), :class:`PortForwarder`
listens on a free port of 127.0.0.1 for each pod port asked for, and relays every accepted
connection over a ``portforward`` WebSocket of its own. A listener lives until its pod is
removed, the engine is closed, or the process ends (its threads are daemons).

Whether a port accepts cannot be told by connecting to the listener (it always accepts):
:meth:`PortForwarder.probe` opens a stream and waits :data:`SETTLE` seconds after the
kubelet's greeting for the error it sends when nothing listens in the pod.
"""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import select
import socket
import struct
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from conu.exceptions import ConuException

if TYPE_CHECKING:
    from conu.backend.k8s.api import KubeApi

__all__ = ["SETTLE", "PortForwarder", "routable"]

logger = logging.getLogger(__name__)

SETTLE = 0.3
"""Seconds a probe waits, after the kubelet's greeting, for the error of a closed port."""
_DATA, _ERROR = 0, 1
_CHUNK = 65536


def routable(address: str, routes: str = "/proc/net/route") -> bool:
    """Tell whether this host reaches ``address`` directly: one of its own addresses, or
    in a network of a route that is not the default route (``routes``: Linux's table)."""
    try:
        ip = ipaddress.IPv4Address(address)
    except ValueError:
        return False
    if ip.is_loopback:
        return True
    with contextlib.suppress(OSError), socket.socket() as probe:
        probe.bind((address, 0))  # an address of this host
        return True
    try:
        lines = Path(routes).read_text().splitlines()[1:]
    except OSError:
        return False
    for line in lines:
        fields = line.split()
        if len(fields) < 8:
            continue
        # Destination and Mask: network-order bytes printed as a host-order (little) int.
        network, mask = (struct.unpack("<I", bytes.fromhex(f))[0] for f in (fields[1], fields[7]))
        if mask and int(ip) & mask == network:
            return True
    return False


class PortForwarder:
    """Local listeners relaying to pod ports through the API server of ``api``."""

    def __init__(self, api: KubeApi) -> None:
        self.api = api
        self._lock = threading.Lock()
        self._listeners: dict[tuple[str, int], _Listener] = {}

    def local_port(self, pod_id: str, path: str, port: int) -> int:
        """Return the port of 127.0.0.1 relaying to ``port`` of the pod at ``path``
        (``pod_id`` keys it), listening from now on."""
        with self._lock:
            listener = self._listeners.get((pod_id, port))
            if listener is None or listener.closed:
                listener = _Listener(self.api, path, port)
                self._listeners[pod_id, port] = listener
        return listener.port

    def probe(self, path: str, port: int, timeout: float) -> bool:
        """Tell whether a process of the pod at ``path`` accepts on ``port``: open a stream,
        read the kubelet's greeting, and wait :data:`SETTLE` seconds for its error."""
        what = f"forward port {port} of {path.rsplit('/', 3)[-3]}/{path.rsplit('/', 1)[-1]}"
        try:
            ws = self.api.portforward(path, port, what=what)
        except ConuException:
            return False
        from websocket import WebSocketException, WebSocketTimeoutException

        try:
            ws.settimeout(max(timeout, SETTLE))
            stream = _Stream(ws)
            while not stream.greeted:
                if stream.read() is None:
                    return False
            ws.settimeout(SETTLE)
            try:
                frame = stream.read()
            except WebSocketTimeoutException:  # silence: the kubelet connected
                return True
            return frame is not None and stream.error is None
        except (WebSocketException, OSError):
            return False
        finally:
            ws.close()

    def close(self, pod_id: str | None = None) -> None:
        """Stop the listeners of ``pod_id`` (of every pod when None)."""
        with self._lock:
            keys = [k for k in self._listeners if pod_id is None or k[0] == pod_id]
            listeners = [self._listeners.pop(k) for k in keys]
        for listener in listeners:
            listener.close()


class _Stream:
    """The frames of one ``portforward`` WebSocket: the greeting (each channel's first
    two bytes: the port), data, and the error text."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.greeting = {_DATA: b"", _ERROR: b""}
        self.error: str | None = None

    @property
    def greeted(self) -> bool:
        return all(len(v) >= 2 for v in self.greeting.values())

    def read(self) -> bytes | None:
        """Return the next data (``b""`` for none yet), or None once the stream ended."""
        from websocket import ABNF

        opcode, payload = self.ws.recv_data(control_frame=True)  # a ping must not block
        if opcode == ABNF.OPCODE_CLOSE:
            return None
        if opcode not in (ABNF.OPCODE_BINARY, ABNF.OPCODE_CONT) or not payload:
            return b""
        channel, data = payload[0], payload[1:]
        if channel in self.greeting and len(self.greeting[channel]) < 2:
            taken = 2 - len(self.greeting[channel])
            self.greeting[channel] += data[:taken]
            data = data[taken:]
        if channel == _ERROR and data:
            self.error = data.decode(errors="replace")
            return None
        return data if channel == _DATA else b""

    def send(self, data: bytes) -> None:
        self.ws.send_binary(bytes([_DATA]) + data)

    def pending(self) -> bool:
        sock = getattr(self.ws, "sock", None)
        return bool(sock is not None and hasattr(sock, "pending") and sock.pending())


class _Listener:
    """127.0.0.1:<free port>, relaying each connection over a stream of its own."""

    def __init__(self, api: KubeApi, path: str, port: int) -> None:
        self.api, self.path, self.target = api, path, port
        self.closed = False
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = int(self.server.getsockname()[1])
        name = f"conu-k8s-forward-{port}"
        threading.Thread(target=self._accept, name=name, daemon=True).start()

    def close(self) -> None:
        self.closed = True
        with contextlib.suppress(OSError):
            self.server.shutdown(socket.SHUT_RDWR)
        self.server.close()

    def _accept(self) -> None:
        while not self.closed:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return  # closed
            name = f"conu-k8s-relay-{self.target}"
            threading.Thread(target=self._relay, args=(conn,), name=name, daemon=True).start()

    def _relay(self, conn: socket.socket) -> None:
        what = f"forward port {self.target} of {self.path}"
        try:
            ws = self.api.portforward(self.path, self.target, what=what)
        except ConuException as exc:
            logger.debug("cannot %s: %s", what, exc)
            conn.close()
            return
        from websocket import WebSocketException

        stream = _Stream(ws)
        started = time.monotonic()
        try:
            _pump(conn, stream)
        except (WebSocketException, OSError) as exc:
            logger.debug("%s ended: %s", what, exc)
        finally:
            if stream.error:
                logger.debug("%s: %s", what, stream.error)
            logger.debug("%s: relayed for %.1f s", what, time.monotonic() - started)
            ws.close()
            conn.close()


def _pump(conn: socket.socket, stream: _Stream) -> None:
    """Copy bytes both ways until either side ends (or the listener's pod went)."""
    ws_sock = stream.ws.sock
    while True:
        ready = [ws_sock] if stream.pending() else select.select([conn, ws_sock], [], [])[0]
        if conn in ready:
            data = conn.recv(_CHUNK)
            if not data:
                return
            stream.send(data)
        if ws_sock in ready:
            received = stream.read()
            if received is None:
                return
            if received:
                conn.sendall(received)
