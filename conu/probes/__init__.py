"""Waiting for things to happen: :class:`Probe` (conu 1.0's API) and :func:`wait_for`.

Both run in the caller's process: each try runs in a daemon thread, never a forked process,
so results and side effects are the caller's. Importing this package imports only the
standard library.
"""

from __future__ import annotations

from conu.exceptions import CountExceeded, ProbeTimeout
from conu.probes.probe import Probe
from conu.probes.wait import wait_for

__all__ = ["CountExceeded", "Probe", "ProbeTimeout", "wait_for"]
