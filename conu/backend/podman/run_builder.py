"""The ``podman run`` command line that ``PodmanImage.run_via_binary*`` executes."""

from __future__ import annotations

from typing import ClassVar

from conu.apidefs.run_builder import RunBuilder

__all__ = ["PodmanRunBuilder"]


class PodmanRunBuilder(RunBuilder):
    """Helper to execute ``podman run``; users can easily change or override anything.

    See :class:`conu.apidefs.run_builder.RunBuilder` for the attributes and the command line.

    Args:
        command: the command to run in the container; None for the image's default.
        additional_opts: additional options for ``podman run``, e.g. ``["-e", "A=b"]``.
    """

    BINARY: ClassVar[tuple[str, ...]] = ("podman",)
