"""Every code example of the user guide (docs/guide/*.rst) runs, against the real engine.

One test per page: its files are written to a fresh directory (with ``examples`` and
``docs`` linked to the repository's, as in a checkout), then its examples run in order
there, as conu_docs.examples describes: Python in one namespace per page (the directory
first on ``sys.path``, so the page's modules import), ``console`` commands with a shell,
``test_*.py`` files with pytest. A ``repository-root`` console block runs in the
repository's root instead (``make demo``, as a reader of the quick start types it). A
``remote-engine`` console block runs only when the tests are given an engine over TCP with
TLS (``make test-remote``): with its placeholders replaced by that engine's address and
certificate directory, and without the ``DOCKER_*`` variables of the tests, so that its own
``export`` lines are what points it there. Against a local engine (``make test``) it cannot
run: the page's test still runs everything else, and says which block it did not run (a
warning in pytest's summary, and a ``not run`` property of the test); where it ran, the
test says so too (a ``ran`` property, and in its captured output).

A broken example fails its page's test, naming the page and the line. Whatever the Python
examples leave running is removed, and fails the test.
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
GUIDE = ROOT / "docs" / "guide"
sys.path.insert(0, str(ROOT / "docs" / "_ext"))

from conu_docs.examples import (  # noqa: E402
    REMOTE_ENGINE,
    REPOSITORY_ROOT,
    Block,
    code_blocks,
    for_engine,
    kind_of,
)

PAGES = sorted(GUIDE.glob("*.rst"))
COMMAND_TIMEOUT = 600
_ENGINE_VARIABLES = ("DOCKER_HOST", "DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH")


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
    # The commands are sessions of their own, typed in a shell: not an xdist worker, not a
    # sub-make of the `make test` that may be running these tests.
    for name in ("PYTEST_XDIST_WORKER", "MAKEFLAGS", "MFLAGS", "MAKELEVEL"):
        env.pop(name, None)
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


def _run_console(block: Block, where: Path, unset: tuple[str, ...] = ()) -> None:
    """Run the block's commands in one shell (variables carry over), stopping at the first
    that fails; a marker before each names its line. ``unset``: variables the shell does not
    get."""
    script = ["set -e"]
    for line, command in _commands(block):
        script += [f"echo '>>> {block.page.name}:{line}' >&2", command]
    environment = _environment()
    for name in unset:
        environment.pop(name, None)
    done = subprocess.run(
        ["bash", "-c", "\n".join(script)],
        cwd=where,
        env=environment,
        capture_output=True,
        timeout=COMMAND_TIMEOUT,
        check=False,
    )
    if done.returncode != 0:
        errors = done.stderr.decode("utf-8", "replace")
        failed = errors.rsplit(">>> ", 1)[-1].split("\n", 1)[0] if ">>> " in errors else "?"
        output = done.stdout.decode("utf-8", "replace") + errors
        pytest.fail(f"{failed}: the command exited with {done.returncode}:\n{output}")


def _run_remote(block: Block, where: Path) -> tuple[bool, str]:
    """Run a ``remote-engine`` block against the engine over TCP with TLS the tests are given,
    if any; return whether it ran, and a line that says so (or why not)."""
    code = for_engine(block, os.environ)
    if code is None:
        return False, (
            f"{block.where}: not run: it needs an engine over TCP with TLS (DOCKER_HOST=tcp://..., "
            f"DOCKER_TLS_VERIFY, DOCKER_CERT_PATH; `make test-remote` gives one), and the tests "
            f"have {os.environ.get('DOCKER_HOST') or 'the local socket'}"
        )
    # Only the block's own exports point its commands at the engine.
    _run_console(dataclasses.replace(block, code=code), where, unset=_ENGINE_VARIABLES)
    return True, f"{block.where}: ran against {os.environ['DOCKER_HOST']}"


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


def run_page(page: Path, where: Path) -> list[tuple[bool, str]]:
    """Write the page's files into ``where``, then run its examples in order; return what
    the remote-engine blocks did (ran, or not run and why)."""
    blocks = code_blocks(page)
    invalid = [b.where for b in blocks if kind_of(b) == "invalid"]
    assert not invalid, f"code blocks of no runnable kind (see conu_docs.examples): {invalid}"
    for block in blocks:
        if kind_of(block) in ("file", "pytest"):
            assert block.caption is not None
            (where / block.caption).write_text(block.code, encoding="utf-8")
    namespace: dict[str, Any] = {"__name__": f"guide_{page.stem}"}
    remote: list[tuple[bool, str]] = []
    sys.path.insert(0, str(where))
    try:
        for block in blocks:
            kind = kind_of(block)
            if kind == "python":
                _run_python(block, namespace)
            elif kind == "console" and REMOTE_ENGINE in block.classes:
                remote.append(_run_remote(block, where))
            elif kind == "console":
                _run_console(block, ROOT if REPOSITORY_ROOT in block.classes else where)
            elif kind == "pytest" and block.caption != "conftest.py":
                _run_pytest(block, where)
    finally:
        sys.path.remove(str(where))
        for name, module in list(sys.modules.items()):  # the page's modules go with it
            if Path(getattr(module, "__file__", None) or "/").is_relative_to(where):
                del sys.modules[name]
    return remote


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.stem)
def test_guide_page_examples(
    page: Path,
    guide_images: None,
    backend: Any,
    page_dir: Path,
    request: pytest.FixtureRequest,
) -> None:
    before = _session_containers(backend)
    try:
        remote = run_page(page, page_dir)
    finally:
        leaked = _session_containers(backend) - before
        for cid in leaked:
            backend.engine.remove_container(cid, force=True, volumes=True)
    assert not leaked, f"the examples of {page.name} left {len(leaked)} container(s) behind"
    for ran, note in remote:
        print(note)
        request.node.user_properties.append(("ran" if ran else "not run", note))
        if not ran:
            warnings.warn(note, UserWarning, stacklevel=1)
