#!/usr/bin/env bash
# engine.sh - a private Docker engine (dockerd with embedded BuildKit, plus buildx)
# for kiln's tests, on a Debian bookworm machine that has no Docker engine and
# reaches no container registry. Two engines are on offer:
#
#   KILN_DOCKER=28 (default)  Docker 28.5, buildx 0.29, containerd 2.1 (Debian forky):
#                             the primary engine, which the whole suite runs on
#   KILN_DOCKER=26            Docker 26.1, buildx 0.13 (BuildKit 0.13; Debian trixie):
#                             the compat engine, the oldest kiln supports
#
#   eval "$(scripts/engine.sh up)"    # start (or reuse) it; prints one export line
#   scripts/engine.sh env              # print the export line, start nothing
#   scripts/engine.sh status           # say whether the engine answers
#   scripts/engine.sh down             # stop the dockerds and the registry that `up` started
#
# One dockerd runs at a time (both would want the docker0 bridge and the DOCKER
# iptables chains): `up` for one version stops the other one of ours. Each
# version has its own prefix, data root, socket and DOCKER_CONFIG (where its
# buildx plugin and builders live); base image tarballs and the registry are
# shared.
#
# The export line sets DOCKER_HOST, DOCKER_CONFIG, PATH (the engine's docker CLI
# first) and KILN_ENGINE_STARTED (1 if this `up` started dockerd, else 0), so a
# CI script can stop the engine only when it started it:
#
#   eval "$(scripts/engine.sh up)"
#   if [ "$KILN_ENGINE_STARTED" = 1 ]; then trap 'scripts/engine.sh down' EXIT; fi
#
# How (see shared/engine.md): bookworm's runc, iptables and debootstrap from
# apt; forky's (or trixie's) docker.io, containerd, docker-cli, docker-buildx
# and tini as .debs downloaded with a private apt configuration and unpacked
# with `dpkg -x` into a private prefix (never installed into the system); base
# images debian:<suite> and ubuntu:<suite> made with bookworm's debootstrap
# (its `sid` and `gutsy` scripts serve suites it does not know; Ubuntu's archive
# key comes from trixie's ubuntu-keyring) with the host's CA certificates added,
# and imported with `docker import`. A private registry (trixie's
# docker-registry, on 127.0.0.1) is dockerd's mirror for docker.io: it serves
# every base image, and debian:<suite> as a multi-platform image (the native
# image plus i386, made with debootstrap --arch=i386; i386 runs natively on
# x86_64), so `--platform linux/386` builds work without reaching Docker Hub.
#
# Environment:
#   KILN_DOCKER               28 (default) or 26: which engine
#   KILN_ENGINE_DIR           all state (default /var/tmp/kiln-engine); socket
#                             at $KILN_ENGINE_DIR/docker-<version>/docker.sock
#   KILN_USE_EXISTING_DOCKER  1: if `docker version` and `docker buildx version`
#                             already work with the caller's environment, use
#                             that engine (only the base images are ensured)
#   KILN_DEBIAN_MIRROR        Debian archive (default http://deb.debian.org/debian)
#   KILN_UBUNTU_MIRROR        Ubuntu archive (default http://archive.ubuntu.com/ubuntu)
#   KILN_BASE_SUITES          suites to import as debian:<suite> or, for Ubuntu's
#                             (bionic focal jammy noble resolute), ubuntu:<suite>
#                             (default: those and bullseye bookworm trixie forky)
#   KILN_FOREIGN_BASES        <suite>:<arch> images the mirror serves besides
#                             the native ones (default "bookworm:i386")
#   KILN_REGISTRY_ADDR        the mirror's address (default 127.0.0.1:5055)
#
# All progress goes to stderr; `up` and `env` print only the export line on
# stdout. Logs are under $KILN_ENGINE_DIR/logs/.

set -euo pipefail

# Root's tools (debootstrap, chroot, iptables, runc) live in sbin.
PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"

PROG=${0##*/}
ENGINE_DIR=$(realpath -m -- "${KILN_ENGINE_DIR:-/var/tmp/kiln-engine}")
LOG_DIR="$ENGINE_DIR/logs"
IMAGE_DIR="$ENGINE_DIR/images"
ROOTFS_DIR="$ENGINE_DIR/rootfs"
MIRROR="${KILN_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
UBUNTU_MIRROR="${KILN_UBUNTU_MIRROR:-http://archive.ubuntu.com/ubuntu}"
read -r -a SUITES <<<"${KILN_BASE_SUITES:-bookworm trixie bullseye forky bionic focal jammy noble resolute}"
UBUNTU_SUITES=" bionic focal jammy noble resolute "
UBUNTU_KEYRING="$ENGINE_DIR/ubuntu-keyring/ubuntu-archive-keyring.gpg"
# Base images for other platforms, as <suite>:<debian arch>; they go into the
# mirror next to the native image, so that `--platform` builds find them.
read -r -a FOREIGN <<<"${KILN_FOREIGN_BASES:-bookworm:i386}"
REGISTRY_DIR="$ENGINE_DIR/registry"
REGISTRY_ADDR=${KILN_REGISTRY_ADDR:-127.0.0.1:5055}
REGISTRY_PIDFILE="$ENGINE_DIR/registry.pid"
ENGINE_DEBS=(docker.io containerd docker-buildx docker-cli tini)
SYSTEM_PKGS=(runc iptables debootstrap)
# The engines on offer, as version:Debian suite.
ENGINES=(28:forky 26:trixie)

# select_engine VERSION: point the per-engine paths at that version's state.
select_engine() {
    local item
    DOCKER_SUITE=
    for item in "${ENGINES[@]}"; do
        [[ ${item%%:*} == "$1" ]] && DOCKER_SUITE=${item#*:}
    done
    [[ -n $DOCKER_SUITE ]] || die "KILN_DOCKER=$1: no such engine (on offer: ${ENGINES[*]%%:*})"
    DOCKER_VERSION=$1
    ENGINE_ROOT="$ENGINE_DIR/docker-$1"
    PREFIX="$ENGINE_ROOT/prefix"
    DATA_ROOT="$ENGINE_ROOT/data"
    EXEC_ROOT="$ENGINE_ROOT/exec"
    PIDFILE="$ENGINE_ROOT/dockerd.pid"
    SOCK="$ENGINE_ROOT/docker.sock"
    DAEMON_JSON="$ENGINE_ROOT/daemon.json"
    DEB_DIR="$ENGINE_ROOT/debs"
    CONFIG_DIR="$ENGINE_ROOT/config"
    DOCKERD_LOG="$LOG_DIR/dockerd-$1.log"
}
IMPORT_PATH_ENV='ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
# The revision of the Ubuntu base images (2: `main universe`, as Docker Hub's have them);
# images and mirror entries of another revision are made again.
UBUNTU_BASE_REVISION=2

# Background jobs (debootstrap) started by this run; killed if we exit early.
declare -A JOBS=()

log() { printf '%s [%ss]: %s\n' "$PROG" "$SECONDS" "$*" >&2; }
die() { printf '%s: error: %s\n' "$PROG" "$*" >&2; exit 1; }

# Print the last lines of a log file to stderr.
show_log() {
    local file=$1 lines=${2:-30}
    if [[ -s $file ]]; then
        printf '%s: --- last %s lines of %s ---\n' "$PROG" "$lines" "$file" >&2
        tail -n "$lines" -- "$file" >&2
        printf '%s: ---\n' "$PROG" >&2
    fi
}

# run_logged LOGFILE CMD...: run CMD with all its output in LOGFILE; on failure
# show the end of the log and return CMD's status.
run_logged() {
    local logfile=$1 rc=0
    shift
    printf '+ %s\n' "$*" >>"$logfile"
    "$@" </dev/null >>"$logfile" 2>&1 || rc=$?
    if ((rc != 0)); then
        log "command failed (exit $rc): $*"
        show_log "$logfile"
    fi
    return "$rc"
}

kill_jobs() {
    local suite pid
    for suite in "${!JOBS[@]}"; do
        pid=${JOBS[$suite]}
        # Each job runs in its own process group (set -m when started).
        kill -TERM -- "-$pid" 2>/dev/null || true
    done
}
trap kill_jobs EXIT

# The single stdout line of `up` and `env`.
print_exports() {
    local started=$1
    # $PATH is left for the caller's shell to expand.
    # shellcheck disable=SC2016
    printf 'export DOCKER_HOST=%s DOCKER_CONFIG=%s PATH=%s:%s:$PATH KILN_ENGINE_STARTED=%s\n' \
        "$(printf '%q' "unix://$SOCK")" "$(printf '%q' "$CONFIG_DIR")" \
        "$(printf '%q' "$PREFIX/usr/bin")" "$(printf '%q' "$PREFIX/usr/sbin")" \
        "$started"
}

# Point this script's own docker calls at the private engine.
use_private_engine() {
    export DOCKER_HOST="unix://$SOCK" DOCKER_CONFIG="$CONFIG_DIR"
    export PATH="$PREFIX/usr/bin:$PREFIX/usr/sbin:$PATH"
    unset DOCKER_CONTEXT DOCKER_TLS_VERIFY DOCKER_CERT_PATH
}

engine_answers() {
    timeout 20 docker version >/dev/null 2>&1
}

# ---------------------------------------------------------------- packages

ensure_system_packages() {
    local missing=() pkg
    for pkg in "$@"; do
        if ! dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null | grep -qx installed; then
            missing+=("$pkg")
        fi
    done
    ((${#missing[@]} == 0)) && return 0
    log "installing bookworm packages: ${missing[*]}"
    local aptlog="$LOG_DIR/apt-system.log"
    local install=(env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}")
    if ! run_logged "$aptlog" "${install[@]}" 2>/dev/null; then
        log "retrying after apt-get update"
        run_logged "$aptlog" apt-get update -q || die "apt-get update failed (log: $aptlog)"
        run_logged "$aptlog" "${install[@]}" || die "could not install ${missing[*]} (log: $aptlog)"
    fi
}

# apt-get with a private configuration (scripts/private-apt.sh) that lists one suite.
# shellcheck source=scripts/private-apt.sh
source "$(dirname "${BASH_SOURCE[0]}")/private-apt.sh"

# private_apt_update SUITE LOGFILE: point private_apt at a list of SUITE alone and update it.
private_apt_update() {
    local suite=$1 aptlog=$2
    APT_DIR="$ENGINE_DIR/apt-$suite"
    mkdir -p "$APT_DIR/lists/partial" "$APT_DIR/cache/archives/partial"
    printf 'deb %s %s main\n' "$MIRROR" "$suite" >"$APT_DIR/sources.list"
    run_logged "$aptlog" private_apt update -q ||
        die "apt-get update of the private $suite list failed (log: $aptlog)"
}

# Download the engine's docker packages from its suite with a private apt
# configuration (the system's sources and state are untouched) and unpack them
# into $PREFIX.
ensure_prefix() {
    if [[ -x $PREFIX/usr/sbin/dockerd && -x $PREFIX/usr/bin/docker && -x $PREFIX/usr/bin/containerd ]] &&
        [[ -x $PREFIX/usr/libexec/docker/cli-plugins/docker-buildx ]]; then
        install_buildx_plugin
        return 0
    fi
    log "downloading $DOCKER_SUITE's ${ENGINE_DEBS[*]} (private apt configuration)"
    local aptlog="$LOG_DIR/apt-$DOCKER_SUITE.log"
    private_apt_update "$DOCKER_SUITE" "$aptlog"
    rm -rf -- "$DEB_DIR"
    mkdir -p "$DEB_DIR"
    (cd "$DEB_DIR" && run_logged "$aptlog" private_apt download "${ENGINE_DEBS[@]}") ||
        die "apt-get download of ${ENGINE_DEBS[*]} failed (log: $aptlog)"

    log "unpacking into $PREFIX"
    local tmp="$PREFIX.tmp" deb
    rm -rf -- "$tmp"
    mkdir -p "$tmp"
    for deb in "$DEB_DIR"/*.deb; do
        dpkg -x "$deb" "$tmp" || die "dpkg -x $deb failed"
    done
    # A newer suite's runc needs a newer glibc; bookworm's /usr/sbin/runc is used instead.
    rm -f -- "$tmp/usr/sbin/runc" "$tmp/usr/bin/runc"
    local bin
    for bin in usr/sbin/dockerd usr/bin/docker usr/bin/containerd usr/libexec/docker/cli-plugins/docker-buildx; do
        [[ -x $tmp/$bin ]] || die "$bin is missing from the downloaded packages"
    done
    "$tmp/usr/sbin/dockerd" --version >/dev/null 2>&1 ||
        die "$tmp/usr/sbin/dockerd does not run on this system (ldd: $(ldd "$tmp/usr/sbin/dockerd" 2>&1 | grep -F 'not found' | tr '\n' ' '))"
    rm -rf -- "$PREFIX"
    mv -- "$tmp" "$PREFIX"
    install_buildx_plugin
}

# The engine's buildx, as a plugin in its own DOCKER_CONFIG (the caller's
# ~/.docker is left alone, and each engine keeps its own builders).
install_buildx_plugin() {
    local dir="$CONFIG_DIR/cli-plugins"
    local src="$PREFIX/usr/libexec/docker/cli-plugins/docker-buildx"
    if [[ $(readlink -- "$dir/docker-buildx" 2>/dev/null) != "$src" ]]; then
        mkdir -p -- "$dir"
        ln -sfn -- "$src" "$dir/docker-buildx"
    fi
}

# ---------------------------------------------------------------- dockerd

# PID from our pidfile if it names a live dockerd that uses our pidfile.
our_dockerd_pid() {
    local pid
    [[ -f $PIDFILE ]] || return 1
    pid=$(tr -dc '0-9' <"$PIDFILE")
    [[ -n $pid ]] || return 1
    [[ -r /proc/$pid/cmdline ]] || return 1
    tr '\0' '\n' <"/proc/$pid/cmdline" | grep -Fxq -- "$PIDFILE" || return 1
    printf '%s\n' "$pid"
}

# True while PID is a live process (an unreaped zombie counts as gone).
alive() {
    local stat
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    stat=${stat##*) }
    [[ ${stat:0:1} != Z ]]
}

# wait_gone PID SECONDS: wait for a process to exit.
wait_gone() {
    local pid=$1 i
    for ((i = 0; i < $2 * 10; i++)); do
        alive "$pid" || return 0
        sleep 0.1
    done
    return 1
}

stop_dockerd() {
    local pid
    if ! pid=$(our_dockerd_pid); then
        return 1
    fi
    log "stopping dockerd (pid $pid)"
    kill -TERM "$pid" 2>/dev/null || true
    if ! wait_gone "$pid" 60; then
        log "dockerd (pid $pid) did not stop within 60 s; killing it"
        kill -KILL "$pid" 2>/dev/null || true
        wait_gone "$pid" 10 || die "dockerd (pid $pid) does not die"
    fi
    rm -f -- "$PIDFILE" "$SOCK"
    # dockerd bind-mounts its data root onto itself (and may leave overlay or
    # netns mounts after a crash); with it gone, nothing needs them.
    unmount_under "$DATA_ROOT"
    unmount_under "$EXEC_ROOT"
    return 0
}

# Remove what a dead dockerd left behind, so that a new one can start.
clean_stale() {
    if [[ -e $PIDFILE ]] && ! our_dockerd_pid >/dev/null; then
        log "removing stale pidfile $PIDFILE"
        rm -f -- "$PIDFILE"
    fi
    if [[ -e $SOCK ]] && ! our_dockerd_pid >/dev/null; then
        log "removing stale socket $SOCK"
        rm -f -- "$SOCK"
    fi
    # dockerd reuses a running containerd named by this pidfile; a recycled pid
    # would make it wait for a containerd that is not there.
    local cpidfile="$EXEC_ROOT/containerd/containerd.pid" cpid
    if [[ -f $cpidfile ]]; then
        cpid=$(tr -dc '0-9' <"$cpidfile")
        if [[ -z $cpid || "$(cat "/proc/$cpid/comm" 2>/dev/null)" != containerd ]]; then
            rm -f -- "$cpidfile"
        fi
    fi
}

start_dockerd() {
    log "starting dockerd (data root $DATA_ROOT, log $DOCKERD_LOG)"
    mkdir -p "$DATA_ROOT" "$EXEC_ROOT"
    [[ -f $DAEMON_JSON ]] || printf '{}\n' >"$DAEMON_JSON"
    printf '\n===== %s: %s up\n' "$(date -Is)" "$PROG" >>"$DOCKERD_LOG"
    (
        # The daemon must hold none of the caller's files open (a CI run's
        # output pipes, our lock): stdin from /dev/null, output to the log,
        # every other descriptor closed.
        for fd in /proc/self/fd/*; do
            fd=${fd##*/}
            if ((fd > 2)); then
                eval "exec $fd>&-" 2>/dev/null || true
            fi
        done
        # A cwd that cannot vanish: BuildKit runs git in dockerd's, and a deleted checkout
        # there fails every git source ("unable to get current working directory").
        cd /
        exec setsid dockerd \
            --data-root "$DATA_ROOT" \
            --exec-root "$EXEC_ROOT" \
            --pidfile "$PIDFILE" \
            --config-file "$DAEMON_JSON" \
            -H "unix://$SOCK" \
            </dev/null >>"$DOCKERD_LOG" 2>&1
    ) &
    local spid=$! i
    for ((i = 0; i < 600; i++)); do
        if engine_answers; then
            log "dockerd is up ($(docker version --format 'server {{.Server.Version}}' 2>/dev/null))"
            return 0
        fi
        if ! alive "$spid"; then
            show_log "$DOCKERD_LOG" 40
            die "dockerd exited during start-up (log: $DOCKERD_LOG)"
        fi
        sleep 0.1
    done
    show_log "$DOCKERD_LOG" 40
    die "dockerd did not answer on $SOCK within 60 s (log: $DOCKERD_LOG)"
}

# ---------------------------------------------------------------- images

# Unmount DIR and everything under it, deepest first (mount points with odd
# characters, which /proc/self/mounts escapes, are left alone).
unmount_under() {
    local dir=$1 mnt
    while read -r mnt; do
        umount -l -- "$mnt" 2>/dev/null || true
    done < <(awk -v d="$dir" '$2 == d || index($2, d "/") == 1 { print $2 }' /proc/self/mounts | sort -r)
}

# Remove a directory (a rootfs an interrupted debootstrap may have left with
# /proc or /dev mounted in it) without crossing into other file systems.
remove_tree() {
    local dir=$1
    [[ -e $dir ]] || return 0
    unmount_under "$dir"
    rm -rf --one-file-system -- "$dir"
}

# The distribution a suite belongs to: ubuntu or debian.
os_of() {
    case $UBUNTU_SUITES in
        *" $1 "*) printf 'ubuntu\n' ;;
        *) printf 'debian\n' ;;
    esac
}

# The image a suite's rootfs becomes: debian:<suite> or ubuntu:<suite>.
image_of() {
    printf '%s:%s\n' "$(os_of "$1")" "$1"
}

# The rootfs tarball of a job: a suite (native) or <suite>-<arch>.
tarball_of() {
    local rev=
    [[ $(os_of "${1%%-*}") == ubuntu ]] && rev=-r$UBUNTU_BASE_REVISION
    printf '%s/%s-%s%s.tar\n' "$IMAGE_DIR" "$(os_of "${1%%-*}")" "$1" "$rev"
}

# The label an image made by this script carries (Ubuntu's: their revision).
import_label() {
    if [[ $(os_of "$1") == ubuntu ]]; then
        printf 'LABEL kiln.base-revision=%s\n' "$UBUNTU_BASE_REVISION"
    else
        printf 'LABEL kiln.base=debootstrap\n'
    fi
}

# trixie_file PACKAGE PATH DEST: one file of trixie's PACKAGE (downloaded with the private
# apt configuration, unpacked with dpkg -x) put at DEST; nothing is installed.
trixie_file() {
    local pkg=$1 path=$2 dest=$3
    log "downloading trixie's $pkg (private apt configuration)"
    local aptlog="$LOG_DIR/apt-$pkg.log" tmp
    tmp="$(dirname -- "$dest")/download-$pkg"
    private_apt_update trixie "$aptlog"
    rm -rf -- "$tmp"
    mkdir -p "$tmp"
    (cd "$tmp" && run_logged "$aptlog" private_apt download "$pkg") ||
        die "apt-get download of $pkg failed (log: $aptlog)"
    dpkg -x "$tmp/${pkg}"_*.deb "$tmp/root" || die "dpkg -x $pkg failed"
    mv -f -- "$tmp/root/$path" "$dest"
    rm -rf -- "$tmp"
}

# Ubuntu's archive key, from trixie's ubuntu-keyring (bookworm has none), once.
ensure_ubuntu_keyring() {
    [[ -s $UBUNTU_KEYRING ]] && return 0
    mkdir -p "$(dirname -- "$UBUNTU_KEYRING")"
    trixie_file ubuntu-keyring usr/share/keyrings/ubuntu-archive-keyring.gpg "$UBUNTU_KEYRING"
}

# Background job: debootstrap a suite (job name SUITE, or SUITE-ARCH for a
# foreign architecture) and cache its rootfs as a tarball.
build_rootfs_tarball() {
    local job=$1 suite=${1%%-*} arch_opts=()
    [[ $job == *-* ]] && arch_opts=(--arch="${job#*-}")
    local root="$ROOTFS_DIR/$job" tarball
    tarball=$(tarball_of "$job")
    local blog="$LOG_DIR/debootstrap-$job.log"
    : >"$blog"
    remove_tree "$root"
    mkdir -p "$ROOTFS_DIR" "$IMAGE_DIR"
    # Suites this debootstrap does not know use the script of their family.
    local mirror=$MIRROR script=/usr/share/debootstrap/scripts/$suite
    local key_opts=()
    if [[ $(os_of "$suite") == ubuntu ]]; then
        mirror=$UBUNTU_MIRROR key_opts=(--keyring="$UBUNTU_KEYRING" --components=main,universe)
        [[ -e $script ]] || script=/usr/share/debootstrap/scripts/gutsy
    else
        [[ -e $script ]] || script=/usr/share/debootstrap/scripts/sid
    fi
    run_logged "$blog" debootstrap --variant=minbase --include=ca-certificates \
        "${key_opts[@]}" "${arch_opts[@]}" "$suite" "$root" "$mirror" "$script"
    local crts=(/usr/local/share/ca-certificates/*.crt)
    if [[ -e ${crts[0]} ]]; then
        mkdir -p "$root/usr/local/share/ca-certificates"
        cp -- "${crts[@]}" "$root/usr/local/share/ca-certificates/"
    fi
    run_logged "$blog" chroot "$root" update-ca-certificates
    # The archive these machines reach is a snapshot that may be older than the clock: apt
    # would refuse its Release files as expired (a test double's setting, in its images only).
    printf 'Acquire::Check-Valid-Until "false";\n' >"$root/etc/apt/apt.conf.d/99kiln-archive-snapshot"
    rm -rf -- "$root/var/cache/apt/archives/"*.deb "$root/var/lib/apt/lists/"*
    run_logged "$blog" tar --numeric-owner -C "$root" -cf "$tarball.tmp" .
    mv -f -- "$tarball.tmp" "$tarball"
    remove_tree "$root"
}

start_rootfs_job() {
    local suite=$1
    log "debootstrap $suite in the background (log $LOG_DIR/debootstrap-$suite.log)"
    set -m # own process group, so that kill_jobs can stop the whole tree
    build_rootfs_tarball "$suite" </dev/null &
    JOBS[$suite]=$!
    set +m
}

wait_rootfs_job() {
    local suite=$1 pid=${JOBS[$1]:-}
    [[ -n $pid ]] || return 0
    local rc=0
    wait "$pid" || rc=$?
    unset "JOBS[$suite]"
    ((rc == 0)) || die "making the $suite rootfs failed (log: $LOG_DIR/debootstrap-$suite.log)"
}

image_present() {
    if [[ $(os_of "$1") == ubuntu ]]; then
        [[ $(docker image inspect -f '{{index .Config.Labels "kiln.base-revision"}}' "$(image_of "$1")" 2>/dev/null) == "$UBUNTU_BASE_REVISION" ]]
    else
        docker image inspect "$(image_of "$1")" >/dev/null 2>&1
    fi
}

# Start debootstrap jobs for the suites that may need one. When the engine
# already answers, only for missing images; otherwise (engine not started yet)
# for every suite whose tarball is not cached.
start_needed_rootfs_jobs() {
    local engine_up=$1 suite item
    for suite in "${SUITES[@]}"; do
        [[ $(os_of "$suite") == ubuntu ]] && ensure_ubuntu_keyring
    done
    for suite in "${SUITES[@]}"; do
        [[ -f $(tarball_of "$suite") ]] && continue
        if [[ $engine_up == 1 ]] && image_present "$suite"; then
            continue
        fi
        start_rootfs_job "$suite"
    done
    for item in "${FOREIGN[@]}"; do
        [[ -f $(tarball_of "${item/:/-}") ]] && continue
        mirror_has "${item%%:*}" "${item#*:}" && continue
        start_rootfs_job "${item/:/-}"
    done
}

import_missing_images() {
    local suite tarball
    local -A imports=()
    for suite in "${SUITES[@]}"; do
        if image_present "$suite"; then
            continue
        fi
        tarball=$(tarball_of "$suite")
        if [[ -z ${JOBS[$suite]:-} && ! -f $tarball ]]; then
            [[ $(os_of "$suite") == ubuntu ]] && ensure_ubuntu_keyring
            start_rootfs_job "$suite"
        fi
        wait_rootfs_job "$suite"
        [[ -f $tarball ]] || die "no rootfs tarball for $suite at $tarball"
        log "importing $(image_of "$suite")"
        # Imports run side by side (each takes a few seconds of CPU).
        run_logged "$LOG_DIR/import-$suite.log" docker import \
            --change "$IMPORT_PATH_ENV" --change 'CMD ["bash"]' --change "$(import_label "$suite")" \
            "$tarball" "$(image_of "$suite")" &
        imports[$suite]=$!
    done
    for suite in "${!imports[@]}"; do
        wait "${imports[$suite]}" ||
            die "docker import of $(image_of "$suite") failed (log: $LOG_DIR/import-$suite.log)"
    done
    # Finish tarball jobs whose image turned out to be present already.
    for suite in "${!JOBS[@]}"; do
        wait_rootfs_job "$suite"
    done
}

# ---------------------------------------------------------------- mirror

# Docker's name for a Debian architecture.
docker_arch() {
    case $1 in
        i386) printf '386\n' ;;
        armhf) printf 'arm\n' ;;
        *) printf '%s\n' "$1" ;;
    esac
}

# mirror_has SUITE [ARCH]: whether the mirror serves SUITE's image (for ARCH; an Ubuntu
# image of the current revision).
mirror_has() {
    local index repo
    repo="http://$REGISTRY_ADDR/v2/library/$(os_of "$1")"
    index=$(curl -sf -H 'Accept: application/vnd.docker.distribution.manifest.list.v2+json' \
        -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
        "$repo/manifests/$1" 2>/dev/null) || return 1
    if [[ $(os_of "$1") == ubuntu ]]; then
        local config
        config=$(tr -d ' \n' <<<"$index" | grep -o '"config":{[^}]*}' | grep -o 'sha256:[0-9a-f]*' | head -1)
        [[ -n $config ]] || return 1
        curl -sf "$repo/blobs/$config" 2>/dev/null |
            grep -q "\"kiln.base-revision\": *\"$UBUNTU_BASE_REVISION\"" || return 1
    fi
    [[ -z ${2:-} ]] || grep -q "\"architecture\": *\"$(docker_arch "$2")\"" <<<"$index"
}

ensure_registry_binary() {
    [[ -x $REGISTRY_DIR/bin/docker-registry ]] && return 0
    mkdir -p "$REGISTRY_DIR/bin"
    trixie_file docker-registry usr/bin/docker-registry "$REGISTRY_DIR/bin/docker-registry"
}

our_registry_pid() {
    local pid
    [[ -f $REGISTRY_PIDFILE ]] || return 1
    pid=$(tr -dc '0-9' <"$REGISTRY_PIDFILE")
    [[ -n $pid ]] && alive "$pid" || return 1
    tr '\0' '\n' <"/proc/$pid/cmdline" 2>/dev/null | grep -Fxq -- "$REGISTRY_DIR/config.yml" || return 1
    printf '%s\n' "$pid"
}

start_registry() {
    our_registry_pid >/dev/null && return 0
    ensure_registry_binary
    mkdir -p "$REGISTRY_DIR/data"
    printf '%s\n' \
        'version: 0.1' \
        'log:' \
        '  level: warn' \
        'storage:' \
        '  filesystem:' \
        "    rootdirectory: $REGISTRY_DIR/data" \
        'http:' \
        "  addr: $REGISTRY_ADDR" >"$REGISTRY_DIR/config.yml"
    log "starting the mirror registry on $REGISTRY_ADDR (log $LOG_DIR/registry.log)"
    (
        for fd in /proc/self/fd/*; do
            fd=${fd##*/}
            if ((fd > 2)); then
                eval "exec $fd>&-" 2>/dev/null || true
            fi
        done
        cd /
        exec setsid "$REGISTRY_DIR/bin/docker-registry" serve "$REGISTRY_DIR/config.yml" \
            </dev/null >>"$LOG_DIR/registry.log" 2>&1
    ) &
    local pid=$! i
    printf '%s\n' "$pid" >"$REGISTRY_PIDFILE"
    for ((i = 0; i < 100; i++)); do
        curl -sf -o /dev/null "http://$REGISTRY_ADDR/v2/" && return 0
        alive "$pid" || break
        sleep 0.1
    done
    show_log "$LOG_DIR/registry.log"
    die "the mirror registry did not start on $REGISTRY_ADDR (log: $LOG_DIR/registry.log)"
}

stop_registry() {
    local pid
    pid=$(our_registry_pid) || return 0
    log "stopping the mirror registry (pid $pid)"
    kill -TERM "$pid" 2>/dev/null || true
    wait_gone "$pid" 10 || kill -KILL "$pid" 2>/dev/null || true
    rm -f -- "$REGISTRY_PIDFILE"
}

# dockerd's configuration: the registry is its mirror for docker.io, and the
# build cache may hold 30GB (the default, 20GB, is less than one run of the
# e2e suite fills: its garbage collection then evicted the distro workers, and
# every CI run rebuilt them). Returns 0 when the file changed.
write_daemon_json() {
    local want
    want=$(printf '{\n  "registry-mirrors": ["http://%s"],\n  "builder": {"gc": {"enabled": true, "defaultKeepStorage": "30GB"}}\n}' "$REGISTRY_ADDR")
    [[ -f $DAEMON_JSON && "$(cat "$DAEMON_JSON")" == "$want" ]] && return 1
    printf '%s\n' "$want" >"$DAEMON_JSON"
    return 0
}

# Push debian:<suite> for the native and each foreign architecture to the
# mirror as one multi-platform image.
populate_mirror() {
    local item suite arch job tarball native ref
    for item in "${FOREIGN[@]}"; do
        suite=${item%%:*} arch=${item#*:} job=${item/:/-}
        mirror_has "$suite" "$arch" && continue
        image_present "$suite" || die "debian:$suite is missing; cannot fill the mirror"
        tarball=$(tarball_of "$job")
        if [[ -z ${JOBS[$job]:-} && ! -f $tarball ]]; then
            start_rootfs_job "$job"
        fi
        wait_rootfs_job "$job"
        [[ -f $tarball ]] || die "no rootfs tarball for $job at $tarball"
        log "putting debian:$suite (native and $arch) into the mirror"
        local mlog="$LOG_DIR/mirror-$job.log" repo="$REGISTRY_ADDR/library/debian"
        native="$repo:$suite-$(docker version --format '{{.Server.Arch}}')"
        local refs=("$native" "$repo:$suite-$arch")
        run_logged "$mlog" docker tag "debian:$suite" "$native" || die "docker tag failed (log: $mlog)"
        run_logged "$mlog" docker import --platform "linux/$(docker_arch "$arch")" \
            --change "$IMPORT_PATH_ENV" --change 'CMD ["bash"]' "$tarball" "${refs[1]}" ||
            die "docker import of $job failed (log: $mlog)"
        for ref in "${refs[@]}"; do
            run_logged "$mlog" docker push -q "$ref" || die "docker push $ref failed (log: $mlog)"
        done
        run_logged "$mlog" docker manifest create --insecure --amend "$repo:$suite" "${refs[@]}" ||
            die "docker manifest create failed (log: $mlog)"
        run_logged "$mlog" docker manifest push --insecure --purge "$repo:$suite" ||
            die "docker manifest push failed (log: $mlog)"
        run_logged "$mlog" docker rmi "${refs[@]}" || true
    done
    # The other suites, native only: a standalone buildkitd sees base images only here.
    for suite in "${SUITES[@]}"; do
        mirror_has "$suite" && continue
        image_present "$suite" || die "$(image_of "$suite") is missing; cannot fill the mirror"
        log "putting $(image_of "$suite") (native) into the mirror"
        local nlog="$LOG_DIR/mirror-$suite.log"
        ref="$REGISTRY_ADDR/library/$(image_of "$suite")"
        run_logged "$nlog" docker tag "$(image_of "$suite")" "$ref" || die "docker tag failed (log: $nlog)"
        run_logged "$nlog" docker push -q "$ref" || die "docker push $ref failed (log: $nlog)"
        run_logged "$nlog" docker rmi "$ref" || true
    done
}

# ---------------------------------------------------------------- commands

take_lock() {
    mkdir -p "$ENGINE_DIR" "$LOG_DIR"
    exec 9>>"$ENGINE_DIR/lock"
    if ! flock -n 9; then
        log "waiting for another $PROG on $ENGINE_DIR"
        flock 9
    fi
}

cmd_up() {
    if [[ ${KILN_USE_EXISTING_DOCKER:-0} == 1 ]] &&
        timeout 20 docker version >/dev/null 2>&1 &&
        timeout 20 docker buildx version >/dev/null 2>&1; then
        log "using the existing Docker engine (${DOCKER_HOST:-default socket})"
        # Its registry configuration is the user's: no mirror, no foreign bases.
        FOREIGN=()
        take_lock
        if ! image_present bookworm || ! image_present trixie; then
            ensure_system_packages debootstrap
        fi
        start_needed_rootfs_jobs 1
        import_missing_images
        if [[ -n ${DOCKER_HOST:-} ]]; then
            printf 'export DOCKER_HOST=%q KILN_ENGINE_STARTED=0\n' "$DOCKER_HOST"
        else
            printf 'export KILN_ENGINE_STARTED=0\n'
        fi
        return 0
    fi
    if [[ ${KILN_USE_EXISTING_DOCKER:-0} == 1 ]]; then
        log "KILN_USE_EXISTING_DOCKER=1, but docker or docker buildx does not work with the caller's environment; using the private engine"
    fi

    [[ $(id -u) == 0 ]] || die "the private engine needs root (dockerd, debootstrap, apt-get)"
    take_lock
    adopt_legacy_layout
    stop_other_engines
    mkdir -p "$ENGINE_ROOT"
    use_private_engine
    local started=0 engine_up=0
    if [[ -x $PREFIX/usr/bin/docker ]] && engine_answers; then
        engine_up=1
    fi
    if ((engine_up == 0)); then
        ensure_system_packages "${SYSTEM_PKGS[@]}"
    fi
    start_registry
    start_needed_rootfs_jobs "$engine_up"
    ensure_prefix
    if write_daemon_json && ((engine_up == 1)); then
        local dpid
        if dpid=$(our_dockerd_pid); then
            log "dockerd's configuration changed (mirror $REGISTRY_ADDR); reloading it"
            kill -HUP "$dpid"
        fi
    fi
    if ((engine_up == 0)); then
        local pid
        if pid=$(our_dockerd_pid); then
            # Ours, alive, but not answering: give it a moment, then restart it.
            log "dockerd (pid $pid) is running but does not answer yet; waiting"
            local i
            for ((i = 0; i < 150; i++)); do
                engine_answers && break
                sleep 0.2
            done
            if ! engine_answers; then
                log "dockerd (pid $pid) does not answer; restarting it"
                stop_dockerd || true
            fi
        fi
        if ! engine_answers; then
            clean_stale
            start_dockerd
            started=1
        fi
    fi
    import_missing_images
    populate_mirror
    print_exports "$started"
}

# Stop the dockerd of this script's selected version, if it is ours.
down_selected_engine() {
    if stop_dockerd; then
        log "dockerd $DOCKER_VERSION stopped"
    else
        use_private_engine
        if [[ -x $PREFIX/usr/bin/docker ]] && engine_answers; then
            log "an engine answers on $SOCK without our pidfile; leaving it alone"
            return 0
        fi
        clean_stale
        unmount_under "$DATA_ROOT"
        unmount_under "$EXEC_ROOT"
    fi
}

# Only one dockerd of ours runs at a time: stop the other versions' ones.
stop_other_engines() {
    local item version
    for item in "${ENGINES[@]}"; do
        version=${item%%:*}
        [[ $version == "$DOCKER_VERSION" ]] && continue
        (
            select_engine "$version"
            if our_dockerd_pid >/dev/null; then
                log "stopping dockerd $version: one engine of ours runs at a time"
                stop_dockerd
            fi
        )
    done
}

# Before there were two engines, Docker 26's state lay in $ENGINE_DIR itself:
# move it to its version's directory (its images and caches stay usable).
adopt_legacy_layout() {
    [[ -d $ENGINE_DIR/data && ! -e $ENGINE_DIR/docker-26 ]] || return 0
    local pid
    if [[ -f $ENGINE_DIR/dockerd.pid ]]; then
        pid=$(tr -dc '0-9' <"$ENGINE_DIR/dockerd.pid")
        if [[ -n $pid ]] && alive "$pid"; then
            log "stopping the dockerd of the old layout (pid $pid)"
            kill -TERM "$pid" 2>/dev/null || true
            wait_gone "$pid" 60 || die "the dockerd of the old layout (pid $pid) does not stop"
        fi
    fi
    unmount_under "$ENGINE_DIR/data"
    unmount_under "$ENGINE_DIR/exec"
    log "moving Docker 26's state to $ENGINE_DIR/docker-26"
    mkdir -p "$ENGINE_DIR/docker-26"
    local item
    for item in prefix data daemon.json debs; do
        [[ -e $ENGINE_DIR/$item ]] && mv -- "$ENGINE_DIR/$item" "$ENGINE_DIR/docker-26/$item"
    done
    rm -rf -- "$ENGINE_DIR/exec" "$ENGINE_DIR/apt" "$ENGINE_DIR/dockerd.pid" "$ENGINE_DIR/docker.sock"
}

cmd_down() {
    take_lock
    stop_registry
    local item
    for item in "${ENGINES[@]}"; do
        (
            select_engine "${item%%:*}"
            down_selected_engine
        )
    done
}

cmd_status() {
    use_private_engine
    local pid
    if [[ -x $PREFIX/usr/bin/docker ]] && engine_answers; then
        log "engine answers on $SOCK ($(docker version --format 'server {{.Server.Version}}' 2>/dev/null))"
    elif pid=$(our_dockerd_pid); then
        log "dockerd (pid $pid) is running but does not answer on $SOCK"
        return 1
    else
        log "engine is not running"
        return 1
    fi
}

usage() {
    cat >&2 <<EOF
usage: $PROG up|down|env|status   (KILN_DOCKER=28|26 picks the engine; default 28)
  up      start (or reuse) the private engine and base images; print an export line
  down    stop the dockerds and the registry that up started
  env     print the export line only
  status  tell whether the engine answers
state: $ENGINE_DIR (KILN_ENGINE_DIR)
EOF
}

main() {
    select_engine "${KILN_DOCKER:-28}"
    case ${1:-} in
        up) cmd_up ;;
        down) cmd_down ;;
        env) print_exports 0 ;;
        status) cmd_status ;;
        -h | --help | help) usage ;;
        *)
            usage
            exit 2
            ;;
    esac
}

main "$@"
