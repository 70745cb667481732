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

echo "cold builds (build cache pruned before each), 2 runs each, interleaved:"
k_cold=(); d_cold=()
for _ in 1 2; do
  k_cold+=("$(cold kiln)")
  d_cold+=("$(cold dockerfile)")
done
kc=$(printf '%s\n' "${k_cold[@]}" | median)
dc=$(printf '%s\n' "${d_cold[@]}" | median)

echo "cached builds, $runs runs each, interleaved:"
kiln; dockerfile
k_hot=(); d_hot=()
for _ in $(seq "$runs"); do
  k_hot+=("$(seconds kiln)")
  d_hot+=("$(seconds dockerfile)")
done
kh=$(printf '%s\n' "${k_hot[@]}" | median)
dh=$(printf '%s\n' "${d_hot[@]}" | median)

echo "frontend floor (the targets subrequest, no build), $runs runs each, interleaved:"
k_floor=(); d_floor=()
for _ in $(seq "$runs"); do
  k_floor+=("$(seconds kiln_targets)")
  d_floor+=("$(seconds dockerfile_targets)")
done
kf=$(printf '%s\n' "${k_floor[@]}" | median)
df=$(printf '%s\n' "${d_floor[@]}" | median)

printf '\n%-8s %10s %12s %8s %8s\n' build kiln Dockerfile ratio target
printf '%-8s %9.2fs %11.2fs %7.2fx %8s\n' cold "$kc" "$dc" "$(awk -v a="$kc" -v b="$dc" 'BEGIN { print a / b }')" "<=1.10x"
printf '%-8s %9.2fs %11.2fs %7.2fx %8s\n' cached "$kh" "$dh" "$(awk -v a="$kh" -v b="$dh" 'BEGIN { print a / b }')" "<=1.20x"
printf '%-8s %9.2fs %11.2fs %7.2fx %8s\n' floor "$kf" "$df" "$(awk -v a="$kf" -v b="$df" 'BEGIN { print a / b }')" "-"
awk -v kh="$kh" -v dh="$dh" -v kf="$kf" -v df="$df" 'BEGIN {
  printf "\ncached rebuild: kiln +%.0f ms over the Dockerfile. A frontend that builds nothing (the targets\n", (kh - dh) * 1000
  printf "subrequest) already costs +%.0f ms: starting and stopping its container, which BuildKit does\n", (kf - df) * 1000
  printf "for every gateway frontend and not for its built-in Dockerfile frontend.\n"
}'
