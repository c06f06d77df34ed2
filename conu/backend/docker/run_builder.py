"""The ``docker run`` command line that ``DockerImage.run_via_binary*`` executes."""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from typing import ClassVar

from conu.backend.docker.constants import CONU_ARTIFACT_TAG
from conu.backend.docker.container_parameters import DockerContainerParameters, parse_run_options
from conu.exceptions import InvalidArgument

__all__ = ["DockerRunBuilder"]


class DockerRunBuilder:
    """Helper to execute ``docker run``; users can easily change or override anything.

    The command line is ``binary + global_options + command + options + ["-l",
    CONU_ARTIFACT_TAG] + [image_name] + arguments``. Every attribute is a plain list (or the
    image name) that callers may modify before :meth:`build`.

    Unlike conu 1.0, ``options`` is a copy of ``additional_opts``: appending to it (as
    ``run_via_binary`` does with ``-d`` and ``--cidfile``) leaves the caller's list alone.

    Args:
        command: the command to run in the container, e.g. ``["ls", "/"]`` or
            ``["bash", "-c", "ls / | grep bin"]``; None for the image's default.
        additional_opts: additional options for ``docker run``, e.g. ``["-e", "A=b"]``.

    Raises:
        TypeError: ``command`` or ``additional_opts`` is not a list or tuple of str.
    """

    BINARY: ClassVar[tuple[str, ...]] = ("docker",)
    """The command that runs containers; a subclass for another engine changes only this."""

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

    def get_parameters(self) -> DockerContainerParameters:
        """Parse ``options`` (and ``arguments`` as the command) into container parameters.

        Returns:
            The parameters, for ``DockerImage.run_via_api``; the conu label is not included.

        Raises:
            InvalidArgument: an option has a malformed value.
        """
        return parse_run_options(self.options, self.arguments)

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
            CONU_ARTIFACT_TAG,
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
