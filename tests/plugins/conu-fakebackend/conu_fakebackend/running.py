"""The container primitives: create, start, signal, wait, exec, logs, inspect, remove."""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import subprocess
import threading
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from conu.apidefs.specs import ContainerInfo, ExecStream, RunSpec
from conu.exceptions import (
    CommandDoesNotExistException,
    Conflict,
    ConuException,
    EngineError,
    ProbeTimeout,
)
from conu.utils.archive import remove_tree
from conu.utils.rootfs import resolve_in_root
from conu_fakebackend import layers as fs
from conu_fakebackend.containers import Box, EngineState, describe, make_box
from conu_fakebackend.images import now
from conu_fakebackend.process import (
    exit_status,
    follow_lines,
    parse_signal,
    reap,
    spawn,
    wait_exited,
)

__all__ = ["STOP_TIMEOUT", "ContainerOps"]

STOP_TIMEOUT = 10.0
"""Seconds ``stop_container`` waits after SIGTERM when given no timeout (Docker's default)."""


class ContainerOps(EngineState):
    """Containers whose processes are chrooted host processes, reaped by a thread each."""

    def create_container(self, spec: RunSpec) -> str:
        """Create the container: its root filesystem is extracted now. Raises ImageNotFound."""
        if spec.binds:  # no mount namespace to bind into
            raise self.unsupported("create_container(binds=...)")
        with self._lock:
            image = self._images.lookup(spec.image)
            name = spec.name or next(
                n for n in (f"fake-{i}" for i in self._numbers) if not self._named(n)
            )
            if self._named(name):
                msg = f"the container name {name!r} is already in use"
                raise Conflict(msg)
            box = make_box(secrets.token_hex(32), name, spec, image, "")
            if not box.argv:
                msg = "no command specified"
                raise EngineError(msg)
            box.directory = os.path.join(self._tmp, box.id)
            self._containers[box.id] = box  # reserves the name
        try:
            os.mkdir(box.directory, 0o700)
            fs.materialise(box.root, image.layers)
            os.makedirs(resolve_in_root(box.root, box.workdir), exist_ok=True)
            box.index = fs.index_tree(box.root)
        except (ConuException, OSError) as exc:
            self._discard(box)
            msg = f"cannot create the root filesystem of {name!r}: {exc}"
            raise EngineError(msg) from exc
        return box.id

    def start_container(self, container_id: str) -> None:
        """Start the main process (a no-op when it runs). Raises CommandDoesNotExistException."""
        with self._lock:
            box = self._box(container_id)
            if box.running:
                return
            out_path, err_path = box.log_paths
            with open(out_path, "ab") as out, open(err_path, "ab") as err:
                process = spawn(
                    box.root, box.argv, box.env, box.workdir, box.user,
                    stdin=subprocess.DEVNULL, stdout=out, stderr=out if box.spec.tty else err,
                )  # fmt: skip
            box.process, box.done = process, threading.Event()
            box.exit_code, box.started_at, box.finished_at = 0, now(), ""
        threading.Thread(
            target=self._reap,
            args=(box, process, box.done),
            name=f"fake-{box.id[:12]}",
            daemon=True,
        ).start()

    def _reap(self, box: Box, process: subprocess.Popen[bytes], done: threading.Event) -> None:
        """Wait for the main process; then end the container's other processes, like a PID
        namespace would, and record the exit code."""
        wait_exited(process.pid)
        with self._lock:
            box.exit_code, box.finished_at = reap(process, box.root), now()
            done.set()
        if box.spec.auto_remove:
            self._discard(box)

    def _signal(self, box: Box, number: int) -> bool:
        """Send ``number`` to the main process if it runs; say whether it did."""
        with self._lock:
            if not box.running or box.process is None:
                return False
            with contextlib.suppress(ProcessLookupError):
                os.kill(box.process.pid, number)  # not reaped yet: the pid is still ours
            return True

    def stop_container(self, container_id: str, timeout: float | None = None) -> None:
        """SIGTERM, then SIGKILL after ``timeout`` (default 10) seconds."""
        with self._lock:
            box = self._box(container_id)
            done = box.done
        if self._signal(box, signal.SIGTERM) and not done.wait(
            STOP_TIMEOUT if timeout is None else timeout
        ):
            self._signal(box, signal.SIGKILL)
            done.wait(STOP_TIMEOUT)

    def kill_container(self, container_id: str, signal: str | int | None = None) -> None:
        """Send ``signal`` (SIGKILL by default). Raises Conflict when it does not run."""
        number = parse_signal(signal)
        with self._lock:
            box = self._box(container_id)
        if not self._signal(box, number):
            msg = f"container {box.name!r} is not running"
            raise Conflict(msg)

    def remove_container(
        self, container_id: str, *, force: bool = False, volumes: bool = False
    ) -> None:
        """Remove the container and its root directory (``force``: killing it first)."""
        with self._lock:
            box = self._box(container_id)
            if box.running and not force:
                msg = f"container {box.name!r} is running: stop it or force the removal"
                raise Conflict(msg)
        self._discard(box)

    def _discard(self, box: Box) -> None:
        """Forget ``box``, kill its processes and remove its directory (idempotent)."""
        with self._lock:
            if self._containers.pop(box.id, None) is None:
                return
        self._signal(box, signal.SIGKILL)
        if box.process is not None:
            box.done.wait(STOP_TIMEOUT)
        remove_tree(box.directory)

    def wait_container(self, container_id: str, timeout: float | None = None) -> int:
        """Wait for the main process to end; a container never started returns at once."""
        with self._lock:
            box = self._box(container_id)
            done, started = box.done, box.process is not None
        if started and not done.wait(timeout):
            msg = f"container {box.name!r} still runs after {timeout} s"
            raise ProbeTimeout(msg)
        return box.exit_code

    def exec_in_container(
        self,
        container_id: str,
        command: Sequence[str],
        *,
        options: Mapping[str, Any] | None = None,
    ) -> ExecStream:
        """Run ``command`` chrooted like the main process; stdout and stderr merged.

        ``options["create"]`` may hold Docker's ``environment``, ``workdir`` and ``user``.
        A command that does not exist gives exit code 127, as Docker's exec does.
        """
        create = dict((options or {}).get("create") or {})
        extra = create.get("environment") or {}
        if not isinstance(extra, Mapping):
            extra = dict(item.split("=", 1) for item in extra if "=" in item)
        with self._lock:
            box = self._box(container_id)
            if not box.running:
                msg = f"container {box.name!r} is not running"
                raise Conflict(msg)
            try:
                process = spawn(
                    box.root, command, {**box.env, **extra}, create.get("workdir") or box.workdir,
                    create.get("user") or box.user,
                    stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                )  # fmt: skip
            except CommandDoesNotExistException as exc:
                return ExecStream(output=iter([f"exec: {exc}\n".encode()]), exit_code=lambda: 127)
        return ExecStream(output=_read(process), exit_code=lambda: exit_status(process.wait()))

    def container_logs(
        self,
        container_id: str,
        *,
        follow: bool = False,
        stdout: bool = True,
        stderr: bool = True,
    ) -> Iterator[bytes]:
        """Yield whole lines of the log files (stdout's first unless following)."""
        with self._lock:
            box = self._box(container_id)
            done, started = box.done, box.process is not None
        out, err = box.log_paths
        paths = [p for p, wanted in ((out, stdout), (err, stderr)) if wanted and os.path.exists(p)]
        return follow_lines(paths, lambda: started and not done.is_set(), follow=follow)

    def inspect_container(self, container_id: str) -> ContainerInfo:
        """Describe the container (by id, name or id prefix)."""
        with self._lock:
            box = self._box(container_id)
            return describe(box, self.container_state(box.status))

    def list_containers(self, labels: Mapping[str, str] | None = None) -> list[ContainerInfo]:
        """Describe every container carrying ``labels``."""
        with self._lock:
            boxes = list(self._containers.values())
            wanted = dict(labels or {}).items()
            return [
                describe(b, self.container_state(b.status))
                for b in boxes
                if wanted <= b.labels.items()
            ]


def _read(process: subprocess.Popen[bytes]) -> Iterator[bytes]:
    """Yield an exec's output as it comes."""
    assert process.stdout is not None
    with process.stdout as pipe:
        while chunk := os.read(pipe.fileno(), 65536):
            yield chunk
