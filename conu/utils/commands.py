"""Running host commands and checking that they exist (re-exported by :mod:`conu.utils`)."""

from __future__ import annotations

import logging
import shutil
import subprocess
from collections.abc import Sequence
from typing import Any

from conu.exceptions import CommandDoesNotExistException, ConuException

__all__ = [
    "chcon_command_exists",
    "check_docker_command_works",
    "check_podman_command_works",
    "command_exists",
    "getenforce_command_exists",
    "oc_command_exists",
    "run_cmd",
    "s2i_command_exists",
    "setfacl_command_exists",
]

logger = logging.getLogger("conu.utils")


def run_cmd(
    cmd: Sequence[str],
    return_output: bool = False,
    ignore_status: bool = False,
    log_output: bool = True,
    **kwargs: Any,
) -> str | int | None:
    """Run a command on the host, stderr merged into stdout, and wait for it.

    Args:
        cmd: the command and its arguments.
        return_output: return the output (text) instead of None or the return code.
        ignore_status: on failure, return (the output or the return code) instead of raising.
        log_output: log every line of output at debug level.
        **kwargs: passed on to ``subprocess.Popen`` (e.g. ``cwd``, ``env``).

    Returns:
        The output if ``return_output``; otherwise None on success, or the return code when
        the command failed and ``ignore_status`` is set.

    Raises:
        CommandDoesNotExistException: the executable does not exist.
        subprocess.CalledProcessError: the command exited non-zero or was killed by a signal
            (negative return code), and ``ignore_status`` is not set; ``output`` holds its output.
    """
    argv = list(cmd)
    logger.debug("running command %r", argv)
    popen_kwargs: dict[str, Any] = {"stdout": subprocess.PIPE, "stderr": subprocess.STDOUT}
    popen_kwargs.update(kwargs)
    popen_kwargs["text"] = True
    try:
        process = subprocess.Popen(argv, **popen_kwargs)
    except FileNotFoundError as exc:
        if exc.filename is not None and exc.filename == kwargs.get("cwd"):
            raise
        msg = f"command {argv[0]!r} does not exist"
        raise CommandDoesNotExistException(msg) from exc
    output = _collect_output(process, log_output)
    returncode = process.wait()
    if returncode != 0:
        if ignore_status:
            return output if return_output else returncode
        raise subprocess.CalledProcessError(returncode, argv, output=output)
    return output if return_output else None


def _collect_output(process: subprocess.Popen[str], log_output: bool) -> str:
    """Read a process's stdout line by line until it closes, logging each line if asked."""
    if process.stdout is None:
        return ""
    lines = []
    with process.stdout:
        for line in process.stdout:
            if log_output:
                logger.debug("%s", line.rstrip("\n"))
            lines.append(line)
    return "".join(lines)


def command_exists(command: str, noop_invocation: Sequence[str], exc_msg: str) -> bool:
    """Check that ``command`` is on PATH.

    Args:
        command: the name of the executable.
        noop_invocation: unused, kept for conu 1.0 compatibility (it served Python 2).
        exc_msg: the message of the exception raised when the command is missing.

    Returns:
        True.

    Raises:
        CommandDoesNotExistException: the command is not found on PATH.
    """
    del noop_invocation
    if shutil.which(command) is None:
        raise CommandDoesNotExistException(exc_msg)
    return True


def _host_command_exists(command: str, package: str) -> bool:
    """Check that ``command`` is installed, naming the package that provides it if not."""
    msg = f"command {command!r} is not available, please install {package}"
    return command_exists(command, [command, "--help"], msg)


def s2i_command_exists() -> bool:
    """Return True if ``s2i`` is installed, else raise CommandDoesNotExistException."""
    return _host_command_exists("s2i", "source-to-image")


def oc_command_exists() -> bool:
    """Return True if ``oc`` is installed, else raise CommandDoesNotExistException."""
    return _host_command_exists("oc", "origin-clients (the OpenShift client)")


def chcon_command_exists() -> bool:
    """Return True if ``chcon`` is installed, else raise CommandDoesNotExistException."""
    return _host_command_exists("chcon", "coreutils")


def setfacl_command_exists() -> bool:
    """Return True if ``setfacl`` is installed, else raise CommandDoesNotExistException."""
    return _host_command_exists("setfacl", "acl")


def getenforce_command_exists() -> bool:
    """Return True if ``getenforce`` is installed, else raise CommandDoesNotExistException."""
    return _host_command_exists("getenforce", "libselinux-utils")


def check_docker_command_works() -> bool:
    """Check that ``docker version`` runs and talks to an engine.

    Returns:
        True.

    Raises:
        CommandDoesNotExistException: the docker binary is not installed.
        ConuException: ``docker version`` failed (e.g. no engine is running).
    """
    return _check_command_works("docker")


def check_podman_command_works() -> bool:
    """Check that ``podman version`` runs.

    Returns:
        True.

    Raises:
        CommandDoesNotExistException: the podman binary is not installed.
        ConuException: ``podman version`` failed.
    """
    return _check_command_works("podman")


def _check_command_works(binary: str) -> bool:
    if shutil.which(binary) is None:
        msg = f"{binary!r} is not installed"
        raise CommandDoesNotExistException(msg)
    try:
        run_cmd([binary, "version"], log_output=False)
    except subprocess.CalledProcessError as exc:
        msg = f"'{binary} version' failed with exit code {exc.returncode}: {exc.output}"
        raise ConuException(msg) from exc
    return True
