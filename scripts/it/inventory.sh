#!/usr/bin/env bash
# Integration tests for charter inventory against a real PostgreSQL: Debian's
# postgresql package (installed when missing), a throwaway cluster in a temp directory
# on 127.0.0.1, the inventory store suite (the same one SQLite passes in the default
# `go test`), and the CLI end to end (add, query, affected, list, remove; and
# `admission serve --inventory` recording where an admitted image runs) on both stores.
# Stops the server on exit.
#
#   scripts/it/inventory.sh
#   KEEP=1 scripts/it/inventory.sh   # leave the scratch directory
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=lib/registry.sh
. scripts/it/lib/registry.sh
# shellcheck source=lib/postgres.sh
. scripts/it/lib/postgres.sh

DIR=$(mktemp -d /tmp/charter-it-inventory.XXXXXX)
log() { printf 'it/inventory: %s\n' "$*" >&2; }
cleanup() {
  local rc=$?
  set +e
  stop_postgres
  if [ -z "${KEEP:-}" ]; then rm -rf "$DIR"; else log "kept $DIR"; fi
  exit $rc
}
trap cleanup EXIT

start_postgres "$DIR"
log "store suite and CLI on PostgreSQL"
go test -count=1 ./internal/inventory -run 'Postgres' -v 2>&1 | grep -E '^(=== RUN|--- |ok|FAIL|PASS)' | grep -v '=== RUN' >&2
go test -count=1 ./internal/cli -run 'Inventory.*Postgres' -v 2>&1 | grep -E '^(--- |ok|FAIL|PASS)' >&2
log "PASS"
