"""The ``run`` command line of an engine's client, which ``run_via_binary*`` executes."""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from typing import ClassVar

from conu.exceptions import InvalidArgument
from conu.labels import ARTIFACT_LABEL

__all__ = ["RunBuilder"]


class RunBuilder:
    """Helper to execute ``<client> run``; users can easily change or override anything.

    The command line is ``binary + global_options + command + options + ["-l",
    "conu.test_artifact"] + [image_name] + arguments``. Every attribute is a plain list (or
    the image name) that callers may modify before :meth:`build`. ``options`` is a copy of
    ``additional_opts``: appending to it leaves the caller's list alone.

    For an engine without a command-line client, ``run_via_binary`` reads ``options`` with
    :func:`conu.utils.run_options.parse_options` and creates the container through the API.

    Args:
        command: the command to run in the container, e.g. ``["ls", "/"]`` or
            ``["bash", "-c", "ls / | grep bin"]``; None for the image's default.
        additional_opts: additional options for ``run``, e.g. ``["-e", "A=b"]``.

    Raises:
        TypeError: ``command`` or ``additional_opts`` is not a list or tuple of str.
    """

    BINARY: ClassVar[tuple[str, ...]] = ()
    """The command that runs containers; a subclass for an engine changes only this."""

    def __init__(
        self,
        command: Sequence[str] | None = None,
        additional_opts: Sequence[str] | None = None,
    ) -> None:
        self.binary: list[str] = list(self.BINARY)
        self.global_options: list[str] = []
        self.command: list[str] = ["run"]
        self.options: list[str] = _string_list("additional_opts", additional_opts)
        self.image_name: str | None = None
        self.arguments: list[str] = _string_list("command", command)

    def build(self) -> list[str]:
        """Return the command line as a list, ready for ``subprocess``.

        Returns:
            ``binary + global_options + command + options + ["-l", "conu.test_artifact",
            image_name] + arguments``.

        Raises:
            InvalidArgument: ``image_name`` has not been set.
        """
        if self.image_name is None:
            msg = f"{type(self).__name__}.image_name must be set before build()"
            raise InvalidArgument(msg)
        return self._parts(self.image_name)

    def __str__(self) -> str:
        """The command line, quoted for a POSIX shell (``<image>`` while no image is set)."""
        return shlex.join(self._parts(self.image_name or "<image>"))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self)!r})"

    def _parts(self, image_name: str) -> list[str]:
        return [
            *self.binary,
            *self.global_options,
            *self.command,
            *self.options,
            "-l",
            ARTIFACT_LABEL,
            image_name,
            *self.arguments,
        ]


def _string_list(argument: str, value: Sequence[str] | None) -> list[str]:
    """Copy a list or tuple of strings; None gives a new empty list."""
    if value is None:
        return []
    if not isinstance(value, list | tuple) or not all(isinstance(item, str) for item in value):
        msg = f"{argument!r} must be a list or tuple of str, not {value!r}"
        raise TypeError(msg)
    return list(value)
