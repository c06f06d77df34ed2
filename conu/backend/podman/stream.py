"""Podman processes whose output is read while they run: archives, followed logs, execs.

:class:`PodmanStream` is one ``podman`` process with its output on a pipe; a timer kills it
at its deadline, so no read blocks forever. :func:`streamed` turns one into an iterator of
chunks that starts podman *before* it returns (so a missing container or path raises at the
call, not at the first ``next``) and stops podman when the caller stops reading.
:func:`run_watched` runs a process that may stay silent only so long (a build).

Failures are translated by :func:`conu.backend.podman.cli.failure`, the one boundary.
"""

from __future__ import annotations

import collections
import contextlib
import logging
import os
import select
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from typing import IO, Literal

from conu.backend.podman import cli
from conu.exceptions import ConuException, EngineError
from conu.utils.streams import resume

__all__ = ["STOP_GRACE", "Output", "PodmanStream", "run_watched", "streamed"]

logger = logging.getLogger(__name__)

STOP_GRACE = 5.0
"""Seconds podman gets to exit (on its own, or after SIGTERM) before SIGKILL."""
_TAIL_BYTES = 16 * 1024
_CHUNK = 64 * 1024

Output = Literal["stdout", "stderr", "merged"]
"""Which of podman's streams is read: stdout (stderr kept for errors), stderr, or both."""


class PodmanStream:
    """A running podman process whose output is being read.

    Args:
        args: podman's arguments.
        timeout: seconds after which a timer kills it (every stream has a deadline).
        output: which stream is read, see :data:`Output`.
        stdin: a file podman reads its standard input from (none by default).
    """

    def __init__(
        self,
        args: Sequence[str],
        timeout: float,
        output: Output = "stdout",
        stdin: IO[bytes] | None = None,
    ) -> None:
        command = cli.argv(args)
        logger.debug("streaming %s", " ".join(command))
        self._errors: IO[bytes] | None = None
        if output == "stdout":  # closed by close()
            self._errors = tempfile.TemporaryFile()  # noqa: SIM115
        out: int | IO[bytes] = subprocess.DEVNULL if output == "stderr" else subprocess.PIPE
        err: int | IO[bytes] = subprocess.STDOUT
        if self._errors is not None:
            err = self._errors
        elif output == "stderr":
            err = subprocess.PIPE
        self.process = subprocess.Popen(
            command, stdin=stdin or subprocess.DEVNULL, stdout=out, stderr=err
        )
        pipe = self.process.stderr if output == "stderr" else self.process.stdout
        assert pipe is not None  # started with a pipe
        self.pipe: IO[bytes] = pipe
        self.tail = bytearray()
        self._said: bytes | None = None
        self.stopped = False
        self.expired = threading.Event()
        self._timer = threading.Timer(timeout, self._expire)
        self._timer.daemon = True
        self._timer.start()

    def chunks(self) -> Iterator[bytes]:
        """Yield podman's output as it arrives (the last bytes are kept in ``tail``)."""
        read = getattr(self.pipe, "read1", self.pipe.read)
        while chunk := read(_CHUNK):
            self.tail = (self.tail + chunk)[-_TAIL_BYTES:]
            yield chunk

    def errors(self) -> bytes:
        """What podman said about its failure: its stderr, or the tail of what was read."""
        if self._errors is not None:
            self._errors.seek(0)
            return self._errors.read()
        return self._said if self._said is not None else bytes(self.tail)

    def stop(self) -> None:
        """End podman early (the caller read all it needs); its exit status is then ignored.

        SIGTERM, not only a closed pipe: ``podman export`` deadlocks on a broken pipe.
        """
        self.stopped = True
        if self.process.poll() is None:
            with contextlib.suppress(OSError):
                self.process.terminate()
        self.close()

    def wait(self) -> int:
        """Let podman exit on its own, draining unread output first; return its status."""
        for _ in self.chunks():
            pass
        try:
            code = self.process.wait(timeout=STOP_GRACE)
        except subprocess.TimeoutExpired:
            self.process.kill()
            code = self.process.wait(timeout=STOP_GRACE)
        self.close()
        return code

    def close(self) -> None:
        """Close the pipe, reap podman (SIGKILL after :data:`STOP_GRACE`), stop the timer."""
        with contextlib.suppress(OSError):
            self.pipe.close()
        try:
            self.process.wait(timeout=STOP_GRACE)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=STOP_GRACE)
        self._timer.cancel()
        if self._errors is not None:  # keep what podman said, drop the file
            self._errors.seek(0)
            self._said = self._errors.read()[-_TAIL_BYTES:]
            self._errors.close()
            self._errors = None

    def problem(
        self, what: str, timeout: float | None, error: type[ConuException]
    ) -> ConuException | None:
        """Return what went wrong with the finished process, None if nothing did."""
        if self.expired.is_set():
            return cli.timed_out(what, timeout)
        if self.stopped or self.process.returncode == 0:
            return None
        return cli.failure(what, self.errors(), error=error)

    def _expire(self) -> None:
        self.expired.set()
        with contextlib.suppress(OSError):
            self.process.kill()


def _follow(
    handle: PodmanStream, what: str, timeout: float | None, error: type[ConuException]
) -> Iterator[bytes]:
    """Yield ``handle``'s output; stop podman if the caller stops reading; raise its failure."""
    finished = False
    try:
        yield from handle.chunks()
        finished = True
    finally:
        if not finished:
            handle.stop()
    handle.wait()
    problem = handle.problem(what, timeout, error)
    if problem is not None:
        raise problem


def streamed(
    args: Sequence[str],
    *,
    what: str,
    timeout: float = cli.TIMEOUT,
    error: type[ConuException] = EngineError,
    output: Output = "stdout",
    prime: bool = True,
) -> Iterator[bytes]:
    """Start ``podman <args>`` and return its output as an iterator of chunks.

    With ``prime``, the first chunk is read before this returns, so podman's failure to
    start (a missing container, image or path) raises here; a stream that may stay silent
    for long (followed logs) is not primed.

    Raises:
        CommandDoesNotExistException: podman is not installed.
        ProbeTimeout: the deadline passed; podman was killed.
        ConuException: podman failed (translated, see :func:`conu.backend.podman.cli.failure`).
    """
    chunks = _follow(PodmanStream(args, timeout, output), what, timeout, error)
    if not prime:
        return chunks
    try:
        first = next(chunks)
    except StopIteration:
        return iter(())
    return resume(first, chunks)


def run_watched(
    args: Sequence[str],
    *,
    what: str,
    silence: float,
    timeout: float,
    error: type[ConuException],
) -> bytes:
    """Run ``podman <args>`` (stdout and stderr merged), killing it when it says nothing for
    ``silence`` seconds or runs past ``timeout``; return the tail of its output.

    Raises:
        ProbeTimeout: podman was silent too long or ran too long.
        ConuException: ``error`` with the last lines podman printed, when it failed.
    """
    handle = PodmanStream(args, timeout, "merged")
    kept: collections.deque[bytes] = collections.deque(maxlen=64)
    deadline = time.monotonic() + timeout
    fd = handle.pipe.fileno()
    try:
        while True:
            wait = min(silence, max(deadline - time.monotonic(), 0.0))
            ready, _, _ = select.select([fd], [], [], wait)
            if not ready:
                handle.stop()
                raise cli.timed_out(f"{what} (it printed nothing for {silence:g}s)", silence)
            chunk = os.read(fd, _CHUNK)
            if not chunk:
                break
            kept.append(chunk)
    finally:
        code = handle.wait() if not handle.stopped else -1
    output = b"".join(kept)
    if handle.expired.is_set():
        raise cli.timed_out(what, timeout)
    if code != 0:
        raise cli.failure(what, output, error=error, classify=False, tail=True)
    return output
