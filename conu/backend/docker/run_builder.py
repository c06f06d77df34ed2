"""The ``docker run`` command line that ``DockerImage.run_via_binary*`` executes."""

from __future__ import annotations

from typing import ClassVar

from conu.apidefs.run_builder import RunBuilder
from conu.backend.docker.container_parameters import DockerContainerParameters, parse_run_options

__all__ = ["DockerRunBuilder"]


class DockerRunBuilder(RunBuilder):
    """Helper to execute ``docker run``; users can easily change or override anything.

    See :class:`conu.apidefs.run_builder.RunBuilder` for the attributes and the command line.

    Args:
        command: the command to run in the container, e.g. ``["ls", "/"]`` or
            ``["bash", "-c", "ls / | grep bin"]``; None for the image's default.
        additional_opts: additional options for ``docker run``, e.g. ``["-e", "A=b"]``.
    """

    BINARY: ClassVar[tuple[str, ...]] = ("docker",)

    def get_parameters(self) -> DockerContainerParameters:
        """Parse ``options`` (and ``arguments`` as the command) into container parameters.

        Returns:
            The parameters, for ``DockerImage.run_via_api``; the conu label is not included.

        Raises:
            InvalidArgument: an option has a malformed value.
        """
        return parse_run_options(self.options, self.arguments)
