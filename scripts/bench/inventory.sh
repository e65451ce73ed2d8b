#!/usr/bin/env bash
# The inventory benchmark at the issue's size: 10,000 synthetic images × 400 packages
# (4 M package rows) in SQLite and in a throwaway PostgreSQL (Debian's postgresql,
# started on 127.0.0.1 as scripts/it/inventory.sh does): the fill rate of a bulk add,
# then `affected` (Log4Shell; and DSA-5532-1, whose package is in every image), a purl
# query, and adds into the full store. Prints the load average beside the numbers: on a
# shared machine they move with it.
#
#   scripts/bench/inventory.sh                       # 10,000 images
#   CHARTER_BENCH_IMAGES=1000 scripts/bench/inventory.sh
#   STORES=SQLite scripts/bench/inventory.sh         # one store only
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=../it/lib/registry.sh
. scripts/it/lib/registry.sh
# shellcheck source=../it/lib/postgres.sh
. scripts/it/lib/postgres.sh

DIR=$(mktemp -d /tmp/charter-bench-inventory.XXXXXX)
log() { printf 'bench/inventory: %s\n' "$*" >&2; }
cleanup() {
  local rc=$?
  set +e
  stop_postgres
  rm -rf "$DIR"
  exit $rc
}
trap cleanup EXIT

# pg_cpu prints the CPU seconds the server has used so far: the postmaster, the
# backends it reaped (cutime, cstime) and the live ones.
pg_cpu() {
  local pm hz
  pm=$(head -1 "$PG_DATA/postmaster.pid" 2>/dev/null) || { echo 0; return; }
  hz=$(getconf CLK_TCK)
  { awk '{print $14 + $15 + $16 + $17}' "/proc/$pm/stat"
    for c in $(ps --ppid "$pm" -o pid=); do awk '{print $14 + $15}' "/proc/$c/stat" 2>/dev/null; done
  } | awk -v hz="$hz" '{s += $1} END {printf "%d", s / hz}'
}

export CHARTER_BENCH_IMAGES=${CHARTER_BENCH_IMAGES:-10000}
STORES=${STORES:-SQLite Postgres}
go test -c -o "$DIR/inventory.test" ./internal/inventory
if [[ $STORES == *Postgres* ]]; then
  start_postgres "$DIR"
fi
cd internal/inventory
for store in $STORES; do
  log "$store: $CHARTER_BENCH_IMAGES images × 400 packages; load average $(cut -d' ' -f1-3 /proc/loadavg)"
  pg_before=$(pg_cpu)
  /usr/bin/time -f "bench/inventory: $store: charter CPU user %Us system %Ss, wall %es, max RSS %MkB" \
    "$DIR/inventory.test" -test.run '^$' -test.bench "^Benchmark${store}" -test.benchtime 20x
  if [ "$store" = Postgres ]; then
    log "Postgres: server CPU $(( $(pg_cpu) - pg_before ))s"
  fi
  log "$store done; load average $(cut -d' ' -f1-3 /proc/loadavg)"
done
