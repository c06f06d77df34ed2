"""Processes of a container: commands executed in it, its output, its standard input.

:class:`ProcessesMixin` is part of :class:`conu.apidefs.container.Container`, over the
engine's :meth:`~conu.apidefs.engine.Engine.exec_in_container` and
:meth:`~conu.apidefs.engine.Engine.container_logs`.
"""

from __future__ import annotations

import logging
import subprocess
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from conu.exceptions import CommandFailed, ConuException
from conu.utils.lines import split_lines
from conu.utils.validate import command_list

if TYPE_CHECKING:
    from conu.apidefs.engine import Engine

__all__ = ["ProcessesMixin"]

logger = logging.getLogger("conu.apidefs.container")


class ProcessesMixin:
    """``execute``, ``logs`` and ``write_to_stdin`` of a container."""

    popen_instance: subprocess.Popen[bytes] | None

    if TYPE_CHECKING:
        engine: Engine

        def _ref(self) -> str: ...

        def is_running(self) -> bool: ...

    def execute(self, command: list[str], blocking: bool = True, **options: Any) -> Any:
        """Run ``command`` in the running container.

        Args:
            command: the executable and its arguments.
            blocking: wait for the command; otherwise return an iterator over its output
                (its exit code is then not checked).
            options: engine-specific options of the exec.

        Returns:
            with ``blocking``, the list of output chunks (bytes, stdout and stderr merged).

        Raises:
            CommandFailed: the command exited non-zero (exit code in the message and in
                ``exit_code``).
            Conflict: the container is not running.
        """
        command = command_list(command)
        running = self.engine.exec_in_container(self._ref(), list(command), options=options)
        if not blocking:
            return running.output
        chunks = []
        for chunk in running.output:
            logger.info("%s", chunk.decode("utf-8", "replace").strip())
            chunks.append(chunk)
        exit_code = running.exit_code()
        if exit_code != 0:
            msg = f"failed to execute command {list(command)!r}, exit code {exit_code}"
            raise CommandFailed(msg, exit_code=exit_code, output=b"".join(chunks))
        return chunks

    def logs(self, follow: bool = False) -> Iterator[bytes]:
        """Iterate over the output (stdout and stderr), one line (bytes, with its newline)
        per item.

        Args:
            follow: keep streaming new output until the container exits.
        """
        return split_lines(self.engine.container_logs(self._ref(), follow=follow))

    def logs_in_bytes(self) -> bytes:
        """Return the container's whole output as bytes."""
        return b"".join(self.logs())

    def logs_unicode(self) -> str:
        """Return the container's whole output decoded as UTF-8."""
        return self.logs_in_bytes().decode("utf-8", errors="replace")

    def write_to_stdin(self, message: str | bytes) -> None:
        """Write ``message`` to the stdin of a container run with
        ``run_via_binary_in_foreground`` (``popen_params={"stdin": subprocess.PIPE}``).

        Raises:
            ConuException: the container does not run, was not started in the foreground with
                stdin piped, or ``message`` is neither str nor bytes.
        """
        if not self.is_running():
            msg = f"container {self._ref()!r} is not running"
            raise ConuException(msg)
        if self.popen_instance is None or self.popen_instance.stdin is None:
            msg = (
                "writing to stdin needs a container from run_via_binary_in_foreground "
                'with popen_params={"stdin": subprocess.PIPE}'
            )
            raise ConuException(msg)
        if not isinstance(message, str | bytes):
            msg = f"message must be str or bytes, not {type(message).__name__}"
            raise ConuException(msg)
        data = message.encode("utf-8") if isinstance(message, str) else message
        try:
            self.popen_instance.stdin.write(data)
            self.popen_instance.stdin.flush()
        except OSError as exc:
            msg = f"cannot write to stdin of container {self._ref()!r}: {exc}"
            raise ConuException(msg) from exc
