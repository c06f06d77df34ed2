"""The engine boundary: running the ``podman`` command line and translating its failures.

Podman is daemonless, so the command line *is* the engine's interface: every call here is
one ``podman`` process with a timeout, and nothing keeps running after the call (a REST
service would be one more process to start, watch and leak). Every failure of podman is
turned into a conu exception in :func:`failure`, and only there:

* ``no such container`` → :class:`~conu.exceptions.ContainerNotFound`;
* ``image not known`` / ``no such image`` / a registry's ``manifest unknown`` →
  :class:`~conu.exceptions.ImageNotFound`;
* a container or image in the wrong state or in use → :class:`~conu.exceptions.Conflict`;
* a path missing in a container (``podman cp``) → :class:`~conu.exceptions.NotFound`;
* anything else → the caller's class (:class:`~conu.exceptions.EngineError` by default,
  :class:`~conu.exceptions.RegistryError` for pulls, :class:`~conu.exceptions.BuildFailed`
  for builds…), with podman's own error lines as the message.

A missing ``podman`` binary raises :class:`~conu.exceptions.CommandDoesNotExistException`; a
call that outlives its timeout is killed and raises :class:`~conu.exceptions.ProbeTimeout`
saying what was waited for.
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

_KNOWN: tuple[tuple[re.Pattern[str], type[EngineError]], ...] = (
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
        re.compile(
            r"container state improper|is in use|already in use|already exists"
            r"|more than one tag|can only \w+ running containers|is not running"
        ),
        Conflict,
    ),
    (re.compile(r"could not be found on (the )?container"), NotFound),
)
_ERROR_PREFIX = "Error: "
_TAIL_LINES = 20


def argv(args: Sequence[str], binary: Sequence[str] | None = None) -> list[str]:
    """Return the full command line ``podman <args>``.

    Args:
        args: podman's arguments.
        binary: the command that stands for podman (e.g. ``["sudo", "podman"]``); the
            ``podman`` found on ``PATH`` by default.

    Raises:
        CommandDoesNotExistException: podman (or ``binary[0]``) is not installed.
    """
    first = binary[0] if binary else BINARY
    path = shutil.which(first)
    if path is None:
        msg = f"{first!r} is not installed: the podman backend needs the podman command line"
        raise CommandDoesNotExistException(msg)
    return [path, *(binary or [])[1:], *args]


def explain(output: bytes | str) -> str:
    """Return podman's own error lines of ``output`` (``Error: ...``, without the prefix).

    Without such lines, the last non-empty lines of the output are returned, so a failing
    build or registry call still says why.
    """
    text = output.decode("utf-8", "replace") if isinstance(output, bytes) else output
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    errors = [line[len(_ERROR_PREFIX) :] for line in lines if line.startswith(_ERROR_PREFIX)]
    chosen = errors or lines[-_TAIL_LINES:]
    return "\n".join(chosen) or "(podman printed nothing)"


def recognise(output: bytes | str) -> type[EngineError] | None:
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
) -> ConuException:
    """Build the conu exception for a podman call that failed.

    Args:
        what: what was being done, worded to follow "cannot" (``"start container 'abc'"``).
        output: what podman printed on stderr (or stdout and stderr merged).
        error: the class for failures that are not recognised.
        classify: recognise missing containers and images, conflicts and missing paths;
            False gives ``error`` whatever podman said.

    Returns:
        The exception, for the caller to raise.
    """
    cls = (recognise(output) if classify else None) or error
    return cls(f"cannot {what}: {explain(output)}")


def timed_out(what: str, timeout: float | None) -> ProbeTimeout:
    """Build the :class:`ProbeTimeout` for a podman call that outlived ``timeout`` seconds."""
    return ProbeTimeout(f"timed out after {timeout:g}s waiting for podman to {what}")


def run(
    args: Sequence[str],
    *,
    what: str,
    timeout: float | None = TIMEOUT,
    error: type[ConuException] = EngineError,
    merge_output: bool = False,
    check: bool = True,
    binary: Sequence[str] | None = None,
    classify: bool = True,
) -> subprocess.CompletedProcess[bytes]:
    """Run ``podman <args>`` to completion and return the finished process.

    Args:
        args: podman's arguments.
        what: what is being done, for messages (``"inspect container 'abc'"``).
        timeout: the most seconds the call may take; None only where the caller asked to
            block without a limit.
        error: the exception class for unrecognised failures (see :func:`failure`).
        merge_output: send stderr into stdout, keeping the order podman wrote them in.
        check: raise on a non-zero exit status; False leaves it to the caller.
        binary: the command standing for podman, see :func:`argv`.
        classify: recognise podman's errors (see :func:`failure`); False raises ``error``.

    Raises:
        CommandDoesNotExistException: podman is not installed.
        ProbeTimeout: the call took longer than ``timeout`` (podman is killed).
        ConuException: (with ``check``) the translated failure, see :func:`failure`.
    """
    command = argv(args, binary)
    logger.debug("running %s", " ".join(command))
    stderr = subprocess.STDOUT if merge_output else subprocess.PIPE
    try:
        done = subprocess.run(
            command, stdout=subprocess.PIPE, stderr=stderr, timeout=timeout, check=False
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
    timeout: float | None = TIMEOUT,
    error: type[ConuException] = EngineError,
) -> Any:
    """Run ``podman <args>`` (which must print JSON) and return the decoded document.

    Raises:
        EngineError: podman printed something that is not JSON.
        ConuException: the translated failure of the call, see :func:`run`.
    """
    done = run(args, what=what, timeout=timeout, error=error)
    text = done.stdout.decode("utf-8", "replace").strip()
    try:
        return json.loads(text) if text else None
    except json.JSONDecodeError as exc:
        msg = f"cannot {what}: podman printed no JSON ({text[:200]!r})"
        raise EngineError(msg) from exc
