"""Small conveniences built on the public API."""

from __future__ import annotations

from typing import Any

__all__ = ["get_container_output"]


def get_container_output(
    backend: Any,
    image_name: str,
    command: list[str],
    image_tag: str = "latest",
    additional_opts: list[str] | None = None,
    timeout: float = 60,
) -> str:
    """Run ``command`` in a new container of ``image_name`` and return its output.

    The container is removed afterwards, whatever happens. The exit code is not checked.

    Args:
        backend: the backend, e.g. a :class:`~conu.DockerBackend`.
        image_name: the image's repository.
        command: the command to run.
        image_tag: the image's tag.
        additional_opts: more ``docker run`` options.
        timeout: seconds the command may run.

    Returns:
        stdout and stderr, decoded as UTF-8.
    """
    from conu.backend.docker.run_builder import DockerRunBuilder

    image = backend.ImageClass(image_name, tag=image_tag)
    builder = DockerRunBuilder(command=command, additional_opts=additional_opts)
    container = image.run_via_binary(builder)
    try:
        container.wait(timeout=timeout)
        return str(container.logs_unicode())
    finally:
        container.delete(force=True)
