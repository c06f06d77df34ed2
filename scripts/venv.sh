#!/usr/bin/env bash
# Create .venv (if needed) and install conu with its test and documentation tools.
# Quick when nothing changed: the install is redone only when packaging files are newer.
set -euo pipefail
VENV=${VENV:-.venv}
STAMP="$VENV/.installed"
PYTHON=${PYTHON:-python3}

if [ -f "$STAMP" ] && [ "$STAMP" -nt setup.cfg ] && [ "$STAMP" -nt pyproject.toml ]; then
    exit 0
fi
if ! "$PYTHON" -c 'import venv, ensurepip' >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "venv: installing python3-venv" >&2
        apt-get update -qq >/dev/null && apt-get install -y -qq python3-venv >/dev/null
    else
        echo "venv: $PYTHON cannot create virtual environments; install python3-venv" >&2
        exit 1
    fi
fi
[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
"$VENV/bin/python" -m pip install -q --disable-pip-version-check --upgrade pip "setuptools>=70.1" wheel
# conu-podman (the out-of-tree Podman backend of earlier versions) is now part of conu.
"$VENV/bin/python" -m pip uninstall -q -y conu-podman >/dev/null 2>&1 || true
"$VENV/bin/python" -m pip install -q --disable-pip-version-check -e '.[test,docs]'
touch "$STAMP"
