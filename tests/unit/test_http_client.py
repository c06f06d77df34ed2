"""Unit tests of ``conu.utils.http_client`` against a loopback ``http.server``."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from conu.utils.http_client import HttpClient, get_url


class EchoHandler(BaseHTTPRequestHandler):
    """Answers every GET with a JSON document describing the request."""

    def do_GET(self) -> None:
        body = json.dumps({"path": self.path, "headers": dict(self.headers)}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Keep the test output quiet."""


class IPv6Server(ThreadingHTTPServer):
    address_family = socket.AF_INET6


def serve(server: ThreadingHTTPServer) -> Iterator[int]:
    """Serve in a thread while the caller uses the port; shut down afterwards."""
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture(autouse=True)
def no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep a proxy configured in the environment away from loopback requests."""
    for name in (
        "http_proxy",
        "https_proxy",
        "all_proxy",
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "*")


@pytest.fixture
def port() -> Iterator[int]:
    yield from serve(ThreadingHTTPServer(("127.0.0.1", 0), EchoHandler))


@pytest.fixture
def port6() -> Iterator[int]:
    try:
        server = IPv6Server(("::1", 0), EchoHandler)
    except OSError:
        pytest.skip("::1 is not available")
    yield from serve(server)


@pytest.mark.parametrize(
    ("args", "url"),
    [
        (("/", "172.1.1.1", 80), "http://172.1.1.1:80/"),
        (("/app", "domain.example.org", 443), "http://domain.example.org:443/app"),
        (("app?x=1", "localhost", "8080"), "http://localhost:8080/app?x=1"),
        (("", "localhost", 8080), "http://localhost:8080"),
        (("/", "::1", 8080), "http://[::1]:8080/"),
        (("/", "[fd00::2]", 8080), "http://[fd00::2]:8080/"),
    ],
)
def test_get_url(args: tuple[str, str, int | str], url: str) -> None:
    assert get_url(*args) == url


def test_get_url_scheme() -> None:
    assert get_url("/", "example.org", 8443, method="https") == "https://example.org:8443/"


def test_client_sends_path_to_host_and_port(port: int) -> None:
    with HttpClient("127.0.0.1", port) as client:
        response = client.get("/hello?x=1")
    assert response.status_code == 200
    assert response.url == f"http://127.0.0.1:{port}/hello?x=1"
    assert response.json()["path"] == "/hello?x=1"


def test_client_keeps_params(port: int) -> None:
    with HttpClient("127.0.0.1", str(port)) as client:
        response = client.get("/q", params={"a": "b"})
    assert response.json()["path"] == "/q?a=b"


def test_client_leaves_full_urls_alone(port: int) -> None:
    with HttpClient("192.0.2.1", 1) as client:
        response = client.get(f"http://127.0.0.1:{port}/full")
    assert response.json()["path"] == "/full"


def test_client_starts_from_session(port: int) -> None:
    session = requests.Session()
    session.headers["X-Conu"] = "yes"
    with HttpClient("127.0.0.1", port, session) as client:
        assert client.session is session
        headers = client.get("/").json()["headers"]
    assert headers["X-Conu"] == "yes"


def test_client_ipv6(port6: int) -> None:
    with HttpClient("::1", port6) as client:
        response = client.get("/six")
    assert response.json()["path"] == "/six"
