#!/usr/bin/env bash
# The admission webhook end to end with the real charter binary: Debian's docker-registry
# on 127.0.0.1, images pushed with crane and signed with charter, `charter admission
# certs` for TLS, `charter admission serve` in the background, and curl posting
# AdmissionReviews to it the way the API server would (HTTPS, the caBundle as the only
# trust, the service's DNS name). Checks:
#   - a signed, hardened pod is admitted; /mutate pins its tag to the verified digest
#   - an unsigned image, a :latest tag, root, a Docker socket mount are denied, each with
#     the reason and the fix
#   - a namespace with its own keys admits its team's image, which no other namespace
#     does, and refuses an image signed with the cluster key
#   - malformed input gets HTTP 400
#   - the certificate is rotated on disk and the new one is served without a restart
#   - with the registry down, an unchecked image is denied (fail closed) except in the
#     namespace whose failure policy is open; cached verdicts still answer
#   - /metrics, the audit log (one JSON line per decision, no secret), SIGTERM exits 0
#   - --inventory: the admitted image, added to a SQLite inventory beforehand, is listed
#     as running where it was admitted (the PostgreSQL path is in scripts/it/inventory.sh);
#     the team's image, never added, is listed by `inventory list --unrecorded`
#
#   scripts/it/admission.sh          # a missing tool skips, unless CI=true (then it fails)
#   KEEP=1 scripts/it/admission.sh   # leave the scratch directory for a look afterwards
set -euo pipefail
shopt -s lastpipe # `… | check`: the counters live in this shell, not a subshell
cd "$(dirname "$0")/../.."
# shellcheck source=lib/registry.sh
. scripts/it/lib/registry.sh

GGCR_VERSION=v0.22.1
CACHE=${CHARTER_IT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/charter-it}
DIR=$(mktemp -d /tmp/charter-it-admission.XXXXXX)
REGISTRY_PID=
SERVE_PID=
PASSED=0
FAILED=0

log() { printf 'it/admission: %s\n' "$*" >&2; }
# shellcheck source=lib/common.sh
. scripts/it/lib/common.sh

cleanup() {
  local rc=$?
  set +e
  for pid in "$SERVE_PID" "$REGISTRY_PID"; do
    if [ -n "$pid" ]; then
      kill "$pid" 2>/dev/null || true
      wait "$pid" 2>/dev/null || true
    fi
  done
  if [ "${KEEP:-}" = 1 ]; then log "kept $DIR"; else rm -rf "$DIR" 2>/dev/null || true; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- tools -----------------------------------------------------------------------------
apt_install() { # PACKAGE COMMAND
  command -v "$2" >/dev/null && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    log "installing $1"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -qq --no-install-recommends "$1" >"$DIR/apt.log" 2>&1 \
      || { apt-get update -qq >>"$DIR/apt.log" 2>&1 && apt-get install -y -qq --no-install-recommends "$1" >>"$DIR/apt.log" 2>&1; } \
      || { tail -n 20 "$DIR/apt.log" >&2; missing "could not install $1"; }
  fi
  command -v "$2" >/dev/null || missing "$2 not installed (apt-get install $1)"
}
apt_install docker-registry docker-registry
apt_install curl curl

CRANE=$CACHE/crane-$GGCR_VERSION/crane
if [ ! -x "$CRANE" ]; then
  log "installing crane $GGCR_VERSION (first run only)"
  mkdir -p "$(dirname "$CRANE")"
  tmp=$(mktemp -d "$CACHE/crane.tmp.XXXXXX")
  GOBIN=$tmp GOFLAGS=-trimpath go install "github.com/google/go-containerregistry/cmd/crane@$GGCR_VERSION" >"$DIR/crane-install.log" 2>&1 \
    && mv "$tmp/crane" "$CRANE" || { tail -n 20 "$DIR/crane-install.log" >&2; rm -rf "$tmp"; missing "could not go install crane"; }
  rm -rf "$tmp"
fi

log "building charter"
go build -o "$DIR/charter" ./cmd/charter
CHARTER=$DIR/charter

# --- registry and images ---------------------------------------------------------------
REG=127.0.0.1:$(free_port 17000 17499)
start_registry "$DIR" "$REG"
log "registry on $REG"
export HOME=$DIR/home DOCKER_CONFIG=$DIR/home/.docker
mkdir -p "$HOME" "$DOCKER_CONFIG"
cd "$DIR"

push() { # REPO:TAG -> pushes a one-file image, prints REG/REPO:TAG
  mkdir -p "l-$1"
  printf 'charter admission image %s\n' "$1" >"l-$1/hello.txt"
  tar -C "l-$1" -cf "l-$1.tar" hello.txt
  "$CRANE" append --insecure -f "l-$1.tar" -t "$REG/$1" >/dev/null 2>"crane.log" \
    || { cat crane.log >&2; log "FAIL: crane append"; exit 1; }
  echo "$REG/$1"
}
export CHARTER_PASSWORD=charter-it-password
"$CHARTER" keygen >/dev/null
SIGNED=$(push shop/web:1.0)
UNSIGNED=$(push shop/unsigned:1.0)
LATEST=$(push shop/web:latest)
LATER=$(push shop/later:1.0) # signed, and first asked for while the registry is down
for img in "$SIGNED" "$LATEST" "$LATER"; do
  "$CHARTER" sign --key cosign.key --insecure-registry "$REG" "$img" >/dev/null
done
# the payments team signs with its own key, which counts in its namespaces only
"$CHARTER" keygen --output-key-prefix payments >/dev/null
PAYMENTS=$(push payments/api:1.0)
"$CHARTER" sign --key payments.key --insecure-registry "$REG" "$PAYMENTS" >/dev/null

# --- the webhook -----------------------------------------------------------------------
cat >charter.yaml <<'YAML'
version: 1
signing:
  keys: [./cosign.pub]
admission:
  timeout: 1s
  namespaces:
    - { namespaces: [legacy], failurePolicy: open }
    - { namespaces: [payments], keys: [./payments.pub] }
YAML
SVC=charter-admission NS=charter-system
"$CHARTER" admission certs --service $SVC --namespace $NS --out tls >cabundle 2>certs.log
"$CHARTER" inventory add --db inventory.db --insecure-registry "$REG" "registry:$SIGNED" >/dev/null
PORT=$(free_port 17500 17999)
"$CHARTER" admission serve --listen "127.0.0.1:$PORT" --tls-cert tls/tls.crt --tls-key tls/tls.key \
  --charter charter.yaml --insecure-registry "$REG" --tls-reload-interval 1s \
  --inventory inventory.db --cluster it >audit.log 2>serve.log &
SERVE_PID=$!
HOST=$SVC.$NS.svc
URL=https://$HOST:$PORT
# curl as the API server: trust only the caBundle, call the service's DNS name.
base64 -d cabundle >apiserver-ca.crt
kcurl() { curl -sS --max-time 20 --cacert apiserver-ca.crt --resolve "$HOST:$PORT:127.0.0.1" "$@"; }
for _ in $(seq 1 100); do
  kcurl -f "$URL/healthz" >/dev/null 2>&1 && break
  kill -0 "$SERVE_PID" 2>/dev/null || { cat serve.log >&2; log "FAIL: serve exited"; exit 1; }
  sleep 0.1
done

# review NAMESPACE IMAGE [POD-SECURITY-CONTEXT] [EXTRA-SPEC] [ENV] : an AdmissionReview
# for a Pod
review() {
  local ns=$1 image=$2
  local psc=${3:-'"runAsNonRoot":true,"runAsUser":65532,"seccompProfile":{"type":"RuntimeDefault"}'}
  local extra=${4:-} env=${5:-}
  cat <<JSON
{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"uid-$RANDOM",
 "kind":{"group":"","version":"v1","kind":"Pod"},"resource":{"group":"","version":"v1","resource":"pods"},
 "namespace":"$ns","operation":"CREATE","userInfo":{"username":"it"},
 "object":{"apiVersion":"v1","kind":"Pod","metadata":{"name":"web","namespace":"$ns"},"spec":{$extra
  "securityContext":{$psc},
  "containers":[{"name":"web","image":"$image","env":[$env],
   "resources":{"limits":{"cpu":"500m","memory":"128Mi"}},
   "securityContext":{"allowPrivilegeEscalation":false,"readOnlyRootFilesystem":true,"capabilities":{"drop":["ALL"]}}}]}}}}
JSON
}
post() { # ENDPOINT : body on stdin, response on stdout
  kcurl -H 'Content-Type: application/json' --data-binary @- "$URL/$1"
}

check() { # NAME PATTERN... : stdin must contain every pattern
  local name=$1 out
  shift
  out=$(cat)
  for p in "$@"; do
    if ! grep -qF -- "$p" <<<"$out"; then
      FAILED=$((FAILED + 1))
      printf 'FAIL %s: no %q in\n    %s\n' "$name" "$p" "${out:0:600}"
      return
    fi
  done
  PASSED=$((PASSED + 1))
  printf 'PASS %s\n' "$name"
}

# --- checks ----------------------------------------------------------------------------
review shop "$SIGNED" | post validate | check "signed, hardened pod admitted" '"allowed":true'
review shop "$SIGNED" | post mutate | check "mutate pins the verified digest" '"allowed":true' '"patchType":"JSONPatch"' '"patch":'
review shop "$SIGNED" | post mutate | grep -o '"patch":"[^"]*"' | cut -d'"' -f4 | base64 -d \
  | check "the patch replaces the tag with tag@digest" '"op":"replace"' '"path":"/spec/containers/0/image"' "\"value\":\"$SIGNED@sha256:"
review shop "$UNSIGNED" | post validate | check "unsigned image denied, with the fix" '"allowed":false' \
  "image $UNSIGNED is not signed by any key in charter.yaml signing.keys" "charter sign --key cosign.key $UNSIGNED"
review payments "$PAYMENTS" | post validate | check "per-namespace keys: the team's image admitted in its namespace" '"allowed":true'
review shop "$PAYMENTS" | post validate | check "per-namespace keys: the team's key counts nowhere else" '"allowed":false' \
  "image $PAYMENTS is not signed by any key in charter.yaml signing.keys"
review payments "$SIGNED" | post validate | check "per-namespace keys: the cluster key does not count there" '"allowed":false' \
  "image $SIGNED is not signed by any key in charter.yaml admission.namespaces[1].keys"
review shop "$LATEST" | post validate | check ":latest denied" '"allowed":false' 'MAN008' 'uses :latest'
review shop "$SIGNED" '"seccompProfile":{"type":"RuntimeDefault"}' | post validate \
  | check "root denied" '"allowed":false' 'MAN003' 'runAsNonRoot'
review shop "$SIGNED" "" '"volumes":[{"name":"d","hostPath":{"path":"/var/run/docker.sock"}}],' | post validate \
  | check "docker socket denied" '"allowed":false' 'MAN001' 'fix:'
review shop "$SIGNED" '' '' '{"name":"API_TOKEN","value":"ghp_abcdefghijklmnopqrstuvwxyz0123456789"}' | post validate \
  | check "secret literal in env denied" '"allowed":false' 'MAN011' 'API_TOKEN'
printf '{"apiVersion":"admission.k8s.io/v1","kind":' | kcurl -o /dev/null -w '%{http_code}\n' -H 'Content-Type: application/json' --data-binary @- "$URL/validate" \
  | check "malformed JSON gets HTTP 400" 400
review shop "$SIGNED" | sed 's|admission.k8s.io/v1|admission.k8s.io/v1beta1|' \
  | kcurl -o /dev/null -w '%{http_code}\n' -H 'Content-Type: application/json' --data-binary @- "$URL/validate" \
  | check "v1beta1 review gets HTTP 400" 400

# Certificate rotation: new CA and cert on disk, served within the reload interval.
mkdir -p tls2
"$CHARTER" admission certs --service $SVC --namespace $NS --out tls2 >cabundle2 2>/dev/null
cp tls2/tls.key tls/tls.key.new && cp tls2/tls.crt tls/tls.crt.new
mv tls/tls.crt.new tls/tls.crt && mv tls/tls.key.new tls/tls.key
base64 -d cabundle2 >apiserver-ca2.crt
ok=no
for _ in $(seq 1 50); do
  if curl -sSf --max-time 5 --cacert apiserver-ca2.crt --resolve "$HOST:$PORT:127.0.0.1" "$URL/healthz" >/dev/null 2>&1; then ok=yes; break; fi
  sleep 0.1
done
echo "$ok" | check "rotated certificate served without a restart" yes
cp apiserver-ca2.crt apiserver-ca.crt

# Registry down: the cached verdict still answers; an unchecked image fails closed,
# except in the namespace that fails open.
kill "$REGISTRY_PID" && wait "$REGISTRY_PID" 2>/dev/null || true
REGISTRY_PID=
review shop "$SIGNED" | post validate | check "registry down: cached verdict admits" '"allowed":true'
review shop "$LATER" | post validate | check "registry down: unchecked image denied (fail closed)" '"allowed":false' 'failurePolicy closed'
review legacy "$LATER" | post validate | check "registry down: fail-open namespace admits with a warning" '"allowed":true' 'admitted unchecked (failurePolicy open)'

kcurl "$URL/metrics" | check "metrics" 'charter_admission_decisions_total{decision="allow",endpoint="validate"}' \
  'charter_admission_decisions_total{decision="error",endpoint="validate"} 2' 'charter_admission_cache_total{result="hit"}' \
  'charter_admission_registry_errors_total' 'charter_admission_request_duration_seconds_bucket' \
  'charter_admission_inventory_writes_total{result="ok"} 2' 'charter_admission_inventory_dropped_total 0'

kill -TERM "$SERVE_PID"
rc=0
wait "$SERVE_PID" || rc=$?
SERVE_PID=
echo "exit $rc" | check "SIGTERM: graceful exit 0" "exit 0"
"$CHARTER" inventory list --db inventory.db | check "inventory: the admitted image runs where it was admitted" \
  "$SIGNED" 'it/shop/Pod/web (web)' '1 image(s)'
"$CHARTER" inventory list --db inventory.db --unrecorded | check "inventory: the team's image, never added, is a blind spot" \
  'it/payments/Pod/web (web)' '1 place(s) run an image that is not in the inventory'
"$CHARTER" inventory prune --db inventory.db --unseen-for 1h | check "inventory prune: a place seen now stays" 'forgot 0 place(s)'
lines=$(grep -c '"msg":"admission"' audit.log || true)
echo "audit lines $lines" | check "one audit line per decision" "audit lines 16"
if grep -q 'ghp_abcdefghij' audit.log serve.log; then
  FAILED=$((FAILED + 1)); echo "FAIL the audit log carries the pod's secret env value"
else
  PASSED=$((PASSED + 1)); echo "PASS no secret in the audit log"
fi

log "$PASSED passed, $FAILED failed"
[ "$FAILED" = 0 ]
