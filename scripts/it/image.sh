#!/usr/bin/env bash
# Integration tests for internal/image against real servers: Debian's docker-registry on
# 127.0.0.1 and a private dockerd (its own socket, data and exec roots; no iptables, no
# bridge). It installs what it needs (idempotently), builds the fixture images locally
# from scratch and a busybox rootfs (no public registry is used), pushes them to the
# registry and into a private Podman store (served by `podman system service`), runs the
# Go integration tests, and stops everything it started on exit.
#
#   scripts/it/image.sh          # a missing tool skips, unless CI=true (then it fails)
#   KEEP=1 scripts/it/image.sh   # leave the scratch directory for a look afterwards
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=lib/registry.sh
. scripts/it/lib/registry.sh

DIR=$(mktemp -d /tmp/charter-it-image.XXXXXX)
FIX=internal/image/testdata/it
DOCKERD_PID=
REGISTRY_PID=
PODMAN_PID=

log() { printf 'it/image: %s\n' "$*" >&2; }
# shellcheck source=lib/common.sh
. scripts/it/lib/common.sh

cleanup() {
  local rc=$?
  set +e
  if [ -n "$DOCKERD_PID" ] && kill -0 "$DOCKERD_PID" 2>/dev/null; then
    kill "$DOCKERD_PID" 2>/dev/null || true
    for _ in $(seq 1 30); do kill -0 "$DOCKERD_PID" 2>/dev/null || break; sleep 0.5; done
    kill -9 "$DOCKERD_PID" 2>/dev/null || true
  fi
  if [ -n "$PODMAN_PID" ]; then
    kill "$PODMAN_PID" 2>/dev/null || true
    wait "$PODMAN_PID" 2>/dev/null || true
  fi
  if [ -n "$REGISTRY_PID" ]; then
    kill "$REGISTRY_PID" 2>/dev/null || true
    wait "$REGISTRY_PID" 2>/dev/null || true
  fi
  # dockerd unmounts its layers on a clean stop; anything left under DIR goes now.
  unmount_under "$DIR"
  if [ "${KEEP:-}" = 1 ]; then
    log "kept $DIR"
  else
    rm -rf "$DIR" 2>/dev/null || true
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- tools -----------------------------------------------------------------------------
need_install=0
for tool in dockerd docker-registry busybox podman; do command -v "$tool" >/dev/null || need_install=1; done
if [ "$need_install" = 1 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    log "installing docker.io, docker-registry, busybox-static"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -qq --no-install-recommends docker.io docker-registry busybox-static podman >"$DIR/apt.log" 2>&1 \
      || { apt-get update -qq >>"$DIR/apt.log" 2>&1 && apt-get install -y -qq --no-install-recommends docker.io docker-registry busybox-static podman >>"$DIR/apt.log" 2>&1; } \
      || { tail -n 20 "$DIR/apt.log" >&2; missing "could not install docker.io docker-registry busybox-static podman"; }
  fi
fi
command -v dockerd >/dev/null || missing "dockerd not installed (apt-get install docker.io)"
command -v docker-registry >/dev/null || missing "docker-registry not installed (apt-get install docker-registry)"
command -v podman >/dev/null || missing "podman not installed (apt-get install podman)"
BUSYBOX=$(command -v busybox || true)
[ -n "$BUSYBOX" ] || missing "busybox not installed (apt-get install busybox-static)"
# The client that ships with the daemon: it still has the classic builder, which needs no
# buildx plugin.
DOCKER=/usr/bin/docker
[ -x "$DOCKER" ] || DOCKER=$(command -v docker) || missing "no docker client"

# --- registry --------------------------------------------------------------------------
PORT=$(free_port 15000 15999)
REGISTRY=127.0.0.1:$PORT
start_registry "$DIR" "$REGISTRY"
log "registry on $REGISTRY"

# --- dockerd ---------------------------------------------------------------------------
export DOCKER_HOST=unix://$DIR/d.sock
dockerd --host "$DOCKER_HOST" --data-root "$DIR/data" --exec-root "$DIR/exec" \
  --pidfile "$DIR/d.pid" --iptables=false --bridge=none >"$DIR/dockerd.log" 2>&1 &
DOCKERD_PID=$!
for _ in $(seq 1 120); do
  "$DOCKER" version >/dev/null 2>&1 && break
  kill -0 "$DOCKERD_PID" 2>/dev/null || { tail -n 30 "$DIR/dockerd.log" >&2; log "FAIL: dockerd exited"; exit 1; }
  sleep 0.5
done
"$DOCKER" version >/dev/null 2>&1 || { tail -n 30 "$DIR/dockerd.log" >&2; log "FAIL: dockerd not answering"; exit 1; }
log "dockerd on $DOCKER_HOST"

# --- fixtures --------------------------------------------------------------------------
# The secrets are fakes, written here rather than committed, so the repository itself
# carries no key-shaped files.
leaky=$DIR/ctx-leaky
mkdir -p "$leaky/rootfs/bin" "$leaky/rootfs/etc" "$leaky/rootfs/tmp"
cp "$BUSYBOX" "$leaky/rootfs/bin/busybox"
ln -s busybox "$leaky/rootfs/bin/sh"
printf 'root:x:0:0:root:/root:/bin/sh\n' >"$leaky/rootfs/etc/passwd"
printf 'DATABASE_PASSWORD=charter-fake-password-123\n' >"$leaky/.env"
{ echo '-----BEGIN OPENSSH PRIVATE KEY-----'
  head -c 300 /dev/urandom | base64
  echo '-----END OPENSSH PRIVATE KEY-----'; } >"$leaky/id_rsa"
cp "$FIX/leaky/Dockerfile" "$leaky/Dockerfile"
clean=$DIR/ctx-clean
mkdir -p "$clean"
printf 'hello from a clean image\n' >"$clean/hello.txt"
cp "$FIX/clean/Dockerfile" "$clean/Dockerfile"

export DOCKER_BUILDKIT=0
for name in leaky clean; do
  "$DOCKER" build -q -t "charter-it/$name:1" "$DIR/ctx-$name" >"$DIR/build-$name.log" 2>&1 \
    || { cat "$DIR/build-$name.log" >&2; log "FAIL: docker build $name"; exit 1; }
  "$DOCKER" tag "charter-it/$name:1" "$REGISTRY/charter-it/$name:1"
  "$DOCKER" push -q "$REGISTRY/charter-it/$name:1" >"$DIR/push-$name.log" 2>&1 \
    || { cat "$DIR/push-$name.log" >&2; log "FAIL: docker push $name"; exit 1; }
done
"$DOCKER" save -o "$DIR/leaky.tar" charter-it/leaky:1
log "fixtures built: charter-it/leaky:1, charter-it/clean:1"

# --- podman ----------------------------------------------------------------------------
# A private store (vfs: no kernel overlay needed), used by both the API service and the
# CLI through CONTAINERS_STORAGE_CONF.
cat >"$DIR/storage.conf" <<CONF
[storage]
driver = "vfs"
graphroot = "$DIR/podman/root"
runroot = "$DIR/podman/run"
CONF
export CONTAINERS_STORAGE_CONF=$DIR/storage.conf
podman load -q -i "$DIR/leaky.tar" >"$DIR/podman-load.log" 2>&1 \
  || { cat "$DIR/podman-load.log" >&2; log "FAIL: podman load"; exit 1; }
podman system service --time=0 "unix://$DIR/p.sock" >"$DIR/podman.log" 2>&1 &
PODMAN_PID=$!
for _ in $(seq 1 50); do
  curl -fsS --unix-socket "$DIR/p.sock" http://podman/_ping >/dev/null 2>&1 && break
  kill -0 "$PODMAN_PID" 2>/dev/null || { cat "$DIR/podman.log" >&2; log "FAIL: podman service exited"; exit 1; }
  sleep 0.2
done
curl -fsS --unix-socket "$DIR/p.sock" http://podman/_ping >/dev/null || { cat "$DIR/podman.log" >&2; log "FAIL: podman service not answering"; exit 1; }
log "podman service on unix://$DIR/p.sock"

# --- tests -----------------------------------------------------------------------------
export CHARTER_IT_REGISTRY=$REGISTRY
export CHARTER_IT_DOCKER_HOST=$DOCKER_HOST
export CHARTER_IT_PODMAN_HOST=unix://$DIR/p.sock
export CHARTER_IT_ARCHIVE=$DIR/leaky.tar
export CHARTER_IT_ROOTFS=$leaky/rootfs
export CHARTER_CACHE_DIR=$DIR/cache
go test -count=1 -run 'Integration' -v ./internal/image/ 2>&1 | tee "$DIR/go-test.log" | grep -E '^(=== RUN|--- |\s+\S+_test.go|ok|FAIL|PASS)' || true
grep -q '^ok' "$DIR/go-test.log" || { log "FAIL: integration tests"; exit 1; }
grep -q -- '--- SKIP' "$DIR/go-test.log" && { log "FAIL: an integration test skipped with its servers running"; exit 1; }
log "integration tests passed"

# --- charter scan ----------------------------------------------------------------------
# The same fixtures through the CLI: exit codes, the planted problems, and no secret in
# the output. Built once rather than `go run`, which turns every non-zero exit into 1.
go build -o "$DIR/charter" ./cmd/charter
# scan runs every scanner by default; vuln needs a database: the bundled OSV snapshot.
"$DIR/charter" db update --no-progress --offline --source examples/osv >/dev/null
scan() { # scan NAME WANT_EXIT ARGS...: runs charter scan -o json, keeps the report in $DIR/scan-NAME.json
  local name=$1 want=$2 rc=0
  shift 2
  "$DIR/charter" scan --no-progress -o json "$@" >"$DIR/scan-$name.json" 2>"$DIR/scan-$name.err" || rc=$?
  if [ "$rc" != "$want" ]; then
    cat "$DIR/scan-$name.err" >&2
    log "FAIL: charter scan $* exited $rc, want $want"
    exit 1
  fi
}
finds() { # finds NAME RULE TEXT: the report has a finding of RULE whose message contains TEXT
  grep -q "\"rule\": \"$2\"" "$DIR/scan-$1.json" &&
    grep -A10 "\"rule\": \"$2\"" "$DIR/scan-$1.json" | grep -qF -- "$3" ||
    { log "FAIL: scan $1: no $2 finding with \"$3\""; exit 1; }
}
leaky_refs=("registry:$REGISTRY/charter-it/leaky:1" "docker:charter-it/leaky:1" "docker-archive:$DIR/leaky.tar")
for i in "${!leaky_refs[@]}"; do
  ref=${leaky_refs[$i]}
  scan "leaky$i" 1 "$ref" --insecure-registry "$REGISTRY"
  finds "leaky$i" IMG001 "sets no user"
  finds "leaky$i" IMG002 "Env API_TOKEN"
  finds "leaky$i" IMG003 "/root/.ssh/id_rsa"
  finds "leaky$i" IMG004 "/app/.env"
  finds "leaky$i" IMG005 "/bin/busybox is setuid root"
  finds "leaky$i" IMG007 "port 22/tcp"
  finds "leaky$i" IMG007 "/usr/sbin/sshd"
  grep -q '"layerIndex"' "$DIR/scan-leaky$i.json" || { log "FAIL: scan $ref: findings name no layer"; exit 1; }
  if grep -qE 'charter-fake-password-123|ghp_charterFakeToken' "$DIR/scan-leaky$i.json" "$DIR/scan-leaky$i.err"; then
    log "FAIL: scan $ref printed a planted secret"
    exit 1
  fi
  log "charter scan $ref: exit 1, planted problems found"
done
for ref in "registry:$REGISTRY/charter-it/clean:1" "docker:charter-it/clean:1"; do
  scan clean 0 "$ref" --insecure-registry "$REGISTRY" --fail-on low
  log "charter scan $ref: exit 0"
done
scan missing 2 "registry:$REGISTRY/charter-it/missing:1" --insecure-registry "$REGISTRY"
[ "$(wc -l <"$DIR/scan-missing.err")" = 1 ] || { cat "$DIR/scan-missing.err" >&2; log "FAIL: a missing image is not one line on stderr"; exit 1; }
scan plainhttp 2 "registry:$REGISTRY/charter-it/leaky:1"
grep -q -- "--insecure-registry" "$DIR/scan-plainhttp.err" || { log "FAIL: plain HTTP refusal does not name --insecure-registry"; exit 1; }
log "charter scan: exit codes and findings as expected"
