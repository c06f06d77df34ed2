"""The ``podman run`` command line that ``PodmanImage.run_via_binary`` executes."""

from __future__ import annotations

import shlex
from collections.abc import Sequence

from conu.exceptions import InvalidArgument
from conu.labels import ARTIFACT_LABEL

__all__ = ["PodmanRunBuilder"]


class PodmanRunBuilder:
    """The ``podman run`` command line; every part is a plain list callers may change.

    The command line is ``binary + global_options + command + options + ["-l",
    "conu.test_artifact"] + [image_name] + arguments``, as with conu's ``DockerRunBuilder``.
    ``options`` is a copy of ``additional_opts``: what ``run_via_binary`` appends to it
    (``-d``, ``--cidfile``, the session labels) never reaches the caller's list.

    Args:
        command: the command to run in the container, e.g. ``["ls", "/"]``; None for the
            image's default.
        additional_opts: more ``podman run`` options, e.g. ``["-e", "A=b", "-p", "8080"]``.

    Raises:
        TypeError: ``command`` or ``additional_opts`` is not a list or tuple of str.
    """

    def __init__(
        self,
        command: Sequence[str] | None = None,
        additional_opts: Sequence[str] | None = None,
    ) -> None:
        self.binary: list[str] = ["podman"]
        self.global_options: list[str] = []
        self.command: list[str] = ["run"]
        self.options: list[str] = _string_list("additional_opts", additional_opts)
        self.image_name: str | None = None
        self.arguments: list[str] = _string_list("command", command)

    def build(self) -> list[str]:
        """Return the command line as a list, ready for :mod:`subprocess`.

        Raises:
            InvalidArgument: ``image_name`` has not been set.
        """
        if self.image_name is None:
            msg = f"{type(self).__name__}.image_name must be set before build()"
            raise InvalidArgument(msg)
        return self._parts(self.image_name)

    def copy(self) -> PodmanRunBuilder:
        """Return an independent copy (lists copied), for callers that add options."""
        other = PodmanRunBuilder(self.arguments, self.options)
        other.binary = list(self.binary)
        other.global_options = list(self.global_options)
        other.command = list(self.command)
        other.image_name = self.image_name
        return other

    def __str__(self) -> str:
        """The command line quoted for a POSIX shell (``<image>`` while no image is set)."""
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
    """Copy a list or tuple of str; None gives a new empty list."""
    if value is None:
        return []
    if not isinstance(value, list | tuple) or not all(isinstance(item, str) for item in value):
        msg = f"{argument!r} must be a list or tuple of str, not {value!r}"
        raise TypeError(msg)
    return list(value)
