"""Running containers of a podman image with ``podman run -d``.

The container is created with ``--cidfile``: when ``podman run`` fails after creating it
(the command does not exist in the image, exit status 126/127), the half-made container is
removed and :class:`~conu.exceptions.ContainerFailed` raised, so nothing is left behind.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any

from conu.apidefs.container import ContainerName
from conu.backend.common.running import cidfile, read_cid, volume_options
from conu.backend.docker.running import builder_of
from conu.exceptions import ContainerFailed, ContainerNotFound, ProbeTimeout
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
    """Return the given PodmanRunBuilder, or one made of command and options; see
    :func:`conu.backend.docker.running.builder_of` (ConuException when both are given)."""
    return builder_of(PodmanRunBuilder, builder, command, additional_opts)


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
    with cidfile("podman-run-") as cid_path:
        args = _args(image, builder, ["-d", *volume_options(volumes), f"--cidfile={cid_path}"])
        what = f"run a container of {image.get_full_name()!r}"
        try:
            done = engine.run(
                args, what=what, timeout=RUN_TIMEOUT, check=False, binary=builder.binary
            )
        except ProbeTimeout as exc:
            _discard(read_cid(cid_path))
            raise ContainerFailed(str(exc)) from exc
        cid = read_cid(cid_path)
    if done.returncode != 0:
        _discard(cid)
        what += f" (podman run exited with {done.returncode})"
        raise engine.failure(what, done.stderr, error=ContainerFailed, classify=False)
    container = PodmanContainer(image, cid)
    container.name = ContainerName(str(container.inspect()["Name"]))
    return container
