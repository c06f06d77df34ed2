"""conu 1.0's Kubernetes API (Pod, Deployment, Service) against a real cluster.

Everything is made in a namespace of this module's own, deleted (and waited for) at the end.
Without a cluster the cluster tests skip, and fail when ``CI`` is set. The image is
``$CONU_K8S_TEST_IMAGE``, the conformance image in the cluster's registry (a busybox with its
applets installed); a ``conu.local/`` image is one loaded into the cluster's containerd
(``scripts/cluster.sh load``), run with ``imagePullPolicy: Never``.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import os
import secrets
from collections.abc import Iterator
from typing import Any

import pytest

from conu.apidefs.metadata import ImageMetadata
from conu.backend.k8s.deployment import Deployment
from conu.backend.k8s.pod import Pod, PodCondition, PodPhase, run_image_in_pod
from conu.backend.k8s.pods import LABELS_ANNOTATION
from conu.backend.k8s.service import Service, service_port
from conu.exceptions import ConuException, NotFound, ProbeTimeout
from conu.labels import SESSION_ID, SESSION_LABEL
from conu.probes import wait_for

IMAGE = os.environ.get("CONU_K8S_TEST_IMAGE", "127.0.0.1:5001/conu-conformance/busybox:latest")
"""A busybox image with ``sh`` and ``httpd`` on its PATH (conftest's ``TEST_IMAGE``)."""
PULL = os.environ.get("CONU_K8S_PULL_POLICY") or (
    "Never" if IMAGE.startswith("conu.local/") else "IfNotPresent"
)
SERVE = "mkdir -p /www && echo hello > /www/index.html && exec httpd -f -p 8080 -h /www"
READY_TIMEOUT = 90
QUICK = {"terminationGracePeriodSeconds": 1}
"""httpd, as PID 1, ignores SIGTERM: no need to wait the default 30 s for it."""


@pytest.fixture(scope="module")
def backend(k8s_engine: Any) -> Any:
    """A K8sBackend on the cluster (``k8s_engine`` skips without one locally, fails in CI)."""
    from conu import K8sBackend

    return K8sBackend()


@pytest.fixture(scope="module")
def namespace(backend: Any) -> Iterator[str]:
    """A namespace of this module's own: deleted at the end, and waited for until gone."""
    name = backend.create_namespace()
    _wait_for_token(backend, name)
    yield name
    backend.delete_namespace(name)
    query = {"fieldSelector": f"metadata.name={name}"}
    listed = False
    for kind, _ in backend.k8s.api.watch(
        "/api/v1/namespaces", what=f"see namespace {name} gone", query=query, timeout=120
    ):
        listed = listed or kind == "LISTED"
        if kind == "DELETED" or (kind == "SYNCED" and not listed):
            return


def _wait_for_token(backend: Any, namespace: str) -> None:
    """Watch the ``default`` service account until it has its token secret: Kubernetes 1.20
    refuses pods that mount the token before (``create_namespace`` waits for the account
    only)."""
    path = f"/api/v1/namespaces/{namespace}/serviceaccounts"
    query = {"fieldSelector": "metadata.name=default"}
    what = f"see the token of service account {namespace}/default"
    for _, item in backend.k8s.api.watch(path, what=what, query=query, timeout=60):
        if item.get("secrets"):
            return


def _container(command: str, **extra: Any) -> dict[str, Any]:
    return {
        "name": "web",
        "image": IMAGE,
        "imagePullPolicy": PULL,
        "command": ["sh", "-c", command],
        **extra,
    }


def _probe() -> dict[str, Any]:
    return {"tcpSocket": {"port": 8080}, "periodSeconds": 1}


def _names(objects: list[Any]) -> set[str]:
    return {o.name for o in objects}


def _wait_for_endpoints(backend: Any, namespace: str, name: str) -> None:
    """Watch the service's endpoints until a pod address is in them."""
    path = f"/api/v1/namespaces/{namespace}/endpoints"
    query = {"fieldSelector": f"metadata.name={name}"}
    what = f"see endpoints of service {name}"
    for _, item in backend.k8s.api.watch(path, what=what, query=query, timeout=60):
        if any(s.get("addresses") for s in item.get("subsets") or ()):
            return


# -- without a cluster ----------------------------------------------------------------------


def test_phases_and_conditions_from_strings() -> None:
    assert PodPhase.get_from_string("Running") is PodPhase.RUNNING
    assert PodPhase.get_from_string("succeeded") is PodPhase.SUCCEEDED
    assert PodPhase.get_from_string("what") is PodPhase.UNKNOWN
    assert PodCondition.get_from_string("PodScheduled") is PodCondition.SCHEDULED
    assert PodCondition.get_from_string("ContainersReady") is PodCondition.CONTAINERS_READY
    assert PodCondition.get_from_string("Ready") is PodCondition.READY
    assert PodCondition.get_from_string("Other") is PodCondition.UNKNOWN


def test_service_ports_and_pod_create() -> None:
    assert service_port("80:8080/tcp") == {
        "name": "tcp-80",
        "port": 80,
        "targetPort": 8080,
        "protocol": "TCP",
    }
    assert service_port("53/udp")["targetPort"] == 53
    with pytest.raises(ConuException):
        service_port("http")
    metadata = ImageMetadata(name="quay.io/Some_Org/My_App:1.0", exposed_ports=["8080/tcp"])
    container = Pod.create(metadata)["spec"]["containers"][0]
    assert container["name"] == "my-app"
    assert container["ports"] == [{"containerPort": 8080, "protocol": "TCP"}]


# -- against the cluster --------------------------------------------------------------------


def test_pod_runs_httpd(backend: Any, namespace: str) -> None:
    spec = {"containers": [_container("echo serving && exec httpd -f -p 8080")], **QUICK}
    pod = Pod(namespace=namespace, spec=spec, engine=backend.k8s)
    try:
        pod.wait(READY_TIMEOUT)
        assert pod.get_phase() is PodPhase.RUNNING
        assert pod.is_ready()
        assert PodCondition.READY in pod.get_conditions()
        assert ipaddress.ip_address(pod.get_ip() or "")
        assert pod.get_status().phase == "Running"
        assert "serving" in pod.get_logs()
        assert pod.name in _names(backend.list_pods(namespace))
        listed = next(p for p in backend.list_pods(namespace) if p.name == pod.name)
        labels = listed._document["metadata"]["labels"]
        assert labels[SESSION_LABEL] == SESSION_ID
        stored = json.loads(listed._document["metadata"]["annotations"][LABELS_ANNOTATION])
        assert stored[SESSION_LABEL] == SESSION_ID
    finally:
        pod.delete()
    with contextlib.suppress(NotFound):
        assert pod.get_phase() is PodPhase.TERMINATING


def test_pod_that_ends_or_never_starts(backend: Any, namespace: str) -> None:
    template = f"""
apiVersion: v1
kind: Pod
metadata: {{name: ends-{secrets.token_hex(3)}, labels: {{app: ends}}}}
spec:
  restartPolicy: Never
  containers:
  - name: main
    image: {IMAGE}
    imagePullPolicy: {PULL}
    command: [sh, -c, "sleep 1; exit 3"]
    # Never ready (nothing listens on port 1): the pod ends before it is ready, however
    # soon the kubelet reports it running.
    readinessProbe: {{tcpSocket: {{port: 1}}, periodSeconds: 1}}
"""
    ends = Pod(namespace=namespace, from_template=template, engine=backend.k8s)
    missing = Pod(
        namespace=namespace,
        spec={"containers": [{"name": "x", "image": "conu.local/no-such-image:none"}]},
        engine=backend.k8s,
        image_pull_policy="Never",
    )
    try:
        with pytest.raises(ConuException, match="ended first"):
            ends.wait(READY_TIMEOUT)
        with pytest.raises(ProbeTimeout, match=f"see pod {namespace}/{missing.name} ready"):
            missing.wait(3)
        assert ends._document["metadata"]["labels"]["app"] == "ends"
    finally:
        ends.delete()
        missing.delete(grace_period=0)  # never started: nothing to stop


def test_run_image_in_pod(backend: Any, namespace: str) -> None:
    class Image:
        def get_full_name(self) -> str:
            return IMAGE

        def get_metadata(self) -> ImageMetadata:
            return ImageMetadata(exposed_ports=["8080/tcp"])

    pod = run_image_in_pod(Image(), namespace, backend.k8s, image_pull_policy=PULL)
    try:
        container = pod._document["spec"]["containers"][0]
        assert container["image"] == IMAGE
        assert container["ports"][0]["containerPort"] == 8080
        assert pod.namespace == namespace
    finally:
        pod.delete(grace_period=0)  # the image has no command: it never starts


def test_docker_image_run_in_pod(namespace: str) -> None:
    if IMAGE.startswith("conu.local/"):
        pytest.skip("the image is in the cluster's containerd only, not in Docker")
    from conu import DockerImage

    repository, _, tag = IMAGE.rpartition(":")
    pod = DockerImage(repository, tag=tag).run_in_pod(namespace)
    try:
        assert isinstance(pod, Pod) and pod.namespace == namespace
        container = pod._document["spec"]["containers"][0]
        assert container["image"] == IMAGE
        assert container["ports"] == [{"containerPort": 8080, "protocol": "TCP"}]  # EXPOSE
        assert pod._document["metadata"]["labels"][SESSION_LABEL] == SESSION_ID

        # The image's CMD is sh, which reads no input and ends (and the pod, restartPolicy
        # Always as in conu 1.0, starts it again).
        def completed() -> bool:
            statuses = pod._get().get("status", {}).get("containerStatuses") or [{}]
            states = [statuses[0].get("state") or {}, statuses[0].get("lastState") or {}]
            return any(s.get("terminated", {}).get("reason") == "Completed" for s in states)

        wait_for(completed, timeout=60, what="the image's command to run and end")
    finally:
        pod.delete(grace_period=0)


def _web_deployment(app: str) -> dict[str, Any]:
    pod = {
        "metadata": {"labels": {"app": app}},
        "spec": {"containers": [_container(SERVE, readinessProbe=_probe())], **QUICK},
    }
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": app},
        "spec": {"replicas": 2, "selector": {"matchLabels": {"app": app}}, "template": pod},
    }


def test_deployment_and_service(backend: Any, namespace: str) -> None:
    app = f"web-{secrets.token_hex(3)}"
    deployment = Deployment(
        namespace=namespace,
        from_template=_web_deployment(app),
        create_in_cluster=True,
        engine=backend.k8s,
    )
    service = Service(
        app,
        ["80:8080/tcp"],
        namespace=namespace,
        selector={"app": app},
        create_in_cluster=True,
        engine=backend.k8s,
    )
    try:
        deployment.wait(READY_TIMEOUT)
        assert deployment.all_pods_ready()
        assert deployment.get_status().ready_replicas == 2
        pods = [p for p in backend.list_pods(namespace) if p.name.startswith(app)]
        assert len(pods) == 2
        assert all(p._document["metadata"]["labels"][SESSION_LABEL] == SESSION_ID for p in pods)
        assert app in _names(backend.list_deployments(namespace))
        assert app in _names(backend.list_services(namespace))
        assert ipaddress.ip_address(service.get_ip() or "")
        _wait_for_endpoints(backend, namespace, app)
        response = service.http_request("index.html")
        assert (response.status_code, response.ok, response.text) == (200, True, "hello\n")
        missing = service.http_request("/nothing-here", port=80)
        assert (missing.status_code, missing.ok) == (404, False)
    finally:
        service.delete()
        deployment.delete()


def test_deployment_from_image_metadata(backend: Any, namespace: str) -> None:
    app = f"meta-{secrets.token_hex(3)}"
    metadata = ImageMetadata(
        name=IMAGE,
        exposed_ports=["8080/tcp"],
        env_variables={"A": "1"},
        command=["sh", "-c", SERVE],
    )
    deployment = Deployment(
        app,
        {"app": app},
        {"app": app},
        metadata,
        namespace=namespace,
        engine=backend.k8s,
        image_pull_policy=PULL,
    )
    with pytest.raises(NotFound):
        deployment.wait(5)
    deployment.body["spec"]["template"]["spec"].update(QUICK)
    deployment.create_in_cluster()
    try:
        listed = next(d for d in backend.list_deployments(namespace) if d.name == app)
        template = listed._document["spec"]["template"]
        assert template["metadata"]["labels"]["app"] == app
        assert template["metadata"]["labels"][SESSION_LABEL] == SESSION_ID
        container = template["spec"]["containers"][0]
        assert (container["image"], container["env"]) == (IMAGE, [{"name": "A", "value": "1"}])
        assert repr(listed) == f"Deployment(namespace={namespace!r}, name={app!r})"
        deployment.wait(READY_TIMEOUT)
        assert deployment.get_status().replicas == 1
    finally:
        deployment.delete()
    with pytest.raises(ConuException, match="from_template cannot be combined"):
        Deployment(name="x", from_template=_web_deployment("x"), engine=backend.k8s)
