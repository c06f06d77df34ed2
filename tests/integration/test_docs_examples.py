"""Every code example of the user guide (docs/guide/*.rst) runs, against the real engine.

One test per page: its files are written to a fresh directory (with ``examples`` and
``docs`` linked to the repository's, as in a checkout), then its examples run in order
there, as conu_docs.examples describes: Python in one namespace per page, ``console``
commands with a shell, ``test_*.py`` files with pytest. A broken example fails its page's
test, naming the page and the line. Whatever the Python examples leave running is removed,
and fails the test.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
GUIDE = ROOT / "docs" / "guide"
sys.path.insert(0, str(ROOT / "docs" / "_ext"))

from conu_docs.examples import Block, code_blocks, kind_of  # noqa: E402

PAGES = sorted(GUIDE.glob("*.rst"))
COMMAND_TIMEOUT = 600


@pytest.fixture(scope="module")
def guide_images(busybox_image: Any, httpd_image: Any) -> None:
    """The images the guide uses: the test images and the demo's sample image."""
    import images

    images.build(str(ROOT / "examples" / "sample-image"), "conu-example/sample:latest")


@pytest.fixture
def page_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The directory a page's examples run in, as if in a checkout of the repository."""
    for name in ("examples", "docs"):
        (tmp_path / name).symlink_to(ROOT / name)
    monkeypatch.chdir(tmp_path)
    yield tmp_path


def _environment() -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env.pop("PYTEST_XDIST_WORKER", None)  # the commands are sessions of their own
    return env


def _run_python(block: Block, namespace: dict[str, Any]) -> None:
    # Padded so that a traceback names the page's own line numbers.
    code = compile("\n" * (block.line - 1) + block.code, str(block.page), "exec")
    try:
        exec(code, namespace)
    except BaseException as exc:
        exc.add_note(f"in the example at {block.where}")
        raise


def _commands(block: Block) -> Iterator[tuple[int, str]]:
    """The ``$`` lines of a console block (with their ``\\`` continuations)."""
    lines = block.code.splitlines()
    index = 0
    while index < len(lines):
        text = lines[index]
        index += 1
        if not text.startswith("$ "):
            continue
        line, command = block.line + index - 1, text[2:]
        while command.endswith("\\") and index < len(lines):
            command = command[:-1] + lines[index].strip()
            index += 1
        yield line, command


def _run_console(block: Block, where: Path) -> None:
    """Run the block's commands in one shell (variables carry over), stopping at the first
    that fails; a marker before each names its line."""
    script = ["set -e"]
    for line, command in _commands(block):
        script += [f"echo '>>> {block.page.name}:{line}' >&2", command]
    done = subprocess.run(
        ["bash", "-c", "\n".join(script)],
        cwd=where,
        env=_environment(),
        capture_output=True,
        timeout=COMMAND_TIMEOUT,
        check=False,
    )
    if done.returncode != 0:
        errors = done.stderr.decode("utf-8", "replace")
        failed = errors.rsplit(">>> ", 1)[-1].split("\n", 1)[0] if ">>> " in errors else "?"
        output = done.stdout.decode("utf-8", "replace") + errors
        pytest.fail(f"{failed}: the command exited with {done.returncode}:\n{output}")


def _run_pytest(block: Block, where: Path) -> None:
    assert block.caption is not None
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", block.caption],
        cwd=where,
        env=_environment(),
        capture_output=True,
        timeout=COMMAND_TIMEOUT,
        check=False,
    )
    if done.returncode != 0:
        output = (done.stdout + done.stderr).decode("utf-8", "replace")
        pytest.fail(f"{block.where}: pytest {block.caption} failed:\n{output}")


def _session_containers(backend: Any) -> set[str]:
    from conu.labels import SESSION_ID, SESSION_LABEL

    return {c.id for c in backend.engine.list_containers(labels={SESSION_LABEL: SESSION_ID})}


def run_page(page: Path, where: Path) -> None:
    """Write the page's files into ``where``, then run its examples in order."""
    blocks = code_blocks(page)
    invalid = [b.where for b in blocks if kind_of(b) == "invalid"]
    assert not invalid, f"code blocks of no runnable kind (see conu_docs.examples): {invalid}"
    for block in blocks:
        if kind_of(block) in ("file", "pytest"):
            assert block.caption is not None
            (where / block.caption).write_text(block.code, encoding="utf-8")
    namespace: dict[str, Any] = {"__name__": f"guide_{page.stem}"}
    for block in blocks:
        kind = kind_of(block)
        if kind == "python":
            _run_python(block, namespace)
        elif kind == "console":
            _run_console(block, where)
        elif kind == "pytest" and block.caption != "conftest.py":
            _run_pytest(block, where)


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.stem)
def test_guide_page_examples(page: Path, guide_images: None, backend: Any, page_dir: Path) -> None:
    before = _session_containers(backend)
    try:
        run_page(page, page_dir)
    finally:
        leaked = _session_containers(backend) - before
        for cid in leaked:
            backend.engine.remove_container(cid, force=True, volumes=True)
    assert not leaked, f"the examples of {page.name} left {len(leaked)} container(s) behind"
