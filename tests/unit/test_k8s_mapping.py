"""The Kubernetes backend's pure logic: pod manifests, pod → ContainerInfo, exec status,
stat lines, error translation, session namespaces, cleanup policies."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from conu.apidefs.backend import CleanupPolicy
from conu.apidefs.metadata import PathKind
from conu.apidefs.specs import ContainerState, PortBinding, RunSpec
from conu.backend.k8s import forward, pods
from conu.backend.k8s.backend import K8sCleanupPolicy, _k8s_policies
from conu.backend.k8s.engine_exec import exit_status
from conu.backend.k8s.engine_files import path_info
from conu.backend.k8s.errors import translate, unreachable
from conu.backend.k8s.registry import _is_loopback
from conu.backend.k8s.sessions import session_namespace
from conu.exceptions import (
    Conflict,
    ContainerNotFound,
    ConuException,
    EngineError,
    EngineUnreachable,
    InvalidArgument,
    NotFound,
    ProbeTimeout,
    UnsupportedOperation,
)
from conu.labels import OWNER_LABEL, SESSION_LABEL


def _spec(**kwargs: object) -> RunSpec:
    return RunSpec(image="127.0.0.1:5001/x/busybox:1", **kwargs)  # type: ignore[arg-type]


def test_manifest_maps_the_run_spec() -> None:
    spec = _spec(
        name="web-1",
        command=["httpd", "-f"],
        env={"A": "b"},
        labels={SESSION_LABEL: "1-ab", OWNER_LABEL: "host/12"},
        user="1000:10",
        working_dir="/srv",
        ports={"8080/tcp": (PortBinding(),)},
        cap_add=["CAP_NET_ADMIN"],
        binds=["/tmp/x:/data:ro"],
    )
    doc = pods.manifest(spec, "img@sha256:1", "ns")
    meta, pod = doc["metadata"], doc["spec"]
    main = pod["containers"][0]
    assert (meta["name"], meta["namespace"]) == ("web-1", "ns")
    assert meta["labels"] == {SESSION_LABEL: "1-ab"}  # "host/12" is no label value
    assert json.loads(meta["annotations"][pods.LABELS_ANNOTATION])[OWNER_LABEL] == "host/12"
    assert main["image"] == "img@sha256:1" and "command" not in main
    assert main["args"] == ["httpd", "-f"] and main["env"] == [{"name": "A", "value": "b"}]
    assert main["securityContext"] == {
        "capabilities": {"add": ["NET_ADMIN"]},
        "runAsUser": 1000,
        "runAsGroup": 10,
    }
    assert main["ports"] == [{"containerPort": 8080, "protocol": "TCP"}]
    assert main["volumeMounts"] == [{"name": "bind-0", "mountPath": "/data", "readOnly": True}]
    assert pod["restartPolicy"] == "Never"
    assert pod["terminationGracePeriodSeconds"] == pods.GRACE_SECONDS


def test_manifest_names_pods_after_the_image() -> None:
    name = pods.manifest(_spec(), "i", "ns")["metadata"]["name"]
    assert name.startswith("busybox-") and len(name) == len("busybox-") + 8


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"name": "Not_Valid"}, InvalidArgument),
        ({"user": "nobody"}, InvalidArgument),
        ({"network": "mynet"}, InvalidArgument),
        ({"binds": ["relative:/x"]}, InvalidArgument),
        ({"auto_remove": True}, UnsupportedOperation),
    ],
)
def test_manifest_refuses_what_a_pod_cannot_be(kwargs: dict[str, object], error: type) -> None:
    with pytest.raises(error):
        pods.manifest(_spec(**kwargs), "i", "ns")


def _pod(state: dict[str, object] | None = None, **status: object) -> dict[str, object]:
    statuses = [{"name": pods.CONTAINER, "state": state, "imageID": "r@sha256:9"}] if state else []
    return {
        "metadata": {
            "name": "p",
            "namespace": "ns",
            "labels": {"a": "b"},
            "annotations": {pods.LABELS_ANNOTATION: json.dumps({"a": "b", OWNER_LABEL: "h/1"})},
        },
        "spec": {
            "containers": [
                {
                    "name": pods.CONTAINER,
                    "image": "img",
                    "args": ["sleep", "1"],
                    "env": [{"name": "A", "value": "own"}],
                    "ports": [{"containerPort": 8080, "protocol": "TCP"}],
                }
            ]
        },
        "status": {"containerStatuses": statuses, **status},
    }


def test_info_of_a_running_pod() -> None:
    pod = _pod({"running": {}}, podIP="10.244.0.5", podIPs=[{"ip": "10.244.0.5"}])
    info = pods.info_of(pod, ("A=image", "PATH=/bin"))
    assert info.id == "ns/p" and info.name == "p" and info.image == "img"
    assert info.state is ContainerState.RUNNING and info.exit_code == 0
    assert info.labels == {"a": "b", OWNER_LABEL: "h/1"}
    assert info.env == ("PATH=/bin", "A=own")  # the container's own value wins
    assert info.command == ("sleep", "1") and info.ipv4_addresses == ("10.244.0.5",)
    assert dict(info.ports) == {"8080/tcp": None} and info.image_id == "r@sha256:9"


@pytest.mark.parametrize(
    ("state", "extra", "expected", "code"),
    [
        (None, {}, ContainerState.CREATED, 0),
        ({"waiting": {"reason": "ContainerCreating"}}, {}, ContainerState.CREATED, 0),
        ({"terminated": {"exitCode": 3}}, {}, ContainerState.EXITED, 3),
        ({"running": {}}, {"deletionTimestamp": "x"}, ContainerState.REMOVING, 0),
        # A pod conu stopped: deleted, kept by its finalizer, in its container's state.
        (
            {"running": {}},
            {"deletionTimestamp": "x", "finalizers": [pods.STOP_FINALIZER]},
            ContainerState.RUNNING,
            0,
        ),
        (
            {"terminated": {"exitCode": 143}},
            {"deletionTimestamp": "x", "finalizers": ["other/one", pods.STOP_FINALIZER]},
            ContainerState.EXITED,
            143,
        ),
    ],
)
def test_states(
    state: dict[str, object] | None, extra: dict[str, object], expected: ContainerState, code: int
) -> None:
    pod = _pod(state)
    pod["metadata"].update(extra)  # type: ignore[attr-defined]
    assert pods.state_of(pod) is expected
    assert pods.info_of(pod).exit_code == code


def test_start_failure_names_the_missing_command() -> None:
    message = 'exec: "/no/such": stat /no/such: no such file or directory'
    pod = _pod({"terminated": {"exitCode": 128, "reason": "StartError", "message": message}})
    assert pods.start_failure(pod) == message
    assert pods.start_failure(_pod({"terminated": {"exitCode": 0}})) is None


def test_split_id() -> None:
    assert pods.split_id("a/b", "default") == ("a", "b")
    assert pods.split_id("b", "default") == ("default", "b")
    with pytest.raises(InvalidArgument):
        pods.split_id("", "default")


def test_label_selector_keeps_valid_labels_only() -> None:
    assert pods.label_selector({SESSION_LABEL: "1-a", OWNER_LABEL: "h/1"}) == f"{SESSION_LABEL}=1-a"
    assert pods.label_selector(None) is None


@pytest.mark.parametrize(
    ("channel", "code", "message"),
    [
        (b'{"status":"Success"}', 0, ""),
        (
            b'{"status":"Failure","details":{"causes":[{"reason":"ExitCode","message":"7"}]}}',
            7,
            "",
        ),
        (b'{"status":"Failure","message":"exec: \\"x\\": executable file not found"}', 127, None),
        (b'{"status":"Failure","message":"permission denied"}', 126, "permission denied"),
        (b"", None, ""),
    ],
)
def test_exit_status(channel: bytes, code: int | None, message: str | None) -> None:
    found = exit_status(channel)
    assert found[0] == code
    if message is not None:
        assert found[1] == message


def test_path_info_from_stat_lines() -> None:
    info = path_info("/srv/link", b"a1ff 0 0 9\n/etc/motd")
    assert (info.name, info.kind, info.link_target, info.size) == (
        "link",
        PathKind.SYMLINK,
        "/etc/motd",
        0,
    )
    info = path_info("/srv/f", b"81a4 1000 10 5")
    assert info.kind is PathKind.FILE and stat.S_IMODE(info.mode) == 0o644
    assert (info.uid, info.gid, info.size) == (1000, 10, 5)
    assert path_info("/", b"41ed 0 0 4096").name == "/"


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (400, InvalidArgument),
        (404, NotFound),
        (409, Conflict),
        (403, EngineError),
        (500, EngineError),
    ],
)
def test_translate(status: int, error: type) -> None:
    exc = translate("do x", status, b'{"kind":"Status","message":"because"}')
    assert (type(exc) is error and str(exc) == "cannot do x: because") or status == 403
    assert translate("x", 404, b"", not_found=ContainerNotFound).__class__ is ContainerNotFound


def test_unreachable() -> None:
    assert isinstance(unreachable("here", "x", OSError("refused")), EngineUnreachable)
    assert isinstance(unreachable("here", "x", OSError("Read timed out.")), ProbeTimeout)


def test_session_namespace_is_a_dns_label() -> None:
    assert session_namespace("123-AB_cd-gw0") == "conu-123-ab-cd-gw0"
    assert len(session_namespace("x" * 100)) <= 63


def test_loopback_registries() -> None:
    assert _is_loopback("127.0.0.1:5001") and _is_loopback("localhost:5000")
    assert not _is_loopback("registry.example.com") and not _is_loopback("10.0.0.1:5000")


def test_cleanup_policies() -> None:
    generic, k8s = _k8s_policies([CleanupPolicy.CONTAINERS, K8sCleanupPolicy.NAMESPACES])
    assert generic == [CleanupPolicy.CONTAINERS]
    assert k8s == {K8sCleanupPolicy.PODS, K8sCleanupPolicy.DEPLOYMENTS, K8sCleanupPolicy.NAMESPACES}
    assert _k8s_policies([K8sCleanupPolicy.EVERYTHING])[1] >= {K8sCleanupPolicy.SERVICES}
    with pytest.raises(ConuException):
        _k8s_policies([K8sCleanupPolicy.NOTHING, K8sCleanupPolicy.PODS])
    with pytest.raises(TypeError):
        _k8s_policies(["pods"])


ROUTES = """Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT
eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0
conu-k8s0\t0000F40A\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0
"""


@pytest.mark.parametrize(
    ("address", "expected"),
    [("10.244.0.7", True), ("10.244.1.7", False), ("192.0.2.9", False), ("127.0.0.1", True)],
)
def test_routable_pod_addresses(tmp_path: Path, address: str, expected: bool) -> None:
    table = tmp_path / "route"
    table.write_text(ROUTES)
    assert forward.routable(address, str(table)) is expected  # the default route is no route


class _Frames:
    """A WebSocket's frames, in order."""

    def __init__(self, *frames: tuple[int, bytes]) -> None:
        self.frames = list(frames)

    def recv_data(self, control_frame: bool = False) -> tuple[int, bytes]:
        return self.frames.pop(0)


def test_portforward_frames() -> None:
    from websocket import ABNF

    binary = ABNF.OPCODE_BINARY
    port = (8080).to_bytes(2, "little")
    stream = forward._Stream(
        _Frames(
            (binary, b"\x00" + port),
            (binary, b"\x01" + port),
            (ABNF.OPCODE_PING, b""),
            (binary, b"\x00HTTP/1.0 200"),
            (binary, b"\x01no such port"),
        )
    )
    assert stream.read() == b"" and not stream.greeted
    assert stream.read() == b"" and stream.greeted
    assert stream.read() == b""  # a ping
    assert stream.read() == b"HTTP/1.0 200"
    assert stream.read() is None and stream.error == "no such port"
