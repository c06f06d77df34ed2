#!/usr/bin/env bash
# What `make docs` needs besides Sphinx (installed by scripts/venv.sh from the `docs` extra):
# the intersphinx inventories, local, since nothing may be downloaded at build time.
#
#   1. Python's: Debian's python3.X-doc ships the HTML docs with objects.inv; installed as
#      root when missing (as scripts/engine.sh installs packages).
#   2. The docker SDK's: its releases on PyPI carry no documentation sources (checked for
#      7.2.0: the sdist has only the package, tests and README), so the inventory is built
#      from the installed SDK itself with docs/_inventories/docker (pages named as the
#      SDK's published ones), once per SDK version, into $CONU_DOCS_CACHE/docker-<version>
#      (/var/cache/conu-docs as root, ~/.cache/conu-docs otherwise).
#
# Idempotent: when both are there it only looks. Prints nothing then.
set -euo pipefail

VENV=${VENV:-.venv}
PY="$VENV/bin/python"

say() { printf 'docs: %s\n' "$*" >&2; }

default_cache() {
    if [ "$(id -u)" = 0 ]; then echo /var/cache/conu-docs; else echo "$HOME/.cache/conu-docs"; fi
}
CACHE=${CONU_DOCS_CACHE:-$(default_cache)}

python_inventory() {
    local version
    version=$("$PY" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
    local f
    for f in "/usr/share/doc/python$version/html/objects.inv" \
        "/usr/share/doc/python$version-doc/html/objects.inv" \
        /usr/share/doc/python3-doc/html/objects.inv; do
        [ -f "$f" ] && return 0
    done
    if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
        say "Python's objects.inv is missing: install python$version-doc (Debian/Ubuntu)"
        return 1
    fi
    say "installing python$version-doc (Python's intersphinx inventory)"
    export DEBIAN_FRONTEND=noninteractive
    if ! apt-get install -y -qq --no-install-recommends "python$version-doc" >/dev/null 2>&1; then
        apt-get update -qq >/dev/null
        apt-get install -y -qq --no-install-recommends "python$version-doc" >/dev/null
    fi
}

docker_inventory() {
    local version target work
    version=$("$PY" -c 'import docker; print(docker.__version__)')
    target="$CACHE/docker-$version"
    [ -f "$target/objects.inv" ] && return 0
    say "building the docker SDK $version inventory into $target"
    mkdir -p "$CACHE"
    work=$(mktemp -d "$CACHE/.build-XXXXXX")
    # The SDK's own docstrings warn (unknown documents, odd indentation): not ours to fix.
    if ! "$PY" -m sphinx -q -b html -d "$work/doctrees" docs/_inventories/docker \
        "$work/html" >"$work/log" 2>&1; then
        cat "$work/log" >&2
        rm -rf "$work"
        return 1
    fi
    rm -rf "$target"
    mv "$work/html" "$target"
    rm -rf "$work"
}

python_inventory
docker_inventory
