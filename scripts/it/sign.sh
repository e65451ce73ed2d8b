#!/usr/bin/env bash
# Interoperability of charter's signing with the real cosign, both ways, against Debian's
# docker-registry on 127.0.0.1 (a registry without the OCI referrers API, so bundles go
# to the sha256-<hex> index tag). It installs what it needs once (cosign v2 and v3 and
# crane with `go install` into a cache directory; docker-registry with apt-get), builds
# charter, and checks:
#   - charter keys are loaded by cosign, and cosign keys by charter
#   - charter-signed images verify with `cosign verify --key … --insecure-ignore-tlog`
#   - cosign-signed images (v2 classic, v3 bundle) verify with `charter verify`
#   - attestations both ways (`cosign verify-attestation --type …`, `charter verify-attestation`)
#   - a wrong key is refused by both
# Every check prints one line; the last line counts them. Everything started is stopped on
# exit.
#
#   scripts/it/sign.sh           # a missing tool skips, unless CI=true (then it fails)
#   KEEP=1 scripts/it/sign.sh    # leave the scratch directory for a look afterwards
#   CHARTER_IT_CACHE=DIR         # where the tools are cached (default ~/.cache/charter-it)
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=lib/registry.sh
. scripts/it/lib/registry.sh

COSIGN2_VERSION=v2.6.5
COSIGN3_VERSION=v3.1.3
GGCR_VERSION=v0.22.1
CACHE=${CHARTER_IT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/charter-it}
DIR=$(mktemp -d /tmp/charter-it-sign.XXXXXX)
REGISTRY_PID=
PASSED=0
FAILED=0

log() { printf 'it/sign: %s\n' "$*" >&2; }
# shellcheck source=lib/common.sh
. scripts/it/lib/common.sh

cleanup() {
  local rc=$?
  set +e
  if [ -n "$REGISTRY_PID" ]; then
    kill "$REGISTRY_PID" 2>/dev/null || true
    wait "$REGISTRY_PID" 2>/dev/null || true
  fi
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
# go install into a per-version directory, once; a half-built binary never lands there.
install_go_tool() { # DIR PACKAGE@VERSION NAME
  local dir=$1 pkg=$2 name=$3
  if [ -x "$dir/$name" ]; then return 0; fi
  mkdir -p "$dir"
  log "installing $pkg (first run only; this takes a few minutes)"
  local tmp
  tmp=$(mktemp -d "$dir.tmp.XXXXXX")
  if GOBIN=$tmp GOFLAGS=-trimpath go install "$pkg" >"$DIR/install-$name.log" 2>&1; then
    mv "$tmp/$name" "$dir/$name"
    rm -rf "$tmp"
  else
    rm -rf "$tmp"
    tail -n 20 "$DIR/install-$name.log" >&2
    missing "could not go install $pkg"
  fi
}
install_go_tool "$CACHE/cosign-$COSIGN2_VERSION" "github.com/sigstore/cosign/v2/cmd/cosign@$COSIGN2_VERSION" cosign
install_go_tool "$CACHE/cosign-$COSIGN3_VERSION" "github.com/sigstore/cosign/v3/cmd/cosign@$COSIGN3_VERSION" cosign
install_go_tool "$CACHE/crane-$GGCR_VERSION" "github.com/google/go-containerregistry/cmd/crane@$GGCR_VERSION" crane
COSIGN2=$CACHE/cosign-$COSIGN2_VERSION/cosign
COSIGN3=$CACHE/cosign-$COSIGN3_VERSION/cosign
CRANE=$CACHE/crane-$GGCR_VERSION/crane
"$COSIGN2" version 2>&1 | grep -q "${COSIGN2_VERSION#v}" || missing "$COSIGN2 is not cosign $COSIGN2_VERSION"
"$COSIGN3" version 2>&1 | grep -q "${COSIGN3_VERSION#v}" || missing "$COSIGN3 is not cosign $COSIGN3_VERSION"

if ! command -v docker-registry >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    log "installing docker-registry"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -qq --no-install-recommends docker-registry >"$DIR/apt.log" 2>&1 \
      || { apt-get update -qq >>"$DIR/apt.log" 2>&1 && apt-get install -y -qq --no-install-recommends docker-registry >>"$DIR/apt.log" 2>&1; } \
      || { tail -n 20 "$DIR/apt.log" >&2; missing "could not install docker-registry"; }
  fi
fi
command -v docker-registry >/dev/null || missing "docker-registry not installed (apt-get install docker-registry)"

log "building charter"
go build -o "$DIR/charter" ./cmd/charter
CHARTER=$DIR/charter

# --- registry --------------------------------------------------------------------------
PORT=$(free_port 16000 16999)
REG=127.0.0.1:$PORT
start_registry "$DIR" "$REG"
log "registry on $REG"

# cosign and crane keep their state here, not in the user's home.
export HOME=$DIR/home DOCKER_CONFIG=$DIR/home/.docker TUF_ROOT=$DIR/home/.sigstore/root
mkdir -p "$HOME" "$DOCKER_CONFIG"
cd "$DIR"

# --- fixtures --------------------------------------------------------------------------
# One image per check, each with its own content, so no check sees another's signatures.
N=0
# new_image sets img to a fresh REG/it/imgN:1 with its own content. It runs in
# this shell (not in $(...)), so N really advances and no two images share a
# digest, however fast they are made.
new_image() {
  N=$((N + 1))
  mkdir -p "layer$N"
  printf 'charter interop image %d\n' "$N" >"layer$N/hello.txt"
  tar -C "layer$N" -cf "layer$N.tar" hello.txt
  "$CRANE" append --insecure -f "layer$N.tar" -t "$REG/it/img$N:1" >/dev/null 2>"crane$N.log" \
    || { cat "crane$N.log" >&2; log "FAIL: crane append"; exit 1; }
  img="$REG/it/img$N:1"
}

PW=charter-interop-password
export CHARTER_PASSWORD=$PW COSIGN_PASSWORD=$PW
mkdir -p keys
(cd keys && "$CHARTER" keygen --output-key-prefix charter >/dev/null)
(cd keys && "$COSIGN2" generate-key-pair --output-key-prefix cosign2 >/dev/null 2>&1)
(cd keys && "$COSIGN3" generate-key-pair --output-key-prefix cosign3 >/dev/null 2>&1)
# cosign v3 signs offline with a signing config that names no services.
"$COSIGN3" signing-config create --out signing-config.json >/dev/null 2>&1 \
  || { log "FAIL: cosign signing-config create"; exit 1; }
cat >bom.json <<'JSON'
{"bomFormat":"CycloneDX","specVersion":"1.6","version":1,"components":[{"type":"library","name":"openssl","version":"3.0.11"}]}
JSON

# --- checks ----------------------------------------------------------------------------
check() { # NAME CMD... : the command must succeed
  local name=$1
  shift
  if "$@" >"$DIR/out.log" 2>&1; then
    PASSED=$((PASSED + 1))
    printf 'PASS %s\n' "$name"
  else
    FAILED=$((FAILED + 1))
    printf 'FAIL %s\n' "$name"
    sed 's/^/    /' "$DIR/out.log" | tail -n 15
  fi
}
refuse() { # NAME CODE CMD... : the command must fail (with exit CODE when CODE is not "-")
  local name=$1 want=$2
  shift 2
  local rc=0
  "$@" >"$DIR/out.log" 2>&1 || rc=$?
  if [ "$rc" != 0 ] && { [ "$want" = - ] || [ "$rc" = "$want" ]; }; then
    PASSED=$((PASSED + 1))
    printf 'PASS %s (refused, exit %s)\n' "$name" "$rc"
  else
    FAILED=$((FAILED + 1))
    printf 'FAIL %s (exit %s, want %s)\n' "$name" "$rc" "$want"
    sed 's/^/    /' "$DIR/out.log" | tail -n 15
  fi
}

C=("$CHARTER")
CI_REG=(--insecure-registry "$REG")
# cosign verifies offline with a key: no transparency log, plain HTTP to the loopback
# registry. v2 needs a trusted root only when it finds bundles; an empty one holds no
# authorities, so only the key can vouch.
cat >trusted-root.json <<'JSON'
{"mediaType":"application/vnd.dev.sigstore.trustedroot+json;version=0.1"}
JSON
V2=("$COSIGN2" verify --insecure-ignore-tlog --allow-http-registry)
V3=("$COSIGN3" verify --insecure-ignore-tlog --allow-http-registry)
VA2=("$COSIGN2" verify-attestation --insecure-ignore-tlog --allow-http-registry)
VA3=("$COSIGN3" verify-attestation --insecure-ignore-tlog --allow-http-registry)

echo "--- charter signs, cosign verifies"
new_image
check "charter sign --format classic (charter key)" "${C[@]}" sign --key keys/charter.key --format classic "$img" "${CI_REG[@]}"
check "cosign $COSIGN2_VERSION verify: charter classic signature" "${V2[@]}" --key keys/charter.pub "$img"
check "cosign $COSIGN3_VERSION verify: charter classic signature" "${V3[@]}" --key keys/charter.pub "$img"
refuse "cosign $COSIGN2_VERSION verify: charter signature, wrong key" - "${V2[@]}" --key keys/cosign2.pub "$img"

new_image
check "charter sign --format bundle (charter key)" "${C[@]}" sign --key keys/charter.key --format bundle "$img" "${CI_REG[@]}"
check "cosign $COSIGN3_VERSION verify: charter bundle (index-tag fallback)" "${V3[@]}" --key keys/charter.pub "$img"
check "cosign $COSIGN2_VERSION verify --new-bundle-format: charter bundle" "${V2[@]}" --new-bundle-format --trusted-root trusted-root.json --key keys/charter.pub "$img"
refuse "cosign $COSIGN3_VERSION verify: charter bundle, wrong key" - "${V3[@]}" --key keys/cosign3.pub "$img"

new_image
check "charter sign --format both with a cosign $COSIGN2_VERSION key" "${C[@]}" sign --key keys/cosign2.key "$img" "${CI_REG[@]}"
check "cosign $COSIGN2_VERSION verify: charter both-layouts signature" "${V2[@]}" --trusted-root trusted-root.json --key keys/cosign2.pub "$img"
check "cosign $COSIGN3_VERSION verify: charter both-layouts signature" "${V3[@]}" --key keys/cosign2.pub "$img"

echo "--- cosign signs, charter verifies"
new_image
check "cosign $COSIGN2_VERSION sign (classic, cosign key)" "$COSIGN2" sign --yes --tlog-upload=false --allow-http-registry --key keys/cosign2.key "$img"
check "charter verify: cosign $COSIGN2_VERSION classic signature" "${C[@]}" verify --key keys/cosign2.pub --layout classic "$img" "${CI_REG[@]}"
refuse "charter verify: cosign $COSIGN2_VERSION signature, wrong key" 1 "${C[@]}" verify --key keys/charter.pub "$img" "${CI_REG[@]}"

new_image
check "cosign $COSIGN2_VERSION sign (classic, charter key)" "$COSIGN2" sign --yes --tlog-upload=false --allow-http-registry --key keys/charter.key "$img"
check "charter verify: cosign signature by a charter key" "${C[@]}" verify --key keys/charter.pub "$img" "${CI_REG[@]}"

new_image
check "cosign $COSIGN3_VERSION sign (bundle, cosign key)" "$COSIGN3" sign --yes --allow-http-registry --signing-config signing-config.json --key keys/cosign3.key "$img"
check "charter verify: cosign $COSIGN3_VERSION bundle (index-tag fallback)" "${C[@]}" verify --key keys/cosign3.pub --layout bundle "$img" "${CI_REG[@]}"
refuse "charter verify: cosign $COSIGN3_VERSION bundle, wrong key" 1 "${C[@]}" verify --key keys/cosign2.pub "$img" "${CI_REG[@]}"

new_image
check "cosign $COSIGN3_VERSION sign (bundle, charter key)" "$COSIGN3" sign --yes --allow-http-registry --signing-config signing-config.json --key keys/charter.key "$img"
check "charter verify: cosign $COSIGN3_VERSION bundle by a charter key" "${C[@]}" verify --key keys/charter.pub "$img" "${CI_REG[@]}"

echo "--- attestations: charter attests, cosign verifies"
new_image
check "charter attest --type cyclonedx --format classic" "${C[@]}" attest --key keys/charter.key --type cyclonedx --predicate bom.json --format classic "$img" "${CI_REG[@]}"
check "cosign $COSIGN2_VERSION verify-attestation --type cyclonedx: charter classic" "${VA2[@]}" --type cyclonedx --key keys/charter.pub "$img"
check "cosign $COSIGN3_VERSION verify-attestation --type cyclonedx: charter classic" "${VA3[@]}" --type cyclonedx --key keys/charter.pub "$img"
new_image
check "charter attest --type cyclonedx --format bundle" "${C[@]}" attest --key keys/charter.key --type cyclonedx --predicate bom.json --format bundle "$img" "${CI_REG[@]}"
check "cosign $COSIGN3_VERSION verify-attestation --type cyclonedx: charter bundle" "${VA3[@]}" --type cyclonedx --key keys/charter.pub "$img"
check "cosign $COSIGN2_VERSION verify-attestation --new-bundle-format: charter bundle" "${VA2[@]}" --new-bundle-format --trusted-root trusted-root.json --type cyclonedx --key keys/charter.pub "$img"
refuse "cosign $COSIGN3_VERSION verify-attestation: wrong predicate type" - "${VA3[@]}" --type spdxjson --key keys/charter.pub "$img"

echo "--- attestations: cosign attests, charter verifies"
new_image
check "cosign $COSIGN2_VERSION attest --type cyclonedx (classic)" "$COSIGN2" attest --yes --tlog-upload=false --allow-http-registry --type cyclonedx --predicate bom.json --key keys/cosign2.key "$img"
check "charter verify-attestation --type cyclonedx: cosign $COSIGN2_VERSION classic" "${C[@]}" verify-attestation --key keys/cosign2.pub --type cyclonedx "$img" "${CI_REG[@]}"
refuse "charter verify-attestation: cosign attestation, wrong type" 1 "${C[@]}" verify-attestation --key keys/cosign2.pub --type spdx "$img" "${CI_REG[@]}"
new_image
check "cosign $COSIGN3_VERSION attest --type cyclonedx (bundle)" "$COSIGN3" attest --yes --allow-http-registry --signing-config signing-config.json --type cyclonedx --predicate bom.json --key keys/cosign3.key "$img"
check "charter verify-attestation --type cyclonedx: cosign $COSIGN3_VERSION bundle" "${C[@]}" verify-attestation --key keys/cosign3.pub --type cyclonedx --layout bundle "$img" "${CI_REG[@]}"

echo "--- the verdict and promotion"
new_image
digest=$("$CRANE" digest --insecure "$img")
printf '{"schema":"charter.report/v1","tool":{"name":"charter","version":"it"},"target":{"kind":"image","ref":"%s","digest":"%s"},"findings":[],"summary":{"CRITICAL":0,"HIGH":0,"MEDIUM":0,"LOW":0,"INFO":0,"suppressed":0},"verdict":{"pass":true,"failOn":"HIGH"}}\n' "$img" "$digest" >report.json
check "charter sign + attest --type verdict" sh -c "'$CHARTER' sign --key keys/charter.key '$img' --insecure-registry '$REG' && '$CHARTER' attest --key keys/charter.key --type verdict --predicate report.json '$img' --insecure-registry '$REG'"
check "cosign $COSIGN2_VERSION verify-attestation --type <charter verdict URI>" "${VA2[@]}" --trusted-root trusted-root.json --type https://github.com/charterhq/charter/attestation/verdict/v1 --key keys/charter.pub "$img"
check "charter verify-attestation --type verdict --fail-on high --max-age 7d" "${C[@]}" verify-attestation --key keys/charter.pub --type verdict --fail-on high --max-age 7d "$img" "${CI_REG[@]}"
check "charter promote to stable" "${C[@]}" promote --key keys/charter.pub --max-age 7d "$img" stable "${CI_REG[@]}"
check "cosign $COSIGN2_VERSION verify the promoted tag" "${V2[@]}" --trusted-root trusted-root.json --key keys/charter.pub "${img%:1}:stable"
new_image; unsigned=$img
refuse "charter promote refuses an unsigned image" 1 "${C[@]}" promote --key keys/charter.pub "$unsigned" stable "${CI_REG[@]}"

echo "--- wall time, charter beside cosign $COSIGN2_VERSION on the same image (median of 5, ms)"
ms() { local t0 t1; t0=$(date +%s%N); "$@" >/dev/null 2>&1 || return 1; t1=$(date +%s%N); echo $(((t1 - t0) / 1000000)); }
median5() { # CMD... : median wall time of 5 runs
  local i runs=()
  for i in 1 2 3 4 5; do runs+=("$(ms "$@" || echo fail)"); done
  printf '%s\n' "${runs[@]}" | sort -n | sed -n 3p
}
new_image
c_sign=$(median5 "${C[@]}" sign --key keys/charter.key --format classic "$img" "${CI_REG[@]}")
k_sign=$(median5 "$COSIGN2" sign --yes --tlog-upload=false --allow-http-registry --key keys/cosign2.key "$img")
c_verify=$(median5 "${C[@]}" verify --key keys/charter.pub --layout classic "$img" "${CI_REG[@]}")
k_verify=$(median5 "${V2[@]}" --key keys/cosign2.pub "$img")
printf 'sign+push (classic): charter %s ms, cosign %s ms\n' "$c_sign" "$k_sign"
printf 'verify (classic):    charter %s ms, cosign %s ms\n' "$c_verify" "$k_verify"

echo "$PASSED passed, $FAILED failed"
[ "$FAILED" = 0 ]
