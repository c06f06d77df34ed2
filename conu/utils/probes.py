"""conu 1.0's import path for probes: ``from conu.utils.probes import Probe``.

Everything lives in :mod:`conu.probes`; this module only re-exports it.
"""

from __future__ import annotations

from conu.exceptions import CountExceeded, ProbeTimeout
from conu.probes import Probe

__all__ = ["CountExceeded", "Probe", "ProbeTimeout"]
