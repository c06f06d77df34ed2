"""``podman exec`` and ``podman logs``: output read while podman runs."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from conu.apidefs.specs import ExecStream
from conu.backend.podman import cli
from conu.backend.podman.stream import Output, PodmanStream, streamed
from conu.exceptions import Conflict, InvalidArgument

__all__ = ["EXEC_OPTIONS", "exec_args", "exec_stream", "logs"]

EXEC_OPTIONS = frozenset(
    {"user", "workdir", "environment", "privileged", "tty", "timeout", "podman_args"}
)
"""Keys ``exec_in_container``'s ``options`` may hold (Docker's ``create`` mapping is read
too; its ``start`` mapping has no podman meaning and is ignored)."""
_ENGINE_FAILURE = 125
"""``podman exec``'s status when podman itself, not the command, failed."""


def _environment(value: Any) -> list[str]:
    """``--env`` arguments from a mapping or a list of ``K=V`` strings."""
    pairs = [f"{k}={v}" for k, v in value.items()] if isinstance(value, Mapping) else value
    return [arg for pair in pairs or () for arg in ("--env", str(pair))]


def exec_args(options: Mapping[str, Any] | None) -> tuple[list[str], float | None]:
    """Return the ``podman exec`` options and the timeout ``options`` ask for.

    Raises:
        InvalidArgument: an option is not one of :data:`EXEC_OPTIONS`.
    """
    merged = {k: v for k, v in (options or {}).items() if k not in ("create", "start")}
    merged.update((options or {}).get("create") or {})
    unknown = sorted(set(merged) - EXEC_OPTIONS)
    if unknown:
        msg = f"unknown podman exec options {unknown}; known: {sorted(EXEC_OPTIONS)}"
        raise InvalidArgument(msg)
    args = ["--user", str(merged["user"])] if merged.get("user") else []
    args += ["--workdir", str(merged["workdir"])] if merged.get("workdir") else []
    args += _environment(merged.get("environment"))
    args += ["--privileged"] if merged.get("privileged") else []
    args += ["--tty"] if merged.get("tty") else []
    args += [str(arg) for arg in merged.get("podman_args") or ()]
    timeout = merged.get("timeout")
    return args, None if timeout is None else float(timeout)


def _check_running(container_id: str, what: str) -> None:
    """Raise Conflict unless the container runs (ContainerNotFound if it does not exist)."""
    args = ["container", "inspect", "--format", "{{.State.Status}}", container_id]
    state = cli.run(args, what=what).stdout.decode().strip()
    if state != "running":
        msg = f"cannot {what}: the container is {state}, not running"
        raise Conflict(msg)


def exec_stream(
    container_id: str, command: Sequence[str], options: list[str], timeout: float
) -> ExecStream:
    """Start ``command`` with ``podman exec`` (stdout and stderr merged).

    Raises:
        ContainerNotFound: no such container.
        Conflict: the container does not run.
    """
    what = f"execute {list(command)!r} in container {container_id[:12]!r}"
    _check_running(container_id, what)
    handle = PodmanStream(["exec", *options, container_id, *command], timeout, "merged")

    def output() -> Iterator[bytes]:
        finished = False
        try:
            yield from handle.chunks()
            finished = True
        finally:
            if not finished:
                handle.stop()

    def exit_code() -> int | None:
        code = handle.wait()
        if handle.expired.is_set():
            raise cli.timed_out(what, timeout)
        if handle.stopped:
            return None
        tail = bytes(handle.tail)
        if code == _ENGINE_FAILURE and cli.recognise(tail) is not None:
            raise cli.failure(what, tail)
        return code

    return ExecStream(output=output(), exit_code=exit_code)


def logs(
    container_id: str, *, follow: bool, stdout: bool, stderr: bool, timeout: float
) -> Iterator[bytes]:
    """Return the container's output (both streams: merged in the order podman read them).

    Raises:
        ContainerNotFound: no such container.
    """
    what = f"read the logs of container {container_id[:12]!r}"
    if not (stdout or stderr):
        return iter(())
    mode: Output = "merged" if stdout and stderr else "stdout" if stdout else "stderr"
    if follow:
        cli.run(["container", "inspect", "--format", "{{.Id}}", container_id], what=what)
        args = ["logs", "--follow", container_id]
        return streamed(args, what=what, timeout=timeout, output=mode, prime=False)
    args = ["logs", container_id]
    done = cli.run(args, what=what, merge_output=mode == "merged", check=mode != "stderr")
    if mode == "stderr":
        if done.returncode != 0:
            raise cli.failure(what, done.stderr)
        return iter([done.stderr] if done.stderr else [])
    return iter([done.stdout] if done.stdout else [])
