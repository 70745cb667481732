#!/usr/bin/env bash
# `make bench`: the frontend image size, and cold and fully cached build times of
# specs/hello.yml (bookworm/deb) next to bench/hello/Dockerfile doing the same steps,
# on the same engine, in the same run. Ratios are kiln / Dockerfile. Then the memory figures.
# KILN_BENCH_COLD=0 leaves out the cold builds (which prune the engine's build cache).
#
# `scripts/bench.sh lowering` (`make bench-lowering`, no engine needed): P4, the frontend's own
# time and peak RSS lowering a 200-source spec, next to a spec without sources.
#
# `scripts/bench.sh memory` (`make bench-memory`, no engine needed): peak RSS and time of
# `kiln-frontend lint` on the worst specs the alias bound accepts, next to specs/hello.yml in the
# same run, and on the alias bomb it rejects. Ratios are worst case / hello.yml.
set -euo pipefail
cd "$(dirname "$0")/.."

runs=${KILN_BENCH_RUNS:-5}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

bin=${KILN_BIN:-target/x86_64-unknown-linux-gnu/release/kiln-frontend}

# rss_time WANT SPEC: run `lint SPEC` under GNU time; print "PEAK_KB SECONDS", fail unless its
# exit status is WANT.
rss_time() {
  local want=$1 spec=$2 rc=0
  /usr/bin/time -f '%M %e' -o "$out/time" "$bin" lint "$spec" >/dev/null 2>"$out/stderr" || rc=$?
  if [ "$rc" != "$want" ]; then
    echo "kiln-frontend lint $spec: exit $rc, expected $want" >&2
    head -c 500 "$out/stderr" >&2
    return 1
  fi
  tail -n 1 "$out/time"
}

# The specs, generated into $out: 16 MiB of expanded text and nodes is the bound (spec/src/yaml.rs).
memory_specs() {
  local scalar head='name: hello\nversion: "1"\nrevision: 1\nlicense: MIT\n'
  scalar=$(head -c 65536 /dev/zero | tr '\0' x)
  # Bytes: one 64 KiB scalar as 252 arg defaults (the model copies each): just under the bound.
  { printf %b "$head"; printf 'description: &a %s\nargs:\n' "$scalar"
    for i in $(seq 252); do printf '  A%d: *a\n' "$i"; done; } >"$out/bytes.yml"
  # Nodes: a 1000-entry env map as the env of 120 build steps: just under the bound.
  { printf %b "$head"; printf 'x-env: &e {'; for i in $(seq 1000); do printf 'A%d: v, ' "$i"; done
    printf 'Z: v}\nbuild:\n  steps:\n'; for _ in $(seq 120); do printf '    - {command: x, env: *e}\n'; done; } >"$out/nodes.yml"
  # The bomb: the 64 KiB scalar aliased 20,000 times (1.3 GB expanded); rejected at its 254th alias.
  { printf 'name: &a %s\nx-bomb: [' "$scalar"; for _ in $(seq 19999); do printf '*a, '; done
    printf '*a]\n'; } >"$out/bomb.yml"
}

memory() {
  [ -x "$bin" ] || { echo "no $bin: run make build (or set KILN_BIN)" >&2; return 1; }
  memory_specs
  local base kb s
  read -r base s < <(rss_time 0 specs/hello.yml)
  printf '\n%-28s %10s %12s %8s %8s\n' "lint (peak RSS)" "spec" "peak RSS" "time" "ratio"
  printf '%-28s %9dB %10dKB %7.2fs %7.2fx\n' "specs/hello.yml" "$(stat -c %s specs/hello.yml)" "$base" "$s" 1
  for c in "bytes:0:worst accepted (bytes)" "nodes:0:worst accepted (nodes)" "bomb:1:alias bomb (rejected)"; do
    IFS=: read -r name want label <<<"$c"
    read -r kb s < <(rss_time "$want" "$out/$name.yml")
    printf '%-28s %9dB %10dKB %7.2fs %7.2fx\n' "$label" "$(stat -c %s "$out/$name.yml")" "$kb" "$s" \
      "$(awk -v a="$kb" -v b="$base" 'BEGIN { print a / b }')"
  done
}

# P4: lowering a 200-source spec to LLB (`kiln-frontend llb`) against a spec without sources, in
# the same run: the process's own time (user + sys, averaged over a loop of runs) and peak RSS.
lowering_specs() {
  local head='name: many\nversion: "1"\nrevision: 1\nlicense: MIT\npackager: kiln <k@example.invalid>\ndescription: d\n'
  printf %b "$head" >"$out/empty.yml"
  { printf %b "$head"; printf 'sources:\n'
    for i in $(seq 50); do
      printf '  http%d:\n    http:\n      url: https://example.invalid/%d.tar.gz\n      digest: sha256:%064d\n' "$i" "$i" "$i"
      printf '  git%d:\n    git:\n      url: https://example.invalid/%d.git\n      commit: %040d\n' "$i" "$i" "$i"
      printf '  inline%d:\n    inline:\n      file:\n        contents: "file %d"\n        permissions: 0644\n' "$i" "$i"
      printf '  dir%d:\n    inline:\n      dir:\n        files:\n          a: {contents: "a %d"}\n          b: {contents: "b %d"}\n' "$i" "$i" "$i"
    done
    printf 'build:\n  steps:\n    - command: make\n'; } >"$out/many.yml"
}

# own_ms SPEC: the average user + sys milliseconds of `llb SPEC` over $loops runs.
own_ms() {
  local spec=$1 loops=${KILN_BENCH_LOOPS:-50}
  /usr/bin/time -f '%U %S' -o "$out/time" bash -c \
    "for _ in \$(seq $loops); do '$bin' llb '$spec' --target bookworm/deb >/dev/null || exit 1; done"
  awk -v n="$loops" '{ printf "%.2f\n", ($1 + $2) * 1000 / n }' "$out/time"
}

lowering() {
  [ -x "$bin" ] || { echo "no $bin: run make build (or set KILN_BIN)" >&2; return 1; }
  lowering_specs
  local e m ekb mkb
  e=$(own_ms "$out/empty.yml"); m=$(own_ms "$out/many.yml")
  ekb=$(/usr/bin/time -f '%M' "$bin" llb "$out/empty.yml" --target bookworm/deb 2>&1 >/dev/null | tail -n 1)
  mkb=$(/usr/bin/time -f '%M' "$bin" llb "$out/many.yml" --target bookworm/deb 2>&1 >/dev/null | tail -n 1)
  printf '\n%-28s %12s %12s %8s\n' "llb bookworm/deb" "own time" "peak RSS" "target"
  printf '%-28s %10.2fms %10dKB\n' "no sources" "$e" "$ekb"
  printf '%-28s %10.2fms %10dKB\n' "200 sources" "$m" "$mkb"
  awk -v e="$e" -v m="$m" -v kb="$mkb" 'BEGIN {
    printf "%-28s %10.2fms %12s %8s\n", "200 sources beyond empty", m - e, "", "<=10ms"
    printf "%-28s %12s %10.1fMB %8s\n", "200 sources peak RSS", "", kb / 1024, "<=30MB"
    printf "%-28s %10.2fx\n", "ratio (200 / empty)", m / e
  }'
}

case "${1:-}" in
  memory) memory; exit ;;
  lowering) lowering; exit ;;
esac

kiln() { docker buildx build -q -f specs/hello.yml --target bookworm/deb --output "type=local,dest=$out/kiln" . >/dev/null; }
dockerfile() { docker buildx build -q -f bench/hello/Dockerfile --output "type=local,dest=$out/dockerfile" bench/hello >/dev/null; }
# The fair anchor: the same Dockerfile through BuildKit's Dockerfile frontend run as a gateway
# image (`make dockerfile-frontend`), as `# syntax=docker/dockerfile:1` users run it: both pay for
# a frontend container.
gateway_dockerfile() { docker buildx build -q --build-arg BUILDKIT_SYNTAX=kiln/dockerfile-frontend:dev -f bench/hello/Dockerfile --output "type=local,dest=$out/gateway" bench/hello >/dev/null; }
# The frontend floor: the same `targets` subrequest answered without any build. BuildKit runs the
# Dockerfile frontend in its own process and kiln (like any gateway frontend) in a container, so
# the difference is what starting and stopping a frontend container costs on this engine.
# buildx 0.14 and later spell it `--call targets`; 0.13 has only the experimental `--print`.
if docker buildx build --help 2>/dev/null | grep -q -- '--call'; then
  call_targets=(--call targets)
else
  export BUILDX_EXPERIMENTAL=1
  call_targets=(--print=targets)
fi
kiln_targets() { docker buildx build -q "${call_targets[@]}" -f specs/hello.yml . >/dev/null; }
dockerfile_targets() { docker buildx build -q "${call_targets[@]}" -f bench/hello/Dockerfile bench/hello >/dev/null; }

seconds() { # run a build and print its wall time
  local start end
  start=$(date +%s.%N)
  "$@"
  end=$(date +%s.%N)
  awk -v a="$start" -v b="$end" 'BEGIN { printf "%.3f\n", b - a }'
}

median() { sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

cold() { # prune the whole build cache (cache mounts included) before each build
  docker builder prune -af >/dev/null
  seconds "$1"
}

size=$(docker image inspect -f '{{.Size}}' kiln/frontend:dev)
echo "frontend image: $size bytes ($(awk -v s="$size" 'BEGIN { printf "%.2f", s / 1000000 }') MB; target <= 4 MB)"
if signer=$(docker image inspect -f '{{.Size}}' kiln/signer:dev 2>/dev/null); then
  echo "signer image: $signer bytes ($(awk -v s="$signer" 'BEGIN { printf "%.2f", s / 1000000 }') MB)"
fi

# interleaved N TIMER A B: run `TIMER A` and `TIMER B` alternately N times; print the
# median wall time of each, as "A_MEDIAN B_MEDIAN".
interleaved() {
  local n=$1 timer=$2 a=$3 b=$4 ta=() tb=()
  for _ in $(seq "$n"); do
    ta+=("$("$timer" "$a")")
    tb+=("$("$timer" "$b")")
  done
  echo "$(printf '%s\n' "${ta[@]}" | median) $(printf '%s\n' "${tb[@]}" | median)"
}

# KILN_BENCH_COLD=0 skips the cold builds: they prune the engine's whole build cache.
if [ "${KILN_BENCH_COLD:-1}" != 0 ]; then
  echo "cold builds (build cache pruned before each), 2 runs each, interleaved:"
  read -r kc dc < <(interleaved 2 cold kiln dockerfile)
fi

echo "cached builds, $runs runs each, interleaved:"
kiln; dockerfile
# kiln logs its own time per request to the engine's log (the frontend's stderr).
engine_log=${KILN_ENGINE_DIR:-/var/tmp/kiln-engine}/logs/dockerd-${KILN_DOCKER:-28}.log
log_lines=$(wc -l <"$engine_log" 2>/dev/null || echo 0)
read -r kh dh < <(interleaved "$runs" seconds kiln dockerfile)
own=$(tail -n +"$((log_lines + 1))" "$engine_log" 2>/dev/null |
  sed -n "s/.*waiting on BuildKit, \([0-9.]*\) ms kiln's own.*/\1/p")
[ -z "$own" ] || own=$(median <<<"$own")

echo "cached builds against the Dockerfile frontend as a gateway image, $runs runs each, interleaved:"
gateway_dockerfile
read -r kg dg < <(interleaved "$runs" seconds kiln gateway_dockerfile)

echo "frontend floor (the targets subrequest, no build), $runs runs each, interleaved:"
read -r kf df < <(interleaved "$runs" seconds kiln_targets dockerfile_targets)

printf '\n%-8s %10s %12s %8s %8s\n' build kiln Dockerfile ratio target
if [ -n "${kc:-}" ]; then
  printf '%-8s %9.2fs %11.2fs %7.2fx %8s\n' cold "$kc" "$dc" "$(awk -v a="$kc" -v b="$dc" 'BEGIN { print a / b }')" "<=1.10x"
fi
printf '%-8s %9.2fs %11.2fs %7.2fx %8s\n' cached "$kh" "$dh" "$(awk -v a="$kh" -v b="$dh" 'BEGIN { print a / b }')" "<=1.20x"
printf '%-8s %9.2fs %11.2fs %7.2fx %8s   (Dockerfile frontend as a gateway image)\n' gateway "$kg" "$dg" "$(awk -v a="$kg" -v b="$dg" 'BEGIN { print a / b }')" "<=0.90x"
printf '%-8s %9.2fs %11.2fs %7.2fx %8s\n' floor "$kf" "$df" "$(awk -v a="$kf" -v b="$df" 'BEGIN { print a / b }')" "-"
if [ -n "$own" ]; then
  printf "kiln's own time per cached request (median of %s, the rest is waiting on BuildKit): %.1f ms (target <= 5 ms)\n" "$runs" "$own"
else
  echo "kiln's own time per cached request: not in $engine_log (an engine of your own?)"
fi
awk -v kh="$kh" -v dh="$dh" -v kf="$kf" -v df="$df" 'BEGIN {
  printf "\ncached rebuild: kiln +%.0f ms over the Dockerfile. A frontend that builds nothing (the targets\n", (kh - dh) * 1000
  printf "subrequest) already costs +%.0f ms: starting and stopping its container, which BuildKit does\n", (kf - df) * 1000
  printf "for every gateway frontend and not for its built-in Dockerfile frontend.\n"
}'

memory
lowering
