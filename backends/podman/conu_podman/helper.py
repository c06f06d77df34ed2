"""Helper containers: created from an image for conu's own use, and always removed.

A helper is labelled with the session's labels (so a crashed session's helpers are swept
by the watchdog and ``conu cleanup``), has no network unless asked, and by default an
entrypoint that does not exist: for file checks it is only created, never started.
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Iterator, Sequence

from conu.exceptions import ConuException
from conu.labels import session_labels
from conu_podman import engine

__all__ = ["NEVER_RUN", "helper_container", "label_options"]

logger = logging.getLogger(__name__)

NEVER_RUN = ["/.conu-never-run"]
"""Entrypoint of helper containers that are only created: the image needs no CMD."""


def label_options(labels: dict[str, str]) -> list[str]:
    """Turn labels into ``["-l", "key=value", ...]``."""
    return [arg for key, value in labels.items() for arg in ("-l", f"{key}={value}")]


@contextlib.contextmanager
def helper_container(
    image_id: str,
    entrypoint: Sequence[str] = NEVER_RUN,
    command: Sequence[str] = (),
    options: Sequence[str] = ("--network", "none"),
) -> Iterator[str]:
    """Create a container of ``image_id`` labelled with the session; always removed after.

    Args:
        image_id: the image.
        entrypoint: what it would run (replacing the image's entrypoint); by default a path
            that does not exist, as the container is only created.
        command: arguments to the entrypoint.
        options: more ``podman create`` options; no network by default.

    Yields:
        the helper container's id.

    Raises:
        ImageNotFound: podman does not hold the image.
    """
    args = ["create", "--pull", "never", "--entrypoint", json.dumps(list(entrypoint))]
    args += [*options, *label_options(session_labels()), image_id, *command]
    created = engine.run(args, what=f"create a helper container of {image_id[:12]!r}")
    cid = created.stdout.decode().strip().splitlines()[-1]
    try:
        yield cid
    except BaseException:
        try:
            _remove(cid)
        except ConuException:  # the error in flight says more than this one
            logger.warning("cannot remove helper container %s", cid, exc_info=True)
        raise
    _remove(cid)


def _remove(cid: str) -> None:
    """Force-remove helper container ``cid`` with its anonymous volumes."""
    what = f"remove helper container {cid[:12]!r}"
    engine.run(["rm", "--force", "--time", "0", "--volumes", cid], what=what)
