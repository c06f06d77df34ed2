#!/usr/bin/env bash
# A second Docker engine that looks like a remote host: it listens only on TCP with TLS, inside
# a network namespace of its own, so its containers' IPs are not routable from here and their
# ports are reached only where they are published (on the engine's address).
#
#   scripts/remote-engine.sh start           start it (idempotent); the exports go to stdout:
#                                             eval "$(scripts/remote-engine.sh start)"
#   scripts/remote-engine.sh env             print the exports only (engine already started)
#   scripts/remote-engine.sh status          exit 0 when the engine answers over TLS
#   scripts/remote-engine.sh stop [--purge]  stop it, remove the netns and the veth pair;
#                                             --purge also removes certs, config and data root
#
# Layout: netns $NETNS, veth $HOST_IF ($HOST_IP, host side) <-> $NS_IF ($REMOTE_IP, in the
# netns); dockerd -H tcp://$REMOTE_IP:$PORT --tlsverify, with its own data root, exec root,
# pid file, managed containerd (under the exec root), bridge and iptables (both inside the
# netns), cgroup parent and daemon key. No API unix socket (its only sockets, for containerd,
# metrics and libnetwork, are under $EXEC_ROOT): nothing here reaches it by accident. The host gets an "unreachable" route for $REMOTE_SPACE (minus the
# /30 link), so connecting to a container IP fails at once with "No route to host".
# Only root can start or stop it. Everything but the exports is written to stderr.
set -euo pipefail

NETNS=conu-remote
HOST_IF=conu-rh
NS_IF=conu-rn
HOST_IP=10.213.0.1
REMOTE_IP=10.213.0.2
LINK_PREFIX=30
REMOTE_SPACE=10.213.0.0/16     # every address the remote engine uses lives in here
BRIDGE_CIDR=10.213.1.1/24      # its docker0, inside the netns
ADDRESS_POOL=10.213.16.0/20    # its user-defined networks, /24 each
POOL_SIZE=24
PORT=2376
CGROUP_PARENT=conu-remote

BASE=/var/lib/conu-remote
CERT_DIR=${CONU_REMOTE_STATE:-$BASE/certs}
DATA_ROOT=$BASE/docker
DAEMON_CONFIG=$BASE/daemon.json
DAEMON_KEY=$BASE/daemon-key.json
EXEC_ROOT=/var/run/conu-remote
PIDFILE=/var/run/conu-remote.pid
LOCKFILE=/var/run/conu-remote.lock
LOG=/var/log/conu-remote-dockerd.log
START_WAIT=${CONU_REMOTE_WAIT:-60}
STOP_WAIT=${CONU_REMOTE_STOP_WAIT:-30}
DOCKERD=/usr/sbin/dockerd
DAEMON_PATH=/usr/sbin:/usr/bin:/sbin:/bin

say() { printf 'remote-engine: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

usage() {
    sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2
    exit 2
}

print_env() {
    printf 'export DOCKER_HOST=%q DOCKER_TLS_VERIFY=1 DOCKER_CERT_PATH=%q\n' \
        "tcp://$REMOTE_IP:$PORT" "$CERT_DIR"
}

need_root() {
    [ "$(id -u)" = 0 ] || die "'$1' needs root (network namespaces, a second dockerd)"
}

take_lock() {
    # Two callers (e.g. two test workers) must not start or stop the engine at once.
    local wait=$((START_WAIT + STOP_WAIT + 30))
    exec 9>"$LOCKFILE"
    flock -w "$wait" 9 || die "another remote-engine.sh held $LOCKFILE for more than ${wait}s"
}

# --- tools -------------------------------------------------------------------------------

ensure_tools() {
    local missing=() tool
    command -v ip >/dev/null 2>&1 || missing+=(iproute2)
    command -v openssl >/dev/null 2>&1 || missing+=(openssl)
    PATH=$DAEMON_PATH command -v iptables >/dev/null 2>&1 || missing+=(iptables)
    if [ "${#missing[@]}" -gt 0 ]; then
        command -v apt-get >/dev/null 2>&1 || die "missing: ${missing[*]} (and no apt-get)"
        say "installing: ${missing[*]}"
        DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
            "${missing[@]}" >/dev/null
    fi
    [ -x "$DOCKERD" ] || die "$DOCKERD not found: install docker.io (scripts/engine.sh does)"
    for tool in containerd runc docker-proxy iptables; do
        PATH=$DAEMON_PATH command -v "$tool" >/dev/null 2>&1 \
            || die "$tool not found in $DAEMON_PATH (install docker.io / iptables)"
    done
}

# --- processes -----------------------------------------------------------------------------

alive() {
    # A zombie (nobody reaps it here when its parent is pid 1) is not alive.
    local state
    [ -n "${1:-}" ] && [ -r "/proc/$1/stat" ] || return 1
    state=$(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1) || return 1
    [ -n "$state" ] && [ "$state" != Z ] && [ "$state" != X ]
}

is_our_dockerd() {
    alive "$1" || return 1
    [ "$(readlink "/proc/$1/exe" 2>/dev/null)" = "$DOCKERD" ] || return 1
    tr '\0' '\n' <"/proc/$1/cmdline" 2>/dev/null | grep -qxF -- "$EXEC_ROOT"
}

engine_pids() {
    # Processes of this engine: their command line names its exec root (dockerd, its
    # containerd, the shims, libnetwork-setkey). Zombies have an empty command line.
    local f pid exe
    for f in $(grep -lsaF -- "$EXEC_ROOT" /proc/[0-9]*/cmdline 2>/dev/null || true); do
        pid=${f#/proc/}
        pid=${pid%/cmdline}
        exe=$(readlink "/proc/$pid/exe" 2>/dev/null || true)
        case "${exe##*/}" in
            dockerd | containerd | containerd-shim* | runc | docker-proxy) alive "$pid" && echo "$pid" ;;
        esac
    done
}

dockerd_pid() {
    local pid
    pid=$(cat "$PIDFILE" 2>/dev/null || true)
    if is_our_dockerd "$pid"; then
        echo "$pid"
        return 0
    fi
    for pid in $(engine_pids); do
        if is_our_dockerd "$pid"; then
            echo "$pid"
            return 0
        fi
    done
    return 1
}

netns_inode() {
    stat -L -c %i "/var/run/netns/$NETNS" 2>/dev/null
}

netns_pids() {
    # Every process in our network namespace (docker-proxy, --network host containers...).
    local ino
    ino=$(netns_inode) || return 0
    find /proc/[0-9]*/ns -maxdepth 1 -name net -lname "net:\\[$ino\\]" 2>/dev/null \
        | cut -d/ -f3 || true
}

cgroup_pids() {
    # The containers' processes, in the cgroups under our cgroup parent (v1 and v2 layouts).
    cat /sys/fs/cgroup/*/"$CGROUP_PARENT"/*/cgroup.procs \
        /sys/fs/cgroup/"$CGROUP_PARENT"/*/cgroup.procs 2>/dev/null || true
}

wait_gone() {
    # wait_gone SECONDS PID...: until none is alive; fails when the time is up.
    local deadline=$((SECONDS + $1)) pid left
    shift
    while :; do
        left=
        for pid in "$@"; do
            if alive "$pid"; then left="$left $pid"; fi
        done
        [ -n "$left" ] || return 0
        [ "$SECONDS" -lt "$deadline" ] || { say "still alive after $1s:$left"; return 1; }
        sleep 0.2
    done
}

kill_leftovers() {
    # Kill whatever of the engine is left without its dockerd: a containerd, shims, container
    # processes, docker-proxy. All of them are ours: found by exec root, netns and cgroup.
    local pids
    pids=$( { engine_pids; netns_pids; cgroup_pids; } | sort -un | grep -vxE "$$|${BASHPID:-$$}" | tr '\n' ' ' || true)
    pids=${pids% }
    [ -n "$pids" ] || return 0
    say "killing leftover processes of the remote engine: $pids"
    # shellcheck disable=SC2086
    kill -KILL $pids 2>/dev/null || true
    # shellcheck disable=SC2086
    wait_gone 10 $pids || say "some processes did not die within 10s (waited for: $pids)"
}

remove_cgroups() {
    local d
    for d in /sys/fs/cgroup/*/"$CGROUP_PARENT"/* /sys/fs/cgroup/*/"$CGROUP_PARENT" \
        /sys/fs/cgroup/"$CGROUP_PARENT"/* /sys/fs/cgroup/"$CGROUP_PARENT"; do
        if [ -d "$d" ]; then rmdir "$d" 2>/dev/null || true; fi
    done
}

# --- network -------------------------------------------------------------------------------

ensure_netns() {
    [ -e "/var/run/netns/$NETNS" ] || ip netns add "$NETNS"
    if ip link show "$HOST_IF" >/dev/null 2>&1 \
        && ! ip -n "$NETNS" link show "$NS_IF" >/dev/null 2>&1; then
        say "$HOST_IF exists but its peer is not in $NETNS: recreating the veth pair"
        ip link del "$HOST_IF"
    fi
    if ! ip link show "$HOST_IF" >/dev/null 2>&1; then
        ip -n "$NETNS" link del "$NS_IF" 2>/dev/null || true
        ip link del "$NS_IF" 2>/dev/null || true
        ip link add "$HOST_IF" type veth peer name "$NS_IF" netns "$NETNS"
    fi
    ip addr replace "$HOST_IP/$LINK_PREFIX" dev "$HOST_IF"
    ip link set "$HOST_IF" up
    ip -n "$NETNS" link set lo up
    ip -n "$NETNS" addr replace "$REMOTE_IP/$LINK_PREFIX" dev "$NS_IF"
    ip -n "$NETNS" link set "$NS_IF" up
    ip -n "$NETNS" route replace default via "$HOST_IP" dev "$NS_IF"
    # The link /30 is more specific and stays reachable; the rest fails fast, never leaks.
    ip route replace unreachable "$REMOTE_SPACE"
}

remove_netns() {
    ip route del unreachable "$REMOTE_SPACE" 2>/dev/null || true
    if [ -e "/var/run/netns/$NETNS" ]; then
        ip netns del "$NETNS" || say "could not remove netns $NETNS"
    fi
    if ip link show "$HOST_IF" >/dev/null 2>&1; then ip link del "$HOST_IF" || true; fi
}

# --- certificates --------------------------------------------------------------------------

same_key() {
    [ "$(openssl x509 -in "$1" -noout -pubkey 2>/dev/null)" = \
        "$(openssl pkey -in "$2" -pubout 2>/dev/null)" ]
}

certs_valid() (
    cd "$CERT_DIR" 2>/dev/null || exit 1
    for f in ca.pem ca-key.pem cert.pem key.pem server-cert.pem server-key.pem; do
        [ -s "$f" ] || exit 1
    done
    openssl verify -CAfile ca.pem -purpose sslserver server-cert.pem >/dev/null 2>&1 || exit 1
    openssl verify -CAfile ca.pem -purpose sslclient cert.pem >/dev/null 2>&1 || exit 1
    for f in ca.pem cert.pem server-cert.pem; do
        openssl x509 -in "$f" -noout -checkend 86400 >/dev/null 2>&1 || exit 1
    done
    openssl x509 -in server-cert.pem -noout -ext subjectAltName 2>/dev/null \
        | tr -d ' ' | tr ',' '\n' | grep -qxF "IPAddress:$REMOTE_IP" || exit 1
    same_key server-cert.pem server-key.pem && same_key cert.pem key.pem
)

issue() {
    # issue CERT KEY SUBJECT EKU [SAN]: a P-256 leaf signed by ca.pem, in the current dir.
    local ext=$1.ext
    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
        -subj "$3" -keyout "$2" -out "$1.csr" 2>/dev/null
    {
        echo "basicConstraints=critical,CA:FALSE"
        echo "keyUsage=critical,digitalSignature,keyAgreement"
        echo "extendedKeyUsage=$4"
        echo "subjectKeyIdentifier=hash"
        echo "authorityKeyIdentifier=keyid"
        if [ -n "${5:-}" ]; then echo "subjectAltName=$5"; fi
    } >"$ext"
    openssl x509 -req -sha256 -days 825 -in "$1.csr" -CA ca.pem -CAkey ca-key.pem \
        -set_serial "0x$(openssl rand -hex 16)" -extfile "$ext" -out "$1" 2>/dev/null
    rm -f "$1.csr" "$ext"
}

make_certs() {
    local tmp f
    say "generating a CA, a server certificate for IP $REMOTE_IP and a client certificate"
    mkdir -p "$(dirname "$CERT_DIR")"
    tmp=$(mktemp -d "${CERT_DIR%/}.new.XXXXXX")
    (
        cd "$tmp"
        umask 077
        openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
            -sha256 -days 3650 -subj "/CN=conu-remote CA" -keyout ca-key.pem -out ca.pem \
            -addext "basicConstraints=critical,CA:TRUE" \
            -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
        issue server-cert.pem server-key.pem "/CN=$REMOTE_IP" serverAuth "IP:$REMOTE_IP"
        issue cert.pem key.pem "/CN=conu-remote client" clientAuth
        chmod 644 ca.pem cert.pem server-cert.pem
        chmod 600 ca-key.pem key.pem server-key.pem
    ) || { rm -rf "$tmp"; die "openssl failed to generate the certificates"; }
    mkdir -p "$CERT_DIR"
    for f in ca-key.pem ca.pem server-key.pem server-cert.pem key.pem cert.pem; do
        mv -f "$tmp/$f" "$CERT_DIR/$f"
    done
    rmdir "$tmp"
}

# --- the daemon ----------------------------------------------------------------------------

tls_args() {
    printf '%s\n' --tlsverify --tlscacert "$CERT_DIR/ca.pem" \
        --tlscert "$CERT_DIR/cert.pem" --tlskey "$CERT_DIR/key.pem"
}

answers() {
    # One bounded question over TLS, with the client certificate: does the engine answer?
    local args
    mapfile -t args < <(tls_args)
    if command -v docker >/dev/null 2>&1; then
        timeout 10 env -u DOCKER_HOST -u DOCKER_CONTEXT -u DOCKER_TLS_VERIFY -u DOCKER_CERT_PATH \
            docker --host "tcp://$REMOTE_IP:$PORT" "${args[@]}" \
            version --format '{{.Server.Version}}' >/dev/null 2>&1
    else
        timeout 10 curl -sf --max-time 8 --cacert "$CERT_DIR/ca.pem" \
            --cert "$CERT_DIR/cert.pem" --key "$CERT_DIR/key.pem" \
            "https://$REMOTE_IP:$PORT/_ping" >/dev/null 2>&1
    fi
}

stop_dockerd() {
    local pid
    pid=$(dockerd_pid) || return 0
    say "stopping the remote dockerd (pid $pid; waiting at most ${STOP_WAIT}s)"
    kill -TERM "$pid" 2>/dev/null || true
    if ! wait_gone "$STOP_WAIT" "$pid"; then
        say "dockerd (pid $pid) did not exit within ${STOP_WAIT}s: killing it"
        kill -KILL "$pid" 2>/dev/null || true
        wait_gone 10 "$pid" || die "dockerd (pid $pid) survives SIGKILL"
    fi
}

clear_stale_state() {
    # No dockerd of ours is running: whatever it left would confuse the next one (its pid
    # file, which dockerd refuses to overwrite while the pid exists, even as a zombie; a
    # containerd it would reuse, which lives in the dead daemon's mount namespace).
    local f pid
    for f in "$PIDFILE" "$EXEC_ROOT/containerd/containerd.pid"; do
        [ -e "$f" ] || continue
        pid=$(cat "$f" 2>/dev/null || true)
        say "removing stale pid file $f (pid '${pid}' is not a running remote engine)"
        rm -f "$f"
    done
    kill_leftovers
}

write_config() {
    mkdir -p "$BASE" "$DATA_ROOT" "$EXEC_ROOT"
    chmod 700 "$BASE"
    # A configuration of its own (/etc/docker/daemon.json belongs to the main engine), with a
    # key of its own, hence an engine ID of its own in `docker info`.
    local config
    config=$(printf '{\n  "deprecated-key-path": "%s"\n}' "$DAEMON_KEY")
    if [ "$(cat "$DAEMON_CONFIG" 2>/dev/null || true)" != "$config" ]; then
        printf '%s\n' "$config" >"$DAEMON_CONFIG.tmp"
        mv -f "$DAEMON_CONFIG.tmp" "$DAEMON_CONFIG"
    fi
}

launch_dockerd() {
    local args
    args=(
        --host "tcp://$REMOTE_IP:$PORT"
        --tlsverify --tlscacert "$CERT_DIR/ca.pem"
        --tlscert "$CERT_DIR/server-cert.pem" --tlskey "$CERT_DIR/server-key.pem"
        --data-root "$DATA_ROOT" --exec-root "$EXEC_ROOT" --pidfile "$PIDFILE"
        --config-file "$DAEMON_CONFIG"
        --bip "$BRIDGE_CIDR" --default-address-pool "base=$ADDRESS_POOL,size=$POOL_SIZE"
        --cgroup-parent "$CGROUP_PARENT"
        --insecure-registry "$HOST_IP/32"
    )
    if [ -n "${CONU_REMOTE_STORAGE_DRIVER:-}" ]; then
        args+=(--storage-driver "$CONU_REMOTE_STORAGE_DRIVER")
    fi
    mkdir -p "$(dirname "$LOG")"
    printf '=== %s remote-engine.sh: starting dockerd in netns %s\n' "$(date -Is)" "$NETNS" >>"$LOG"
    say "starting dockerd in netns $NETNS on tcp://$REMOTE_IP:$PORT, log in $LOG"
    # nsenter --net, not `ip netns exec`: that one also unshares the mount namespace and
    # mounts a fresh /sys without the cgroup hierarchies under it, and dockerd then fails
    # ("Devices cgroup isn't mounted"). In the host's mount namespace the overlay mounts stay
    # visible (and removable) from here, and a restarted dockerd sees what the last one did.
    # setsid: its own session; stdout/stderr to the log, never to our caller's pipe, or
    # "$(remote-engine.sh start)" would wait for dockerd to exit; nor our lock (fd 9), or the
    # next start or stop would wait for dockerd to exit. dockerd starts its own
    # containerd under $EXEC_ROOT, which inherits the network namespace.
    setsid nsenter --net="/var/run/netns/$NETNS" \
        env -i PATH="$DAEMON_PATH" HOME=/root LANG=C.UTF-8 \
        "$DOCKERD" "${args[@]}" >>"$LOG" 2>&1 </dev/null 9>&- &
    LAUNCHED=$!
}

wait_until_answers() {
    local deadline=$((SECONDS + START_WAIT))
    until answers; do
        if [ -n "${LAUNCHED:-}" ] && ! alive "$LAUNCHED"; then
            say "dockerd exited before answering; last lines of $LOG:"
            tail -n 20 "$LOG" >&2 || true
            return 1
        fi
        if [ "$SECONDS" -ge "$deadline" ]; then
            say "dockerd did not answer on tcp://$REMOTE_IP:$PORT within ${START_WAIT}s;" \
                "last lines of $LOG:"
            tail -n 20 "$LOG" >&2 || true
            return 1
        fi
        sleep 0.25
    done
}

in_our_netns() {
    local ino
    ino=$(netns_inode) || return 1
    [ "$(readlink "/proc/$1/ns/net" 2>/dev/null)" = "net:[$ino]" ]
}

start() {
    local regenerated=0 pid
    ensure_tools
    if ! certs_valid; then
        make_certs
        regenerated=1
    fi
    if [ "$regenerated" = 0 ] && [ -e "/var/run/netns/$NETNS" ] && answers; then
        say "the remote engine already answers on tcp://$REMOTE_IP:$PORT"
        print_env
        return 0
    fi
    if pid=$(dockerd_pid); then
        if [ "$regenerated" = 1 ]; then
            say "new certificates: restarting the running dockerd (pid $pid)"
            stop_dockerd
        elif ! in_our_netns "$pid"; then
            say "dockerd (pid $pid) is not in netns $NETNS (removed under it?): restarting it"
            stop_dockerd
        fi
    fi
    ensure_netns
    write_config
    LAUNCHED=
    if pid=$(dockerd_pid); then
        say "dockerd is already running (pid $pid), waiting for it to answer"
    else
        clear_stale_state
        launch_dockerd
    fi
    wait_until_answers
    say "the remote engine answers on tcp://$REMOTE_IP:$PORT"
    print_env
}

mounts_under() {
    # Mount points at or under $1 in our mount namespace, deepest first.
    local dir
    dir=$(realpath -m "$1")     # mountinfo has /run/..., not /var/run/...
    awk -v d="${dir%/}" '{ mp = $5; gsub(/\\040/, " ", mp)
        if (mp == d || index(mp, d "/") == 1) print mp }' /proc/self/mountinfo | sort -r
}

unmount_under() {
    local mp
    while IFS= read -r mp; do
        [ -n "$mp" ] || continue
        umount "$mp" 2>/dev/null || umount -l "$mp" || say "could not unmount $mp"
    done < <(mounts_under "$1")
}

remove_tree() {
    [ -e "$1" ] || return 0
    unmount_under "$1"
    rm -rf --one-file-system "$1" || say "could not remove all of $1"
}

stop() {
    local purge=0
    case "${1:-}" in
        "") ;;
        --purge) purge=1 ;;
        *) usage ;;
    esac
    stop_dockerd
    kill_leftovers
    remove_cgroups
    remove_netns
    rm -f "$PIDFILE"
    remove_tree "$EXEC_ROOT"
    # dockerd bind-mounts its data root onto itself (to make it shared) and does not always
    # undo it; nothing of the engine runs any more, so no mount under it is in use.
    unmount_under "$DATA_ROOT"
    if [ "$purge" = 1 ]; then
        say "purging $CERT_DIR, $DATA_ROOT and $BASE"
        remove_tree "$DATA_ROOT"
        remove_tree "$CERT_DIR"
        remove_tree "$BASE"
    fi
    say "the remote engine is stopped"
}

main() {
    local cmd=${1:-}
    [ "$#" -gt 0 ] && shift
    case "$cmd" in
        start)
            [ "$#" -eq 0 ] || usage
            need_root start
            take_lock
            start
            ;;
        stop)
            need_root stop
            take_lock
            stop "$@"
            ;;
        env)
            [ "$#" -eq 0 ] || usage
            print_env
            ;;
        status)
            if answers; then
                say "answers on tcp://$REMOTE_IP:$PORT"
            else
                say "does not answer on tcp://$REMOTE_IP:$PORT"
                return 1
            fi
            ;;
        *) usage ;;
    esac
}

main "$@"
