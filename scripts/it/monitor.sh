#!/usr/bin/env bash
# Integration test for `charter monitor` against real containers under a private dockerd:
# one container misbehaves (a shell, a binary copied in and run, a script of the image
# rewritten and run, a connection outside the egress allowlist, a write below /etc, a read
# of /etc/shadow) and must raise RT001–RT005; a well-behaved one must raise nothing. Then
# enforcement (--enforce kill), the proc connector fallback, and a plain runc container
# whose bundle carries containerd's Kubernetes annotations (pod, namespace and container
# names in the alerts, --container by namespace/pod/container, a modified file found by
# its size), and a container under a private containerd with the same annotations (names
# from the shim's state, RT002 against the snapshotter's layers). Needs root (eBPF).
# Installs what it needs, stops what it starts.
#
#   scripts/it/monitor.sh          # a missing tool skips, unless CI=true (then it fails)
#   KEEP=1 scripts/it/monitor.sh   # leave the scratch directory for a look afterwards
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=lib/dockerd.sh
. scripts/it/lib/dockerd.sh

DIR=$(mktemp -d /tmp/charter-it-monitor.XXXXXX)
DOCKERD_PID= # set by start_dockerd, read by stop_dockerd
export DOCKERD_PID
MON_PID=
RUNC_ID=charter-it-mon-$$
CTRD_PID=
CTR_ID=charter-it-ctr-$$
IMG=charter-it/busybox-monitor:1

log() { printf 'it/monitor: %s\n' "$*" >&2; }
# shellcheck source=lib/common.sh
. scripts/it/lib/common.sh
fail() { log "FAIL: $*"; exit 1; }
# ctr_ talks to the private containerd (started near the end), in the CRI's namespace.
ctr_() { ctr -a "$DIR/ctrd/c.sock" -n k8s.io "$@"; }

cleanup() {
  local rc=$?
  set +e
  [ -n "$MON_PID" ] && kill "$MON_PID" 2>/dev/null && wait "$MON_PID" 2>/dev/null
  runc delete -f "$RUNC_ID" >/dev/null 2>&1
  if [ -n "$CTRD_PID" ]; then
    ctr_ tasks kill -s KILL "$CTR_ID" >/dev/null 2>&1
    for _ in $(seq 1 20); do ctr_ tasks rm "$CTR_ID" >/dev/null 2>&1 && break; sleep 0.2; done
    ctr_ containers rm "$CTR_ID" >/dev/null 2>&1
    kill "$CTRD_PID" 2>/dev/null && wait "$CTRD_PID" 2>/dev/null
  fi
  stop_dockerd "$DIR"
  if [ "${KEEP:-}" = 1 ]; then log "kept $DIR"; else rm -rf "$DIR" 2>/dev/null; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

[ "$(id -u)" = 0 ] || missing "the monitor's eBPF programs need root"
need_install=0
for tool in dockerd runc busybox containerd ctr; do command -v "$tool" >/dev/null || need_install=1; done
if [ "$need_install" = 1 ] && command -v apt-get >/dev/null; then
  log "installing docker.io, runc, containerd, busybox-static"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq --no-install-recommends docker.io runc containerd busybox-static >"$DIR/apt.log" 2>&1 \
    || { apt-get update -qq >>"$DIR/apt.log" 2>&1 && apt-get install -y -qq --no-install-recommends docker.io runc containerd busybox-static >>"$DIR/apt.log" 2>&1; } \
    || { tail -n 20 "$DIR/apt.log" >&2; missing "could not install docker.io runc containerd busybox-static"; }
fi
command -v dockerd >/dev/null || missing "dockerd not installed (apt-get install docker.io)"
command -v busybox >/dev/null || missing "busybox not installed (apt-get install busybox-static)"

start_dockerd "$DIR"
log "dockerd on $DOCKER_HOST"
busybox_image "$DIR" "$IMG"
# One more executable that is a file of its own (busybox's applets are links to one
# binary): a script the misbehaving containers rewrite in place (RT002, modified).
mkdir -p "$DIR/busybox-rootfs/usr/local/bin"
printf '#!/bin/sh\necho hello\n' >"$DIR/busybox-rootfs/usr/local/bin/greet"
chmod 755 "$DIR/busybox-rootfs/usr/local/bin/greet"
tar -C "$DIR/busybox-rootfs" -cf "$DIR/busybox-rootfs.tar" .
docker import --change 'CMD ["/bin/sleep", "600"]' "$DIR/busybox-rootfs.tar" "$IMG" >/dev/null
go build -o "$DIR/charter" ./cmd/charter
export CHARTER_CACHE_DIR=$DIR/cache

# Both containers have a network namespace of their own with only loopback (--network
# none): the listeners run inside them, so connections stay on this machine.
good=$(docker run -d --network none --name mon-good "$IMG")
bad=$(docker run -d --network none --name mon-bad "$IMG")
docker exec -d mon-good nc -lk -p 8080
docker exec -d mon-bad nc -lk -p 9999
cat >"$DIR/charter.yaml" <<YAML
version: 1
runtime:
  egress: ["127.0.0.1:8080"]
monitor:
  exceptions:
    - rule: RT005
      container: mon-good
      process: cat
      reason: the well-behaved container's health check reads a sensitive file on purpose
YAML

# start_monitor NAME ARGS...: runs charter monitor in the background, output in $DIR/NAME.*
start_monitor() {
  local name=$1
  shift
  "$DIR/charter" monitor --charter "$DIR/charter.yaml" --format jsonl "$@" \
    >"$DIR/$name.jsonl" 2>"$DIR/$name.err" &
  MON_PID=$!
  for _ in $(seq 1 100); do
    grep -q 'watching' "$DIR/$name.err" 2>/dev/null && return 0
    kill -0 "$MON_PID" 2>/dev/null || { cat "$DIR/$name.err" >&2; fail "charter monitor exited at start"; }
    sleep 0.1
  done
  fail "charter monitor did not start"
}

# stop_monitor WANT_EXIT: SIGINT, then checks the exit code and the counts line.
stop_monitor() {
  local rc=0
  kill -INT "$MON_PID"
  wait "$MON_PID" || rc=$?
  MON_PID=
  [ "$rc" = "$1" ] || { cat "$DIR"/*.err >&2; fail "charter monitor exited $rc, want $1"; }
}

# alert FILE RULE CONTAINER TEXT: FILE has an alert of RULE for CONTAINER mentioning TEXT.
alert() {
  grep "\"rule\":\"$2\"" "$DIR/$1.jsonl" | grep -F "\"container.id\":\"${3:0:12}" | grep -qF -- "$4"
}

# wait_alert FILE RULE CONTAINER TEXT SECONDS: waits for the alert, prints the wait in ms.
wait_alert() {
  local start end
  start=$(date +%s%N)
  while ! alert "$1" "$2" "$3" "$4"; do
    end=$(date +%s%N)
    [ $(((end - start) / 1000000)) -lt $(($5 * 1000)) ] || { cat "$DIR/$1.jsonl" "$DIR/$1.err" >&2; fail "no $2 alert with \"$4\" within $5 s"; }
    sleep 0.02
  done
  echo $((($(date +%s%N) - start) / 1000000))
}

# --- detection -------------------------------------------------------------------------
start_monitor detect --container mon-good --container mon-bad
# Give RT002 the image's file index (loaded in the background at start).
sleep 2

# The well-behaved container: programs from its image, the allowed destination, its
# accepted read.
docker exec mon-good ls / >/dev/null
docker exec mon-good /usr/local/bin/greet >/dev/null
docker exec mon-good nc -w 1 127.0.0.1 8080 </dev/null 2>/dev/null || true
docker exec mon-good cat /etc/shadow >/dev/null

# RT001: a shell, reported within 1 s of `docker exec` returning.
docker exec mon-bad sh -c 'id >/dev/null'
ms=$(wait_alert detect RT001 "$bad" '"proc.cmdline":"sh -c id >/dev/null"' 1)
log "RT001 (shell) reported ${ms} ms after docker exec returned"
# RT002: a binary copied in at run time, then run.
docker exec mon-bad cp /bin/busybox /tmp/busybox
docker exec mon-bad /tmp/busybox true
wait_alert detect RT002 "$bad" '"proc.exepath":"/tmp/busybox"' 5 >/dev/null
alert detect RT002 "$bad" '"evt.drift":"new"' || fail "RT002 for /tmp/busybox does not say new"
# RT002 again: a program of the image rewritten in place (it is in the image's file
# index, but the container's overlay upper layer holds a copy written since it started).
docker exec mon-bad sh -c 'printf "#!/bin/sh\necho pwned\n" >/usr/local/bin/greet'
docker exec mon-bad /usr/local/bin/greet >/dev/null
wait_alert detect RT002 "$bad" '"evt.drift":"modified"' 5 >/dev/null
alert detect RT002 "$bad" '"proc.exepath":"/usr/local/bin/greet"' || fail "RT002 (modified) names another file"
# RT003: a connection to a loopback port the allowlist does not name.
docker exec mon-bad nc -w 1 127.0.0.1 9999 </dev/null 2>/dev/null || true
wait_alert detect RT003 "$bad" '"fd.name":"127.0.0.1:9999"' 5 >/dev/null
# RT004: a write below /etc (the container's root filesystem is writable).
docker exec -i mon-bad tee /etc/charter-was-here </dev/null >/dev/null
wait_alert detect RT004 "$bad" '"fd.name":"/etc/charter-was-here"' 5 >/dev/null
# RT004 by a relative path from /etc, by a process gone long before anyone could look at
# its /proc entry: the kernel side reads the working directory.
docker exec -i -w /etc mon-bad tee relative-write </dev/null >/dev/null
wait_alert detect RT004 "$bad" '"fd.name":"/etc/relative-write"' 5 >/dev/null
# RT005: a read of /etc/shadow.
docker exec mon-bad cat /etc/shadow >/dev/null
wait_alert detect RT005 "$bad" '"fd.name":"/etc/shadow"' 5 >/dev/null
alert detect RT001 "$bad" '"container.name":"mon-bad"' || fail "alerts do not carry the container's name"
alert detect RT001 "$bad" '"container.image.repository":"charter-it/busybox-monitor"' || fail "alerts do not carry the image"
sleep 0.5
stop_monitor 1
if grep -q "\"container.id\":\"${good:0:12}\"" "$DIR/detect.jsonl"; then
  grep "\"container.id\":\"${good:0:12}\"" "$DIR/detect.jsonl" >&2
  fail "the well-behaved container raised alerts"
fi
counts=$(grep 'charter monitor: [0-9]* events' "$DIR/detect.err") || fail "no counts line"
log "${counts#charter monitor: }"
echo "$counts" | grep -q ' 1 excepted' || fail "the good container's accepted read was not counted as excepted"
echo "$counts" | grep -qE '\(RT001 [0-9]+, RT002 [0-9]+, RT003 [0-9]+, RT004 [0-9]+, RT005 [0-9]+\)' || fail "counts miss a rule: $counts"
echo "$counts" | grep -q ' 0 dropped' || log "warning: events were dropped: $counts"

# --- no engine to ask --------------------------------------------------------------------
# Without the engine there is no image to index: RT002 compares with the container's own
# overlay layers (the lower directories of its root mount) instead.
DOCKER_HOST=unix:///nonexistent/docker.sock start_monitor noengine --container "$bad"
docker exec mon-bad ls / >/dev/null
docker exec mon-bad /usr/local/bin/greet >/dev/null
wait_alert noengine RT002 "$bad" '"evt.drift":"modified"' 5 >/dev/null
docker exec mon-bad /tmp/busybox true
wait_alert noengine RT002 "$bad" '"proc.exepath":"/tmp/busybox"' 5 >/dev/null
stop_monitor 1
alert noengine RT002 "$bad" '"proc.exepath":"/bin/ls"' && fail "RT002 without the engine for /bin/ls, which the image holds"
grep '"evt.drift":"modified"' "$DIR/noengine.jsonl" | grep -qF '"proc.exepath":"/usr/local/bin/greet"' || fail "RT002 (modified) without the engine names another file"
log "without the engine: RT002 new and modified against the container's overlay layers"

# --- enforcement -----------------------------------------------------------------------
start_monitor enforce --container mon-bad --enforce kill
rc=0
start=$(date +%s)
docker exec mon-bad sh -c 'sleep 5; echo survived' >"$DIR/enforce.out" || rc=$?
took=$(($(date +%s) - start))
stop_monitor 1
if [ "$rc" != 137 ] || [ -s "$DIR/enforce.out" ] || [ "$took" -ge 5 ]; then
  fail "--enforce kill: the shell exited $rc after ${took}s, printing '$(cat "$DIR/enforce.out")'"
fi
alert enforce RT001 "$bad" '"enforced":"killed"' || fail "--enforce kill: the alert does not say killed"
log "--enforce kill: the shell was killed (exit 137) and the alert says so"

# --- fallback --------------------------------------------------------------------------
start_monitor fallback --container mon-bad --source proc
grep -q 'no connect events (RT003 off)' "$DIR/fallback.err" || fail "the fallback does not say what it loses"
docker exec mon-bad sh -c 'sleep 0.5'
wait_alert fallback RT001 "$bad" '"proc.name":"sh"' 2 >/dev/null
stop_monitor 1
log "proc connector fallback: RT001 seen, and the warning names what is lost"
# --- a plain runc container --------------------------------------------------------------
# No engine to ask: the container is known by its runc ID, and --image names the image
# (the pristine root filesystem; the container runs on a copy of it). Its bundle carries
# the annotations containerd's CRI plugin writes for a container in a pod; runc records
# them in its state (/run/runc/ID/state.json), where the monitor reads the pod's names.
command -v runc >/dev/null || missing "runc not installed (apt-get install runc)"
mkdir -p "$DIR/bundle"
cp -a "$DIR/busybox-rootfs" "$DIR/bundle/rootfs"
pod=etl-28391040-kq5zt
(cd "$DIR/bundle" && runc spec && sed -i 's/"terminal": true/"terminal": false/; s/"readonly": true/"readonly": false/; s/"sh"$/"sleep", "600"/' config.json &&
  sed -i "s|^\t\"ociVersion\": \(.*\)|\t\"ociVersion\": \1\n\t\"annotations\": {\"io.kubernetes.cri.container-type\": \"container\", \"io.kubernetes.cri.sandbox-name\": \"$pod\", \"io.kubernetes.cri.sandbox-namespace\": \"batch\", \"io.kubernetes.cri.container-name\": \"extract\", \"io.kubernetes.cri.image-name\": \"registry.example.com/batch/etl:7\"},|" config.json)
grep -q '"sleep", "600"' "$DIR/bundle/config.json" || fail "could not write the runc bundle's command"
grep -q '"io.kubernetes.cri.sandbox-name"' "$DIR/bundle/config.json" || fail "could not write the runc bundle's annotations"
# Selected by its Kubernetes names, not its ID.
start_monitor runc --container "batch/$pod/extract" --image "dir:$DIR/busybox-rootfs"
(cd "$DIR/bundle" && runc run -d "$RUNC_ID" >/dev/null)
runc exec "$RUNC_ID" sh -c 'cp /bin/busybox /tmp/busybox && /tmp/busybox true'
wait_alert runc RT001 "$RUNC_ID" '"container.runtime":"runc"' 2 >/dev/null
wait_alert runc RT002 "$RUNC_ID" '"proc.exepath":"/tmp/busybox"' 5 >/dev/null
for want in "\"k8s.pod.name\":\"$pod\"" '"k8s.ns.name":"batch"' '"container.name":"extract"' \
  '"container.image.repository":"registry.example.com/batch/etl"'; do
  alert runc RT001 "$RUNC_ID" "$want" || { cat "$DIR/runc.jsonl" >&2; fail "the runc container's alert lacks $want"; }
done
# A script of the image rewritten in place: the root is a plain directory, not overlay,
# so the file's size is compared with the image's.
runc exec "$RUNC_ID" sh -c 'printf "#!/bin/sh\necho pwned, longer\n" >/usr/local/bin/greet'
runc exec "$RUNC_ID" /usr/local/bin/greet >/dev/null
wait_alert runc RT002 "$RUNC_ID" '"evt.drift":"modified"' 5 >/dev/null
stop_monitor 1
alert runc RT002 "$RUNC_ID" '"proc.exepath":"/bin/cp"' && fail "RT002 for /bin/cp, which the image holds"
grep '"evt.drift":"modified"' "$DIR/runc.jsonl" | grep -qF '"proc.exepath":"/usr/local/bin/greet"' || fail "RT002 (modified) in the runc container names another file"
log "runc container $RUNC_ID: RT001 and RT002 (new and modified, against --image dir:…), runtime runc, pod batch/$pod container extract"
# --- a container under containerd --------------------------------------------------------
# A private containerd (its own root, state and socket; the CRI plugin off), the image
# imported from the engine, a container run with the annotations containerd's CRI plugin
# writes for a container in a pod. No engine knows it and no --image is given: its names
# come from the shim's runc state, and RT002 compares with the overlay snapshotter's
# layers (the lower directories of its root mount).
{ command -v containerd && command -v ctr; } >/dev/null || missing "containerd/ctr not installed (apt-get install containerd)"
mkdir -p "$DIR/ctrd"
cat >"$DIR/ctrd/config.toml" <<TOML
version = 2
root = "$DIR/ctrd/root"
state = "$DIR/ctrd/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$DIR/ctrd/c.sock"
[ttrpc]
  address = "$DIR/ctrd/c.sock.ttrpc"
TOML
containerd --config "$DIR/ctrd/config.toml" >"$DIR/ctrd/log" 2>&1 &
CTRD_PID=$!
for _ in $(seq 1 60); do ctr_ version >/dev/null 2>&1 && break; sleep 0.25; done
ctr_ version >/dev/null 2>&1 || { tail -n 20 "$DIR/ctrd/log" >&2; fail "containerd did not start"; }
docker save "$IMG" -o "$DIR/image.tar"
ctr_ images import "$DIR/image.tar" >/dev/null
cpod=web-7d9f8c6b5-x2x4q
start_monitor containerd --container "shop/$cpod/nginx"
ctr_ run -d \
  --annotation io.kubernetes.cri.container-type=container \
  --annotation io.kubernetes.cri.sandbox-name=$cpod \
  --annotation io.kubernetes.cri.sandbox-namespace=shop \
  --annotation io.kubernetes.cri.sandbox-uid=5f0c2e1a-9b7d-4c3e-8f21-6a4d3b2c1e0f \
  --annotation io.kubernetes.cri.container-name=nginx \
  --annotation io.kubernetes.cri.image-name=registry.example.com/shop/web:1.25.3 \
  "docker.io/$IMG" "$CTR_ID" >/dev/null
ctr_ tasks exec --exec-id ls "$CTR_ID" ls / >/dev/null
ctr_ tasks exec --exec-id write "$CTR_ID" sh -c 'printf "#!/bin/sh\necho pwned\n" >/usr/local/bin/greet'
ctr_ tasks exec --exec-id greet "$CTR_ID" /usr/local/bin/greet >/dev/null
wait_alert containerd RT002 "$CTR_ID" '"evt.drift":"modified"' 5 >/dev/null
for want in "\"k8s.pod.name\":\"$cpod\"" '"k8s.ns.name":"shop"' '"container.name":"nginx"' \
  '"container.runtime":"containerd"' '"k8s.pod.uid":"5f0c2e1a-9b7d-4c3e-8f21-6a4d3b2c1e0f"' \
  '"container.image.repository":"registry.example.com/shop/web"'; do
  alert containerd RT002 "$CTR_ID" "$want" || { cat "$DIR/containerd.jsonl" >&2; fail "the containerd container's alert lacks $want"; }
done
stop_monitor 1
grep '"evt.drift":"modified"' "$DIR/containerd.jsonl" | grep -qF '"proc.exepath":"/usr/local/bin/greet"' || fail "RT002 (modified) in the containerd container names another file"
alert containerd RT002 "$CTR_ID" '"proc.exepath":"/bin/ls"' && fail "RT002 for /bin/ls, which the image's layers hold"
log "containerd container $CTR_ID: pod shop/$cpod container nginx from the shim's state, RT002 modified against the snapshotter's layers"
log "passed"
