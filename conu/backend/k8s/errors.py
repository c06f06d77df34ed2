"""Kubernetes answers → conu exceptions (used only by :mod:`conu.backend.k8s.api`).

The API server answers a refusal with a ``Status`` document (``reason``, ``message``,
``code``); its HTTP code decides the exception, its message is kept.
"""

from __future__ import annotations

import json
from typing import Any

from conu.exceptions import (
    Conflict,
    ConuException,
    EngineError,
    EngineUnreachable,
    InvalidArgument,
    NotFound,
    ProbeTimeout,
)

__all__ = ["api_error", "translate", "unreachable"]

_BY_STATUS: dict[int, type[ConuException]] = {
    400: InvalidArgument,
    404: NotFound,
    409: Conflict,
    410: Conflict,  # a watch's resource version expired
    422: InvalidArgument,
}


def translate(
    what: str, status: int, data: bytes | str, *, not_found: type[ConuException] | None = None
) -> ConuException:
    """Return the exception of an HTTP ``status`` answer (body ``data``) to ``what``."""
    message = _message(data)
    kind = _BY_STATUS.get(status, EngineError)
    if status == 404 and not_found is not None:
        kind = not_found
    if status in (401, 403):
        reason = "Unauthorized" if status == 401 else "Forbidden"
        message = f"the cluster refused ({status} {reason}): {message}"
    return kind(f"cannot {what}: {message}")


def api_error(what: str, status: dict[str, Any]) -> ConuException:
    """Return the exception of a ``Status`` object (e.g. a watch's ERROR event)."""
    return translate(what, int(status.get("code") or 500), json.dumps(status))


def unreachable(where: str, what: str, exc: BaseException) -> ConuException:
    """Return the exception of a transport failure ``exc`` to ``what`` on cluster ``where``:
    a read timeout is a ProbeTimeout, anything else EngineUnreachable."""
    text = f"{type(exc).__name__}: {exc}"
    if "Read timed out" in text or "ReadTimeoutError" in text:
        return ProbeTimeout(f"cannot {what}: the Kubernetes API server ({where}) timed out")
    return EngineUnreachable(
        f"cannot {what}: the Kubernetes cluster of {where} does not answer: {text}"
    )


def _message(data: bytes | str) -> str:
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    try:
        document = json.loads(text)
    except ValueError:
        return text.strip() or "(no message)"
    if isinstance(document, dict):
        return str(document.get("message") or document.get("reason") or text)
    return text
