"""Host processes confined to a container's root with chroot, their exit and their logs.

There is no namespace: a container's processes are ordinary host processes of their own
session (process group), chrooted into the root directory, sharing the host's network and
process table. Root inside is root outside, so this confines paths, not privileges.
"""

from __future__ import annotations

import contextlib
import os
import posixpath
import signal
import subprocess
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from conu.exceptions import CommandDoesNotExistException, EngineError, InvalidArgument
from conu.utils.rootfs import resolve_in_root

__all__ = [
    "DEFAULT_PATH",
    "container_path",
    "exit_status",
    "follow_lines",
    "kill_confined",
    "parse_signal",
    "reap",
    "spawn",
    "wait_exited",
]

DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
"""PATH of a container whose image sets none (Docker's default)."""
POLL_INTERVAL = 0.02


def exit_status(returncode: int) -> int:
    """Map a Popen return code to a container exit code (killed by signal N: 128 + N)."""
    return 128 - returncode if returncode < 0 else returncode


def parse_signal(value: str | int | None) -> int:
    """Return the number of ``value`` (None: SIGKILL; ``"SIGTERM"``, ``"TERM"``, 15...)."""
    if value is None:
        return int(signal.SIGKILL)
    if isinstance(value, int) or value.isdigit():
        return int(value)
    name = value.upper()
    try:
        return int(signal.Signals[name if name.startswith("SIG") else "SIG" + name])
    except KeyError:
        msg = f"unknown signal {value!r}"
        raise InvalidArgument(msg) from None


def _entries(root: str, table: str) -> list[list[str]]:
    """Return the ``:``-separated entries of the root's /etc/``table`` (none if unreadable)."""
    try:
        with open(resolve_in_root(root, f"/etc/{table}"), encoding="utf-8") as file:
            return [line.split(":") for line in file.read().splitlines() if line.count(":") >= 3]
    except OSError:
        return []


def _ids(root: str, user: str) -> tuple[int, int] | None:
    """Resolve ``name|uid[:group|gid]`` with the root's /etc/passwd and /etc/group."""
    name, _, group = user.partition(":")
    if not name:
        return None
    entry = next((e for e in _entries(root, "passwd") if name in (e[0], e[2])), None)
    if entry is None and not name.isdigit():
        msg = f"unable to find user {name!r}: no matching entry in the container's passwd file"
        raise EngineError(msg)
    uid = int(name) if name.isdigit() else int(entry[2])  # type: ignore[index]
    gid = int(entry[3]) if entry is not None and len(entry) > 3 else 0
    if group:
        found = next((e for e in _entries(root, "group") if group in (e[0], e[2])), None)
        if found is None and not group.isdigit():
            msg = f"unable to find group {group!r} in the container's group file"
            raise EngineError(msg)
        gid = int(group) if group.isdigit() else int(found[2])  # type: ignore[index]
    return None if (uid, gid) == (0, 0) else (uid, gid)


def spawn(
    root: str,
    argv: Sequence[str],
    env: Mapping[str, str],
    workdir: str,
    user: str,
    **popen: Any,
) -> subprocess.Popen[bytes]:
    """Start ``argv`` chrooted at ``root`` in its own session; the PATH of ``env`` finds it.

    The child calls chroot(2) itself rather than exec ``chroot(1)``, which always changes to
    ``/``: the working directory and the user are set after the chroot, before the exec.

    Raises:
        CommandDoesNotExistException: the executable does not exist inside the root.
        EngineError: the process could not be started otherwise.
    """
    ids = _ids(root, user)
    environment = {"PATH": DEFAULT_PATH, "HOME": "/root" if ids is None else "/", **env}

    def confine() -> None:  # runs in the child, between fork and exec
        os.chroot(root)
        os.chdir(workdir)
        if ids is not None:
            os.setgroups([ids[1]])
            os.setgid(ids[1])
            os.setuid(ids[0])

    try:
        return subprocess.Popen(
            list(argv), env=environment, preexec_fn=confine, start_new_session=True, **popen
        )
    except FileNotFoundError as exc:
        msg = (
            f"{argv[0]!r}: executable file not found in the container (PATH={environment['PATH']})"
        )
        raise CommandDoesNotExistException(msg) from exc
    except (OSError, subprocess.SubprocessError) as exc:
        msg = f"cannot start {list(argv)!r} in {root!r}: {exc}"
        raise EngineError(msg) from exc


def wait_exited(pid: int, timeout: float | None = None) -> bool:
    """Wait until child ``pid`` has exited, without reaping it (its pid stays reserved)."""
    deadline = None if timeout is None else time.monotonic() + timeout
    flags = os.WEXITED | os.WNOWAIT | (0 if timeout is None else os.WNOHANG)
    while True:
        try:
            if os.waitid(os.P_PID, pid, flags) is not None:
                return True
        except ChildProcessError:
            return True  # already reaped
        if deadline is not None and time.monotonic() >= deadline:
            return False
        time.sleep(POLL_INTERVAL)


def kill_confined(root: str) -> int:
    """SIGKILL every process chrooted at ``root``; return how many were found.

    Without a PID namespace the other processes of a container (children of its main
    process, what an exec left running) would outlive it; this is the teardown the
    namespace would do. A process is the container's when ``/proc/PID/root`` is ``root``.
    """
    target = os.path.realpath(root)
    found = 0
    for _round in range(10):  # again, in case one forked while being killed
        pids = []
        for entry in os.listdir("/proc"):
            with contextlib.suppress(OSError):
                if entry.isdigit() and os.readlink(f"/proc/{entry}/root") == target:
                    pids.append(int(entry))
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        found += len(pids)
        if not pids:
            break
        time.sleep(POLL_INTERVAL)
    return found


def reap(process: subprocess.Popen[bytes], root: str) -> int:
    """Kill the rest of the processes in ``root``, reap the exited ``process`` (after
    :func:`wait_exited`) and return its exit code."""
    kill_confined(root)
    return exit_status(process.wait())


def follow_lines(
    paths: Sequence[str], running: Callable[[], bool], *, follow: bool
) -> Iterator[bytes]:
    """Yield whole lines of the log files ``paths``; with ``follow``, until the writer ended.

    Each file is read as far as it goes, its last partial line kept until the rest arrives
    (or the process ended). While ``running()``, an idle round sleeps a little.
    """
    files = [open(path, "rb") for path in paths]  # noqa: SIM115 - closed below
    pending = [b""] * len(files)
    try:
        while True:
            last = not follow or not running()  # everything is written once it is over
            read = False
            for i, file in enumerate(files):
                data = file.read()
                if data:
                    read = True
                    *lines, pending[i] = (pending[i] + data).split(b"\n")
                    yield from (line + b"\n" for line in lines)
            if last:
                yield from (rest for rest in pending if rest)
                return
            if not read:
                time.sleep(POLL_INTERVAL * 2)
    finally:
        for file in files:
            file.close()


def container_path(workdir: str, path: str) -> str:
    """Return ``path`` made absolute against ``workdir`` and normalised."""
    return posixpath.normpath(posixpath.join(workdir or "/", path))
