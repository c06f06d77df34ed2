"""DockerContainer against the real engine: identity, state, networking, lifecycle, output."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import docker.errors
import pytest

from conu import DockerContainer
from conu.apidefs.metadata import ContainerMetadata, ContainerStatus
from conu.backend.docker.network import engine_is_local
from conu.exceptions import (
    CommandFailed,
    Conflict,
    ContainerNotFound,
    ConuException,
    InvalidArgument,
    ProbeTimeout,
)
from conu.labels import SESSION_ID, SESSION_LABEL
from conu.probes import wait_for
from conu.utils.net import Endpoint, port_accepts

HTTPD_LATE = ["sh", "-c", "sleep 1; exec httpd -f -p 8080 -h /srv/www"]
# PID 1 ignores signals it has no handler for: trap the ones the tests send
STOPPABLE = [
    "sh",
    "-c",
    "trap 'exit 0' TERM; trap 'exit 10' USR1; echo trapped; while true; do sleep 0.05; done",
]


def _stoppable(run: Callable[..., Any]) -> Any:
    """A container whose traps are set (a signal sent before that would be ignored)."""
    c = run(STOPPABLE)
    wait_for(lambda: "trapped" in c.logs_unicode(), timeout=10, what="the traps to be set")
    return c


def _exited(container: Any) -> None:
    wait_for(lambda: container.get_status() == "exited", timeout=10, pause=0.02, what="exit")


# -- identity and state -----------------------------------------------------------------------


def test_identity(sleeper: Any, busybox_image: Any) -> None:
    cid = sleeper.get_id()
    assert isinstance(cid, str)
    assert len(cid) == 64
    assert str(sleeper) == cid
    assert repr(sleeper) == f"DockerContainer(image={busybox_image}, id={cid})"
    assert sleeper.image is busybox_image
    # name: an attribute (a str) and callable, as in the generic API
    assert isinstance(sleeper.name, str)
    assert sleeper.name
    assert sleeper.name() == sleeper.name
    assert sleeper.inspect()["Name"] == "/" + sleeper.name
    # conu runs containers by image id
    assert sleeper.get_image_name() == busybox_image.get_id()


def test_container_by_name_only(sleeper: Any) -> None:
    by_name = DockerContainer(None, None, name=sleeper.name)
    assert by_name.get_id() == sleeper.get_id()
    assert by_name.is_running()
    assert by_name.get_image_name() == sleeper.get_image_name()


def test_inspect_and_metadata(sleeper: Any) -> None:
    data = sleeper.inspect()
    assert data["Id"] == sleeper.get_id()
    assert "Config" in data
    assert sleeper.inspect(refresh=False) is data
    assert sleeper.inspect(refresh=True) is not data
    labels = data["Config"]["Labels"]
    assert labels[SESSION_LABEL] == SESSION_ID
    assert "conu.test_artifact" in labels

    md = sleeper.get_metadata()
    assert isinstance(md, ContainerMetadata)
    assert md is sleeper.metadata
    assert md.identifier == sleeper.get_id()
    assert md.name == sleeper.name
    assert md.status == ContainerStatus.RUNNING
    assert md.command == ["sleep", "300"]
    assert md.labels[SESSION_LABEL] == SESSION_ID
    assert md.ipv4_addresses == sleeper.get_IPv4s()


def test_state_of_running_and_exited(run: Callable[..., Any]) -> None:
    c = run(["sh", "-c", "sleep 0.3; exit 42"])
    assert c.is_running()
    assert c.get_status() == "running"
    assert c.exit_code() == 0
    assert c.get_pid() > 0
    assert c.wait(timeout=10) == 42
    assert not c.is_running()
    assert c.get_status() == "exited"
    assert c.exit_code() == 42
    assert c.get_pid() == 0
    assert c.get_metadata().status == ContainerStatus.FAILED


def test_created_container_state(busybox_image: Any, track: Callable[[Any], Any]) -> None:
    from conu import DockerRunBuilder

    params = DockerRunBuilder(command=["sleep", "300"]).get_parameters()
    c = track(busybox_image.create_container(params))
    assert c.get_status() == "created"
    assert not c.is_running()
    assert c.exit_code() == 0
    assert c.get_pid() == 0
    c.start()
    assert c.is_running()
    assert c.get_status() == "running"


# -- networking -------------------------------------------------------------------------------


def test_ips(sleeper: Any) -> None:
    ipv4s = sleeper.get_IPv4s()
    assert isinstance(ipv4s, list)
    assert len(ipv4s) == 1
    socket.inet_aton(ipv4s[0])
    ipv6s = sleeper.get_IPv6s()
    assert isinstance(ipv6s, list)
    assert all(":" in ip for ip in ipv6s)


def test_no_network(run: Callable[..., Any]) -> None:
    c = run(["sleep", "300"], ["--network", "none"])
    assert c.get_IPv4s() == []
    assert c.get_IPv6s() == []
    assert c.is_port_open(8080, timeout=0.2) is False


def test_ports_and_mappings(httpd_image: Any, run: Callable[..., Any]) -> None:
    unpublished = run(image=httpd_image)
    assert unpublished.get_ports() == ["8080"]
    assert unpublished.get_port_mappings() == {"8080/tcp": None}
    assert unpublished.get_port_mappings(8080) is None
    assert unpublished.get_port_mappings(1234) == []

    published = run(opts=["-p", "127.0.0.1:0:8080", "-p", "9999/udp"], image=httpd_image)
    assert sorted(published.get_ports()) == ["8080", "9999"]
    mappings = published.get_port_mappings()
    assert set(mappings) == {"8080/tcp", "9999/udp"}
    bindings = published.get_port_mappings(8080)
    assert bindings == mappings["8080/tcp"]
    assert bindings[0]["HostIp"] == "127.0.0.1"
    assert int(bindings[0]["HostPort"]) > 0
    assert published.get_port_mappings(1234) == []


def test_stopped_container_has_no_ports(httpd_image: Any, run: Callable[..., Any]) -> None:
    c = run(opts=["-p", "0:8080"], image=httpd_image)
    c.kill()
    _exited(c)
    assert c.get_ports() == []
    assert c.get_port_mappings() == {}
    assert c.get_port_mappings(8080) == []


def test_http(httpd_image: Any, run: Callable[..., Any]) -> None:
    c = run(None, ["-p", "8080"], image=httpd_image)  # published: a remote engine works too
    c.wait_for_port(8080, timeout=5)
    assert c.is_port_open(8080)
    assert not c.is_port_open(8081, timeout=0.5)

    response = c.http_request(port=8080)
    assert response.ok
    assert "conu test page" in response.text
    response = c.http_request("/sub/")  # default port: the first exposed one
    assert response.status_code == 200
    assert response.text == "sub page\n"
    assert c.http_request("/missing", port="8080").status_code == 404

    with c.http_client(port=8080) as session:
        assert "conu test page" in session.get("/").text
        assert session.get("/sub/").text == "sub page\n"
    with c.http_client() as session:
        assert session.get("/sub/").ok
    # An explicit host with the default port: the first exposed one.
    if engine_is_local():
        ip = c.get_IPv4s()[0]
        assert c.http_request("/sub/", host=ip).text == "sub page\n"


def test_open_connection(httpd_image: Any, run: Callable[..., Any]) -> None:
    c = run(None, ["-p", "8080"], image=httpd_image)
    c.wait_for_port(8080, timeout=5)
    for port in (8080, None):
        with c.open_connection(port) as sock:
            sock.sendall(b"GET /sub/ HTTP/1.0\r\n\r\n")
            reply = b""
            while chunk := sock.recv(4096):
                reply += chunk
        assert reply.startswith(b"HTTP/1.")
        assert b" 200 " in reply.split(b"\r\n", 1)[0]
        assert reply.endswith(b"sub page\n")


def test_open_connection_without_exposed_port(sleeper: Any) -> None:
    with pytest.raises(ConuException, match="exposes no port"):
        sleeper.open_connection()


@pytest.mark.local_engine
def test_ready_means_ready(httpd_image: Any, run: Callable[..., Any]) -> None:
    c = run(HTTPD_LATE, ["-p", "127.0.0.1:0:8080"], image=httpd_image)
    host_port = int(c.get_port_mappings(8080)[0]["HostPort"])
    proxied = Endpoint("127.0.0.1", host_port, proxied=True)
    assert c.get_endpoint(8080).port == 8080  # a local engine: the container's own address
    # nothing listens inside yet, even though the published host port is bound
    if _docker_proxy_serves(host_port):
        assert port_accepts(Endpoint("127.0.0.1", host_port), timeout=0.5) is True
    assert c.is_port_open(8080, timeout=0.5) is False
    assert port_accepts(proxied, timeout=0.5) is False

    ip = c.get_IPv4s()[0]
    opened: list[float] = []

    def watch() -> None:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection((ip, 8080), timeout=0.2).close()
            except OSError:
                time.sleep(0.002)
                continue
            opened.append(time.monotonic())
            return

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        c.wait_for_port(8080, timeout=10)
        returned = time.monotonic()
    finally:
        watcher.join()
    assert opened, "the server never opened its port"
    assert returned - opened[0] < 0.1
    assert c.is_port_open(8080)
    assert port_accepts(proxied, timeout=1) is True
    assert c.http_request(port=8080).ok


def _docker_proxy_serves(host_port: int) -> bool:
    """Tell whether a docker-proxy process (the userland proxy) listens on ``host_port``."""
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            argv = cmdline.read_bytes().split(b"\0")
        except OSError:
            continue
        if argv and argv[0].endswith(b"docker-proxy") and str(host_port).encode() in argv:
            return True
    return False


@pytest.mark.local_engine
def test_port_accepts_through_proxy(run: Callable[..., Any]) -> None:
    # the remote-engine path: only the published host port is reachable
    late = ["sh", "-c", "sleep 0.7; exec httpd -f -p 7777 -h /etc"]
    c = run(late, ["-p", "127.0.0.1:0:7777"])
    host_port = int(c.get_port_mappings(7777)[0]["HostPort"])
    endpoint = Endpoint("127.0.0.1", host_port, proxied=True)
    assert port_accepts(endpoint, timeout=0.5) is False
    wait_for(lambda: port_accepts(endpoint, timeout=0.5), timeout=10, pause=0.02, what="nc")
    assert c.is_port_open(7777) is True


def test_wait_for_port_timeout(sleeper: Any) -> None:
    start = time.monotonic()
    with pytest.raises(ProbeTimeout):
        sleeper.wait_for_port(8080, timeout=0.5)
    assert time.monotonic() - start < 3


# -- lifecycle --------------------------------------------------------------------------------


def test_stop_and_start(run: Callable[..., Any]) -> None:
    c = _stoppable(run)
    c.stop()
    assert not c.is_running()
    assert c.get_status() == "exited"
    assert c.exit_code() == 0
    c.start()
    assert c.is_running()


def test_kill(run: Callable[..., Any]) -> None:
    c = _stoppable(run)
    c.kill(signal="SIGUSR1")  # the shell's default for USR1: terminate
    _exited(c)
    assert c.exit_code() == 10

    c = run(["sleep", "300"])
    c.kill()
    _exited(c)
    assert c.exit_code() == 137

    c = _stoppable(run)
    c.kill(15)
    _exited(c)
    assert c.exit_code() == 0


def test_kill_wrong_type(sleeper: Any) -> None:
    with pytest.raises(TypeError):
        sleeper.kill(signal=1.5)
    assert sleeper.is_running()


def test_delete(busybox_image: Any, track: Callable[[Any], Any]) -> None:
    c = track(busybox_image.run_via_binary(command=["sleep", "300"]))
    with pytest.raises(Conflict):
        c.delete()  # running: needs force
    c.delete(force=True, volumes=True)
    assert not c.is_running()
    with pytest.raises(ContainerNotFound):
        c.inspect()


def test_wait(run: Callable[..., Any]) -> None:
    c = run(["sh", "-c", "exit 3"])
    assert c.wait() == 3
    assert c.wait(timeout=5) == 3  # already exited


def test_wait_timeout(sleeper: Any) -> None:
    start = time.monotonic()
    with pytest.raises(ProbeTimeout):
        sleeper.wait(timeout=1)
    assert time.monotonic() - start < 5
    assert sleeper.is_running()


def test_context_manager_removes(busybox_image: Any, track: Callable[[Any], Any]) -> None:
    c = track(busybox_image.run_via_binary(command=["sleep", "300"]))
    with c as same:
        assert same is c
    with pytest.raises(ContainerNotFound):
        c.inspect()


# -- missing containers -----------------------------------------------------------------------


def test_missing_container(busybox_image: Any) -> None:
    c = DockerContainer(busybox_image, None, name="conu-no-such-container")
    assert not c.is_running()
    with pytest.raises(ContainerNotFound) as info:
        c.inspect()
    assert isinstance(info.value, ConuException)
    assert isinstance(info.value.__cause__, docker.errors.NotFound)
    assert "conu-no-such-container" in str(info.value)
    for method in (c.start, c.stop, c.kill, c.delete, c.wait, c.get_status, c.logs):
        with pytest.raises(ContainerNotFound, match="conu-no-such-container") as info:
            method()
        assert isinstance(info.value.__cause__, docker.errors.NotFound)
    with pytest.raises(ContainerNotFound, match="conu-no-such-container"):
        c.execute(["true"])


def test_missing_image_less_container() -> None:
    with pytest.raises(ContainerNotFound, match="conu-no-such-container"):
        DockerContainer(None, "conu-no-such-container")


def test_container_needs_id_or_name(busybox_image: Any) -> None:
    with pytest.raises(InvalidArgument):
        DockerContainer(busybox_image, None)


def test_removed_container(busybox_image: Any, track: Callable[[Any], Any]) -> None:
    c = track(busybox_image.run_via_binary(command=["sleep", "300"]))
    cid = c.get_id()
    c.delete(force=True)
    with pytest.raises(ContainerNotFound, match=cid[:12]):
        c.get_status()
    with pytest.raises(ContainerNotFound):
        c.delete(force=True)


# -- execute ----------------------------------------------------------------------------------


def test_execute_blocking(sleeper: Any) -> None:
    assert sleeper.execute(["true"]) == []
    assert sleeper.execute(["printf", "asd"]) == [b"asd"]
    assert b"".join(sleeper.execute(["printf", "asd\\nasd"])) == b"asd\nasd"
    assert b"".join(sleeper.execute(["sh", "-c", "echo out; echo err >&2"])) in (
        b"out\nerr\n",
        b"err\nout\n",
    )
    out = sleeper.execute(["cat", "/etc/motd"], exec_create_kwargs={"workdir": "/"})
    assert out == [b"conu test image\n"]
    out = sleeper.execute(["sh", "-c", "echo $FOO"], exec_create_kwargs={"environment": ["FOO=x"]})
    assert out == [b"x\n"]
    assert sleeper.execute(("printf", "t")) == [b"t"]


def test_execute_failure(sleeper: Any) -> None:
    with pytest.raises(CommandFailed, match="exit code 110") as info:
        sleeper.execute(["sh", "-c", "echo oops; exit 110"])
    assert isinstance(info.value, ConuException)
    assert info.value.exit_code == 110
    assert info.value.output == b"oops\n"


def test_execute_missing_command(sleeper: Any) -> None:
    with pytest.raises(CommandFailed, match="exit code") as info:
        sleeper.execute(["conu-no-such-command"])
    assert info.value.exit_code not in (None, 0)


def test_execute_nonblocking(sleeper: Any) -> None:
    stream = sleeper.execute(["sh", "-c", "echo 1; sleep 0.1; echo 2"], blocking=False)
    assert not isinstance(stream, list)
    assert b"".join(stream) == b"1\n2\n"
    # the exit code is not checked
    assert b"".join(sleeper.execute(["sh", "-c", "echo x; exit 3"], blocking=False)) == b"x\n"


def test_execute_wrong_types(sleeper: Any) -> None:
    with pytest.raises(TypeError):
        sleeper.execute("ls /")
    with pytest.raises(TypeError):
        sleeper.execute(None)


def test_execute_in_stopped_container(run: Callable[..., Any]) -> None:
    c = run(["true"])
    _exited(c)
    with pytest.raises(Conflict) as info:
        c.execute(["true"])
    assert isinstance(info.value, ConuException)
    assert isinstance(info.value.__cause__, docker.errors.APIError)


# -- logs -------------------------------------------------------------------------------------

FIVE = ["sh", "-c", "for x in 1 2 3 4 5; do echo $x; done"]


def test_logs(run: Callable[..., Any]) -> None:
    c = run(FIVE)
    _exited(c)
    assert list(c.logs()) == [b"1\n", b"2\n", b"3\n", b"4\n", b"5\n"]
    assert c.logs_in_bytes() == b"1\n2\n3\n4\n5\n"
    assert c.logs_unicode() == "1\n2\n3\n4\n5\n"


def test_logs_stderr_and_unterminated(run: Callable[..., Any]) -> None:
    c = run(["sh", "-c", "echo out; echo err >&2; printf tail"])
    _exited(c)
    lines = list(c.logs())
    assert sorted(lines[:2]) == [b"err\n", b"out\n"]
    assert lines[2:] == [b"tail"]


def test_logs_follow(run: Callable[..., Any]) -> None:
    c = run(["sh", "-c", "for x in 1 2 3; do echo $x; sleep 0.2; done"])
    start = time.monotonic()
    assert list(c.logs(follow=True)) == [b"1\n", b"2\n", b"3\n"]
    assert time.monotonic() - start >= 0.3  # it streamed until the container exited
    _exited(c)


def test_logs_tty(run: Callable[..., Any]) -> None:
    c = run(FIVE, ["-t"])
    _exited(c)
    assert list(c.logs()) == [b"1\r\n", b"2\r\n", b"3\r\n", b"4\r\n", b"5\r\n"]
    assert c.logs_unicode() == "1\r\n2\r\n3\r\n4\r\n5\r\n"


def test_logs_follow_tty(run: Callable[..., Any]) -> None:
    c = run(["sh", "-c", "for x in 1 2 3; do echo $x; sleep 0.2; done"], ["-t"])
    assert list(c.logs(follow=True)) == [b"1\r\n", b"2\r\n", b"3\r\n"]
    _exited(c)


def test_logs_empty(sleeper: Any) -> None:
    assert list(sleeper.logs()) == []
    assert sleeper.logs_unicode() == ""


def test_wait_for_port_resolves_the_endpoint_once(
    busybox_image: Any, run: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    c = run(["sh", "-c", "sleep 1; exec httpd -f -p 8080"], ["-p", "8080"])
    inspected: list[str] = []
    original = c.engine.inspect_container

    def counted(container_id: str) -> Any:
        inspected.append(container_id)
        return original(container_id)

    monkeypatch.setattr(c.engine, "inspect_container", counted)
    c.wait_for_port(8080, timeout=10)  # about a hundred tries over the second
    assert len(inspected) == 1
    with pytest.raises(ProbeTimeout, match=rf"container='{c.get_id()[:12]}', port=9\b"):
        c.wait_for_port(9, timeout=0.3)
