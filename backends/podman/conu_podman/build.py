"""Building images with ``podman build``."""

from __future__ import annotations

import os
import tempfile

from conu.exceptions import BuildFailed, InvalidArgument
from conu.utils.reference import Reference
from conu_podman import engine

__all__ = ["BUILD_TIMEOUT", "build_image"]

BUILD_TIMEOUT = 1800.0
"""Seconds a whole ``podman build`` may take by default."""


def build_image(
    path: str,
    tag: str | None,
    dockerfile: str | None,
    labels: dict[str, str] | None,
    nocache: bool,
    timeout: float = BUILD_TIMEOUT,
) -> tuple[str, Reference | None]:
    """Build the context directory ``path``; return the new image's id and its reference.

    Args:
        path: the build context (a directory).
        tag: name the image ``tag`` (``repository[:tag]``), or None.
        dockerfile: the Dockerfile's path within the context (``Dockerfile`` by default).
        labels: labels to add to the image.
        nocache: build every step anew.
        timeout: the most seconds the whole build may take.

    Raises:
        InvalidArgument: ``path`` is not a directory.
        InvalidReference: ``tag`` is malformed (checked before podman runs).
        BuildFailed: the build failed; the message has podman's error.
        ProbeTimeout: the build took longer than ``timeout``.
    """
    from conu_podman.image import reference_of

    if not path or not os.path.isdir(path):
        msg = f"build needs the path of a build context directory, not {path!r}"
        raise InvalidArgument(msg)
    reference = reference_of(tag, None) if tag else None
    with tempfile.TemporaryDirectory(prefix="conu-podman-build-") as scratch:
        iidfile = os.path.join(scratch, "iid")
        args = _build_args(path, reference, dockerfile, labels, nocache, iidfile)
        engine.run(
            args,
            what=f"build {path!r}",
            timeout=timeout,
            error=BuildFailed,
            merge_output=True,
            classify=False,
        )
        with open(iidfile) as f:
            identifier = f.read().strip().removeprefix("sha256:")
    return identifier, reference


def _build_args(
    path: str,
    reference: Reference | None,
    dockerfile: str | None,
    labels: dict[str, str] | None,
    nocache: bool,
    iidfile: str,
) -> list[str]:
    """The arguments of ``podman build``; the Dockerfile is taken relative to the context."""
    args = ["build", "--force-rm", "--iidfile", iidfile]
    if reference is not None:
        args += ["--tag", str(reference)]
    if dockerfile:
        args += ["--file", os.path.join(os.path.abspath(path), dockerfile)]
    args += [arg for key, value in (labels or {}).items() for arg in ("--label", f"{key}={value}")]
    if nocache:
        args.append("--no-cache")
    return [*args, path]
