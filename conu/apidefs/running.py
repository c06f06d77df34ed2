"""Running containers of an image from ``run`` options: through the engine's command-line
client when it has one (``docker run``, ``podman run``: by design of ``run_via_binary``),
otherwise by reading the same options and creating the container through the engine."""

from __future__ import annotations

import copy
import logging
import shutil
import subprocess
from typing import TYPE_CHECKING, Any, TypeVar

from conu.apidefs.metadata import split_env
from conu.apidefs.run_builder import RunBuilder
from conu.apidefs.specs import PortBinding, RunSpec
from conu.exceptions import (
    CommandDoesNotExistException,
    ContainerFailed,
    ContainerNotFound,
    ConuException,
    EngineUnreachable,
)
from conu.labels import ARTIFACT_LABEL, session_labels
from conu.probes import wait_for
from conu.utils.cidfile import cidfile, read_cid, volume_options

if TYPE_CHECKING:
    from conu.apidefs.container import Container
    from conu.apidefs.image import Image

__all__ = ["make_builder", "run_detached", "run_foreground", "spec_from_options"]

logger = logging.getLogger(__name__)

RUN_TIMEOUT = 120
"""Seconds ``<client> run -d`` may take (the image is local: conu runs it by id)."""
CREATE_TIMEOUT = 30
"""Seconds a foreground ``<client> run`` may take to create its container."""

_Builder = TypeVar("_Builder", bound=RunBuilder)


def make_builder(
    builder_class: type[_Builder],
    builder: Any,
    command: list[str] | None,
    additional_opts: list[str] | None,
) -> _Builder:
    """Return the builder to use: the given one, or one made of command and options.

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


def _argv(image: Image, builder: RunBuilder, cli: list[str], extra: list[str]) -> list[str]:
    # A copy: the caller's builder may be reused, and conu 1.0's accumulation was a bug.
    run = copy.copy(builder)
    run.binary = builder.binary or list(cli)
    run.image_name = image.get_id()
    labels = [("-l", f"{k}={v}") for k, v in session_labels().items() if k != ARTIFACT_LABEL]
    run.options = [*builder.options, *extra, *(arg for pair in labels for arg in pair)]
    argv = run.build()
    if shutil.which(argv[0]) is None:
        msg = f"{argv[0]!r} is not installed: run_via_binary needs the engine's command line"
        raise CommandDoesNotExistException(msg)
    return argv


def _container(image: Image, cid: str, **kwargs: Any) -> Container:
    """The container ``cid`` of ``image``; a name the engine chose is read on first use."""
    container = image.container_class(image, cid, engine=image.engine, **kwargs)
    container._name_from_engine()
    return container


def _discard(image: Image, cid: str) -> None:
    """Remove the container a failed run left, if any (gone already is fine)."""
    if not cid:
        return
    try:
        image._engine("run_via_binary").remove_container(cid, force=True, volumes=True)
    except ConuException:  # already gone (--rm) or the engine is away
        logger.debug("cannot remove container %s after a failed run", cid[:12], exc_info=True)


def run_detached(image: Image, builder: RunBuilder, volumes: Any) -> Container:
    """Run ``<client> run -d`` for ``image`` and return its container. When the engine
    gives the same container for the options (:meth:`Engine.run_options_spec`, always for
    an engine without a client) and the builder's command line is not customised, it is
    created and started through the API instead.

    Raises:
        ContainerFailed: the run failed; a container it created is removed.
    """
    engine = image._engine("run_via_binary")
    cli = engine.cli_command()
    if cli is None or _plain(builder):
        options = [*builder.options, *volume_options(volumes)]
        spec = engine.run_options_spec(image.get_id(), options, builder.arguments)
        if spec is not None:
            return _run_spec(image, spec, builder)
    if cli is None:
        raise engine.unsupported("run_via_binary")
    with cidfile("run-") as cid_path:
        argv = _argv(image, builder, cli, ["-d", *volume_options(volumes), f"--cidfile={cid_path}"])
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


def _plain(builder: RunBuilder) -> bool:
    """Whether ``builder`` runs the engine's own ``run`` (nothing customised but options
    and arguments)."""
    kind = type(builder)
    return (
        builder.binary in ([], list(kind.BINARY))
        and not builder.global_options
        and builder.command == ["run"]
        and kind.build is RunBuilder.build
        and kind._parts is RunBuilder._parts
    )


def run_foreground(
    image: Image,
    builder: RunBuilder,
    volumes: Any,
    popen_params: dict[str, Any] | None,
    container_name: str | None,
) -> Container:
    """Start ``<client> run`` for ``image`` as a Popen and return its container once started.

    Raises:
        UnsupportedOperation: the engine has no command-line client.
        ContainerFailed: the client ended without creating a container, or the container's
            name is not ``container_name``.
    """
    engine = image._engine("run_via_binary_in_foreground")
    cli = engine.cli_command()
    if cli is None:
        raise engine.unsupported("run_via_binary_in_foreground")
    name_opts = ["--name", container_name] if container_name else []
    with cidfile("run-") as cid_path:
        extra = [*volume_options(volumes), *name_opts, f"--cidfile={cid_path}"]
        argv = _argv(image, builder, cli, extra)
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
    # The client writes the cidfile on create, before the start: wait for the start, so
    # that is_running() and write_to_stdin() work on what this returns.
    wait_for(
        lambda: popen.poll() is not None or _started(container),
        timeout=CREATE_TIMEOUT,
        pause=0.01,
        what=f"container {container.name!r} to start",
    )
    return container


def _started(container: Container) -> bool:
    try:
        return container.get_status() != "created"
    except ContainerNotFound:  # already removed (--rm)
        return True


def _exit_status(exc: ConuException) -> int:
    """The status the client exits with for ``exc``: 127 for a missing executable, 126 for
    one that cannot be executed, 125 for any other refusal of the engine."""
    if isinstance(exc, CommandDoesNotExistException):
        return 127
    return 126 if "permission denied" in str(exc).lower() else 125


def _run_spec(image: Image, spec: RunSpec, builder: RunBuilder) -> Container:
    """Create and start the container of ``spec`` (as the client would, failing the same
    way: ``ContainerFailed`` with the client's exit status)."""
    engine = image._engine("run_via_binary")
    what = f"cannot run {builder.arguments or 'the default command'!r} in {image}"
    cid = ""
    try:
        cid = engine.create_container(spec)
        engine.start_container(cid)
    except EngineUnreachable:
        _discard(image, cid)
        raise
    except ConuException as exc:
        _discard(image, cid)
        msg = f"Container exited with an error: {_exit_status(exc)}: {what}: {exc}"
        raise ContainerFailed(msg) from exc
    return _container(image, cid, name=spec.name)


def _bindings(value: Any) -> tuple[PortBinding, ...]:
    """Turn parsed ``-p`` host sides (see :data:`conu.utils.run_options.PortBinding`)."""
    values = value if isinstance(value, list) else [value]
    found = []
    for item in values:
        if isinstance(item, tuple):
            found.append(PortBinding(host_ip=item[0] or "", host_port=item[1]))
        else:
            found.append(PortBinding(host_port=item))
    return tuple(found)


def spec_from_options(image_id: str, options: list[str], command: list[str]) -> RunSpec:
    """Read ``run`` options (``docker run`` syntax) into a :class:`RunSpec` of ``image_id``,
    labelled with the session.

    Raises:
        InvalidArgument: an option has a malformed value.
    """
    from conu.utils.run_options import parse_options

    parsed = parse_options(options)
    ports = {
        key if "/" in key else f"{key}/tcp": _bindings(value)
        for key, value in (parsed["port_mappings"] or {}).items()
    }
    volumes = parsed["volumes"] or []
    return RunSpec(
        image=image_id,
        command=command or None,
        entrypoint=(parsed["entrypoint"],) if parsed["entrypoint"] else None,
        name=parsed["name"],
        env=split_env(parsed["env_variables"]),
        labels={**(parsed["labels"] or {}), **session_labels()},
        user=parsed["user"],
        working_dir=parsed["working_dir"],
        hostname=parsed["hostname"],
        tty=bool(parsed["tty"]),
        stdin_open=bool(parsed["stdin_open"]),
        privileged=bool(parsed["privileged"]),
        cap_add=parsed["cap_add"] or (),
        binds=[volume for volume in volumes if ":" in volume],
        ports=ports,
        network=parsed["network"],
        auto_remove=bool(parsed["remove"]),
    )
