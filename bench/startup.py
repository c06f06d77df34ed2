"""The cost of importing conu: a fresh interpreter importing conu against one importing docker.

Both run the same Python (this one, i.e. the venv's under ``make bench``) in a subprocess,
so each repetition pays the interpreter's own start-up too, as a test run would.
"""

from __future__ import annotations

import subprocess
import sys

from harness import Scenario


def _import_in_fresh_interpreter(module: str) -> None:
    subprocess.run([sys.executable, "-c", f"import {module}"], check=True)


def scenarios() -> list[Scenario]:
    """The import scenario."""
    return [
        Scenario(
            name="import conu vs import docker (fresh python)",
            conu=lambda: _import_in_fresh_interpreter("conu"),
            raw=lambda: _import_in_fresh_interpreter("docker"),
            target=0.5,
            note="each repetition starts a new interpreter; its start-up is in both times",
        )
    ]
