"""The ``conu`` command (also ``python -m conu``).

``conu validate --image IMAGE --config FILE [--config FILE …]`` runs container-structure-test
files against an image (see :mod:`conu.cst`) on any backend (``--backend``, default
docker), with upstream's flags and drivers (:mod:`conu.cst.command`). Exit status: 0 when
every test passes, 1 when any fails, 2 when the arguments, a configuration file or the image
cannot be used. ``conu --version`` prints conu's version.

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
import sys

from conu.cst.command import EXIT_FAILED, add_arguments, validate

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    from conu.version import __version__

    parser = argparse.ArgumentParser(prog="conu", description="conu: test containers.")
    parser.add_argument("--version", action="version", version=f"conu {__version__}")
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
    add_arguments(validate)
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
