"""Building images with ``podman build``."""

from __future__ import annotations

import os
import tempfile

from conu.apidefs.specs import BuildSpec
from conu.backend.podman.run_args import label_args
from conu.backend.podman.stream import run_watched
from conu.exceptions import BuildFailed, InvalidArgument

__all__ = ["BUILD_TIMEOUT", "build", "build_args"]

BUILD_TIMEOUT = 3600.0
"""Seconds a whole ``podman build`` may take (``BuildSpec.timeout`` bounds its silences)."""


def build_args(spec: BuildSpec, iidfile: str) -> list[str]:
    """The arguments of ``podman build``; the Dockerfile is taken relative to the context."""
    args = ["build", "--force-rm", "--iidfile", iidfile]
    args += ["--tag", spec.tag] if spec.tag else []
    if spec.dockerfile:
        args += ["--file", os.path.join(os.path.abspath(spec.path), spec.dockerfile)]
    args += label_args(spec.labels)
    args += [a for k, v in spec.build_args.items() for a in ("--build-arg", f"{k}={v}")]
    args += ["--no-cache"] if spec.nocache else []
    return [*args, spec.path]


def build(spec: BuildSpec) -> str:
    """Build the image ``spec`` describes; return its id (``sha256:…``).

    Raises:
        InvalidArgument: ``spec.path`` is not a directory.
        BuildFailed: the build failed; the message has the builder's last lines.
        ProbeTimeout: the builder printed nothing for ``spec.timeout`` seconds, or the whole
            build took longer than :data:`BUILD_TIMEOUT`.
    """
    if not spec.path or not os.path.isdir(spec.path):
        msg = f"build needs the path of a build context directory, not {spec.path!r}"
        raise InvalidArgument(msg)
    with tempfile.TemporaryDirectory(prefix="conu-podman-build-") as scratch:
        iidfile = os.path.join(scratch, "iid")
        run_watched(
            build_args(spec, iidfile),
            what=f"build {spec.path!r}",
            silence=spec.timeout,
            timeout=max(BUILD_TIMEOUT, spec.timeout),
            error=BuildFailed,
        )
        with open(iidfile) as f:
            identifier = f.read().strip()
    return identifier if identifier.startswith("sha256:") else f"sha256:{identifier}"
