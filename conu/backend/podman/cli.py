"""The engine boundary: running the ``podman`` command line and translating its failures.

Podman is daemonless, so its command line *is* the engine's interface: every call is one
``podman`` process with a timeout, and nothing keeps running after the call. Every failure
of podman is turned into a conu exception here, in :func:`failure`, and only here:

* ``no such container`` → :class:`~conu.exceptions.ContainerNotFound`;
* ``image not known`` / ``no such image`` / a registry's ``manifest unknown`` →
  :class:`~conu.exceptions.ImageNotFound`;
* a container or image in the wrong state or in use → :class:`~conu.exceptions.Conflict`;
* a path missing in a container (``podman cp``) → :class:`~conu.exceptions.NotFound`;
* a command missing from the image (``podman start``) →
  :class:`~conu.exceptions.CommandDoesNotExistException`;
* anything else → the caller's class (:class:`~conu.exceptions.EngineError` by default,
  :class:`~conu.exceptions.RegistryError` for registries, :class:`~conu.exceptions.BuildFailed`
  for builds), with podman's own error lines as the message.

A missing ``podman`` binary raises :class:`~conu.exceptions.CommandDoesNotExistException`; a
call that outlives its timeout is killed and raises :class:`~conu.exceptions.ProbeTimeout`.
Processes whose output is read while they run live in :mod:`conu.backend.podman.stream`,
which translates their failures with :func:`failure` too.
"""

from __future__ import annotations

import json
import logging
import re
import shutil
import subprocess
from collections.abc import Sequence
from typing import Any

from conu.exceptions import (
    CommandDoesNotExistException,
    Conflict,
    ContainerNotFound,
    ConuException,
    EngineError,
    ImageNotFound,
    NotFound,
    ProbeTimeout,
)

__all__ = [
    "BINARY",
    "TIMEOUT",
    "argv",
    "explain",
    "failure",
    "last_line",
    "recognise",
    "run",
    "run_json",
    "timed_out",
]

logger = logging.getLogger(__name__)

BINARY = "podman"
"""Name (or path) of the podman executable."""
TIMEOUT = 120.0
"""Seconds one podman call may take unless the caller sets its own limit."""

_KNOWN: tuple[tuple[re.Pattern[str], type[ConuException]], ...] = (
    (
        re.compile(
            r"no such container|no container with (name or )?id|container \S+ does not exist"
        ),
        ContainerNotFound,
    ),
    (
        re.compile(
            r"image not known|no such image|manifest unknown|name unknown|repository \S+ not found"
        ),
        ImageNotFound,
    ),
    (
        re.compile(r"executable file .*not found|attempted to invoke a command that was not found"),
        CommandDoesNotExistException,
    ),
    (
        re.compile(
            r"container state improper|is in use|already in use|already exists"
            r"|more than one tag|can only \w+ running containers|is not running"
        ),
        Conflict,
    ),
    (
        re.compile(r"could not be found on (the )?container|destination must be a directory"),
        NotFound,
    ),
)
_ERROR_PREFIX = "Error: "
_TAIL_LINES = 20


def argv(args: Sequence[str]) -> list[str]:
    """Return the full command line ``podman <args>``.

    Raises:
        CommandDoesNotExistException: podman is not installed.
    """
    path = shutil.which(BINARY)
    if path is None:
        msg = f"{BINARY!r} is not installed: the podman engine needs the podman command line"
        raise CommandDoesNotExistException(msg)
    return [path, *args]


def explain(output: bytes | str, *, tail: bool = False) -> str:
    """Return podman's own error lines of ``output`` (``Error: ...``, without the prefix).

    Args:
        output: what podman printed.
        tail: return the last lines of the output whatever they say (a builder's log).

    Without error lines, the last non-empty lines are returned, so a failure still says why.
    """
    text = output.decode("utf-8", "replace") if isinstance(output, bytes) else output
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    errors = [line[len(_ERROR_PREFIX) :] for line in lines if line.startswith(_ERROR_PREFIX)]
    chosen = lines[-_TAIL_LINES:] if tail or not errors else errors
    return "\n".join(chosen) or "(podman printed nothing)"


def recognise(output: bytes | str) -> type[ConuException] | None:
    """Return the conu exception class podman's error lines in ``output`` stand for, if any."""
    text = explain(output).lower()
    for pattern, cls in _KNOWN:
        if pattern.search(text):
            return cls
    return None


def failure(
    what: str,
    output: bytes | str,
    *,
    error: type[ConuException] = EngineError,
    classify: bool = True,
    tail: bool = False,
) -> ConuException:
    """Build the conu exception for a podman call that failed.

    Args:
        what: what was being done, worded to follow "cannot" (``"start container 'abc'"``).
        output: what podman printed on stderr (or stdout and stderr merged).
        error: the class for failures that are not recognised.
        classify: recognise missing containers and images, conflicts and missing paths;
            False gives ``error`` whatever podman said.
        tail: put the last lines of ``output`` in the message, not only the error lines.

    Returns:
        The exception, for the caller to raise.
    """
    cls = (recognise(output) if classify else None) or error
    return cls(f"cannot {what}: {explain(output, tail=tail)}")


def timed_out(what: str, timeout: float | None) -> ProbeTimeout:
    """Build the :class:`ProbeTimeout` for a podman call that outlived ``timeout`` seconds."""
    return ProbeTimeout(f"timed out after {timeout or 0:g}s waiting for podman to {what}")


def run(
    args: Sequence[str],
    *,
    what: str,
    timeout: float = TIMEOUT,
    error: type[ConuException] = EngineError,
    merge_output: bool = False,
    check: bool = True,
    classify: bool = True,
    stdin: bytes | None = None,
) -> subprocess.CompletedProcess[bytes]:
    """Run ``podman <args>`` to completion and return the finished process.

    Args:
        args: podman's arguments.
        what: what is being done, for messages (``"inspect container 'abc'"``).
        timeout: the most seconds the call may take.
        error: the exception class for unrecognised failures (see :func:`failure`).
        merge_output: send stderr into stdout, keeping the order podman wrote them in.
        check: raise on a non-zero exit status; False leaves it to the caller.
        classify: recognise podman's errors (see :func:`failure`); False raises ``error``.
        stdin: bytes to feed podman's standard input (none by default).

    Raises:
        CommandDoesNotExistException: podman is not installed.
        ProbeTimeout: the call took longer than ``timeout`` (podman is killed).
        ConuException: (with ``check``) the translated failure, see :func:`failure`.
    """
    command = argv(args)
    logger.debug("running %s", " ".join(command))
    stderr = subprocess.STDOUT if merge_output else subprocess.PIPE
    try:
        done = subprocess.run(
            command,
            input=stdin,
            stdin=None if stdin is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=stderr,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise timed_out(what, timeout) from exc
    except FileNotFoundError as exc:  # removed between which() and exec
        msg = f"{BINARY!r} is not installed: {exc}"
        raise CommandDoesNotExistException(msg) from exc
    if check and done.returncode != 0:
        output = done.stdout if merge_output else done.stderr
        raise failure(what, output, error=error, classify=classify)
    return done


def run_json(
    args: Sequence[str],
    *,
    what: str,
    timeout: float = TIMEOUT,
    error: type[ConuException] = EngineError,
    check: bool = True,
) -> Any:
    """Run ``podman <args>`` (which must print JSON) and return the decoded document.

    Args:
        args: podman's arguments.
        what: what is being done, for messages.
        timeout: the most seconds the call may take.
        error: the exception class for unrecognised failures.
        check: raise on a non-zero exit status; False decodes what podman printed anyway
            (``inspect`` of several ids, some gone) and raises only if it is not JSON.

    Raises:
        EngineError: podman printed something that is not JSON.
        ConuException: the translated failure of the call, see :func:`run`.
    """
    done = run(args, what=what, timeout=timeout, error=error, check=check)
    text = done.stdout.decode("utf-8", "replace").strip()
    try:
        return json.loads(text) if text else None
    except json.JSONDecodeError as exc:
        if done.returncode != 0:
            raise failure(what, done.stderr, error=error) from exc
        msg = f"cannot {what}: podman printed no JSON ({text[:200]!r})"
        raise EngineError(msg) from exc


def last_line(output: bytes) -> str:
    """Return the last non-empty line of ``output`` (the id ``create``/``commit`` print).

    Raises:
        EngineError: podman printed nothing.
    """
    lines = [line.strip() for line in output.decode("utf-8", "replace").splitlines()]
    found = [line for line in lines if line]
    if not found:
        msg = "podman printed nothing where an id was expected"
        raise EngineError(msg)
    return found[-1]
