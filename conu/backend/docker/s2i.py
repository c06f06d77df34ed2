"""Source-to-image with the ``s2i`` command-line tool (optional: needs the s2i binary)."""

from __future__ import annotations

import logging
import shutil
import subprocess

from conu.exceptions import CommandFailed, ProbeTimeout
from conu.utils import s2i_command_exists

__all__ = ["BUILD_TIMEOUT", "run_s2i"]

logger = logging.getLogger(__name__)

BUILD_TIMEOUT = 1800
"""Seconds ``s2i build`` may take by default."""


def run_s2i(args: list[str], timeout: float) -> str:
    """Run ``s2i <args>`` and return its output (stdout, then stderr).

    Raises:
        CommandDoesNotExistException: s2i is not installed.
        CommandFailed: s2i exited non-zero; the message has its output.
        ProbeTimeout: it ran longer than ``timeout`` seconds.
    """
    s2i_command_exists()
    argv = [shutil.which("s2i") or "s2i", *args]
    logger.info("running s2i %s", " ".join(args))
    try:
        done = subprocess.run(argv, capture_output=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired as exc:
        msg = f"s2i {args[0]} did not finish in {timeout}s"
        raise ProbeTimeout(msg) from exc
    output = done.stdout + done.stderr
    text = output.decode("utf-8", "replace")
    if done.returncode != 0:
        msg = f"s2i {args[0]} failed (exit code {done.returncode}): {text.strip()}"
        raise CommandFailed(msg, exit_code=done.returncode, output=output)
    return text
