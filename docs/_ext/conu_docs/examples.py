"""The code examples of the user guide, read from its pages as the tests run them.

Every ``.. code-block::`` of a guide page is one of these:

* ``python``: run, in the page's order, in one namespace per page (later examples may use
  what earlier ones defined);
* ``python`` with a ``:caption:`` naming a pytest file (``test_*.py``, or ``conftest.py``):
  written to the page's directory; each ``test_*.py`` is run with pytest there, and must pass;
* ``console``: each line starting with ``$`` is a shell command, run in the page's directory;
  it must exit with status 0 (a line without ``$`` is output, not checked);
* any block with a ``:caption:`` naming a file (``app.cst.yaml``, ``setup.cfg``): written to
  the page's directory before anything runs, for the commands and code that use it;
* ``:class: not-run``: shown only (an engine elsewhere, a whole ``make`` target); the tests
  count these, and the page says what it would take.

Anything else is an error of the page, so that no example escapes the tests.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

__all__ = ["Block", "code_blocks", "kind_of"]

_DIRECTIVE = re.compile(r"^(?P<indent> *)\.\. code-block:: *(?P<language>\S+) *$")
_OPTION = re.compile(r"^ +:(?P<name>[\w-]+):(?: +(?P<value>.*))?$")
_FILE_NAME = re.compile(r"^[\w.-]+\.[\w]+$")


@dataclasses.dataclass(frozen=True)
class Block:
    """One ``code-block`` of a page."""

    page: Path
    line: int
    """The line of the block's first line of code in the page (1-based)."""
    language: str
    code: str
    options: dict[str, str]

    @property
    def caption(self) -> str | None:
        return self.options.get("caption")

    @property
    def where(self) -> str:
        return f"{self.page.name}:{self.line}"


def kind_of(block: Block) -> str:
    """``not-run``, ``pytest``, ``file``, ``python``, ``console``, or ``invalid``."""
    if "not-run" in block.options.get("class", "").split():
        return "not-run"
    caption = block.caption
    if caption and _FILE_NAME.match(caption):
        is_test = caption.startswith("test_") or caption == "conftest.py"
        return "pytest" if block.language == "python" and is_test else "file"
    if block.language in ("python", "console"):
        return block.language
    return "invalid"


def code_blocks(page: Path) -> list[Block]:
    """Return the code blocks of ``page``, in order."""
    lines = page.read_text(encoding="utf-8").splitlines()
    blocks = []
    index = 0
    while index < len(lines):
        match = _DIRECTIVE.match(lines[index])
        index += 1
        if not match:
            continue
        indent = len(match["indent"])
        options: dict[str, str] = {}
        while index < len(lines) and (option := _OPTION.match(lines[index])):
            options[option["name"]] = (option["value"] or "").strip()
            index += 1
        start = index
        body: list[str] = []
        while index < len(lines):
            text = lines[index]
            if text.strip() and len(text) - len(text.lstrip()) <= indent:
                break
            body.append(text)
            index += 1
        while body and not body[0].strip():
            body.pop(0)
            start += 1
        code = _dedent(body)
        blocks.append(Block(page, start + 1, match["language"], code, options))
    return blocks


def _dedent(body: list[str]) -> str:
    while body and not body[-1].strip():
        body.pop()
    margin = min((len(t) - len(t.lstrip()) for t in body if t.strip()), default=0)
    return "\n".join(t[margin:] for t in body) + "\n"
