# Shared by the scripts that need a PostgreSQL server (sourced, not run). The caller
# defines log() and calls stop_postgres from its cleanup trap.
#
# start_postgres DIR initialises a cluster in DIR/pg (owned by the postgres user: the
# server refuses to run as root), starts it on 127.0.0.1 on a free port with no other
# listener, creates the database "charter", and exports CHARTER_TEST_POSTGRES. It
# installs Debian's postgresql package when pg_ctl is missing; when that fails it ends
# the script: a skip (exit 0) on a workstation, a failure under CI=true. A server that is
# installed but does not start is always a failure.

PG_DATA=
PG_BIN=

pg_bin() {
  local d
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    [ -x "$d/pg_ctl" ] && { echo "$d"; return; }
  done
  return 1
}

as_postgres() {
  if [ "$(id -u)" = 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

start_postgres() {
  local dir=$1 port
  if ! PG_BIN=$(pg_bin); then
    log "installing postgresql"
    if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; }; then
      if [ "${CI:-}" = true ]; then
        log "FAIL: postgresql is not installed and could not be installed"
        exit 1
      fi
      log "SKIP: postgresql is not installed and could not be installed (under CI=true this fails)"
      exit 0
    fi
    PG_BIN=$(pg_bin) || { log "FAIL: no pg_ctl after installing postgresql"; exit 1; }
  fi
  port=$(free_port 25432 25532) || { log "FAIL: no free port"; exit 1; }
  PG_DATA=$dir/pg
  mkdir -p "$PG_DATA"
  if [ "$(id -u)" = 0 ]; then
    chown postgres: "$dir" "$PG_DATA"
  fi
  chmod 700 "$PG_DATA"
  as_postgres "$PG_BIN/initdb" -D "$PG_DATA" -U postgres -A trust --no-sync -E UTF8 >"$dir/initdb.log" 2>&1 ||
    { cat "$dir/initdb.log" >&2; log "FAIL: initdb"; exit 1; }
  # loopback only, no Unix socket outside the scratch directory, fast and throwaway
  as_postgres "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$dir/postgres.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $PG_DATA -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c shared_buffers=256MB -c max_wal_size=2GB" \
    start >/dev/null || { cat "$dir/postgres.log" >&2; log "FAIL: PostgreSQL did not start"; exit 1; }
  as_postgres "$PG_BIN/psql" -h 127.0.0.1 -p "$port" -U postgres -qc "CREATE DATABASE charter" >/dev/null ||
    { log "FAIL: creating the database"; exit 1; }
  export CHARTER_TEST_POSTGRES="postgres://postgres@127.0.0.1:$port/charter?sslmode=disable"
  log "PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$port"
}

stop_postgres() {
  if [ -n "$PG_DATA" ] && [ -f "$PG_DATA/postmaster.pid" ]; then
    as_postgres "$PG_BIN/pg_ctl" -D "$PG_DATA" -m fast -w stop >/dev/null 2>&1 || true
  fi
}
