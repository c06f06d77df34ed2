"""Session ids, owners and the choice of sessions ``conu cleanup`` makes."""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys

import pytest

from conu import cli
from conu.labels import (
    ARTIFACT_LABEL,
    OWNER_LABEL,
    SESSION_ID,
    SESSION_LABEL,
    SESSION_OWNER,
    owner_is_alive,
    owns_session,
    session_filter,
    session_labels,
)

HOST = socket.gethostname()


def _labels_in_child(**env: str) -> list[str]:
    code = "from conu import labels as l; print(l.SESSION_ID, l.SESSION_OWNER, l.owns_session())"
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("CONU_", "PYTEST_X"))}
    out = subprocess.run(
        [sys.executable, "-c", code], env={**clean, **env}, capture_output=True, text=True
    )
    return out.stdout.split()


def test_this_process_owns_its_session() -> None:
    assert f"{HOST}/{os.getpid()}" == SESSION_OWNER
    assert session_labels() == {
        ARTIFACT_LABEL: "",
        SESSION_LABEL: SESSION_ID,
        OWNER_LABEL: SESSION_OWNER,
    }
    assert session_filter() == {"label": [f"{SESSION_LABEL}={SESSION_ID}"]}
    assert session_filter("other") == {"label": [f"{SESSION_LABEL}=other"]}
    assert owns_session()


def test_default_session_id_is_per_process() -> None:
    session, owner, owns = _labels_in_child()
    pid = owner.rsplit("/", 1)[1]
    assert session.startswith(f"{pid}-")
    assert owns == "True"


def test_xdist_workers_get_their_own_session() -> None:
    session, _owner, _owns = _labels_in_child(CONU_SESSION_ID="run", PYTEST_XDIST_WORKER="gw1")
    assert session == "run-gw1"


def test_inherited_session_keeps_its_owner() -> None:
    session, owner, owns = _labels_in_child(
        CONU_SESSION_ID="shared", CONU_SESSION_OWNER="elsewhere/1"
    )
    assert (session, owner, owns) == ("shared", "elsewhere/1", "False")


def test_owner_alive() -> None:
    assert owner_is_alive(f"{HOST}/{os.getpid()}") is True
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    assert owner_is_alive(f"{HOST}/{dead.pid}") is False
    assert owner_is_alive(f"another-host-{HOST}/1") is None
    assert owner_is_alive("") is None
    assert owner_is_alive(f"{HOST}/not-a-pid") is None


def _chosen(sessions: dict[str, str], *argv: str) -> list[str]:
    parser = cli._parser()
    return cli._chosen(sessions, parser.parse_args(["cleanup", *argv]))


def test_cleanup_choice() -> None:
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    sessions = {
        "alive": f"{HOST}/{os.getpid()}",
        "dead": f"{HOST}/{dead.pid}",
        "remote": "other-host/1",
        "ownerless": "",
    }
    assert _chosen(sessions) == ["dead"]
    assert _chosen(sessions, "--dead") == ["dead"]
    assert _chosen(sessions, "--all") == ["alive", "dead", "ownerless", "remote"]
    assert _chosen(sessions, "--session", "x") == ["x"]


def test_cleanup_options_exclude_each_other() -> None:
    with pytest.raises(SystemExit):
        cli._parser().parse_args(["cleanup", "--all", "--dead"])
    args = cli._parser().parse_args(["cleanup", "--dry-run", "--backend", "docker"])
    assert isinstance(args, argparse.Namespace) and args.dry_run


def test_watchdog_is_released_at_normal_exit() -> None:
    code = "from conu.watchdog import ensure_started as e; w = e(); assert e() is w; print(w.pid)"
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("CONU_", "PYTEST_X"))}
    out = subprocess.run([sys.executable, "-c", code], env=clean, capture_output=True, text=True)
    pid = int(out.stdout)
    # The parent waited for it at exit: the watchdog is gone, it swept nothing.
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_no_watchdog_for_a_borrowed_session() -> None:
    code = "from conu.watchdog import ensure_started; print(ensure_started())"
    env = {**os.environ, "CONU_SESSION_ID": "parent", "CONU_SESSION_OWNER": f"{HOST}/1"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert out.stdout.strip() == "None"
