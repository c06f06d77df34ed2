"""Processes in pods: ``exec`` over the API server's WebSocket, and the pod's log."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from conu.apidefs.specs import ContainerState, ExecStream
from conu.backend.k8s import pods
from conu.exceptions import (
    Conflict,
    ContainerNotFound,
    ConuException,
    EngineUnreachable,
    InvalidArgument,
    UnsupportedOperation,
)

if TYPE_CHECKING:
    from conu.backend.k8s.api import KubeApi

__all__ = ["FOLLOW_TIMEOUT", "ExecMixin", "exit_status"]

FOLLOW_TIMEOUT = 86400.0
"""Seconds a followed log may stay silent."""
_STDOUT, _STDERR, _ERROR = 1, 2, 3
_NOT_FOUND = ("executable file not found", "no such file or directory")


def exit_status(error_channel: bytes) -> tuple[int | None, str]:
    """Return ``(exit code, message)`` of an exec's error channel (a ``Status`` document):
    0 on success, the code the process exited with, 127 when the command does not exist,
    126 when it could not run otherwise; None when the server said nothing."""
    if not error_channel.strip():
        return None, ""
    try:
        status = json.loads(error_channel)
    except ValueError:
        return 126, error_channel.decode("utf-8", "replace")
    if status.get("status") == "Success":
        return 0, ""
    for cause in (status.get("details") or {}).get("causes") or ():
        if cause.get("reason") == "ExitCode":
            return int(cause.get("message", 1)), ""
    message = str(status.get("message", ""))
    return (127 if any(n in message for n in _NOT_FOUND) else 126), message


class _Exec:
    """The output and the exit code of one exec WebSocket."""

    def __init__(self, ws: Any, stdin: bytes | None = None) -> None:
        self.ws = ws
        self.code: int | None = None
        self.error = b""
        if stdin is not None:
            ws.write_channel(0, stdin)

    def chunks(self, channels: Sequence[int] = (_STDOUT, _STDERR)) -> Iterator[bytes]:
        """Yield output of ``channels`` as it comes, until the command ends."""
        try:
            while self.ws.is_open():
                self.ws.update(timeout=None)  # blocks until a frame (or the close) arrives
                self.error += self.ws.read_channel(_ERROR) or b""
                for channel in channels:
                    data = self.ws.read_channel(channel)
                    if data:
                        yield data
            self.error += self.ws.read_channel(_ERROR) or b""
            for channel in channels:
                data = self.ws.read_channel(channel)
                if data:
                    yield data
            self.code, message = exit_status(self.error)
            if message:
                yield message.encode() + b"\n"
        finally:
            self.ws.close()


class ExecMixin:
    """``exec`` and logs."""

    api: KubeApi
    namespace: str
    _pod_path: Callable[[str], tuple[str, str, str]]
    _get_pod: Callable[[str], dict[str, Any]]
    start_container: Callable[[str], None]

    def open_exec(
        self, container_id: str, command: Sequence[str], *, stdin: bool = False, tty: bool = False
    ) -> Any:
        """Open the exec WebSocket of ``command`` in the pod's container.

        Raises:
            Conflict: the container does not run.
            ContainerNotFound: no such pod.
        """
        ns, name, path = self._pod_path(container_id)
        what = f"exec {list(command)!r} in pod {ns}/{name}"
        try:
            return self.api.exec(
                path, command, what=what, container=pods.CONTAINER, stdin=stdin, tty=tty
            )
        except EngineUnreachable:
            raise
        except ConuException as exc:
            state = pods.state_of(self._get_pod(container_id))
            if state is not ContainerState.RUNNING:
                msg = f"cannot exec in pod {ns}/{name}: it is {state.value}, not running"
                raise Conflict(msg) from exc
            raise

    def exec_in_container(
        self,
        container_id: str,
        command: Sequence[str],
        *,
        options: Mapping[str, Any] | None = None,
    ) -> ExecStream:
        """Start ``command`` in the pod's container; stdout and stderr come merged.

        Args:
            container_id: the pod.
            command: executable and arguments.
            options: ``tty`` (bool) is understood; Docker's exec options are ignored.

        Raises:
            Conflict: the container does not run.
        """
        tty = bool((options or {}).get("tty", False))
        run = _Exec(self.open_exec(container_id, command, tty=tty))
        return ExecStream(output=run.chunks(), exit_code=lambda: run.code)

    def run_in_pod(
        self, container_id: str, command: Sequence[str], *, stdin: bytes | None = None
    ) -> tuple[int | None, bytes, bytes]:
        """Run ``command`` to its end; return ``(exit code, stdout, stderr)``."""
        run = _Exec(self.open_exec(container_id, command, stdin=stdin is not None), stdin)
        out = b"".join(run.chunks((_STDOUT,)))
        return run.code, out, run.ws.read_channel(_STDERR) or b""

    def container_logs(
        self,
        container_id: str,
        *,
        follow: bool = False,
        stdout: bool = True,
        stderr: bool = True,
    ) -> Iterator[bytes]:
        """Return the pod's log (stdout and stderr merged: the API keeps them together).

        Raises:
            UnsupportedOperation: only one of the two streams is asked for.
            ContainerNotFound: no such pod.
        """
        if not (stdout and stderr):
            raise UnsupportedOperation(
                "kubernetes", "container_logs of stdout or stderr alone (the API merges them)"
            )
        ns, name, path = self._pod_path(container_id)
        pod = self._get_pod(container_id)
        if pods.state_of(pod) is ContainerState.CREATED:
            if not follow:
                return iter(())
            self.start_container(container_id)
        what = f"read the log of pod {ns}/{name}"
        query = {"container": pods.CONTAINER, "follow": follow}
        try:
            response = self.api.request(
                "GET",
                path + "/log",
                what=what,
                query=query,
                stream=True,
                timeout=FOLLOW_TIMEOUT if follow else 60.0,
                not_found=ContainerNotFound,
            )
        except InvalidArgument:  # "container ... is waiting to start": nothing logged yet
            return iter(())
        return self.api.stream_chunks(response, what, size=4096 if follow else 65536)
