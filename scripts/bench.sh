#!/usr/bin/env bash
# `make bench`: the frontend image size, and cold and fully cached build times of
# specs/hello.yml (bookworm/deb) next to bench/hello/Dockerfile doing the same steps,
# on the same engine, in the same run. Ratios are kiln / Dockerfile.
set -euo pipefail
cd "$(dirname "$0")/.."

runs=${KILN_BENCH_RUNS:-5}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

kiln() { docker buildx build -q -f specs/hello.yml --target bookworm/deb --output "type=local,dest=$out/kiln" . >/dev/null; }
dockerfile() { docker buildx build -q -f bench/hello/Dockerfile --output "type=local,dest=$out/dockerfile" bench/hello >/dev/null; }
# The frontend floor: the same `targets` subrequest answered without any build. BuildKit runs the
# Dockerfile frontend in its own process and kiln (like any gateway frontend) in a container, so
# the difference is what starting and stopping a frontend container costs on this engine.
kiln_targets() { BUILDX_EXPERIMENTAL=1 docker buildx build -q --print=targets -f specs/hello.yml . >/dev/null; }
dockerfile_targets() { BUILDX_EXPERIMENTAL=1 docker buildx build -q --print=targets -f bench/hello/Dockerfile bench/hello >/dev/null; }

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

echo "cold builds (build cache pruned before each), 2 runs each, interleaved:"
read -r kc dc < <(interleaved 2 cold kiln dockerfile)

echo "cached builds, $runs runs each, interleaved:"
kiln; dockerfile
read -r kh dh < <(interleaved "$runs" seconds kiln dockerfile)

echo "frontend floor (the targets subrequest, no build), $runs runs each, interleaved:"
read -r kf df < <(interleaved "$runs" seconds kiln_targets dockerfile_targets)

printf '\n%-8s %10s %12s %8s %8s\n' build kiln Dockerfile ratio target
printf '%-8s %9.2fs %11.2fs %7.2fx %8s\n' cold "$kc" "$dc" "$(awk -v a="$kc" -v b="$dc" 'BEGIN { print a / b }')" "<=1.10x"
printf '%-8s %9.2fs %11.2fs %7.2fx %8s\n' cached "$kh" "$dh" "$(awk -v a="$kh" -v b="$dh" 'BEGIN { print a / b }')" "<=1.20x"
printf '%-8s %9.2fs %11.2fs %7.2fx %8s\n' floor "$kf" "$df" "$(awk -v a="$kf" -v b="$df" 'BEGIN { print a / b }')" "-"
awk -v kh="$kh" -v dh="$dh" -v kf="$kf" -v df="$df" 'BEGIN {
  printf "\ncached rebuild: kiln +%.0f ms over the Dockerfile. A frontend that builds nothing (the targets\n", (kh - dh) * 1000
  printf "subrequest) already costs +%.0f ms: starting and stopping its container, which BuildKit does\n", (kf - df) * 1000
  printf "for every gateway frontend and not for its built-in Dockerfile frontend.\n"
}'
