#!/usr/bin/env bash
# Make sure a container engine answers, installing and starting one when we may.
#
#   1. If DOCKER_HOST (or, without it, /var/run/docker.sock) answers, use it.
#   2. Otherwise, as root on Debian/Ubuntu: install what is missing (docker.io,
#      busybox-static, docker-registry, skopeo, podman), remove a stale pid file left by a killed
#      daemon, start dockerd in the background (log in $CONU_DOCKERD_LOG) and wait,
#      bounded, until it answers.
#   3. Otherwise stop with a message that says how to get an engine.
#
# Idempotent: when everything is there already it only pings the engine.
# The test tools (busybox-static for the test images, docker-registry and skopeo for the
# registry tests, podman for the second backend, acl for the Directory ACL test) are
# installed in step 1 too, when we are root and they are missing.
set -euo pipefail

LOG=${CONU_DOCKERD_LOG:-/var/log/conu-dockerd.log}
PIDFILE=${CONU_DOCKERD_PIDFILE:-/var/run/docker.pid}
WAIT_SECONDS=${CONU_ENGINE_WAIT:-90}
PACKAGES=(docker.io busybox-static docker-registry skopeo podman acl)

say() { printf 'engine: %s\n' "$*" >&2; }

can_install() {
    [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && command -v dpkg-query >/dev/null 2>&1
}

ping_engine() {
    # One bounded question to the engine: does it answer /_ping?
    if command -v docker >/dev/null 2>&1; then
        timeout 10 docker version --format '{{.Server.Version}}' >/dev/null 2>&1
    elif [ -z "${DOCKER_HOST:-}" ] && [ -S /var/run/docker.sock ]; then
        timeout 10 python3 - <<'PY' >/dev/null 2>&1
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(5)
s.connect("/var/run/docker.sock")
s.sendall(b"GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n")
sys.exit(0 if s.recv(64).split()[1:2] == [b"200"] else 1)
PY
    else
        return 1
    fi
}

missing_packages() {
    local p
    for p in "${PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || echo "$p"
    done
}

install_packages() {
    local missing
    missing=$(missing_packages)
    [ -n "$missing" ] || return 0
    say "installing:" $missing
    # Without systemd the maintainer scripts must not try to start services.
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    # shellcheck disable=SC2086
    apt-get install -y -qq --no-install-recommends $missing >/dev/null
    rm -f /usr/sbin/policy-rc.d
}

remove_stale_pidfile() {
    local f pid
    for f in "$PIDFILE" /var/run/docker/containerd/containerd.pid; do
        [ -f "$f" ] || continue
        pid=$(cat "$f" 2>/dev/null || true)
        if [ -z "$pid" ] || ! kill -0 "$pid" 2>/dev/null; then
            say "removing stale pid file $f (pid '${pid}' is not running)"
            rm -f "$f"
        fi
    done
}

start_dockerd() {
    local pid
    if [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
        say "dockerd is already running (pid $(cat "$PIDFILE")), waiting for it"
        return 0
    fi
    remove_stale_pidfile
    say "starting dockerd, log in $LOG"
    mkdir -p "$(dirname "$LOG")"
    setsid /usr/sbin/dockerd --pidfile "$PIDFILE" >>"$LOG" 2>&1 </dev/null &
}

wait_for_engine() {
    local deadline=$((SECONDS + WAIT_SECONDS))
    until ping_engine; do
        if [ "$SECONDS" -ge "$deadline" ]; then
            say "dockerd did not answer within ${WAIT_SECONDS}s; last lines of $LOG:"
            tail -n 20 "$LOG" >&2 || true
            return 1
        fi
        sleep 0.5
    done
}

main() {
    if can_install; then
        install_packages
    fi
    if ping_engine; then
        return 0
    fi
    if [ -n "${DOCKER_HOST:-}" ]; then
        say "DOCKER_HOST=$DOCKER_HOST does not answer; start that engine or unset DOCKER_HOST"
        return 1
    fi
    if ! can_install || [ ! -x /usr/sbin/dockerd ]; then
        say "no Docker engine answers on /var/run/docker.sock."
        say "Start one (e.g. 'sudo systemctl start docker'), point DOCKER_HOST at one,"
        say "or run this script as root on Debian/Ubuntu to install and start docker.io."
        return 1
    fi
    start_dockerd
    wait_for_engine
    say "engine is up"
}

main "$@"
