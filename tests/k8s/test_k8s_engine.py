"""The Kubernetes engine against a real cluster: pods, HTTP, errors, sessions, the watchdog.

The conformance suite (``make conformance-kubernetes``) covers the generic surface; these
tests cover what is the cluster's own.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conu.apidefs.specs import ContainerState, RunSpec
from conu.backend.k8s import pods as pods_
from conu.backend.k8s.sessions import session_namespace
from conu.exceptions import (
    Conflict,
    ContainerFailed,
    ContainerNotFound,
    EngineUnreachable,
    ImageNotFound,
    UnsupportedOperation,
)
from conu.labels import SESSION_ID, SESSION_LABEL, session_labels
from conu.probes import wait_for

HTTPD = ["httpd", "-f", "-p", "8080", "-h", "/srv/www"]


@pytest.fixture
def pods(k8s_engine: Any, k8s_backend: Any) -> Iterator[list[str]]:
    """Ids of the pods a test made; deleted after it."""
    made: list[str] = []
    yield made
    for cid in made:
        with contextlib.suppress(ContainerNotFound):
            k8s_engine.remove_container(cid, force=True)


def _run(engine: Any, image: Any, pods: list[str], command: list[str], **kw: Any) -> str:
    spec = RunSpec(image=image.get_id(), command=command, labels=session_labels(), **kw)
    cid = engine.create_container(spec)
    pods.append(cid)
    engine.start_container(cid)
    return str(cid)


def test_a_pod_of_the_httpd_image_answers_http(k8s_image: Any, pods: list[str]) -> None:
    container = k8s_image.run_via_binary(command=HTTPD, additional_opts=["-p", "8080"])
    pods.append(container.get_id())
    container.wait_for_port(8080, timeout=60)
    response = container.http_request("/index.html", port=8080)
    assert response.status_code == 200 and response.text == "hello from conu\n"
    assert container.get_IPv4s()[0].startswith("10.244.")


def test_ports_through_the_api_servers_port_forwarding(
    k8s_engine: Any, k8s_image: Any, pods: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(k8s_engine, "port_access", "forward")  # as from another host
    container = k8s_image.run_via_binary(command=HTTPD, additional_opts=["-p", "8080"])
    pods.append(container.get_id())
    endpoint = container.get_endpoint(8080)
    assert endpoint.host == "127.0.0.1" and endpoint.proxied
    container.wait_for_port(8080, timeout=60)
    assert not container.is_port_open(8081)  # the relay accepts; the pod does not
    container.execute(["sh", "-c", "head -c 3000000 /dev/urandom > /srv/www/big"])
    response = container.http_request("/big", port=8080)
    assert response.status_code == 200 and len(response.content) == 3000000
    assert container.http_request("/index.html", port=8080).text == "hello from conu\n"
    container.delete(force=True)
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", endpoint.port), 2):
        pass  # the relay went with its pod


def test_pods_live_in_the_sessions_labelled_namespace(
    k8s_engine: Any, k8s_image: Any, pods: list[str]
) -> None:
    cid = _run(k8s_engine, k8s_image, pods, ["sleep", "300"])
    assert cid.startswith(session_namespace() + "/")
    ns = k8s_engine.api.request("GET", f"/api/v1/namespaces/{session_namespace()}", what="ns")
    assert ns["metadata"]["labels"][SESSION_LABEL] == SESSION_ID
    assert SESSION_ID in k8s_engine.list_containers({SESSION_LABEL: SESSION_ID})[0].labels.values()


def test_stop_keeps_the_pod_and_its_exit_code(
    k8s_engine: Any, k8s_image: Any, pods: list[str]
) -> None:
    cid = _run(
        k8s_engine, k8s_image, pods, ["sh", "-c", "trap 'exit 5' TERM; while :; do sleep 0.1; done"]
    )
    started = time.monotonic()
    k8s_engine.stop_container(cid)
    assert time.monotonic() - started < 10  # SIGTERM, well before the grace period ends
    info = k8s_engine.inspect_container(cid)
    assert (info.state, info.exit_code) == (ContainerState.EXITED, 5)
    with pytest.raises(Conflict):
        k8s_engine.exec_in_container(cid, ["true"])


IGNORES_TERM = ["sh", "-c", "trap '' TERM; echo ready; while :; do sleep 0.1; done"]


def test_kill_ends_a_pod_that_ignores_sigterm(
    k8s_engine: Any, k8s_image: Any, pods: list[str]
) -> None:
    cid = _run(k8s_engine, k8s_image, pods, IGNORES_TERM)
    k8s_engine.kill_container(cid)
    info = k8s_engine.inspect_container(cid)
    assert (info.state, info.exit_code) == (ContainerState.EXITED, 137)
    assert pods_.is_stopped(info.raw)  # kept, deleted, until removed
    with pytest.raises(Conflict):
        k8s_engine.kill_container(cid)
    k8s_engine.start_container(cid)  # created anew under its name
    assert k8s_engine.inspect_container(cid).state is ContainerState.RUNNING
    k8s_engine.stop_container(cid, timeout=1)  # SIGKILL 2 s (the kubelet's least) later
    assert k8s_engine.inspect_container(cid).exit_code == 137
    k8s_engine.remove_container(cid)
    with pytest.raises(ContainerNotFound):
        k8s_engine.inspect_container(cid)


def test_the_sessions_cleanup_lets_stopped_pods_go(k8s_engine: Any, k8s_image: Any) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CONU_", "PYTEST_"))}
    script = STOPPED.format(image=k8s_image.get_full_name())
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=180
    )
    assert done.returncode == 0, done.stderr
    session = done.stdout.strip()
    namespace = session_namespace(session)

    def gone() -> bool:
        query = {"fieldSelector": f"metadata.name={namespace}"}
        path = "/api/v1/namespaces"
        return not k8s_engine.api.request("GET", path, what="list", query=query)["items"]

    wait_for(gone, timeout=120, what=f"namespace {namespace} (a stopped pod in it) to go")


STOPPED = """
from conu import K8sBackend, K8sImage
from conu.apidefs.backend import CleanupPolicy
from conu.labels import SESSION_ID
with K8sBackend(cleanup=[CleanupPolicy.CONTAINERS, CleanupPolicy.VOLUMES]):
    container = K8sImage("{image}").run_via_binary(command=["sleep", "300"])
    container.stop()
    assert container.inspect()["metadata"]["finalizers"]
print(SESSION_ID)
"""


def test_signals_other_than_term_and_kill_are_refused(
    k8s_engine: Any, k8s_image: Any, pods: list[str]
) -> None:
    cid = _run(k8s_engine, k8s_image, pods, ["sleep", "300"])
    with pytest.raises(UnsupportedOperation, match="SIGUSR1"):
        k8s_engine.kill_container(cid, "SIGUSR1")


def test_an_image_the_registry_lacks(k8s_engine: Any, k8s_backend: Any, pods: list[str]) -> None:
    missing = "127.0.0.1:5001/conu-test/no-such-image:1"
    with pytest.raises(ImageNotFound):
        k8s_engine.inspect_image(missing)
    cid = k8s_engine.create_container(RunSpec(image=missing, labels=session_labels()))
    pods.append(cid)
    with pytest.raises(ContainerFailed, match=r"ErrImagePull|ImagePullBackOff"):
        k8s_engine.start_container(cid)


def test_the_image_is_described_by_its_registry(k8s_engine: Any, k8s_image: Any) -> None:
    info = k8s_engine.inspect_image(k8s_image.get_full_name())
    assert info.id.startswith("sha256:") and info.id == k8s_image.get_id()
    assert info.labels["conu.conformance"] == "image" and "CONFORMANCE=yes" in info.env
    assert info.digests[0].startswith("127.0.0.1:5001/conu-conformance/busybox@sha256:")


def test_files_of_a_running_pod(k8s_engine: Any, k8s_image: Any, pods: list[str]) -> None:
    cid = _run(k8s_engine, k8s_image, pods, ["sleep", "300"])
    link = k8s_engine.stat_path(cid, "/srv/abs-link")
    assert link.link_target == "/etc/motd"
    assert k8s_engine.stat_path(cid, "/srv/abs-link", follow=True).size > 0
    assert k8s_engine.stat_path(cid, "/srv/none") is None
    big = os.urandom(3 * 1024 * 1024)  # several WebSocket frames each way
    import io
    import tarfile

    data = io.BytesIO()
    with tarfile.open(fileobj=data, mode="w") as tar:
        member = tarfile.TarInfo("big.bin")
        member.size = len(big)
        tar.addfile(member, io.BytesIO(big))
    k8s_engine.put_archive(cid, "/tmp", data.getvalue())
    back = io.BytesIO(b"".join(k8s_engine.get_archive(cid, "/tmp/big.bin")))
    with tarfile.open(fileobj=back) as tar:
        extracted = tar.extractfile("big.bin")
        assert extracted is not None and extracted.read() == big


def _silent_server() -> tuple[socket.socket, int]:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)  # accepts connections (the kernel does) and never answers
    return server, server.getsockname()[1]


@pytest.mark.parametrize("answering", [False, True], ids=["closed port", "silent server"])
def test_an_unreachable_cluster_is_named_within_15_s(tmp_path: Path, answering: bool) -> None:
    from conu.backend.k8s.engine import K8sEngine

    server, port = _silent_server()
    if not answering:
        server.close()
    config = tmp_path / "kubeconfig"
    config.write_text(KUBECONFIG.format(port=port))
    started = time.monotonic()
    try:
        with pytest.raises(EngineUnreachable) as info:
            K8sEngine(kubeconfig=str(config), context="conu-test").version()
    finally:
        server.close()
    assert time.monotonic() - started < 15
    assert str(config) in str(info.value) and "conu-test" in str(info.value)


KUBECONFIG = textwrap.dedent("""\
    apiVersion: v1
    kind: Config
    clusters:
    - name: nowhere
      cluster: {{server: "https://127.0.0.1:{port}", insecure-skip-tls-verify: true}}
    users:
    - name: someone
      user: {{token: abc}}
    contexts:
    - name: conu-test
      context: {{cluster: nowhere, user: someone}}
    current-context: conu-test
    """)


KILLED = """
import sys, time
from conu import K8sBackend, K8sImage
from conu.apidefs.backend import CleanupPolicy
from conu.labels import SESSION_ID
with K8sBackend(cleanup=[CleanupPolicy.CONTAINERS, CleanupPolicy.VOLUMES]):
    image = K8sImage(sys.argv[1])
    image.run_via_binary(command=["sleep", "300"])
    print(SESSION_ID, flush=True)
    time.sleep(300)
"""


def test_the_watchdog_removes_a_killed_sessions_namespace(k8s_engine: Any, k8s_image: Any) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CONU_", "PYTEST_"))}
    child = subprocess.Popen(
        [sys.executable, "-c", KILLED, k8s_image.get_full_name()],
        env=env,
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        timer = threading.Timer(120, child.kill)
        timer.start()
        session = (child.stdout.readline() if child.stdout else "").strip()
        timer.cancel()
        assert session, "the child did not start its pod"
        namespace = session_namespace(session)
        assert k8s_engine.list_containers({SESSION_LABEL: session})
        os.killpg(child.pid, signal.SIGKILL)
        killed = time.monotonic()
        child.wait(timeout=10)

        def gone() -> bool:
            listed = k8s_engine.api.request(
                "GET",
                "/api/v1/namespaces",
                what="list namespaces",
                query={"fieldSelector": f"metadata.name={namespace}"},
            )
            return not listed["items"]

        wait_for(gone, timeout=120, what=f"the watchdog to remove namespace {namespace}")
        print(f"namespace gone {time.monotonic() - killed:.1f}s after SIGKILL")
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
