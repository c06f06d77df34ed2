"""The ``conu`` command (also ``python -m conu``).

``conu validate --image IMAGE --config FILE [--config FILE …]`` runs container-structure-test
files against an image (see :mod:`conu.cst`) on any backend (``--backend``, default
docker). Exit status: 0 when every test passes, 1 when any fails, 2 when a configuration
file or the image cannot be used.

``conu cleanup`` removes what conu sessions left on the engine, selected by their labels:

* ``conu cleanup`` or ``conu cleanup --dead``: the resources of sessions whose owning
  process no longer runs on this host (sessions of running processes, and of other hosts
  sharing the engine, are spared);
* ``conu cleanup --session ID``: the resources of that session;
* ``conu cleanup --all``: every session's resources, running ones included.

``--dry-run`` only lists what would be removed.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="conu", description="conu: test containers.")
    commands = parser.add_subparsers(dest="command", required=True)
    cleanup = commands.add_parser(
        "cleanup", help="remove what conu sessions left behind (default: dead sessions)"
    )
    which = cleanup.add_mutually_exclusive_group()
    which.add_argument(
        "--dead", action="store_true", help="sessions whose process is gone (the default)"
    )
    which.add_argument("--session", metavar="ID", help="the session with this id")
    which.add_argument("--all", action="store_true", help="every session, running ones too")
    cleanup.add_argument("--backend", default="docker", help="backend name (default: docker)")
    cleanup.add_argument("--dry-run", action="store_true", help="list, do not remove")
    validate = commands.add_parser(
        "validate", help="run container-structure-test files against an image"
    )
    validate.add_argument("--image", required=True, help="the image, NAME[:TAG]")
    validate.add_argument(
        "--config", required=True, action="append", metavar="FILE", help="a test file (repeat)"
    )
    validate.add_argument(
        "--backend",
        default=os.environ.get("CONU_BACKEND", "docker"),
        help="backend name (default: $CONU_BACKEND or docker)",
    )
    validate.add_argument("--output", choices=("text", "json", "junit"), default="text")
    validate.add_argument("--pull", action="store_true", help="pull the image first")
    validate.add_argument(
        "--timeout", type=float, default=300.0, help="seconds a command test may run"
    )
    return parser


def _chosen(sessions: dict[str, str], args: argparse.Namespace) -> list[str]:
    from conu.labels import owner_is_alive

    if args.session:
        return [args.session]
    if args.all:
        return sorted(sessions)
    return sorted(s for s, owner in sessions.items() if owner_is_alive(owner) is False)


def cleanup(args: argparse.Namespace) -> int:
    """Run ``conu cleanup``; return the exit status."""
    import logging

    from conu.labels import owner_is_alive, remove_session_tmp
    from conu.plugins import get_backend

    backend = get_backend(args.backend)(logging_level=logging.WARNING)
    sessions = backend.list_sessions()
    chosen = _chosen(sessions, args)
    spared = len(sessions) - len([s for s in chosen if s in sessions])
    for session in chosen:
        owner = sessions.get(session) or "unknown owner"
        if args.dry_run:
            print(f"would remove session {session} ({owner})")
            continue
        removed = backend.remove_session_resources(session)
        if owner_is_alive(owner) is not None:  # its temporary files are on this host
            removed["temporary paths"] = remove_session_tmp(session)
        summary = ", ".join(f"{n} {kind}" for kind, n in removed.items() if n) or "nothing"
        print(f"removed session {session} ({owner}): {summary}")
    print(f"{len(chosen)} session(s) {'selected' if args.dry_run else 'cleaned'}, {spared} spared")
    return 0


EXIT_PASSED, EXIT_FAILED, EXIT_UNUSABLE = 0, 1, 2


def validate(args: argparse.Namespace) -> int:
    """Run ``conu validate``; return the exit status."""
    from conu.cst import load, render, run_config
    from conu.cst.runner import open_image
    from conu.exceptions import ConuException, InvalidArgument

    try:
        configs = [load(path) for path in args.config]
    except InvalidArgument as exc:
        print(f"conu validate: {exc}", file=sys.stderr)
        return EXIT_UNUSABLE
    try:
        image = open_image(args.backend, args.image, pull=args.pull)
    except ConuException as exc:
        print(f"conu validate: cannot use image {args.image!r}: {exc}", file=sys.stderr)
        return EXIT_UNUSABLE
    runs = [(config.path, run_config(image, config, args.timeout)) for config in configs]
    sys.stdout.write(render(runs, args.output))
    results = [result for _path, found in runs for result in found]
    return EXIT_PASSED if results and all(r.passed for r in results) else EXIT_FAILED


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``conu`` command."""
    from conu.apidefs.backend import set_logging
    from conu.exceptions import ConuException

    args = _parser().parse_args(argv)
    # Progress (pulls, builds) on a terminal; quiet otherwise.
    set_logging(level=logging.INFO if sys.stderr.isatty() else logging.WARNING)
    try:
        return validate(args) if args.command == "validate" else cleanup(args)
    except ConuException as exc:
        print(f"conu: {exc}", file=sys.stderr)
        return EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
