"""``conu validate``: container-structure-test's ``test`` command on conu's backends.

The flags are upstream's (``-i/--image``, ``-c/--config``, ``-d/--driver``, ``-o/--output``,
``--test-report``, ``--junit-suite-name``, ``-q/--quiet``, ``--no-color``, ``--pull``,
``--platform``, ``--runtime``, ``--save``, ``--metadata``, ``-f/--force``,
``--image-from-oci-layout``, ``--default-image-tag``, ``--ignore-ref-annotation``), plus
conu's own: ``--backend`` (the engine of the docker driver), ``--timeout`` and ``-j/--jobs``
(upstream's deprecated ``-j``, ``--json``, is spelled out only: ``--json``).

Drivers: ``docker`` runs the tests on a backend's engine (``--backend``, default docker);
``tar`` reads a ``docker save`` archive or an OCI layout with the engine-less ``archive``
backend (command tests are unsupported there); ``host`` tests this machine itself.

Exit status: 0 when every test passes, 1 when any fails (or none ran), 2 when the
arguments, a configuration file or the image cannot be used.
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import sys
from typing import Any

from conu.cst.report import DEFAULT_JUNIT_SUITE, FORMATS

__all__ = ["EXIT_FAILED", "EXIT_PASSED", "EXIT_UNUSABLE", "add_arguments", "validate"]

logger = logging.getLogger(__name__)

EXIT_PASSED, EXIT_FAILED, EXIT_UNUSABLE = 0, 1, 2
DRIVERS = ("docker", "tar", "host")
_PLATFORM = re.compile(r"^[a-z0-9]+/[a-z0-9_]+(/[a-z0-9]+)?$")
HOST_WARNING = """WARNING: Using the host driver runs tests directly on the machine
that this binary is being run on, and can potentially corrupt your system.
Be sure you know what you're doing before continuing!

Continue? (y/n)"""


class Unusable(Exception):
    """The arguments, a configuration or the image cannot be used (exit status 2)."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add ``conu validate``'s options to ``parser``."""
    add = parser.add_argument
    add("-i", "--image", help="the image: NAME[:TAG] (docker driver), an archive (tar driver)")
    add("-c", "--config", required=True, action="append", metavar="FILE", help="a test file")
    add("-d", "--driver", choices=DRIVERS, default="docker", help="where tests run")
    add(
        "--backend",
        default=os.environ.get("CONU_BACKEND", "docker"),
        help="conu backend of the docker driver (default: $CONU_BACKEND or docker)",
    )
    add("-o", "--output", choices=FORMATS, default="text", help="report format")
    add("--json", action="store_true", help="same as --output json (deprecated upstream)")
    add("--test-report", metavar="FILE", help="write the report to FILE (json unless junit)")
    add("--junit-suite-name", default="", help=f"JUnit suite (default {DEFAULT_JUNIT_SUITE})")
    add("-q", "--quiet", action="store_true", help="no report: the exit status says it all")
    add("--no-color", action="store_true", help="no colours in the text report")
    add("--pull", action="store_true", help="pull the image first (docker driver)")
    add("--platform", help="os/arch[/variant] the image must be for (checked when given)")
    add("--runtime", help="OCI runtime of the command tests' containers (docker backend)")
    add("--save", action="store_true", help="keep the containers the tests create")
    add("--metadata", metavar="FILE", help="image metadata JSON (host driver)")
    add("-f", "--force", action="store_true", help="run the host driver without asking")
    add("--image-from-oci-layout", metavar="DIR", help="load this OCI layout and test it")
    add("--default-image-tag", help="tag of a loaded OCI layout without a ref annotation")
    add("--ignore-ref-annotation", action="store_true", help="use --default-image-tag")
    add("-j", "--jobs", type=_jobs, default=1, metavar="N", help="tests run at once (1)")
    add("--timeout", type=float, default=300.0, help="seconds a command test may run")


def _jobs(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive number of jobs, not {text!r}")
    return value


def _check_arguments(args: argparse.Namespace) -> None:
    """Upstream's argument rules, as :class:`Unusable` errors."""
    if args.driver == "host":
        if not args.metadata:
            raise Unusable("the host driver needs --metadata FILE")
        if args.image or args.image_from_oci_layout:
            raise Unusable("cannot give both an image and the host driver's metadata file")
    else:
        if bool(args.image) == bool(args.image_from_oci_layout):
            raise Unusable("give exactly one of --image and --image-from-oci-layout")
        if args.metadata:
            raise Unusable("--metadata is for the host driver only")
    if args.driver != "docker":
        for flag in ("pull", "image_from_oci_layout", "runtime"):
            if getattr(args, flag):
                raise Unusable(f"--{flag.replace('_', '-')} is for the docker driver only")
    if args.pull and args.image_from_oci_layout:
        raise Unusable("--pull and --image-from-oci-layout cannot be combined")
    if args.platform and not _PLATFORM.match(args.platform):
        raise Unusable(f"--platform is os/arch[/variant], not {args.platform!r}")


def _confirm_host(force: bool) -> None:
    if force:
        return
    if not sys.stdin.isatty():
        raise Unusable("the host driver changes this machine: confirm with --force")
    print(HOST_WARNING, file=sys.stderr)
    if input().strip().lower() not in ("y", "yes"):
        raise Unusable("aborted by user")


def _image(args: argparse.Namespace) -> Any:
    """The image the tests run against, for the driver."""
    from conu.cst.runner import open_image

    if args.driver == "host":
        from conu.cst.host import HostImage

        _confirm_host(args.force)
        return HostImage(args.metadata)
    if args.driver == "tar":
        if not args.platform:
            return open_image("archive", args.image)
        from conu.backend.archive.image import ArchiveImage

        image = ArchiveImage(args.image, platform=args.platform)  # an index's manifest
        _check_platform(image, args.platform)  # and a single image's own platform
        return image
    reference = args.image
    if args.image_from_oci_layout:
        from conu.cst.layout import load_layout

        reference = load_layout(
            args.image_from_oci_layout,
            default_tag=args.default_image_tag,
            ignore_annotation=args.ignore_ref_annotation,
        )
    image = open_image(args.backend, reference, pull=args.pull)
    if args.platform:
        _check_platform(image, args.platform)
    return image


def _check_platform(image: Any, wanted: str) -> None:
    raw = image.get_metadata().raw or {}
    found = "/".join(str(raw[k]) for k in ("Os", "Architecture", "Variant") if raw.get(k))
    pairs = zip(found.split("/"), wanted.split("/"), strict=False)  # a variant only if both
    if found and any(have != want for have, want in pairs):
        msg = f"image {image.get_full_name()!r} is for {found}, not the platform {wanted}"
        raise Unusable(msg)


def _options(args: argparse.Namespace) -> Any:
    from conu.cst.runner import Options

    engine_options: dict[str, Any] = {}
    if args.runtime:
        if args.backend != "docker":
            raise Unusable("--runtime needs the docker backend")
        engine_options = {"host_config": {"runtime": args.runtime}}
    return Options(
        timeout=args.timeout, jobs=args.jobs, save=args.save, engine_options=engine_options
    )


def _emit(report: str, args: argparse.Namespace) -> None:
    if args.test_report:
        try:
            with open(args.test_report, "w", encoding="utf-8") as stream:
                stream.write(report)
        except OSError as exc:
            raise Unusable(f"cannot write --test-report {args.test_report!r}: {exc}") from exc
    elif not args.quiet:
        sys.stdout.write(report)


def validate(args: argparse.Namespace) -> int:
    """Run ``conu validate``; return the exit status."""
    from conu.cst import load, render, run_config
    from conu.exceptions import ConuException

    output = "json" if args.json else args.output
    if args.test_report and output == "text":
        print("conu validate: a --test-report is JSON or JUnit: writing JSON", file=sys.stderr)
        output = "json"
    try:
        _check_arguments(args)
        configs = [load(path) for path in args.config]
        options = _options(args)
    except (Unusable, ConuException) as exc:
        print(f"conu validate: {exc}", file=sys.stderr)
        return EXIT_UNUSABLE
    try:
        image = _image(args)
    except Unusable as exc:
        print(f"conu validate: {exc}", file=sys.stderr)
        return EXIT_UNUSABLE
    except ConuException as exc:
        which = args.image or args.image_from_oci_layout or args.metadata
        print(f"conu validate: cannot use image {which!r}: {exc}", file=sys.stderr)
        return EXIT_UNUSABLE
    runs = [(config.path, run_config(image, config, options)) for config in configs]
    color = output == "text" and not args.no_color and _colors_wanted()
    report = render(runs, output, junit_suite=args.junit_suite_name, color=color)
    try:
        _emit(report, args)
    except Unusable as exc:
        print(f"conu validate: {exc}", file=sys.stderr)
        return EXIT_UNUSABLE
    results = [result for _path, found in runs for result in found]
    return EXIT_PASSED if results and all(r.passed for r in results) else EXIT_FAILED


def _colors_wanted() -> bool:
    return sys.stdout.isatty() and not os.environ.get("NO_COLOR")
