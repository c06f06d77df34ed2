"""Ports and readiness: a process accepts inside the container, seen from the caller."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from conu.apidefs.backend import Capability
from conu.conformance.conftest import HTTPD
from conu.exceptions import ProbeTimeout


def test_wait_for_port_and_http(web: Any) -> None:
    web.wait_for_port(8080, timeout=30)
    assert web.is_port_open(8080)
    response = web.http_request("/index.html", port=8080)
    assert response.status_code == 200
    assert response.text == "hello from conu\n"


def test_closed_port(web: Any) -> None:
    web.wait_for_port(8080, timeout=30)
    assert not web.is_port_open(8081)


def test_port_opened_later(require: Callable[[Capability], None], run: Callable[..., Any]) -> None:
    require(Capability.PORTS)
    late = run(["sh", "-c", "sleep 1; exec " + " ".join(HTTPD)], "-p", "8080")
    assert not late.is_port_open(8080)
    late.wait_for_port(8080, timeout=30)
    assert late.http_request("/index.html", port=8080).ok


def test_wait_for_port_times_out(require: Callable[[Capability], None], sleeper: Any) -> None:
    require(Capability.PORTS)
    with pytest.raises(ProbeTimeout):
        sleeper.wait_for_port(8080, timeout=1)


def test_open_connection(web: Any) -> None:
    web.wait_for_port(8080, timeout=30)
    with web.open_connection(8080) as sock:
        sock.sendall(b"GET /index.html HTTP/1.0\r\n\r\n")
        assert sock.recv(12).startswith(b"HTTP/1.")
