"""Fake host commands for unit tests: executable scripts on a private PATH."""

from __future__ import annotations

import stat
from pathlib import Path


def fake_command(directory: Path, name: str, script: str) -> None:
    """Put an executable shell script called ``name`` into ``directory``."""
    path = directory / name
    path.write_text(f"#!/bin/sh\n{script}\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
