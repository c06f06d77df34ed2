"""The seed page of conu's documented API, parsed (for the documentation's tests).

``seed-docker-container.txt`` is the text of conu 1.0's DockerContainer reference page, the
project's public contract: the classes it documents (``conu.DockerContainer``,
``conu.DockerRunBuilder``, ``conu.DockerContainerFS``), their methods and parameters.
"""

from __future__ import annotations

import dataclasses
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(ROOT / "docs" / "_ext"))

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclasses.dataclass(frozen=True)
class SeedMethod:
    """A method the seed documents: ``cls.name(params)``."""

    cls: str
    name: str
    params: tuple[tuple[str, str | None], ...]
    """``(name, default)`` pairs; ``*``/``**`` kept in the name; None: no default."""


def _params(text: str) -> tuple[tuple[str, str | None], ...]:
    found = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, _, default = part.partition("=")
        found.append((name, default or None))
    return tuple(found)


def parse_seed(path: Path) -> list[SeedMethod]:
    """The methods of the seed page, with the class each belongs to."""
    lines = path.read_text(encoding="utf-8").splitlines()
    methods, cls = [], ""
    for index, line in enumerate(lines[:-1]):
        following = lines[index + 1]
        if not following.startswith("(") or ")¶" not in following:
            continue
        params = _params(following[1 : following.index(")¶")])
        if line and index >= 2 and lines[index - 1] == "conu." and lines[index - 2] == "class":
            cls = line
        elif _NAME.match(line):
            methods.append(SeedMethod(cls, line, params))
    return methods
