#!/usr/bin/env bash
# A realistic test image: Debian bookworm "minbase" made with debootstrap from the machine's
# Debian mirror, imported into the engine as conu-test/debian:bookworm (or NAME).
#
#   scripts/debian-image.sh [NAME]
#
# The root filesystem is cached as a tarball in $CONU_DEBIAN_CACHE (/var/cache/conu-debian),
# so debootstrap runs once per machine (~1-3 min); later runs only import it (seconds), and
# nothing at all when the engine holds the image already. Needs root (debootstrap, apt-get)
# for the first build, and an engine (scripts/engine.sh).
set -euo pipefail

NAME=${1:-conu-test/debian:bookworm}
SUITE=${CONU_DEBIAN_SUITE:-bookworm}
CACHE=${CONU_DEBIAN_CACHE:-/var/cache/conu-debian}
TARBALL=$CACHE/$SUITE-minbase.tar
say() { printf 'debian-image: %s\n' "$*" >&2; }

if docker image inspect "$NAME" >/dev/null 2>&1; then
    exit 0
fi
# One build or import at a time (parallel test workers ask at once); then look again.
mkdir -p "$CACHE"
exec 9>"$CACHE/.lock"
flock -w 1200 9 || { say "another scripts/debian-image.sh holds $CACHE/.lock"; exit 1; }
if docker image inspect "$NAME" >/dev/null 2>&1; then
    exit 0
fi

# The first deb URI of $SUITE in the apt sources (deb822 or one-line format).
mirror() {
    local uri
    uri=$(awk -v suite="$SUITE" '
        /^Types:/ { deb = ($0 ~ /(^|[ \t])deb([ \t]|$)/) }
        /^URIs:/ { uri = $2 }
        /^Suites:/ { for (i = 2; i <= NF; i++) if ($i == suite && deb && uri != "") { print uri; exit } }
        ' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -n1)
    if [ -z "$uri" ]; then
        uri=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
            sed -e 's/\[[^]]*\]//' | awk -v s="$SUITE" '$1 == "deb" && $3 == s { print $2; exit }')
    fi
    echo "${uri:-http://deb.debian.org/debian}"
}

if [ ! -s "$TARBALL" ]; then
    [ "$(id -u)" = 0 ] || { say "building $TARBALL needs root (debootstrap)"; exit 1; }
    if ! command -v debootstrap >/dev/null; then
        say "installing debootstrap"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null 2>&1 || {
            apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
        }
    fi
    root=$(mktemp -d /var/tmp/conu-debootstrap.XXXXXX)
    trap 'rm -rf --one-file-system "$root"' EXIT
    started=$SECONDS
    say "debootstrap --variant=minbase $SUITE from $(mirror) (once; cached in $TARBALL)"
    if ! debootstrap --variant=minbase "$SUITE" "$root" "$(mirror)" >"$CACHE/debootstrap.log" 2>&1; then
        say "debootstrap failed; last lines of $CACHE/debootstrap.log:"
        tail -n 20 "$CACHE/debootstrap.log" >&2
        exit 1
    fi
    rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
    tar -C "$root" --numeric-owner -cf "$TARBALL.partial" .
    mv "$TARBALL.partial" "$TARBALL"
    say "built in $((SECONDS - started))s: $(du -h "$TARBALL" | cut -f1)"
fi

docker import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'CMD ["bash"]' \
    "$TARBALL" "$NAME" >/dev/null
say "imported $NAME"
