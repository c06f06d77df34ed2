"""The code examples of the user guide, read from its pages as the tests run them.

Every ``.. code-block::`` of a guide page runs; each is one of these:

* ``python``: run, in the page's order, in one namespace per page (later examples may use
  what earlier ones defined), with the page's directory first on ``sys.path``, as for a
  script there (so they import the page's modules);
* ``python`` with a ``:caption:`` naming a pytest file (``test_*.py``, or ``conftest.py``):
  written to the page's directory; each ``test_*.py`` is run with pytest there, and must pass;
* ``console``: each line starting with ``$`` is a shell command, run in the page's directory;
  it must exit with status 0 (a line without ``$`` is output, not checked);
* any block with a ``:caption:`` naming a file (``app.cst.yaml``, ``setup.cfg``, a module):
  written to the page's directory before anything runs, for the commands and code that use it.

Two classes change how a ``console`` block runs:

* ``:class: repository-root``: its commands run in the root of the repository's checkout
  (``make demo``), not in the page's directory;
* ``:class: remote-engine``: its commands reach an engine over TCP with TLS, written with the
  placeholders of :data:`REMOTE_PLACEHOLDERS` (an address and a certificate directory a
  reader replaces with theirs). It runs when the tests themselves are given such an engine
  (``DOCKER_HOST=tcp://...``, ``DOCKER_TLS_VERIFY``, ``DOCKER_CERT_PATH``, as
  ``make test-remote`` gives them), with the placeholders replaced by that engine's
  (:func:`for_engine`) and without the tests' own ``DOCKER_*`` variables, so that the
  block's ``export`` lines are what points it there. Against a local engine it cannot
  run: the tests run the rest of its page, and say that this block did not run.

Anything else (another language, another class, such as the ``not-run`` of earlier
versions, a ``remote-engine`` block without its placeholders) is an error of the page, so
that no example escapes the tests.
"""

from __future__ import annotations

import dataclasses
import re
import shlex
from collections.abc import Mapping
from pathlib import Path

__all__ = [
    "REMOTE_ENGINE",
    "REMOTE_PLACEHOLDERS",
    "REPOSITORY_ROOT",
    "Block",
    "code_blocks",
    "for_engine",
    "kind_of",
]

REPOSITORY_ROOT = "repository-root"
"""The class of a ``console`` block whose commands run in the repository's root."""
REMOTE_ENGINE = "remote-engine"
"""The class of a ``console`` block whose commands need an engine over TCP with TLS."""
REMOTE_PLACEHOLDERS = {
    "tcp://build-host.example:2376": "DOCKER_HOST",
    "~/.docker/build-host": "DOCKER_CERT_PATH",
}
"""What a ``remote-engine`` block writes for the engine, and the variable that replaces it."""

_DIRECTIVE = re.compile(r"^(?P<indent> *)\.\. code-block:: *(?P<language>\S+) *$")
_OPTION = re.compile(r"^ +:(?P<name>[\w-]+):(?: +(?P<value>.*))?$")
_FILE_NAME = re.compile(r"^[\w.-]+\.[\w]+$")
_CLASSES = frozenset({REPOSITORY_ROOT, REMOTE_ENGINE})


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
    def classes(self) -> frozenset[str]:
        return frozenset(self.options.get("class", "").split())

    @property
    def where(self) -> str:
        return f"{self.page.name}:{self.line}"


def kind_of(block: Block) -> str:
    """``pytest``, ``file``, ``python``, ``console``, or ``invalid``."""
    classes = block.classes
    if classes:  # one class of a console block, and no caption
        if len(classes) > 1 or classes - _CLASSES or block.language != "console":
            return "invalid"
        if block.caption:
            return "invalid"
        if REMOTE_ENGINE in classes and any(p not in block.code for p in REMOTE_PLACEHOLDERS):
            return "invalid"
        return "console"
    caption = block.caption
    if caption and _FILE_NAME.match(caption):
        is_test = caption.startswith("test_") or caption == "conftest.py"
        return "pytest" if block.language == "python" and is_test else "file"
    if block.language in ("python", "console"):
        return block.language
    return "invalid"


def for_engine(block: Block, environ: Mapping[str, str]) -> str | None:
    """The code of a ``remote-engine`` block, its placeholders replaced by the engine that
    ``environ`` names; None when ``environ`` names no engine over TCP with TLS."""
    host = environ.get("DOCKER_HOST", "")
    if not host.startswith("tcp://") or not environ.get("DOCKER_TLS_VERIFY"):
        return None
    if not environ.get("DOCKER_CERT_PATH"):
        return None
    code = block.code
    for placeholder, variable in REMOTE_PLACEHOLDERS.items():
        code = code.replace(placeholder, shlex.quote(environ[variable]))
    return code


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
