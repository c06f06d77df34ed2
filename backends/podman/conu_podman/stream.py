"""Podman calls whose output is consumed while they run: exports, copies, followed logs.

:func:`open_stream` starts ``podman <args>`` with its stdout on a pipe the caller reads from,
and guarantees the process is gone when the ``with`` block ends:

* a timer kills it at the deadline, and the block then raises
  :class:`~conu.exceptions.ProbeTimeout` (no polling: the reader simply sees the end of the
  stream);
* a caller that has read what it needs calls :meth:`PodmanStream.stop`: podman gets
  SIGTERM, and its exit status is not held against anyone;
* when the caller's code fails because podman failed (an empty archive, say), podman's own
  error, translated by :func:`conu_podman.engine.failure`, is raised instead, with the
  caller's exception as its cause.

stderr goes to a temporary file, so podman can never block on a full stderr pipe.
"""

from __future__ import annotations

import contextlib
import logging
import os
import select
import subprocess
import tempfile
import threading
from collections.abc import Iterator, Sequence
from typing import IO

from conu.exceptions import ConuException, EngineError
from conu_podman import engine

__all__ = ["STOP_GRACE", "PodmanStream", "open_stream"]

logger = logging.getLogger(__name__)

STOP_GRACE = 5.0
"""Seconds podman gets to exit (on its own after a failure, or after SIGTERM) before SIGKILL."""


class PodmanStream:
    """A running podman process whose stdout is being read.

    Args:
        process: the process, started with ``stdout=PIPE``.
        timeout: seconds after which a timer kills it; None for no limit.
    """

    def __init__(self, process: subprocess.Popen[bytes], timeout: float | None) -> None:
        self.process = process
        self.stopped = False
        self.expired = threading.Event()
        self._timer: threading.Timer | None = None
        if timeout is not None:
            self._timer = threading.Timer(timeout, self._expire)
            self._timer.daemon = True
            self._timer.start()

    @property
    def stdout(self) -> IO[bytes]:
        """podman's standard output."""
        assert self.process.stdout is not None  # started with stdout=PIPE
        return self.process.stdout

    def chunks(self, size: int = 64 * 1024) -> Iterator[bytes]:
        """Yield podman's output as it arrives, in pieces of at most ``size`` bytes."""
        read = getattr(self.stdout, "read1", self.stdout.read)
        while chunk := read(size):
            yield chunk

    def stop(self) -> None:
        """End podman early: the caller has read all it needs; its exit status is ignored.

        podman is sent SIGTERM, on which it cleans up and exits; closing the pipe alone is
        not enough (``podman export`` deadlocks on a broken pipe).
        """
        self.stopped = True
        with contextlib.suppress(OSError):
            self.process.terminate()
        self._close()
        self._reap()

    def abort(self) -> None:
        """End podman after the caller failed while reading.

        When the caller saw the end of the output, podman is ending on its own (it probably
        failed, and its error is what matters): it is given time to exit. Otherwise the
        caller gave up in the middle and podman is stopped.
        """
        if self._at_eof():
            self._close()
            self._reap()
        else:
            self.stop()

    def _at_eof(self) -> bool:
        """Tell, without blocking, whether podman's stdout has reached its end."""
        try:
            fd = self.stdout.fileno()
            ready, _, _ = select.select([fd], [], [], 0)
            return bool(ready) and os.read(fd, 1) == b""
        except (OSError, ValueError):
            return False

    def _expire(self) -> None:
        self.expired.set()
        with contextlib.suppress(OSError):
            self.process.kill()

    def _close(self) -> None:
        with contextlib.suppress(OSError):
            self.stdout.close()

    def _reap(self) -> None:
        """Wait for podman to exit, killing it when it takes longer than :data:`STOP_GRACE`."""
        try:
            self.process.wait(timeout=STOP_GRACE)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=STOP_GRACE)

    def finish(self) -> None:
        """Let podman exit on its own (the timer bounds the wait) and close the pipe.

        Output the caller left unread (tar padding after the end-of-archive blocks) is
        drained first, so podman never blocks on a full pipe.
        """
        for _ in self.chunks():
            pass
        self.process.wait()
        self._close()

    def cancel_timer(self) -> None:
        """Stop the deadline timer."""
        if self._timer is not None:
            self._timer.cancel()


@contextlib.contextmanager
def open_stream(
    args: Sequence[str],
    *,
    what: str,
    timeout: float | None = engine.TIMEOUT,
    error: type[ConuException] = EngineError,
) -> Iterator[PodmanStream]:
    """Run ``podman <args>`` and yield it while the caller reads its stdout.

    Args:
        args: podman's arguments.
        what: what is being done, for messages (``"export container 'abc'"``).
        timeout: the most seconds the whole call may take; None only where the caller asked
            to block without a limit (``logs(follow=True, timeout=None)``).
        error: the exception class for unrecognised podman failures.

    Raises:
        CommandDoesNotExistException: podman is not installed.
        ProbeTimeout: the deadline passed; podman was killed.
        ConuException: podman failed (translated, see :func:`conu_podman.engine.failure`).
    """
    command = engine.argv(args)
    logger.debug("streaming %s", " ".join(command))
    with tempfile.TemporaryFile() as stderr:
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=stderr)
        handle = PodmanStream(process, timeout)
        try:
            yield handle
            if not handle.stopped:
                handle.finish()
        except GeneratorExit:  # the caller stopped iterating over a generator: a stop
            handle.stop()
            raise
        except BaseException as exc:
            handle.abort()
            problem = _problem(handle, stderr, what, timeout, error, ignore_status=handle.stopped)
            if problem is not None:
                raise problem from exc
            raise
        finally:
            handle.cancel_timer()
        problem = _problem(handle, stderr, what, timeout, error, ignore_status=handle.stopped)
        if problem is not None:
            raise problem


def _problem(
    handle: PodmanStream,
    stderr: IO[bytes],
    what: str,
    timeout: float | None,
    error: type[ConuException],
    *,
    ignore_status: bool,
) -> ConuException | None:
    """Return what went wrong with the finished podman process, None if nothing did."""
    if handle.expired.is_set():
        return engine.timed_out(what, timeout)
    if ignore_status or handle.process.returncode == 0:
        return None
    stderr.seek(0)
    output = stderr.read()
    if not output.strip() or b"broken pipe" in output.lower():
        return None  # ended because the pipe was closed, not because podman failed
    return engine.failure(what, output, error=error)
