"""The ``podman run`` command line that ``PodmanImage.run_via_binary`` executes."""

from __future__ import annotations

from typing import ClassVar

from conu.backend.docker.run_builder import DockerRunBuilder

__all__ = ["PodmanRunBuilder"]


class PodmanRunBuilder(DockerRunBuilder):
    """The ``podman run`` command line; every part is a plain list callers may change.

    Conu's :class:`~conu.DockerRunBuilder` with ``podman`` as the binary: the command line
    is ``binary + global_options + command + options + ["-l", "conu.test_artifact"] +
    [image_name] + arguments``. ``options`` is a copy of ``additional_opts``: what
    ``run_via_binary`` appends to it (``-d``, ``--cidfile``, the session labels) never
    reaches the caller's list.

    Args:
        command: the command to run in the container, e.g. ``["ls", "/"]``; None for the
            image's default.
        additional_opts: more ``podman run`` options, e.g. ``["-e", "A=b", "-p", "8080"]``.

    Raises:
        TypeError: ``command`` or ``additional_opts`` is not a list or tuple of str.
    """

    BINARY: ClassVar[tuple[str, ...]] = ("podman",)

    def copy(self) -> PodmanRunBuilder:
        """Return an independent copy (lists copied), for callers that add options."""
        other = type(self)(self.arguments, self.options)
        other.binary = list(self.binary)
        other.global_options = list(self.global_options)
        other.command = list(self.command)
        other.image_name = self.image_name
        return other
