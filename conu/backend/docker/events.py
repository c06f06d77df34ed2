"""The engine's JSON progress streams (pull, push, build, load): logged, errors raised."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from conu.exceptions import ConuException

__all__ = ["consume"]

logger = logging.getLogger(__name__)

_TAIL_LINES = 5


def consume(events: Iterable[dict[str, Any]], what: str, error: type[ConuException]) -> list[str]:
    """Read a decoded event stream to its end, logging progress at INFO.

    Args:
        events: the decoded JSON events the engine streams.
        what: what is being done, for the message (e.g. ``"pull 'fedora:39'"``).
        error: the exception raised on an error event.

    Returns:
        The ids the stream announced (``aux.ID`` of builds), in order.

    Raises:
        ``error``: the stream carried an error; the message has the engine's reason and the
            last lines of output before it.
    """
    ids: list[str] = []
    tail: list[str] = []
    for event in events:
        if "error" in event or "errorDetail" in event:
            detail = (event.get("errorDetail") or {}).get("message") or event.get("error")
            before = "".join(tail[-_TAIL_LINES:]).strip()
            msg = f"cannot {what}: {str(detail).strip()}" + (f"\n{before}" if before else "")
            raise error(msg)
        text = str(event.get("stream") or event.get("status") or "")
        if text.strip():
            tail.append(text if text.endswith("\n") else text + "\n")
            del tail[: -_TAIL_LINES * 2]
            logger.info("%s", text.rstrip())
        announced = (event.get("aux") or {}).get("ID")
        if announced:
            ids.append(str(announced))
    return ids
