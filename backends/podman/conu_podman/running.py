"""Running containers of a podman image with ``podman run -d``.

The container is created with ``--cidfile``: when ``podman run`` fails after creating it
(the command does not exist in the image, exit status 126/127), the half-made container is
removed and :class:`~conu.exceptions.ContainerFailed` raised, so nothing is left behind.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from conu.apidefs.container import ContainerName
from conu.exceptions import ContainerFailed, ContainerNotFound, ConuException, ProbeTimeout
from conu.labels import ARTIFACT_LABEL, session_labels
from conu_podman import engine
from conu_podman.container import PodmanContainer
from conu_podman.helper import label_options
from conu_podman.run_builder import PodmanRunBuilder

if TYPE_CHECKING:
    from conu_podman.image import PodmanImage

__all__ = ["RUN_TIMEOUT", "make_builder", "run_detached", "volume_options"]

RUN_TIMEOUT = 120.0
"""Seconds ``podman run -d`` may take (the image is local: conu runs it by id)."""


def make_builder(
    builder: Any, command: list[str] | None, additional_opts: list[str] | None
) -> PodmanRunBuilder:
    """Return the builder to use: the given one, or one made of command and options.

    Raises:
        ConuException: a builder is combined with ``command``/``additional_opts``, or is not
            a PodmanRunBuilder.
    """
    if builder is None:
        return PodmanRunBuilder(command=command or [], additional_opts=additional_opts or [])
    if command is not None or additional_opts is not None:
        msg = "pass either run_command_instance or command/additional_opts, not both"
        raise ConuException(msg)
    if not isinstance(builder, PodmanRunBuilder):
        msg = f"run_command_instance must be a PodmanRunBuilder, not {type(builder).__name__}"
        raise ConuException(msg)
    return builder


def volume_options(volumes: Any) -> list[str]:
    """Turn one volume spec (``"/t"``, ``(src, tgt)``, ``(src, tgt, mode)``) or a list of
    them into ``["-v", spec, ...]``."""
    from conu.utils.filesystem import Volume

    if volumes is None:
        return []
    specs = volumes if isinstance(volumes, list) else [volumes]
    return [arg for spec in specs for arg in ("-v", str(Volume.create_from_tuple(spec)))]


@contextlib.contextmanager
def _cidfile() -> Iterator[str]:
    directory = tempfile.mkdtemp(prefix="conu-podman-run-")
    try:
        yield os.path.join(directory, "cid")
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def _read(path: str) -> str:
    try:
        with open(path) as f:
            return f.read().strip()
    except FileNotFoundError:
        return ""


def _args(image: PodmanImage, builder: PodmanRunBuilder, extra: list[str]) -> list[str]:
    """podman's arguments (the binary left out); the caller's builder is never changed."""
    run = builder.copy()
    run.image_name = image.get_id()
    labels = {k: v for k, v in session_labels().items() if k != ARTIFACT_LABEL}
    run.options = [*run.options, *extra, *label_options(labels)]
    return run.build()[len(run.binary) :]


def _discard(cid: str) -> None:
    if cid:
        with contextlib.suppress(ContainerNotFound):
            engine.run(["rm", "--force", "--time", "0", "--volumes", cid], what=f"remove {cid}")


def run_detached(image: PodmanImage, builder: PodmanRunBuilder, volumes: Any) -> PodmanContainer:
    """Run ``podman run -d`` for ``image`` and return its container.

    Raises:
        ContainerFailed: ``podman run`` failed or did not finish in time; a container it
            created is removed.
    """
    with _cidfile() as cidfile:
        args = _args(image, builder, ["-d", *volume_options(volumes), f"--cidfile={cidfile}"])
        what = f"run a container of {image.get_full_name()!r}"
        try:
            done = engine.run(
                args, what=what, timeout=RUN_TIMEOUT, check=False, binary=builder.binary
            )
        except ProbeTimeout as exc:
            _discard(_read(cidfile))
            raise ContainerFailed(str(exc)) from exc
        cid = _read(cidfile)
    if done.returncode != 0:
        _discard(cid)
        what += f" (podman run exited with {done.returncode})"
        raise engine.failure(what, done.stderr, error=ContainerFailed, classify=False)
    container = PodmanContainer(image, cid)
    container.name = ContainerName(str(container.inspect()["Name"]))
    return container
