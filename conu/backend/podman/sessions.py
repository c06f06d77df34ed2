"""Resources of a session (by :data:`conu.labels.SESSION_LABEL`): listing and sweeping."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from conu.apidefs.engine import RESOURCE_KINDS
from conu.backend.podman import cli
from conu.exceptions import InvalidArgument, NotFound
from conu.labels import SESSION_LABEL

__all__ = ["SessionsMixin", "remove_kind"]

_LIST = {
    "containers": ["ps", "--all", "--quiet", "--no-trunc"],
    "networks": ["network", "ls", "--quiet"],
    "volumes": ["volume", "ls", "--quiet"],
    "images": ["images", "--quiet", "--no-trunc"],
}
_LIST_JSON = {
    "containers": (["ps", "--all", "--format", "json"], "Labels"),
    "networks": (["network", "ls", "--format", "json"], "labels"),
    "volumes": (["volume", "ls", "--format", "json"], "Labels"),
    "images": (["images", "--format", "json"], "Labels"),
}


def _filter(session: str | None = None) -> list[str]:
    label = SESSION_LABEL if session is None else f"{SESSION_LABEL}={session}"
    return ["--filter", f"label={label}"]


def _ids(kind: str, session: str) -> list[str]:
    args = [*_LIST[kind], *_filter(session)]
    output = cli.run(args, what=f"list the {kind} of session {session!r}").stdout.decode()
    return list(dict.fromkeys(line.strip() for line in output.splitlines() if line.strip()))


def _remove_containers(ids: list[str]) -> None:
    # one call: podman removes them in parallel; --ignore skips those gone meanwhile
    cli.run(
        ["rm", "--force", "--time", "0", "--volumes", "--ignore", *ids], what="remove containers"
    )


def _remove_each(args: list[str]) -> Callable[[list[str]], None]:
    def remove(ids: list[str]) -> None:
        for ident in ids:
            with contextlib.suppress(NotFound):
                cli.run([*args, ident], what=f"remove {ident[:12]!r}")

    return remove


_REMOVE: dict[str, Callable[[list[str]], None]] = {
    "containers": _remove_containers,
    "networks": _remove_each(["network", "rm"]),
    "volumes": _remove_each(["volume", "rm", "--force"]),
    "images": _remove_each(["rmi", "--force", "--ignore"]),
}


def remove_kind(kind: str, session: str) -> int:
    """Remove the session's resources of ``kind``; return how many were found.

    Images are removed newest first (``podman images`` lists them so): a child inherits its
    parent's labels, and podman refuses to remove a parent before its children.
    """
    ids = _ids(kind, session)
    if ids:
        _REMOVE[kind](ids)
    return len(ids)


class SessionsMixin:
    """Session primitives of :class:`~conu.backend.podman.engine.PodmanEngine`."""

    def list_session_labels(self) -> list[Mapping[str, str]]:
        """Return the labels of every labelled container, network, volume and image."""
        found: list[Mapping[str, str]] = []
        for kind, (args, key) in _LIST_JSON.items():
            listed: list[dict[str, Any]] = (
                cli.run_json([*args, *_filter()], what=f"list labelled {kind}") or []
            )
            found += [entry[key] for entry in listed if entry.get(key)]
        return found

    def remove_session(self, session: str, kinds: Iterable[str] = RESOURCE_KINDS) -> dict[str, int]:
        """Remove the session's resources of ``kinds`` (containers first, images last).

        Raises:
            InvalidArgument: a kind is not one of :data:`~conu.apidefs.engine.RESOURCE_KINDS`.
        """
        wanted = set(kinds)
        unknown = sorted(wanted - set(RESOURCE_KINDS))
        if unknown:
            msg = f"unknown resource kinds {unknown}; known: {list(RESOURCE_KINDS)}"
            raise InvalidArgument(msg)
        return {kind: remove_kind(kind, session) for kind in RESOURCE_KINDS if kind in wanted}
