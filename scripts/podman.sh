#!/usr/bin/env bash
# Make sure podman works, for the Podman backend (conu/backend/podman) and its conformance run.
#
#   1. podman must be installed (scripts/engine.sh installs it with the other test tools).
#   2. If /etc/containers/containers.conf does not exist, write one that sets
#      default_ulimits = [] and runtime = "runc": on machines that forbid raising rlimits
#      podman 4.3 cannot start a container otherwise. An existing file is left alone.
#   3. Check that `podman info` answers.
set -euo pipefail

CONF=${CONU_PODMAN_CONF:-/etc/containers/containers.conf}
say() { printf 'podman: %s\n' "$*" >&2; }

if ! command -v podman >/dev/null 2>&1; then
    say "podman is not installed (scripts/engine.sh installs it as root on Debian/Ubuntu)"
    exit 1
fi
if [ ! -e "$CONF" ] && [ -w "$(dirname "$CONF")" ]; then
    say "writing $CONF (default_ulimits = [], runtime = \"runc\")"
    cat >"$CONF" <<'CONF'
# Written by conu's scripts/podman.sh: this machine forbids raising rlimits, so podman
# must not set default ulimits, and runs containers with runc.
[containers]
default_ulimits = []

[engine]
runtime = "runc"
CONF
fi
if ! timeout 60 podman info >/dev/null 2>&1; then
    say "podman does not work here:"
    timeout 60 podman info >&2 || true
    exit 1
fi
