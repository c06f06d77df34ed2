"""A watchdog that removes a session's resources when the process owning it dies.

:func:`ensure_started` spawns ``python -m conu.watchdog`` in a session of its own, so that
it outlives its parent even when the parent's process group is killed. The parent holds the
write end of a pipe to the watchdog's stdin; the kernel closes it when the parent dies, for
whatever reason (SIGKILL, out of memory, a CI timeout), and the watchdog's blocking read
returns at once: there is no polling. At a normal interpreter exit the parent first writes
``release``, and the watchdog leaves without touching anything (the session's own cleanup
ran, and what the user chose to keep is kept).

On an abnormal end the watchdog sweeps everything carrying the session's label, waits a
short grace period for ``docker run`` clients the parent left behind to finish creating
their containers, and sweeps again. Nothing is pulled: unlike testcontainers' reaper, the
watchdog is a plain Python process and works offline.
"""

from __future__ import annotations

import argparse
import atexit
import logging
import os
import subprocess
import sys
import threading
import time

__all__ = ["GRACE", "RELEASE", "Watchdog", "ensure_started", "main"]

logger = logging.getLogger(__name__)

RELEASE = b"release\n"
"""What the parent writes at a normal exit."""
GRACE = 8.0
"""Seconds between the first and the second sweep after the parent died."""
ENGINE_RETRY = 15.0
"""Seconds a sweep retries while the engine does not answer."""

_lock = threading.Lock()
_started: dict[tuple[str, str], Watchdog] = {}


class Watchdog:
    """The parent's handle on a running watchdog process."""

    def __init__(self, backend: str, session: str) -> None:
        self.backend = backend
        self.session = session
        self.process = subprocess.Popen(
            [sys.executable, "-m", "conu.watchdog", "--backend", backend, "--session", session],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            close_fds=True,
            env=_child_env(),
        )

    @property
    def pid(self) -> int:
        """The watchdog's process id."""
        return self.process.pid

    def release(self) -> None:
        """Tell the watchdog the parent ends normally: it exits without sweeping."""
        stdin = self.process.stdin
        if stdin is None or stdin.closed:
            return
        try:
            stdin.write(RELEASE)
            stdin.close()
        except OSError:
            pass  # it is gone already
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()


def _child_env() -> dict[str, str]:
    """The environment of the watchdog: ours, with conu importable wherever it came from."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    path = os.environ.get("PYTHONPATH")
    return {**os.environ, "PYTHONPATH": root + (os.pathsep + path if path else "")}


def ensure_started(backend: str = "docker") -> Watchdog | None:
    """Start this session's watchdog for ``backend`` unless it runs already.

    Only the process that owns the session (see :mod:`conu.labels`) starts one: a child
    sharing its parent's session through ``CONU_SESSION_ID`` does not.

    Returns:
        The watchdog, or None in a process that does not own its session.
    """
    from conu.labels import SESSION_ID, owns_session

    if not owns_session():
        return None
    key = (backend, SESSION_ID)
    with _lock:
        if key not in _started:
            if not _started:
                atexit.register(_release_all)
            _started[key] = Watchdog(backend, SESSION_ID)
        return _started[key]


def _release_all() -> None:
    for watchdog in _started.values():
        watchdog.release()


def _sweep(backend_name: str, session: str) -> None:
    """Remove the session's resources, retrying while the engine does not answer."""
    from conu.exceptions import EngineUnreachable
    from conu.labels import remove_session_tmp
    from conu.plugins import get_backend

    deadline = time.monotonic() + ENGINE_RETRY
    while True:
        try:
            backend = get_backend(backend_name)(logging_level=logging.WARNING)
            removed = backend.remove_session_resources(session)
            removed["temporary paths"] = remove_session_tmp(session)
            logger.warning("conu watchdog: session %s ended; removed %s", session, removed)
            return
        except EngineUnreachable:
            if time.monotonic() > deadline:
                raise
            time.sleep(1)


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m conu.watchdog``: wait for the parent, then sweep."""
    parser = argparse.ArgumentParser(prog="python -m conu.watchdog")
    parser.add_argument("--backend", default="docker")
    parser.add_argument("--session", required=True)
    args = parser.parse_args(argv)
    message = sys.stdin.buffer.read()  # returns at the parent's release or death
    if message.startswith(RELEASE.strip()):
        return 0
    os.environ["CONU_SESSION_ID"] = args.session  # never start a watchdog of our own
    _sweep(args.backend, args.session)
    time.sleep(GRACE)  # docker run clients the parent left may still create containers
    _sweep(args.backend, args.session)
    return 0


if __name__ == "__main__":
    sys.exit(main())
