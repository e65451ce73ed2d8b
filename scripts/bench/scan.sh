#!/usr/bin/env bash
# Side-by-side timing of charter's image walk on a generated image of about 160 MB
# uncompressed (an OCI layout of five gzip layers), in one run:
#
#   gzip -dc of every layer      the physical limit: one decompression pass
#   BenchmarkWalk                the Go benchmark: cold walk, warm (cached) walk, gunzip in Go
#   charter scan (cold, warm)    when the CLI has a `scan` command
#   syft scan                    when syft is on PATH (INSTALL_SYFT=1 installs v1.20.0)
#
# Prints seconds, peak RSS and the ratios against gzip -dc. Close other heavy work
# first: two cores are shared by everything on the machine.
#
#   scripts/bench/scan.sh
#   RUNS=5 INSTALL_SYFT=1 scripts/bench/scan.sh
#   CHARTER_BENCH_MB=1024 RUNS=1 scripts/bench/scan.sh   # a 1 GB image (the memory goal)
set -euo pipefail
cd "$(dirname "$0")/../.."
RUNS=${RUNS:-3}
DIR=$(mktemp -d /tmp/charter-bench.XXXXXX)
trap 'rm -rf "$DIR"' EXIT

log() { printf '%s\n' "$*" >&2; }

# best SECONDS and peak RSS (KiB) of RUNS runs of a command, via GNU time.
measure() {
  local best="" rss=0 t r
  for _ in $(seq 1 "$RUNS"); do
    /usr/bin/time -f '%e %M' -o "$DIR/time" "$@" >/dev/null 2>"$DIR/err" || { cat "$DIR/err" >&2; return 1; }
    read -r t r <"$DIR/time"
    if [ -z "$best" ] || awk "BEGIN{exit !($t < $best)}"; then best=$t; fi
    [ "$r" -gt "$rss" ] && rss=$r
  done
  echo "$best $rss"
}

row() { printf '%-28s %8s s %10s MB %8s\n' "$1" "$2" "$(($3 / 1024))" "$4"; }
ratio() { awk "BEGIN{printf \"%.2fx\", $1 / $2}"; }

log "writing the benchmark image"
CHARTER_BENCH_IMAGE_DIR=$DIR go test -count=1 -run '^TestWriteBenchImage$' ./internal/image/ >/dev/null
OCI=$DIR/oci
# Layer blobs are the gzip files among the blobs (manifests and configs are JSON).
LAYERS=$(for f in "$OCI"/blobs/sha256/*; do [ "$(head -c2 "$f" | od -An -tx1 | tr -d " ")" = 1f8b ] && echo "$f"; done | tr "\n" " ")
# shellcheck disable=SC2086
MB=$(cat $LAYERS | gzip -dc | wc -c | awk '{printf "%d", $1/1048576}')
log "image: $MB MB uncompressed in $(echo "$LAYERS" | wc -w) layers"

printf '\n%-28s %10s %15s %8s\n' "tool" "time" "peak RSS" "vs gzip"
# shellcheck disable=SC2086
read -r gz gzrss < <(measure sh -c "cat $LAYERS | gzip -dc >/dev/null")
row "gzip -dc (layers)" "$gz" "$gzrss" "1.00x"

if go run ./cmd/charter scan --help >/dev/null 2>&1; then
  go build -o "$DIR/charter" ./cmd/charter
  export CHARTER_CACHE_DIR=$DIR/cache
  read -r t r < <(measure "$DIR/charter" scan --no-cache --no-progress --scanners config,secret,file -o json "oci-dir:$OCI" --fail-on none)
  row "charter scan (cold)" "$t" "$r" "$(ratio "$t" "$gz")"
  "$DIR/charter" scan --no-progress --scanners config,secret,file -o json "oci-dir:$OCI" --fail-on none >/dev/null
  read -r t r < <(measure "$DIR/charter" scan --no-progress --scanners config,secret,file -o json "oci-dir:$OCI" --fail-on none)
  row "charter scan (warm)" "$t" "$r" "$(ratio "$t" "$gz")"
else
  log "(charter has no scan command yet: the Go benchmark below stands in for it)"
fi

if [ "${INSTALL_SYFT:-}" = 1 ] && ! command -v syft >/dev/null; then
  log "installing syft v1.20.0"
  go install github.com/anchore/syft/cmd/syft@v1.20.0
  PATH=$PATH:$(go env GOPATH)/bin
fi
if command -v syft >/dev/null; then
  read -r t r < <(measure syft scan -q -o json "oci-dir:$OCI")
  row "syft scan" "$t" "$r" "$(ratio "$t" "$gz")"
else
  log "(syft not on PATH; INSTALL_SYFT=1 installs it)"
fi

printf '\nGo benchmark (MB/s of uncompressed layer bytes; peak-heap-MB = live heap high-water mark):\n'
go test -run '^$' -bench '^BenchmarkWalk$' -benchtime "${RUNS}x" ./internal/image/ | grep -E '^Benchmark'
