"""Running containers of a Docker image: via the docker CLI (by design) and via the API."""

from __future__ import annotations

import copy
import shutil
import subprocess
from typing import TYPE_CHECKING, Any, TypeVar

from conu.apidefs.container import ContainerName
from conu.backend.common.running import cidfile, read_cid, volume_options
from conu.backend.docker.client import translate_errors
from conu.backend.docker.container import DockerContainer
from conu.backend.docker.container_parameters import DockerContainerParameters, to_api_kwargs
from conu.backend.docker.run_builder import DockerRunBuilder
from conu.exceptions import (
    CommandDoesNotExistException,
    ContainerFailed,
    ContainerNotFound,
    ConuException,
    ImageNotFound,
)
from conu.labels import ARTIFACT_LABEL, session_labels
from conu.probes import wait_for

if TYPE_CHECKING:
    from conu.backend.docker.image import DockerImage

__all__ = [
    "builder_of",
    "create",
    "make_builder",
    "run_detached",
    "run_foreground",
    "volume_options",
]

RUN_TIMEOUT = 120
"""Seconds ``docker run -d`` may take (the image is local: conu runs it by id)."""
CREATE_TIMEOUT = 30
"""Seconds a foreground ``docker run`` may take to create its container."""


_Builder = TypeVar("_Builder", bound=DockerRunBuilder)


def make_builder(
    builder: Any, command: list[str] | None, additional_opts: list[str] | None
) -> DockerRunBuilder:
    """Return the builder to use: the given one, or one made of command and options.

    Raises:
        ConuException: a builder is combined with ``command``/``additional_opts``, or is not
            a DockerRunBuilder.
    """
    return builder_of(DockerRunBuilder, builder, command, additional_opts)


def builder_of(
    builder_class: type[_Builder],
    builder: Any,
    command: list[str] | None,
    additional_opts: list[str] | None,
) -> _Builder:
    """:func:`make_builder` for a builder class of another engine (a DockerRunBuilder's).

    Raises:
        ConuException: a builder is combined with ``command``/``additional_opts``, or is not
            a ``builder_class``.
    """
    if builder is None:
        return builder_class(command=command or [], additional_opts=additional_opts or [])
    if command is not None or additional_opts is not None:
        msg = "pass either run_command_instance or command/additional_opts, not both"
        raise ConuException(msg)
    if not isinstance(builder, builder_class):
        kind = builder_class.__name__
        msg = f"run_command_instance must be a {kind}, not {type(builder).__name__}"
        raise ConuException(msg)
    return builder


def _argv(image: DockerImage, builder: DockerRunBuilder, extra: list[str]) -> list[str]:
    # A copy: the caller's builder may be reused, and conu 1.0's accumulation was a bug.
    run = copy.copy(builder)
    run.image_name = image.get_id()
    labels = [("-l", f"{k}={v}") for k, v in session_labels().items() if k != ARTIFACT_LABEL]
    run.options = [*builder.options, *extra, *(arg for pair in labels for arg in pair)]
    argv = run.build()
    if shutil.which(argv[0]) is None:
        msg = f"{argv[0]!r} is not installed: run_via_binary needs the docker command-line client"
        raise CommandDoesNotExistException(msg)
    return argv


def _container(image: DockerImage, cid: str, **kwargs: Any) -> DockerContainer:
    container = DockerContainer(image, cid, **kwargs)
    container.name = ContainerName(str(container.inspect()["Name"]).lstrip("/"))
    return container


def _discard(image: DockerImage, cid: str) -> None:
    if cid:
        with translate_errors(f"remove failed container {cid[:12]!r}"):
            image.d.remove_container(cid, force=True, v=True)


def run_detached(image: DockerImage, builder: DockerRunBuilder, volumes: Any) -> DockerContainer:
    """Run ``docker run -d`` for ``image`` and return its container.

    Raises:
        ContainerFailed: ``docker run`` failed; a container it created is removed.
    """
    with cidfile("run-") as cid_path:
        argv = _argv(image, builder, ["-d", *volume_options(volumes), f"--cidfile={cid_path}"])
        try:
            done = subprocess.run(argv, capture_output=True, timeout=RUN_TIMEOUT, check=False)
        except subprocess.TimeoutExpired as exc:
            _discard(image, read_cid(cid_path))
            msg = f"{' '.join(argv)!r} did not finish within {RUN_TIMEOUT}s"
            raise ContainerFailed(msg) from exc
        cid = read_cid(cid_path)
    if done.returncode != 0:
        _discard(image, cid)
        error = done.stderr.decode("utf-8", "replace").strip()
        msg = f"Container exited with an error: {done.returncode}: {error}"
        raise ContainerFailed(msg)
    return _container(image, cid)


def run_foreground(
    image: DockerImage,
    builder: DockerRunBuilder,
    volumes: Any,
    popen_params: dict[str, Any] | None,
    container_name: str | None,
) -> DockerContainer:
    """Start ``docker run`` for ``image`` as a Popen and return its container once created.

    Raises:
        ContainerFailed: ``docker run`` ended without creating a container, or the
            container's name is not ``container_name``.
    """
    name_opts = ["--name", container_name] if container_name else []
    with cidfile("run-") as cid_path:
        argv = _argv(
            image, builder, [*volume_options(volumes), *name_opts, f"--cidfile={cid_path}"]
        )
        popen = subprocess.Popen(argv, **(popen_params or {}))
        wait_for(
            lambda: read_cid(cid_path) or popen.poll() is not None,
            timeout=CREATE_TIMEOUT,
            pause=0.01,
            what=f"{argv[0]} run to create a container",
        )
        cid = read_cid(cid_path)
    if not cid:
        msg = f"{' '.join(argv)!r} exited with {popen.returncode} before creating a container"
        raise ContainerFailed(msg)
    container = _container(image, cid, popen_instance=popen)
    if container_name and container.name != container_name:
        msg = f"container is named {container.name!r}, not {container_name!r}"
        raise ContainerFailed(msg)
    # docker run writes the cidfile on create, before the start: wait for the start, so
    # that is_running() and write_to_stdin() work on what this returns
    wait_for(
        lambda: popen.poll() is not None or _started(container),
        timeout=CREATE_TIMEOUT,
        pause=0.01,
        what=f"container {container.name!r} to start",
    )
    return container


def _started(container: DockerContainer) -> bool:
    try:
        return container.get_status() != "created"
    except ContainerNotFound:  # already removed (--rm)
        return True


def create(image: DockerImage, params: Any) -> DockerContainer:
    """Create (not start) a container of ``image`` from DockerContainerParameters."""
    params = params if params is not None else DockerContainerParameters()
    if not isinstance(params, DockerContainerParameters):
        msg = f"container_params must be DockerContainerParameters, not {type(params).__name__}"
        raise TypeError(msg)
    kwargs, host_kwargs = to_api_kwargs(params)
    kwargs["labels"] = {**(kwargs.get("labels") or {}), **session_labels()}
    with translate_errors(
        f"create a container of {image.get_full_name()!r}", not_found=ImageNotFound
    ):
        host_config = image.d.create_host_config(**host_kwargs)
        created = image.d.create_container(image.get_id(), host_config=host_config, **kwargs)
    return DockerContainer(image, created["Id"], name=params.name)
