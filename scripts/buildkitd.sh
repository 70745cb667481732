#!/usr/bin/env bash
# buildkitd.sh - a standalone BuildKit v0.32.2 daemon for kiln's tests: what teams run behind
# buildx's remote driver or buildctl, next to the Docker engine of scripts/engine.sh.
#
#   eval "$(scripts/buildkitd.sh up)"   # build (once per machine) and start it; prints exports
#   scripts/buildkitd.sh env             # print the export line, start nothing
#   scripts/buildkitd.sh status          # say whether the daemon answers
#   scripts/buildkitd.sh down            # stop the daemon that `up` started
#   scripts/buildkitd.sh build           # only build (and cache) buildkitd and buildctl
#   scripts/buildkitd.sh dockerfile-frontend  # BuildKit's Dockerfile frontend (benches); prints its path
#
# How (see shared/engine.md): static buildkitd and buildctl are built from BuildKit's own
# source with its vendor/ directory (../shared/vendor/buildkit-v0.32.2.tar.xz) with Go 1.26
# from Debian's trixie-backports (golang-1.26-go and golang-1.26-src, downloaded with a private
# apt configuration and unpacked with dpkg -x, never installed), offline:
# CGO_ENABLED=0 GOFLAGS=-mod=vendor GOTOOLCHAIN=local GOPROXY=off. A cold build takes 8-12 min
# on 2 cores; the binaries are kept and reused. The daemon runs rootful with an OCI worker on
# the system's runc, host networking (no CNI), and the engine's private registry (which
# scripts/engine.sh starts) as a plain-http mirror for docker.io: it does not see dockerd's
# image store, so base images and the frontend image come from that registry (`make push`).
#
# The export line sets BUILDKIT_HOST (unix socket), KILN_BUILDKITD_TCP (tcp on loopback, for
# buildx's remote driver), PATH (buildctl first) and KILN_BUILDKITD_STARTED (1 if this `up`
# started the daemon).
#
# Environment:
#   KILN_BUILDKITD_DIR   all state (default /var/tmp/kiln-buildkitd)
#   KILN_BUILDKITD_ADDR  tcp address (default 127.0.0.1:1234)
#   KILN_REGISTRY_ADDR   the engine's registry (default 127.0.0.1:5055)
#   KILN_DEBIAN_MIRROR   Debian archive (default http://deb.debian.org/debian)
#   KILN_BUILDKIT_SOURCE the source tarball (default ../shared/vendor/buildkit-v0.32.2.tar.xz,
#                        beside the checkout or, in a clone, beside its origin)

set -euo pipefail
PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"

PROG=${0##*/}
HERE=$(cd "$(dirname "$0")" && pwd)
VERSION=v0.32.2
DIR=$(realpath -m -- "${KILN_BUILDKITD_DIR:-/var/tmp/kiln-buildkitd}")
BIN="$DIR/bin"
TCP=${KILN_BUILDKITD_ADDR:-127.0.0.1:1234}
SOCK="$DIR/buildkitd.sock"
PIDFILE="$DIR/buildkitd.pid"
LOG_DIR="$DIR/logs"
REGISTRY_ADDR=${KILN_REGISTRY_ADDR:-127.0.0.1:5055}
MIRROR="${KILN_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
# The vendored source beside the checkout; a clone of it (CI's) looks beside its origin too.
default_source() {
    local name="shared/vendor/buildkit-$VERSION.tar.xz" origin
    origin=$(git -C "$HERE/.." config --get remote.origin.url 2>/dev/null || true)
    for dir in "$HERE/../.." ${origin:+"$origin/.."} /work; do
        if [[ -r $dir/$name ]]; then echo "$dir/$name"; return; fi
    done
    echo "$HERE/../../$name"
}
SOURCE=${KILN_BUILDKIT_SOURCE:-$(default_source)}
APT_DIR="$DIR/apt"

log() { printf '%s [%ss]: %s\n' "$PROG" "$SECONDS" "$*" >&2; }
die() {
    printf '%s: error: %s\n' "$PROG" "$*" >&2
    exit 1
}

# apt-get with a private configuration (scripts/private-apt.sh) listing trixie-backports only.
# shellcheck source=scripts/private-apt.sh
source "$HERE/private-apt.sh"

# Go 1.26 from trixie-backports, unpacked into $DIR/go.
ensure_go() {
    local goroot="$DIR/go/usr/lib/go-1.26"
    if [[ -x $goroot/bin/go ]]; then
        printf '%s\n' "$goroot"
        return 0
    fi
    log "downloading Go 1.26 from trixie-backports (private apt configuration)"
    mkdir -p "$APT_DIR/lists/partial" "$APT_DIR/cache/archives/partial" "$LOG_DIR"
    printf 'deb %s trixie-backports main\n' "$MIRROR" >"$APT_DIR/sources.list"
    private_apt update -q >"$LOG_DIR/apt.log" 2>&1 || die "apt-get update failed (log: $LOG_DIR/apt.log)"
    local debs="$DIR/debs"
    rm -rf -- "$debs" "$DIR/go"
    mkdir -p "$debs"
    (cd "$debs" && private_apt download golang-1.26-go golang-1.26-src >>"$LOG_DIR/apt.log" 2>&1) ||
        die "apt-get download of golang-1.26 failed (log: $LOG_DIR/apt.log)"
    local deb
    for deb in "$debs"/*.deb; do
        dpkg -x "$deb" "$DIR/go" || die "dpkg -x $deb failed"
    done
    [[ -x $goroot/bin/go ]] || die "no go binary in the golang-1.26 packages"
    printf '%s\n' "$goroot"
}

# go_build LOG TAGS LDFLAGS OUT PKG...: a static, offline `go build` of BuildKit's vendored
# source (unpacked for the build, removed after), logged to $LOG_DIR/LOG.log.
go_build() {
    local logname=$1 tags=$2 ldflags=$3 out=$4
    shift 4
    [[ -r $SOURCE ]] || die "no BuildKit source at $SOURCE (set KILN_BUILDKIT_SOURCE)"
    local goroot src="$DIR/src"
    goroot=$(ensure_go)
    rm -rf -- "$src"
    mkdir -p "$src" "$LOG_DIR"
    tar -xJf "$SOURCE" -C "$src" || die "cannot unpack $SOURCE"
    (
        cd "$src"
        export GOROOT="$goroot" PATH="$goroot/bin:$PATH" CGO_ENABLED=0 GOFLAGS=-mod=vendor \
            GOTOOLCHAIN=local GOPROXY=off GOCACHE="$DIR/gocache" GOPATH="$DIR/gopath"
        go build -trimpath -tags "$tags" -ldflags "$ldflags" -o "$out" "$@"
    ) >"$LOG_DIR/$logname.log" 2>&1 || die "go build failed (log: $LOG_DIR/$logname.log)"
    rm -rf -- "$src"
}

# Static buildkitd and buildctl of $VERSION in $BIN (built once, then reused).
cmd_build() {
    if [[ -x $BIN/buildkitd && -x $BIN/buildctl ]] && "$BIN/buildctl" --version 2>/dev/null | grep -qF "$VERSION"; then
        return 0
    fi
    log "building buildkitd and buildctl $VERSION (8-12 min cold on 2 cores)"
    mkdir -p "$BIN.tmp"
    go_build go-build "osusergo netgo static_build seccomp" \
        "-s -w -X github.com/moby/buildkit/version.Version=$VERSION" \
        "$BIN.tmp/" ./cmd/buildkitd ./cmd/buildctl
    rm -rf -- "$BIN"
    mv -- "$BIN.tmp" "$BIN"
    log "built $("$BIN/buildctl" --version)"
}

# BuildKit's Dockerfile frontend of $VERSION as a gateway frontend binary (what
# `# syntax=docker/dockerfile:1` users run), for benches: $BIN/dockerfile-frontend.
cmd_dockerfile_frontend() {
    if [[ -x $BIN/dockerfile-frontend ]]; then
        return 0
    fi
    cmd_build
    log "building the Dockerfile frontend $VERSION"
    go_build go-build-dockerfile "osusergo netgo static_build" "-s -w" \
        "$BIN/dockerfile-frontend" ./frontend/dockerfile/cmd/dockerfile-frontend
}

print_exports() {
    printf 'export BUILDKIT_HOST=unix://%s KILN_BUILDKITD_TCP=tcp://%s PATH=%s:$PATH KILN_BUILDKITD_STARTED=%s\n' \
        "$SOCK" "$TCP" "$BIN" "${1:-0}"
}

answers() {
    [[ -x $BIN/buildctl ]] && "$BIN/buildctl" --addr "unix://$SOCK" debug workers >/dev/null 2>&1
}

write_config() {
    cat >"$DIR/buildkitd.toml" <<EOF
# Generated by scripts/buildkitd.sh.
[worker.oci]
  enabled = true
  binary = "$(command -v runc || echo /usr/sbin/runc)"
  networkMode = "host"
[worker.containerd]
  enabled = false
[registry."docker.io"]
  mirrors = ["$REGISTRY_ADDR"]
[registry."$REGISTRY_ADDR"]
  http = true
  insecure = true
EOF
}

cmd_up() {
    mkdir -p "$DIR" "$LOG_DIR"
    if answers; then
        print_exports 0
        return 0
    fi
    cmd_build
    write_config
    rm -f -- "$SOCK"
    log "starting buildkitd (root $DIR/root, log $LOG_DIR/buildkitd.log)"
    # From /: a daemon's cwd must outlive the checkout that started it (git runs there).
    (cd / && exec setsid "$BIN/buildkitd" --config "$DIR/buildkitd.toml" --root "$DIR/root" \
        --addr "unix://$SOCK" --addr "tcp://$TCP" >"$LOG_DIR/buildkitd.log" 2>&1 </dev/null) &
    echo $! >"$PIDFILE"
    local i
    for i in $(seq 60); do
        if answers; then
            log "buildkitd is up ($("$BIN/buildctl" --version))"
            print_exports 1
            return 0
        fi
        kill -0 "$(cat "$PIDFILE")" 2>/dev/null || break
        sleep 0.5
    done
    tail -n 20 "$LOG_DIR/buildkitd.log" >&2 || true
    die "buildkitd did not come up (log: $LOG_DIR/buildkitd.log)"
}

cmd_down() {
    [[ -f $PIDFILE ]] || return 0
    local pid
    pid=$(cat "$PIDFILE")
    if kill -0 "$pid" 2>/dev/null; then
        kill "$pid"
        local i
        for i in $(seq 40); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.25
        done
    fi
    rm -f -- "$PIDFILE" "$SOCK"
}

cmd_status() {
    if answers; then
        echo "buildkitd answers on unix://$SOCK and tcp://$TCP"
    else
        echo "buildkitd is not running"
        return 1
    fi
}

case "${1:-}" in
    up) cmd_up ;;
    down) cmd_down ;;
    status) cmd_status ;;
    env) print_exports 0 ;;
    build) cmd_build ;;
    dockerfile-frontend) cmd_dockerfile_frontend && printf '%s\n' "$BIN/dockerfile-frontend" ;;
    *)
        echo "usage: $PROG up|down|status|env|build|dockerfile-frontend" >&2
        exit 2
        ;;
esac
