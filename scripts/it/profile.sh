#!/usr/bin/env bash
# Integration test for `charter profile` and `charter inspect`: the profiles run for real.
#
# A static probe (internal/runtime/profile/testdata/probe) is packed with /etc/passwd into
# a one-layer image (user "probe", resolved to 1000:1000 through the image's passwd). Then:
#   runc     charter profile --format oci → config.json; runc run the bundle, and again
#            in a user namespace (--userns 100000:65536)
#   dockerd  charter profile --format docker → run as a script against a private dockerd
#   compose  charter profile --format compose → docker-compose up
#   podman   the same docker flags under podman run
# Inside, the probe asserts uid ≠ 0, CapEff/CapPrm/CapBnd/CapAmb = 0, NoNewPrivs = 1,
# Seccomp = 2, a write to a world-writable directory of the root fails with EROFS, the
# tmpfs is writable, the seccomp profile narrowed by runtime.seccomp.deny denies
# getpriority, and a child that allocates 2 GiB is OOM-killed under the 64Mi limit. A
# weakened config.json makes the probe fail (so the probe can fail). `charter inspect` finds no drift in a container
# started with the profile's flags, and PRF findings (exit 1) in one started without.
#
#   scripts/it/profile.sh          # a missing tool skips, unless CI=true (then it fails)
#   KEEP=1 scripts/it/profile.sh   # leave the scratch directory for a look afterwards
set -euo pipefail
cd "$(dirname "$0")/../.."

DIR=$(mktemp -d /tmp/charter-it-profile.XXXXXX)
DOCKERD_PID=
PODMAN_PID=
RUNC_ROOT=$DIR/runc
PODMAN=(podman --root "$DIR/podman/root" --runroot "$DIR/podman/run" --cgroup-manager cgroupfs)

log() { printf 'it/profile: %s\n' "$*" >&2; }
# shellcheck source=lib/common.sh
. scripts/it/lib/common.sh

cleanup() {
  local rc=$?
  set +e
  for c in $(runc --root "$RUNC_ROOT" list -q 2>/dev/null); do runc --root "$RUNC_ROOT" delete -f "$c" >/dev/null 2>&1; done
  if [ -n "$PODMAN_PID" ]; then
    kill "$PODMAN_PID" 2>/dev/null || true
    wait "$PODMAN_PID" 2>/dev/null || true
  fi
  [ -d "$DIR/podman" ] && "${PODMAN[@]}" rm -f -a >/dev/null 2>&1
  if [ -n "$DOCKERD_PID" ] && kill -0 "$DOCKERD_PID" 2>/dev/null; then
    "$DOCKER" rm -f $("$DOCKER" ps -aq 2>/dev/null) >/dev/null 2>&1
    kill "$DOCKERD_PID" 2>/dev/null || true
    for _ in $(seq 1 30); do kill -0 "$DOCKERD_PID" 2>/dev/null || break; sleep 0.5; done
    kill -9 "$DOCKERD_PID" 2>/dev/null || true
  fi
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

fail() { log "FAIL: $*"; exit 1; }

# --- tools -----------------------------------------------------------------------------
[ "$(id -u)" = 0 ] || missing "runc and dockerd need root"
pkgs=()
command -v runc >/dev/null || pkgs+=(runc)
command -v dockerd >/dev/null || pkgs+=(docker.io)
command -v docker-compose >/dev/null || pkgs+=(docker-compose)
command -v podman >/dev/null || pkgs+=(podman)
if [ ${#pkgs[@]} -gt 0 ] && command -v apt-get >/dev/null; then
  log "installing ${pkgs[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >"$DIR/apt.log" 2>&1 \
    || { apt-get update -qq >>"$DIR/apt.log" 2>&1 && apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >>"$DIR/apt.log" 2>&1; } \
    || { tail -n 20 "$DIR/apt.log" >&2; missing "could not install ${pkgs[*]}"; }
fi
command -v runc >/dev/null || missing "runc not installed (apt-get install runc)"
command -v dockerd >/dev/null || missing "dockerd not installed (apt-get install docker.io)"
DOCKER=/usr/bin/docker
[ -x "$DOCKER" ] || DOCKER=$(command -v docker) || missing "no docker client"

# --- build: charter, the probe, its image ------------------------------------------------
log "building charter, the probe and its image"
go build -o "$DIR/charter" ./cmd/charter
CHARTER=$DIR/charter
ROOTFS=$DIR/rootfs
mkdir -p "$ROOTFS/etc" "$ROOTFS/tmp" "$ROOTFS/var/probe"
chmod 1777 "$ROOTFS/tmp"
chmod 0777 "$ROOTFS/var/probe" # world-writable: only the read-only mount can refuse a write
CGO_ENABLED=0 go build -o "$ROOTFS/probe" ./internal/runtime/profile/testdata/probe
printf 'root:x:0:0:root:/root:/sbin/nologin\nprobe:x:1000:1000:probe:/:/probe\n' >"$ROOTFS/etc/passwd"
printf 'root:x:0:\nprobe:x:1000:\n' >"$ROOTFS/etc/group"
go run ./internal/runtime/profile/testdata/mkimage -rootfs "$ROOTFS" -user probe -entrypoint /probe \
  -oci "$DIR/oci" -tar "$DIR/probe.tar" -tag charter-probe:it

cat >"$DIR/charter.yaml" <<'YAML'
version: 1
runtime:
  writable: [ /tmp ]
  limits: { memory: 64Mi, cpu: "0.5", pids: 64 }
  seccomp: { deny: [ getpriority ] }
YAML
PROFILE=("$CHARTER" profile --charter "$DIR/charter.yaml")

# expect_pass FILE: every probe check passed, the memory limit among them.
expect_pass() {
  grep -q '^FAIL' "$1" && { cat "$1" >&2; fail "$2: a probe check failed"; }
  for check in uid-nonroot capeff-zero capbnd-zero no-new-privs seccomp-filter root-readonly 'tmpfs-writable /tmp' 'seccomp-denies getpriority' memory-limit-oom-kill; do
    grep -q "^PASS $check\$" "$1" || { cat "$1" >&2; fail "$2: no PASS $check"; }
  done
  log "$2: $(grep -c '^PASS' "$1") probe checks passed"
}

# --- runc --------------------------------------------------------------------------------
BUNDLE=$DIR/bundle
mkdir -p "$BUNDLE/rootfs"
# The bundle's root is the image's own layer, unpacked from the OCI layout.
blob() { echo "$DIR/oci/blobs/sha256/${1#sha256:}"; }
manifest=$(grep -o 'sha256:[0-9a-f]\{64\}' "$DIR/oci/index.json" | head -n 1)
layer=$(grep -o '"layers":\[[^]]*' "$(blob "$manifest")" | grep -o 'sha256:[0-9a-f]\{64\}' | head -n 1)
tar -xzf "$(blob "$layer")" -C "$BUNDLE/rootfs" || fail "unpacking the image's layer $layer"
[ -x "$BUNDLE/rootfs/probe" ] || fail "the unpacked layer has no /probe"
"${PROFILE[@]}" "oci-dir:$DIR/oci" --format oci -q --output "$BUNDLE/config.json"
(cd "$BUNDLE" && runc --root "$RUNC_ROOT" run "charter-probe-$$") >"$DIR/runc.out" 2>&1 \
  || { cat "$DIR/runc.out" >&2; fail "runc run with charter's config.json"; }
expect_pass "$DIR/runc.out" runc

grep -q '^info uid_map=0 0 4294967295$' "$DIR/runc.out" || { cat "$DIR/runc.out" >&2; fail "runc: a user namespace without --userns"; }

# The same profile in a user namespace (--userns): the container's IDs are host IDs
# 100000 and up, every probe check still passes. The mapped root must reach the bundle.
USERNS_BUNDLE=$DIR/bundle-userns
mkdir -p "$USERNS_BUNDLE/rootfs"
chmod 0755 "$DIR" "$USERNS_BUNDLE"
tar -xzf "$(blob "$layer")" -C "$USERNS_BUNDLE/rootfs" || fail "unpacking the image's layer $layer"
# Shift the root filesystem's owners into the mapping (each ID + 100000), as Docker's
# userns-remap does with its layers: the mapped root creates the mount points.
find "$USERNS_BUNDLE/rootfs" -printf '%U %G %p\0' | while IFS=' ' read -r -d '' u g path; do
  chown -h "$((u + 100000)):$((g + 100000))" "$path"
done
"${PROFILE[@]}" "oci-dir:$DIR/oci" --format oci -q --userns 100000:65536 --output "$USERNS_BUNDLE/config.json"
(cd "$USERNS_BUNDLE" && runc --root "$RUNC_ROOT" run "charter-userns-$$") >"$DIR/userns.out" 2>&1 \
  || { cat "$DIR/userns.out" >&2; fail "runc run with charter's config.json and --userns"; }
expect_pass "$DIR/userns.out" "runc --userns"
grep -q '^info uid_map=0 100000 65536$' "$DIR/userns.out" || { cat "$DIR/userns.out" >&2; fail "runc --userns: the uid map is not 0 100000 65536"; }
log "runc --userns: uid 1000 inside is host uid 101000"

# A weakened spec (writable root, no no-new-privileges): the probe must notice.
sed -e 's/"readonly": true/"readonly": false/' -e 's/"noNewPrivileges": true/"noNewPrivileges": false/' "$BUNDLE/config.json" >"$DIR/weak.json"
cp "$DIR/weak.json" "$BUNDLE/config.json"
if (cd "$BUNDLE" && runc --root "$RUNC_ROOT" run "charter-weak-$$") >"$DIR/weak.out" 2>&1; then
  cat "$DIR/weak.out" >&2; fail "the probe passed a weakened spec"
fi
grep -q '^FAIL root-readonly' "$DIR/weak.out" && grep -q '^FAIL no-new-privs' "$DIR/weak.out" \
  || { cat "$DIR/weak.out" >&2; fail "the probe did not name the weakened settings"; }
log "runc: a weakened spec fails the probe"

# --- dockerd -----------------------------------------------------------------------------
export DOCKER_HOST="unix://$DIR/d.sock"
dockerd --host "$DOCKER_HOST" --data-root "$DIR/data" --exec-root "$DIR/exec" \
  --pidfile "$DIR/d.pid" --iptables=false --bridge=none >"$DIR/dockerd.log" 2>&1 &
DOCKERD_PID=$!
for _ in $(seq 1 60); do
  "$DOCKER" version >/dev/null 2>&1 && break
  kill -0 "$DOCKERD_PID" 2>/dev/null || { tail -n 30 "$DIR/dockerd.log" >&2; fail "dockerd exited"; }
  sleep 0.5
done
"$DOCKER" version >/dev/null 2>&1 || { tail -n 30 "$DIR/dockerd.log" >&2; fail "dockerd not answering"; }
"$DOCKER" load -i "$DIR/probe.tar" >/dev/null

RUN=$DIR/run
mkdir -p "$RUN"
"${PROFILE[@]}" docker:charter-probe:it --format docker >"$RUN/run.sh"
"${PROFILE[@]}" docker:charter-probe:it --format seccomp -q >"$RUN/seccomp.json"
# The script calls `docker`: the daemon's own client first on PATH.
(cd "$RUN" && PATH="$(dirname "$DOCKER"):$PATH" bash run.sh) >"$DIR/docker.out" 2>&1 \
  || { cat "$RUN/run.sh" "$DIR/docker.out" >&2; fail "docker run with charter's flags"; }
expect_pass "$DIR/docker.out" dockerd

# charter inspect: a container started with the profile's flags has no drift; one
# started with docker's defaults and an extra capability has.
sed -e 's/^docker run/docker run -d --name good/' -e '$ s/$/ sleep/' "$RUN/run.sh" >"$RUN/good.sh"
(cd "$RUN" && PATH="$(dirname "$DOCKER"):$PATH" bash good.sh) >/dev/null
"$CHARTER" inspect docker:good --charter "$DIR/charter.yaml" >"$DIR/inspect-good.out" \
  || { cat "$DIR/inspect-good.out" >&2; fail "charter inspect found drift in a container started with the profile"; }
"$DOCKER" run -d --name bad --cap-add SYS_ADMIN --security-opt seccomp=unconfined charter-probe:it sleep >/dev/null
set +e
"$CHARTER" inspect docker:bad --charter "$DIR/charter.yaml" -o json >"$DIR/inspect-bad.json"
rc=$?
set -e
[ "$rc" = 1 ] || { cat "$DIR/inspect-bad.json" >&2; fail "charter inspect docker:bad exited $rc, want 1"; }
for rule in PRF003 PRF004 PRF005 PRF006 PRF007; do
  grep -q "\"rule\": \"$rule\"" "$DIR/inspect-bad.json" || { cat "$DIR/inspect-bad.json" >&2; fail "inspect docker:bad: no $rule"; }
done
set +e
"$CHARTER" inspect docker:no-such-container >/dev/null 2>"$DIR/inspect-missing.err"
rc=$?
set -e
[ "$rc" = 2 ] || fail "inspect of a missing container exited $rc, want 2"
log "inspect: no drift with the profile, PRF003–PRF007 without (exit 1), a missing container exits 2"

# --- compose -----------------------------------------------------------------------------
if command -v docker-compose >/dev/null; then
  "${PROFILE[@]}" docker:charter-probe:it --format compose >"$RUN/compose.yaml"
  (cd "$RUN" && timeout 300 docker-compose -f compose.yaml -p charterit up --abort-on-container-exit --no-color) >"$DIR/compose.out" 2>&1 \
    || { cat "$RUN/compose.yaml" "$DIR/compose.out" >&2; fail "docker-compose up with charter's service"; }
  sed -E 's/^[^|]*\| ?//' "$DIR/compose.out" >"$DIR/compose.probe"
  grep -q 'exited with code 0' "$DIR/compose.out" || { cat "$DIR/compose.out" >&2; fail "compose: the probe failed"; }
  expect_pass "$DIR/compose.probe" compose
  (cd "$RUN" && docker-compose -f compose.yaml -p charterit down >/dev/null 2>&1) || true
else
  missing "docker-compose not installed (apt-get install docker-compose)"
fi

# --- podman ------------------------------------------------------------------------------
# The same `docker run` flags under Podman, then `charter inspect podman:` through Podman's
# Docker-compatible API. Podman raises RLIMIT_NOFILE to 1048576 by default, which needs
# CAP_SYS_RESOURCE above the caller's hard limit (a nested runtime may lack it): the
# ulimits below keep the defaults within reach; they are not part of the profile.
command -v podman >/dev/null || missing "podman not installed (apt-get install podman)"
PODMAN_RUN=("${PODMAN[@]}" run --ulimit nofile=1024:1024 --ulimit nproc=1024:1024)
"${PODMAN[@]}" load -i "$DIR/probe.tar" >/dev/null 2>&1 || fail "podman load"
podman_flags() { sed -n '/^docker run/,$p' "$RUN/run.sh" | sed -e '1d' -e 's/ *\\$//' -e 's/^ *//' | sed '$d'; }
mapfile -t FLAGS < <(podman_flags | xargs -n1 printf '%s\n')
(cd "$RUN" && "${PODMAN_RUN[@]}" --rm "${FLAGS[@]}" charter-probe:it) >"$DIR/podman.out" 2>&1 \
  || { cat "$DIR/podman.out" >&2; fail "podman run with charter's flags"; }
expect_pass "$DIR/podman.out" podman
(cd "$RUN" && "${PODMAN_RUN[@]}" -d --name pgood "${FLAGS[@]}" charter-probe:it sleep) >/dev/null
"${PODMAN_RUN[@]}" -d --name pbad --cap-add SYS_ADMIN charter-probe:it sleep >/dev/null
"${PODMAN[@]}" system service --time 0 "unix://$DIR/p.sock" >"$DIR/podman-service.log" 2>&1 &
PODMAN_PID=$!
for _ in $(seq 1 50); do [ -S "$DIR/p.sock" ] && break; sleep 0.2; done
CONTAINER_HOST="unix://$DIR/p.sock" "$CHARTER" inspect podman:pgood --charter "$DIR/charter.yaml" >"$DIR/inspect-pgood.out" \
  || { cat "$DIR/inspect-pgood.out" >&2; fail "charter inspect found drift in a Podman container started with the profile"; }
set +e
CONTAINER_HOST="unix://$DIR/p.sock" "$CHARTER" inspect podman:pbad --charter "$DIR/charter.yaml" -o json >"$DIR/inspect-pbad.json"
rc=$?
set -e
[ "$rc" = 1 ] && grep -q '"rule": "PRF004"' "$DIR/inspect-pbad.json" \
  || { cat "$DIR/inspect-pbad.json" >&2; fail "charter inspect podman:pbad exited $rc, want 1 with PRF004"; }
log "podman: the probe passes with the docker flags; inspect podman: finds no drift with them, PRF004 without"

# --- Kubernetes manifests ----------------------------------------------------------------
"${PROFILE[@]}" docker:charter-probe:it --format kubernetes >"$DIR/k8s.yaml"
"$CHARTER" inspect "$DIR/k8s.yaml" --charter "$DIR/charter.yaml" >/dev/null \
  || fail "charter inspect found drift in charter's own Kubernetes manifest"
set +e
"$CHARTER" inspect internal/runtime/inspect/testdata/risky.yaml --charter "$DIR/charter.yaml" >/dev/null
rc=$?
set -e
[ "$rc" = 1 ] || fail "charter inspect risky.yaml exited $rc, want 1"
log "kubernetes: charter's manifest has no drift, risky.yaml fails"
log "PASS"
