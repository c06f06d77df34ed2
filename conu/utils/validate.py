"""Checks of arguments at the public entry points: each error names the argument.

A wrong type raises :class:`TypeError` and a wrong value
:class:`~conu.exceptions.InvalidArgument` (a ``ValueError`` too), before any engine call.
"""

from __future__ import annotations

import math
import signal as signals
from collections.abc import Sequence
from typing import Any

from conu.exceptions import InvalidArgument

__all__ = ["command_list", "port_number", "signal_value", "timeout_seconds"]


def port_number(value: Any, argument: str = "port") -> int:
    """Return ``value`` as a TCP port number (1-65535; a numeric string is accepted)."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        msg = f"{argument} must be an int (1-65535), not {type(value).__name__}: {value!r}"
        raise TypeError(msg)
    try:
        number = int(value)
    except ValueError as exc:
        msg = f"{argument} {value!r} is not a number"
        raise InvalidArgument(msg) from exc
    if not 0 < number < 65536:
        msg = f"{argument} {value!r} is out of range 1-65535"
        raise InvalidArgument(msg)
    return number


def timeout_seconds(
    value: Any, argument: str = "timeout", *, allow_none: bool = True, positive: bool = False
) -> float | None:
    """Return ``value`` as seconds: a finite number >= 0 (> 0 with ``positive``), or None
    (no limit) when ``allow_none``."""
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        msg = f"{argument} must be a number of seconds, not {type(value).__name__}: {value!r}"
        raise TypeError(msg)
    if math.isnan(value) or math.isinf(value) or value < 0 or (positive and value == 0):
        bound = "> 0" if positive else ">= 0"
        msg = f"{argument} must be a finite number of seconds {bound}, not {value!r}"
        raise InvalidArgument(msg)
    return float(value)


def signal_value(value: Any, argument: str = "signal") -> str | None:
    """Return a signal as its name (``"SIGTERM"``), from a name (``"TERM"``, ``"sigterm"``)
    or a number; None stays None (the engine's default)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | str):
        msg = f"{argument} must be a signal name or number, not {type(value).__name__}: {value!r}"
        raise TypeError(msg)
    try:
        if isinstance(value, int) or value.isdigit():
            return signals.Signals(int(value)).name
        name = value.upper()
        return signals.Signals[name if name.startswith("SIG") else f"SIG{name}"].name
    except (KeyError, ValueError) as exc:
        msg = f"{argument} {value!r} is not a known signal"
        raise InvalidArgument(msg) from exc


def command_list(value: Any, argument: str = "command") -> list[str]:
    """Return ``value`` as a non-empty list of strings (a command and its arguments)."""
    if isinstance(value, str | bytes) or not isinstance(value, Sequence):
        msg = f"{argument} must be a list of str, not {type(value).__name__}: {value!r}"
        raise TypeError(msg)
    if not value:
        msg = f"{argument} must not be empty"
        raise InvalidArgument(msg)
    for item in value:
        if not isinstance(item, str):
            msg = f"{argument} must hold only str, not {type(item).__name__}: {item!r}"
            raise TypeError(msg)
    return list(value)
