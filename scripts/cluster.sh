#!/usr/bin/env bash
# A real single-node Kubernetes v1.20.2 cluster on this machine, from nothing, for the
# Kubernetes backend's tests.
#
#   scripts/cluster.sh start          bring it up (idempotent); prints one line on stdout:
#                                     export KUBECONFIG=$CONU_K8S_STATE/kubeconfig
#   scripts/cluster.sh stop           stop everything it started (idempotent)
#   scripts/cluster.sh status         exit 0 when the API answers, node "localhost" is Ready and
#                                     its kubelet answers
#   scripts/cluster.sh load IMAGE...  copy Docker images into the cluster's containerd, for
#                                     pods with imagePullPolicy: Never
#
# What "start" does, as root on Debian 12:
#   1. Installs what is missing (etcd-server, containerd, runc, containernetworking-plugins,
#      busybox-static, ...), with a policy-rc.d so that no maintainer script starts a service.
#   2. No package ships the server binaries, so they are built once from Debian's own
#      `kubernetes` source package (1.20.2; a deb-src entry is added for it) and cached in
#      $CONU_K8S_CACHE/<debian source version>/bin (~4-10 min cold, nothing when cached).
#   3. Generates a CA, the apiserver's certificate, service-account keys, static tokens and
#      kubeconfigs once (kept in $CONU_K8S_STATE/pki).
#   4. Starts a loopback image registry (127.0.0.1:5001: images pushed there run in pods
#      under that name), etcd, kube-apiserver, kube-controller-manager, kube-scheduler, a
#      containerd of its own (own config, root, state dir, socket and runc root: Docker's
#      containerd is never touched) and kubelet, each in the background (logs in
#      $CONU_K8S_LOGS/*.log, pid files in $CONU_K8S_RUN/), imports the locally made pause
#      image, and waits, bounded, for the API, the node and the default service account.
#   When something of an earlier run is left (dead pid files, a pid now used by another
#   program, sockets, containerd shims, container processes, mounts), it is cleaned first.
#
# Everything listens on loopback or lives on the bridge conu-k8s0 (pods 10.244.0.0/24,
# gateway 10.244.0.1 on the host, no masquerading); services get 10.96.0.0/24 but there is
# no kube-proxy: reach a service through the apiserver proxy, or a pod by its IP.
set -euo pipefail

STATE=${CONU_K8S_STATE:-/var/lib/conu-k8s}
CACHE=${CONU_K8S_CACHE:-/var/cache/conu-k8s}
RUN=${CONU_K8S_RUN:-/run/conu-k8s}
LOGS=${CONU_K8S_LOGS:-/var/log/conu-k8s}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SUPPORT=$HERE/cluster

PKI=$STATE/pki
CONF=$STATE/config
KUBECONFIG_FILE=$STATE/kubeconfig
SOCK=$RUN/containerd/containerd.sock
RUNC_ROOT=$RUN/runc/k8s.io   # runc's --root for our shims: the option Root plus the namespace
API_URL=https://127.0.0.1:6443
REGISTRY=127.0.0.1:${CONU_K8S_REGISTRY_PORT:-5001}
ETCD_CLIENT=http://127.0.0.1:23790
ETCD_PEER=http://127.0.0.1:23800
POD_SUBNET=10.244.0.0/24
POD_GATEWAY=10.244.0.1
BRIDGE=conu-k8s0
SERVICE_CIDR=10.96.0.0/24
PAUSE_IMAGE=conu.local/pause:3.2
CNI_BIN=/usr/lib/cni
DEB_SUITE=${CONU_K8S_DEB_SUITE:-bookworm}
DEB_SRC_FILE=/etc/apt/sources.list.d/conu-k8s-src.sources

# Bounded waits, in seconds.
WAIT_ETCD=${CONU_K8S_WAIT_ETCD:-60}
WAIT_API=${CONU_K8S_WAIT_API:-120}
WAIT_CONTAINERD=${CONU_K8S_WAIT_CONTAINERD:-60}
WAIT_NODE=${CONU_K8S_WAIT_NODE:-180}
WAIT_SA=${CONU_K8S_WAIT_SA:-90}
WAIT_STOP=${CONU_K8S_WAIT_STOP:-20}

# Start order; stop goes the other way round (kubelet first, etcd last).
COMPONENTS=(docker-registry etcd kube-apiserver kube-controller-manager kube-scheduler containerd kubelet)
K8S_COMMANDS=(kube-apiserver kube-controller-manager kube-scheduler kubelet)
RUNTIME_PACKAGES=(docker-registry etcd-server containerd runc containernetworking-plugins busybox-static openssl
    curl iptables iproute2 util-linux python3)
BUILD_PACKAGES=(golang-go golang-github-modern-go-reflect2-dev rsync make dpkg-dev)

# stdout carries only the final "export KUBECONFIG=..." line: keep it on fd 3, send
# everything else (ours and every command's) to stderr.
exec 3>&1 1>&2

say() { printf 'cluster: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3

need_root() {
    [ "$(id -u)" = 0 ] || die "'$1' needs root (it starts daemons, mounts and a bridge)"
}

# ---------------------------------------------------------------------------------------
# Packages and the source package
# ---------------------------------------------------------------------------------------

missing_packages() {
    local p
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || echo "$p"
    done
}

install_packages() {
    local missing own_policy=
    missing=$(missing_packages "$@")
    [ -n "$missing" ] || return 0
    command -v apt-get >/dev/null || die "missing packages ($missing) and no apt-get to install them"
    say "installing:" $missing
    # Without systemd the maintainer scripts must not try to start services (etcd-server and
    # containerd would start the distribution's default instances otherwise).
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
        chmod +x /usr/sbin/policy-rc.d
        own_policy=1
    fi
    export DEBIAN_FRONTEND=noninteractive
    # shellcheck disable=SC2086
    if ! { apt-get update -qq >/dev/null && apt-get install -y -qq --no-install-recommends $missing >/dev/null; }; then
        [ -z "$own_policy" ] || rm -f /usr/sbin/policy-rc.d
        die "could not install: $missing"
    fi
    [ -z "$own_policy" ] || rm -f /usr/sbin/policy-rc.d
}

# The machine's Debian mirror: the URI of the first deb entry for $DEB_SUITE, in the
# deb822 .sources files or the one-line .list format; deb.debian.org otherwise.
debian_mirror() {
    local uri
    uri=$(awk -v suite="$DEB_SUITE" '
        function flush() { if (ok && uri != "" && types ~ /(^|[ \t])deb([ \t]|$)/) { print uri; found = 1; exit } }
        FNR == 1 { flush(); ok = 0; uri = ""; types = "" }
        /^[ \t]*$/ { flush(); ok = 0; uri = ""; types = ""; next }
        /^Types:/ { types = $0 }
        /^URIs:/ { uri = $2 }
        /^Suites:/ { for (i = 2; i <= NF; i++) if ($i == suite) ok = 1 }
        END { if (!found) flush() }' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -n1)
    if [ -z "$uri" ]; then
        uri=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
            sed -e 's/\[[^]]*\]//' | awk -v suite="$DEB_SUITE" '$1 == "deb" && $3 == suite { print $2; exit }')
    fi
    echo "${uri:-http://deb.debian.org/debian}"
}

ensure_deb_src() {
    [ -f "$DEB_SRC_FILE" ] && return 0
    local mirror keyring=/usr/share/keyrings/debian-archive-keyring.gpg
    mirror=$(debian_mirror)
    say "adding a deb-src entry for $DEB_SUITE main ($mirror) in $DEB_SRC_FILE"
    {
        echo "# Added by conu's scripts/cluster.sh: the kubernetes source package it builds from."
        echo "Types: deb-src"
        echo "URIs: $mirror"
        echo "Suites: $DEB_SUITE"
        echo "Components: main"
        [ ! -f "$keyring" ] || echo "Signed-By: $keyring"
    } >"$DEB_SRC_FILE"
    apt-get update -qq >/dev/null || die "apt-get update failed after adding $DEB_SRC_FILE"
}

apt_src_version() {
    apt-cache showsrc --only-source kubernetes 2>/dev/null | awk '/^Version:/ { print $2 }' | sort -V | tail -n1
}

# The Debian version of the kubernetes source package, which names the binary cache.
kube_deb_version() {
    local v dirs
    if [ -n "${CONU_K8S_DEB_VERSION:-}" ]; then echo "$CONU_K8S_DEB_VERSION"; return; fi
    v=$(apt_src_version)
    if [ -z "$v" ]; then
        # Offline and without source lists: one complete cache is good enough.
        dirs=$(ls -d "$CACHE"/*/bin/.complete 2>/dev/null || true)
        if [ "$(printf '%s' "$dirs" | grep -c .)" = 1 ]; then
            v=${dirs%/bin/.complete}; echo "${v##*/}"; return
        fi
        if [ -f "$DEB_SRC_FILE" ]; then
            apt-get update -qq >/dev/null || true   # our entry is there, its lists are not
        else
            ensure_deb_src   # adds it and updates
        fi
        v=$(apt_src_version)
    fi
    [ -n "$v" ] || die "apt knows no 'kubernetes' source package (is a deb-src entry for $DEB_SUITE main there?)"
    echo "$v"
}

# ---------------------------------------------------------------------------------------
# The binaries: built once per Debian source version, cached
# ---------------------------------------------------------------------------------------

have_binaries() {
    local c
    [ -f "$BIN/.complete" ] || return 1
    for c in "${K8S_COMMANDS[@]}"; do [ -x "$BIN/$c" ] || return 1; done
}

build_binaries() {
    local ver=$1 dir=$CACHE/$1 lockfd upstream
    have_binaries && return 0
    install_packages "${BUILD_PACKAGES[@]}"
    ensure_deb_src
    mkdir -p "$dir" "$LOGS"
    # One build at a time per version; a second start waits for the first one's result.
    exec {lockfd}>"$dir/.build.lock"
    flock -w 3600 "$lockfd" || die "another build of $ver holds $dir/.build.lock"
    if have_binaries; then exec {lockfd}>&-; return 0; fi
    upstream=${ver%-*}; upstream=${upstream#*really}; upstream=${upstream%%[+~]*}
    say "building Kubernetes v$upstream from Debian's source package $ver (4 commands, ~4-10 min; log $LOGS/build.log)"
    # A half-finished earlier build (killed session) is thrown away and started afresh.
    rm -rf "$dir/build" "$dir/bin.partial"
    local started=$SECONDS
    if ! (
        set -euo pipefail
        src=$dir/build/src gopath=$dir/build/gopath
        tree=$gopath/src/k8s.io/kubernetes
        mkdir -p "$src" "$gopath/src/k8s.io"
        cd "$src"
        apt-get source --download-only "kubernetes=$ver"
        dpkg-source -x "$src"/kubernetes_*.dsc "$tree"
        # The vendored reflect2 (1.0.1) makes Go >= 1.18 binaries crash with SIGSEGV in
        # UnsafeIterate: use Debian's 1.0.2 instead.
        rm -rf "$tree/vendor/github.com/modern-go/reflect2"
        cp -rL /usr/share/gocode/src/github.com/modern-go/reflect2 "$tree/vendor/github.com/modern-go/reflect2"
        # GOPATH mode, no network, no cgo.
        export GOPATH=$gopath GO111MODULE=off GOFLAGS= GOPROXY=off CGO_ENABLED=0
        export GOCACHE=$dir/build/gocache PATH=/usr/lib/go/bin:$PATH
        cd "$tree"
        make gen_openapi
        pkg=k8s.io/kubernetes/vendor/k8s.io ldflags="-s -w" now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
        for p in client-go/pkg/version component-base/version; do
            ldflags+=" -X $pkg/$p.gitVersion=v$upstream -X $pkg/$p.gitMajor=${upstream%%.*}"
            minor=${upstream#*.}
            ldflags+=" -X $pkg/$p.gitMinor=${minor%%.*} -X $pkg/$p.gitTreeState=clean -X $pkg/$p.buildDate=$now"
        done
        mkdir -p "$dir/bin.partial"
        go build -tags providerless -ldflags "$ldflags" -o "$dir/bin.partial/" \
            ./cmd/kube-apiserver ./cmd/kube-controller-manager ./cmd/kube-scheduler ./cmd/kubelet
        for c in "${K8S_COMMANDS[@]}"; do "$dir/bin.partial/$c" --version; done
        touch "$dir/bin.partial/.complete"
    ) >>"$LOGS/build.log" 2>&1; then
        say "the build failed; last lines of $LOGS/build.log:"
        tail -n 30 "$LOGS/build.log" >&2
        exit 1
    fi
    rm -rf "$dir/bin"
    mv "$dir/bin.partial" "$dir/bin"
    rm -rf "$dir/build"   # ~1.5 GB of sources and Go cache, not needed once built
    say "built in $((SECONDS - started))s: $(du -sh "$dir/bin" | cut -f1) in $dir/bin"
    exec {lockfd}>&-
}

# ---------------------------------------------------------------------------------------
# Processes: pid files checked against /proc/PID/cmdline
# ---------------------------------------------------------------------------------------

# alive PID: the process exists and is not a zombie.
alive() {
    local state
    [ -r "/proc/$1/stat" ] || return 1
    state=$(awk '{ sub(/.*\) /, ""); print $1 }' "/proc/$1/stat" 2>/dev/null) || return 1
    [ -n "$state" ] && [ "$state" != Z ] && [ "$state" != X ]
}

# is_ours PID NAME: PID runs the program NAME with arguments pointing into our dirs, so a
# pid file whose pid now belongs to another program (or to Docker's containerd) is not ours.
is_ours() {
    local cmd argv0
    alive "$1" || return 1
    cmd=$(tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null) || return 1
    argv0=${cmd%% *}
    [ "${argv0##*/}" = "$2" ] || return 1
    case $cmd in *"$STATE/"* | *"$RUN/"*) return 0 ;; esac
    return 1
}

# running_pid NAME: print the pid of our running NAME, from its pid file.
running_pid() {
    local f=$RUN/$1.pid pid
    [ -f "$f" ] || return 1
    pid=$(cat "$f" 2>/dev/null || true)
    [[ $pid =~ ^[0-9]+$ ]] || return 1
    is_ours "$pid" "$1" || return 1
    echo "$pid"
}

# our_processes: "PID NAME" for every process of this cluster, pid file or not (strays of a
# killed run, containerd shims).
our_processes() {
    local p pid argv0 name cmd
    for p in /proc/[0-9]*; do
        pid=${p#/proc/}
        argv0=
        IFS= read -r -d '' argv0 <"$p/cmdline" 2>/dev/null || true
        name=${argv0##*/}
        case " ${COMPONENTS[*]} containerd-shim-runc-v2 containerd-shim " in
            *" $name "*) ;;
            *) continue ;;
        esac
        cmd=$(tr '\0' ' ' <"$p/cmdline" 2>/dev/null) || continue
        case $cmd in *"$STATE/"* | *"$RUN/"*) echo "$pid $name" ;; esac
    done
}

wait_gone() {   # PID SECONDS
    local deadline=$((SECONDS + $2))
    while alive "$1"; do
        [ "$SECONDS" -lt "$deadline" ] || return 1
        sleep 0.2
    done
}

# spawn NAME PROGRAM ARG...: start PROGRAM in its own session, detached from our stdio and
# from every other fd we hold (lock files, the caller's pipes), log appended to NAME.log.
spawn() {
    local name=$1 log=$LOGS/$1.log
    shift
    # Keep logs bounded across many runs.
    if [ -f "$log" ] && [ "$(stat -c %s "$log")" -gt $((64 << 20)) ]; then : >"$log"; fi
    printf '\n==== %s: %s\n' "$(date -Is)" "$*" >>"$log"
    (
        for fd in /proc/$BASHPID/fd/*; do
            fd=${fd##*/}
            case $fd in 0 | 1 | 2 | 255) ;; *) eval "exec $fd>&-" 2>/dev/null || true ;; esac
        done
        exec setsid "$@" >>"$log" 2>&1 </dev/null
    ) &
    local pid=$! deadline=$((SECONDS + 10)) argv0
    echo "$pid" >"$RUN/$name.pid"
    # Until the subshell has exec'd, /proc/PID/cmdline still shows this script: wait for the
    # program itself, so that no check takes the not-yet-exec'd child for a dead daemon.
    while alive "$pid" && [ "$SECONDS" -lt "$deadline" ]; do
        argv0=
        IFS= read -r -d '' argv0 <"/proc/$pid/cmdline" 2>/dev/null || true
        [ "${argv0##*/}" != "${1##*/}" ] || return 0
        sleep 0.05
    done
    say "$name did not start (pid $pid); last lines of $log:"
    tail -n 20 "$log" >&2 || true
    exit 1
}

stop_component() {   # NAME
    local name=$1 pid
    if pid=$(running_pid "$name"); then
        say "stopping $name (pid $pid)"
        kill -TERM "$pid" 2>/dev/null || true
        if ! wait_gone "$pid" "$WAIT_STOP"; then
            say "$name did not exit within ${WAIT_STOP}s of SIGTERM: killing it"
            kill -KILL "$pid" 2>/dev/null || true
            wait_gone "$pid" 10 || say "warning: $name (pid $pid) survived SIGKILL for 10s"
        fi
    fi
    rm -f "$RUN/$name.pid"
}

all_running() {
    local c
    for c in "${COMPONENTS[@]}"; do running_pid "$c" >/dev/null || return 1; done
}

# wait_for SECONDS WHAT COMPONENT COMMAND...: poll COMMAND until it succeeds; give up after
# SECONDS, or at once when COMPONENT (if not empty) has died, showing its log.
wait_for() {
    local limit=$1 what=$2 comp=$3 deadline
    shift 3
    deadline=$((SECONDS + limit))
    until "$@" >/dev/null 2>&1; do
        if [ -n "$comp" ] && ! running_pid "$comp" >/dev/null; then
            say "$comp exited while waiting for $what; last lines of $LOGS/$comp.log:"
            tail -n 30 "$LOGS/$comp.log" >&2 || true
            return 1
        fi
        if [ "$SECONDS" -ge "$deadline" ]; then
            say "gave up waiting for $what after ${limit}s"
            [ -z "$comp" ] || { say "last lines of $LOGS/$comp.log:"; tail -n 30 "$LOGS/$comp.log" >&2 || true; }
            return 1
        fi
        sleep 0.5
    done
}

# ---------------------------------------------------------------------------------------
# Talking to the pieces
# ---------------------------------------------------------------------------------------

ctrk() { timeout "${CTR_TIMEOUT:-60}" ctr --address "$SOCK" --namespace k8s.io "$@"; }
containerd_ok() { [ -S "$SOCK" ] && timeout 5 ctr --address "$SOCK" version >/dev/null 2>&1; }
etcd_ok() { curl -fsS --max-time 5 "$ETCD_CLIENT/health" | grep -q '"health":"true"'; }

api() {   # PATH: GET it from the apiserver as admin
    curl -fsS --max-time 10 --cacert "$PKI/ca.crt" \
        -H "Authorization: Bearer $(cat "$PKI/token-admin")" "$API_URL$1"
}
api_ok() { [ -f "$PKI/token-admin" ] && [ "$(api /readyz 2>/dev/null)" = ok ]; }
node_ready() {
    api /api/v1/nodes/localhost | "$PY" -c '
import json, sys
conds = json.load(sys.stdin).get("status", {}).get("conditions", [])
sys.exit(0 if any(c["type"] == "Ready" and c["status"] == "True" for c in conds) else 1)'
}
# The default service account with its token secret: pods are admitted only then (1.20).
default_sa_ready() {
    api /api/v1/namespaces/default/serviceaccounts/default | "$PY" -c '
import json, sys
sys.exit(0 if json.load(sys.stdin).get("secrets") else 1)'
}
healthz() { curl -fsSk --max-time 5 "$1" | grep -qx ok; }
registry_ok() { curl -fsS --max-time 5 "http://$REGISTRY/v2/" >/dev/null; }

# ---------------------------------------------------------------------------------------
# Certificates, tokens, kubeconfigs, configuration files
# ---------------------------------------------------------------------------------------

make_pki() {
    [ -f "$PKI/.complete" ] && return 0
    say "generating the CA, the apiserver certificate, service-account keys and tokens in $PKI"
    rm -rf "$PKI"
    mkdir -p "$PKI"
    chmod 700 "$PKI"
    (
        cd "$PKI"
        openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 3650 \
            -subj /CN=conu-k8s-ca -addext basicConstraints=critical,CA:TRUE \
            -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
        openssl req -newkey rsa:2048 -nodes -keyout apiserver.key -out apiserver.csr \
            -subj /CN=kube-apiserver 2>/dev/null
        printf '%s\n' \
            'basicConstraints=CA:FALSE' \
            'keyUsage=critical,digitalSignature,keyEncipherment' \
            'extendedKeyUsage=serverAuth' \
            'subjectAltName=IP:127.0.0.1,IP:10.96.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local' \
            >apiserver.ext
        openssl x509 -req -in apiserver.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 3650 \
            -extfile apiserver.ext -out apiserver.crt 2>/dev/null
        openssl genrsa -out sa.key 2048 2>/dev/null
        openssl rsa -in sa.key -pubout -out sa.pub 2>/dev/null
        # Static tokens (loopback-only cluster): each component its own user, all admins.
        : >tokens.csv
        for who in admin:admin kube-controller-manager:system:kube-controller-manager \
            kube-scheduler:system:kube-scheduler kubelet:system:node:localhost; do
            file=${who%%:*} user=${who#*:} token=$(openssl rand -hex 24)
            echo "$token" >"token-$file"
            groups=system:masters
            [ "$file" != kubelet ] || groups=system:masters,system:nodes
            echo "$token,$user,$user,\"$groups\"" >>tokens.csv
        done
        chmod 600 ./*
    )
    touch "$PKI/.complete"
}

write_kubeconfig() {   # FILE TOKEN-NAME USER
    local tmp=$1.tmp
    cat >"$tmp" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: conu-k8s
  cluster:
    server: $API_URL
    certificate-authority-data: $(base64 -w0 "$PKI/ca.crt")
users:
- name: $3
  user:
    token: $(cat "$PKI/token-$2")
contexts:
- name: conu-k8s
  context:
    cluster: conu-k8s
    user: $3
current-context: conu-k8s
EOF
    chmod 600 "$tmp"
    mv "$tmp" "$1"
}

render() {   # TEMPLATE DEST: replace the @NAME@ placeholders
    local text
    text=$(cat "$1")
    text=${text//@STATE@/$STATE}
    text=${text//@RUN@/$RUN}
    text=${text//@SOCK@/$SOCK}
    text=${text//@PAUSE_IMAGE@/$PAUSE_IMAGE}
    text=${text//@CNI_BIN@/$CNI_BIN}
    text=${text//@BRIDGE@/$BRIDGE}
    text=${text//@POD_SUBNET@/$POD_SUBNET}
    text=${text//@POD_GATEWAY@/$POD_GATEWAY}
    printf '%s\n' "$text" >"$2"
}

write_configs() {
    mkdir -p "$CONF" "$STATE/cni/net.d" "$STATE/kubelet" "$STATE/images"
    write_kubeconfig "$KUBECONFIG_FILE" admin admin
    write_kubeconfig "$CONF/controller-manager.kubeconfig" kube-controller-manager system:kube-controller-manager
    write_kubeconfig "$CONF/scheduler.kubeconfig" kube-scheduler system:kube-scheduler
    write_kubeconfig "$CONF/kubelet.kubeconfig" kubelet system:node:localhost
    render "$SUPPORT/containerd.toml.in" "$CONF/containerd.toml"
    render "$SUPPORT/kubelet-config.yaml.in" "$CONF/kubelet-config.yaml"
    render "$SUPPORT/cni.conflist.in" "$STATE/cni/net.d/10-conu-k8s.conflist"
}

# ---------------------------------------------------------------------------------------
# Network: the CNI bridge makes itself; the host's FORWARD policy (DROP under Docker) must
# let bridged pod traffic through (br_netfilter sends it through iptables).
# ---------------------------------------------------------------------------------------

FORWARD_RULES=("-i $BRIDGE" "-o $BRIDGE")

setup_network() {
    local r
    for r in "${FORWARD_RULES[@]}"; do
        # shellcheck disable=SC2086
        iptables -C FORWARD $r -m comment --comment conu-k8s -j ACCEPT 2>/dev/null ||
            iptables -I FORWARD 1 $r -m comment --comment conu-k8s -j ACCEPT
    done
}

teardown_network() {
    local r
    for r in "${FORWARD_RULES[@]}"; do
        # shellcheck disable=SC2086
        while iptables -C FORWARD $r -m comment --comment conu-k8s -j ACCEPT 2>/dev/null; do
            iptables -D FORWARD $r -m comment --comment conu-k8s -j ACCEPT
        done
    done
    if ip link show "$BRIDGE" >/dev/null 2>&1; then ip link del "$BRIDGE" || true; fi
    # Pod IPs handed out by host-local: every sandbox is gone, so are their addresses.
    rm -rf "$STATE/cni/networks"
}

# ---------------------------------------------------------------------------------------
# Cleaning: pods, shims, container processes, mounts
# ---------------------------------------------------------------------------------------

# With our containerd answering: kill and delete every task and container of namespace
# k8s.io (pod sandboxes and containers); kubelet makes them anew on its next start.
remove_all_containers() {
    local ids id
    ids=$(ctrk tasks ls -q 2>/dev/null || true)
    for id in $ids; do ctrk tasks kill -s SIGKILL "$id" >/dev/null 2>&1 || true; done
    for id in $ids; do
        ctrk tasks delete -f "$id" >/dev/null 2>&1 || ctrk tasks delete -f "$id" >/dev/null 2>&1 || true
    done
    ids=$(ctrk containers ls -q 2>/dev/null || true)
    for id in $ids; do ctrk containers delete "$id" >/dev/null 2>&1 || true; done
}

# Without containerd (killed): container processes, shims and runc state left behind.
kill_leftover_containers() {
    local id pid name d procs
    if [ -d "$RUNC_ROOT" ]; then
        for id in $(runc --root "$RUNC_ROOT" list -q 2>/dev/null || true); do
            timeout 20 runc --root "$RUNC_ROOT" delete --force "$id" >/dev/null 2>&1 || true
        done
    fi
    while read -r pid name; do
        case $name in containerd-shim*) say "killing leftover $name (pid $pid)"; kill -KILL "$pid" 2>/dev/null || true ;; esac
    done < <(our_processes)
    # Anything still in the pods' cgroups (only our kubelet makes /kubepods here).
    for d in /sys/fs/cgroup/*/kubepods /sys/fs/cgroup/kubepods; do
        [ -d "$d" ] || continue
        procs=$(find "$d" -name cgroup.procs -exec cat {} + 2>/dev/null | sort -u || true)
        for pid in $procs; do kill -KILL "$pid" 2>/dev/null || true; done
    done
}

# Mount points strictly under our state and run dirs, innermost (latest) first.
our_mounts() {
    awk -v s="$STATE/" -v r="$RUN/" '{
        mp = $5; gsub(/\\040/, " ", mp)
        if (index(mp, s) == 1 || index(mp, r) == 1) print mp }' /proc/self/mountinfo | tac
}

unmount_ours() {
    local pass mp left
    for pass in 1 2 3; do
        left=$(our_mounts)
        [ -n "$left" ] || return 0
        while IFS= read -r mp; do
            umount "$mp" 2>/dev/null || umount -l "$mp" 2>/dev/null || true
        done <<<"$left"
    done
    left=$(our_mounts)
    [ -z "$left" ] || { say "warning: still mounted:"; printf '  %s\n' $left >&2; }
}

stop_all() {
    local pid name left i
    stop_component kubelet
    if containerd_ok; then remove_all_containers; fi
    stop_component containerd
    kill_leftover_containers
    for ((i = ${#COMPONENTS[@]} - 1; i >= 0; i--)); do stop_component "${COMPONENTS[i]}"; done
    # Strays without a (valid) pid file, e.g. from a run whose pid files were lost.
    left=$(our_processes)
    if [ -n "$left" ]; then
        while read -r pid name; do
            say "killing leftover $name (pid $pid)"
            kill -KILL "$pid" 2>/dev/null || true
        done <<<"$left"
        while read -r pid name; do wait_gone "$pid" 10 || say "warning: $name (pid $pid) survived SIGKILL"; done <<<"$left"
    fi
    unmount_ours
    teardown_network
    # containerd's state dir (sockets, task bundles, netns files) and runc's: all ephemeral.
    rm -rf --one-file-system "$RUN/containerd" "$RUN/runc" 2>/dev/null || true
    rm -f "$RUN"/*.pid
}

# ---------------------------------------------------------------------------------------
# Starting the pieces
# ---------------------------------------------------------------------------------------

# The cluster's image registry (Docker pushes to a loopback registry over plain HTTP, and so
# does the cluster's containerd pull): images pushed there run in pods as they are named.
start_registry() {
    mkdir -p "$STATE/registry"
    cat >"$CONF/registry.yml" <<EOF
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $STATE/registry
  delete:
    enabled: true
http:
  addr: $REGISTRY
EOF
    spawn docker-registry /usr/bin/docker-registry serve "$CONF/registry.yml"
    wait_for 30 "the registry to answer on http://$REGISTRY/v2/" docker-registry registry_ok
}

start_etcd() {
    spawn etcd /usr/bin/etcd --name conu-k8s --data-dir "$STATE/etcd" \
        --listen-client-urls "$ETCD_CLIENT" --advertise-client-urls "$ETCD_CLIENT" \
        --listen-peer-urls "$ETCD_PEER" --initial-advertise-peer-urls "$ETCD_PEER" \
        --initial-cluster "conu-k8s=$ETCD_PEER" --initial-cluster-state new
    wait_for "$WAIT_ETCD" "etcd to answer on $ETCD_CLIENT/health" etcd etcd_ok
}

start_apiserver() {
    spawn kube-apiserver "$BIN/kube-apiserver" \
        --etcd-servers="$ETCD_CLIENT" \
        --bind-address=127.0.0.1 --advertise-address=127.0.0.1 --secure-port=6443 --insecure-port=0 \
        --tls-cert-file="$PKI/apiserver.crt" --tls-private-key-file="$PKI/apiserver.key" \
        --client-ca-file="$PKI/ca.crt" --token-auth-file="$PKI/tokens.csv" \
        --service-account-key-file="$PKI/sa.pub" --service-account-signing-key-file="$PKI/sa.key" \
        --service-account-issuer=https://kubernetes.default.svc.cluster.local \
        --service-cluster-ip-range="$SERVICE_CIDR" \
        --authorization-mode=Node,RBAC --allow-privileged=true \
        --kubelet-preferred-address-types=Hostname \
        --endpoint-reconciler-type=none \
        --cert-dir="$STATE/apiserver" --profiling=false --v=1
    # (--endpoint-reconciler-type=none: the "kubernetes" service's endpoint would be
    # 127.0.0.1, which Endpoints validation rejects; nothing in a pod could use it anyway.)
    wait_for "$WAIT_API" "kube-apiserver to be ready on $API_URL/readyz" kube-apiserver api_ok
}

start_controllers() {
    spawn kube-controller-manager "$BIN/kube-controller-manager" \
        --kubeconfig="$CONF/controller-manager.kubeconfig" \
        --authentication-kubeconfig="$CONF/controller-manager.kubeconfig" \
        --authorization-kubeconfig="$CONF/controller-manager.kubeconfig" \
        --bind-address=127.0.0.1 --secure-port=10257 --port=0 --leader-elect=false \
        --service-account-private-key-file="$PKI/sa.key" --root-ca-file="$PKI/ca.crt" \
        --use-service-account-credentials=false --cluster-name=conu-k8s --profiling=false --v=1
    spawn kube-scheduler "$BIN/kube-scheduler" \
        --kubeconfig="$CONF/scheduler.kubeconfig" \
        --authentication-kubeconfig="$CONF/scheduler.kubeconfig" \
        --authorization-kubeconfig="$CONF/scheduler.kubeconfig" \
        --bind-address=127.0.0.1 --secure-port=10259 --port=0 --leader-elect=false \
        --profiling=false --v=1
}

start_containerd() {
    mkdir -p "$RUN/containerd"
    spawn containerd /usr/bin/containerd --config "$CONF/containerd.toml"
    wait_for "$WAIT_CONTAINERD" "containerd to answer on $SOCK" containerd containerd_ok
}

busybox_path() {
    local b
    for b in /bin/busybox /usr/bin/busybox; do [ -x "$b" ] && { echo "$b"; return; }; done
    die "no static busybox (apt-get install busybox-static)"
}

# The sandbox image: FROM scratch + the host's static busybox, sleeping forever; written as
# a docker-save archive by scripts/cluster/mkimage.py (no engine, no registry needed).
load_pause_image() {
    "$PY" "$SUPPORT/mkimage.py" "$STATE/images/pause.tar" "$PAUSE_IMAGE" "$(busybox_path)" \
        /bin/busybox sleep 2147483647
    ctrk images import "$STATE/images/pause.tar" >/dev/null ||
        die "could not import $PAUSE_IMAGE into the cluster's containerd"
}

start_kubelet() {
    spawn kubelet "$BIN/kubelet" \
        --config="$CONF/kubelet-config.yaml" --kubeconfig="$CONF/kubelet.kubeconfig" \
        --root-dir="$STATE/kubelet" --cert-dir="$STATE/kubelet/pki" \
        --container-runtime=remote --container-runtime-endpoint="unix://$SOCK" \
        --runtime-request-timeout=5m \
        --hostname-override=localhost --pod-infra-container-image="$PAUSE_IMAGE" --v=1
}

cluster_healthy() {   # quick: everything runs and answers
    all_running && api_ok && node_ready && default_sa_ready
}

print_kubeconfig() { echo "export KUBECONFIG=$KUBECONFIG_FILE" >&3; }

cmd_start() {
    need_root start
    mkdir -p "$RUN" "$LOGS" "$STATE" "$CACHE"
    local lockfd ver n
    exec {lockfd}>"$RUN/lock"
    flock -w 1800 "$lockfd" || die "another scripts/cluster.sh holds $RUN/lock"
    if cluster_healthy; then
        say "already running and healthy"
        print_kubeconfig
        return 0
    fi
    local started=$SECONDS
    install_packages "${RUNTIME_PACKAGES[@]}"
    ver=$(kube_deb_version)
    BIN=$CACHE/$ver/bin
    build_binaries "$ver"
    # Whatever an earlier run left (some pieces alive, stale pid files, shims, mounts).
    stop_all
    make_pki
    write_configs
    setup_network
    say "starting the registry ($REGISTRY), etcd, kube-apiserver, controller-manager, scheduler, containerd, kubelet (logs in $LOGS)"
    start_registry
    start_etcd
    start_apiserver
    start_controllers
    start_containerd
    # Containers a killed run left in containerd's metadata: remove them, and restart
    # containerd so that its CRI plugin forgets them too.
    n=$(ctrk containers ls -q 2>/dev/null | grep -c . || true)
    if [ "$n" -gt 0 ]; then
        say "removing $n containers left by an earlier run"
        remove_all_containers
        stop_component containerd
        kill_leftover_containers
        unmount_ours
        start_containerd
    fi
    load_pause_image
    if [ -n "${CONU_K8S_LOAD:-}" ]; then
        # shellcheck disable=SC2086
        load_images $CONU_K8S_LOAD
    fi
    start_kubelet
    wait_for 60 "kubelet's healthz on 127.0.0.1:10248" kubelet healthz http://127.0.0.1:10248/healthz
    wait_for 60 "kube-scheduler's healthz on 127.0.0.1:10259" kube-scheduler healthz https://127.0.0.1:10259/healthz
    wait_for 60 "kube-controller-manager's healthz on 127.0.0.1:10257" kube-controller-manager \
        healthz https://127.0.0.1:10257/healthz
    wait_for "$WAIT_NODE" "node 'localhost' to be Ready" kubelet node_ready
    wait_for "$WAIT_SA" "service account default/default (with its token)" kube-controller-manager default_sa_ready
    say "cluster is up in $((SECONDS - started))s: node localhost Ready, pods on $BRIDGE ($POD_SUBNET), registry $REGISTRY"
    print_kubeconfig
}

cmd_stop() {
    need_root stop
    mkdir -p "$RUN"
    local lockfd
    exec {lockfd}>"$RUN/lock"
    flock -w 600 "$lockfd" || die "another scripts/cluster.sh holds $RUN/lock"
    stop_all
    say "stopped"
}

cmd_status() {
    if api_ok && node_ready && healthz http://127.0.0.1:10248/healthz && registry_ok; then
        say "up: the API answers on $API_URL, node localhost is Ready, the registry answers on $REGISTRY (KUBECONFIG=$KUBECONFIG_FILE)"
        return 0
    fi
    say "down: the API or the registry does not answer, or node localhost is not Ready"
    return 1
}

# The name containerd (and kubelet, for a pod's image) gives a Docker image reference.
normalize_image() {
    local ref=$1 first rest
    case $ref in */*) first=${ref%%/*} ;; *) first= ;; esac
    if [ -z "$first" ]; then
        ref=docker.io/library/$ref
    elif [[ $first != *.* && $first != *:* && $first != localhost ]]; then
        ref=docker.io/$ref
    fi
    rest=${ref##*/}
    [[ $rest == *:* || $ref == *@* ]] || ref=$ref:latest
    echo "$ref"
}

load_images() {
    local img have missing=
    command -v docker >/dev/null || die "'load' needs the docker client and engine (bash scripts/engine.sh)"
    say "loading into the cluster: $*"
    docker save "$@" | CTR_TIMEOUT=900 ctrk images import - >/dev/null ||
        die "could not copy $* from Docker into the cluster's containerd"
    have=$(ctrk images ls -q)
    for img in "$@"; do
        grep -qxF "$(normalize_image "$img")" <<<"$have" || missing+=" $img"
    done
    [ -z "$missing" ] || die "imported, but containerd does not list:$missing"
}

cmd_load() {
    need_root load
    [ $# -gt 0 ] || die "usage: $0 load IMAGE..."
    containerd_ok || die "the cluster's containerd does not answer on $SOCK: run '$0 start' first"
    load_images "$@"
    say "loaded: $(for i in "$@"; do printf '%s ' "$(normalize_image "$i")"; done)"
}

case ${1:-} in
    start) cmd_start ;;
    stop) cmd_stop ;;
    status) cmd_status ;;
    load) shift; cmd_load "$@" ;;
    *) die "usage: $0 start|stop|status|load IMAGE..." ;;
esac
