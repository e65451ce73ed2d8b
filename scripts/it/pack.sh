#!/usr/bin/env bash
# charter pack against a real registry and the real cosign: Debian's docker-registry on
# 127.0.0.1 (no OCI referrers API) and cosign v2.6.5 (cached by scripts/it/sign.sh,
# installed when missing). Checks:
#   - `charter pack --push --key` of examples/poster: cosign verifies the image's
#     signature, its CycloneDX attestation and its SLSA v1 provenance attestation;
#   - a two-platform pack pushes an index whose arm64 image charter reads back, with the
#     program and user it packed;
#   - packing the same source again gives the same digest.
# A missing tool skips, unless CI=true (then it fails).
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=lib/registry.sh
. scripts/it/lib/registry.sh

COSIGN_VERSION=v2.6.5
CACHE=${CHARTER_IT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/charter-it}
COSIGN=$CACHE/cosign-$COSIGN_VERSION/cosign
DIR=$(mktemp -d /tmp/charter-it-pack.XXXXXX)
REGISTRY_PID=
log() { printf 'it/pack: %s\n' "$*" >&2; }
# shellcheck source=lib/common.sh
. scripts/it/lib/common.sh
cleanup() {
  local rc=$?
  set +e
  [ -z "$REGISTRY_PID" ] || { kill "$REGISTRY_PID" 2>/dev/null; wait "$REGISTRY_PID" 2>/dev/null; }
  rm -rf "$DIR"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
fail() { log "FAIL: $*"; exit 1; }

if ! command -v docker-registry >/dev/null && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  log "installing docker-registry"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends docker-registry >"$DIR/apt.log" 2>&1 \
    || { apt-get update -qq >>"$DIR/apt.log" 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends docker-registry >>"$DIR/apt.log" 2>&1; } || true
fi
command -v docker-registry >/dev/null || missing "docker-registry not installed (apt-get install docker-registry)"
if [ ! -x "$COSIGN" ]; then
  log "installing cosign $COSIGN_VERSION (first run only)"
  mkdir -p "$(dirname "$COSIGN")"
  GOBIN=$(dirname "$COSIGN") GOFLAGS=-trimpath go install "github.com/sigstore/cosign/v2/cmd/cosign@$COSIGN_VERSION" >"$DIR/cosign.log" 2>&1 || true
fi
[ -x "$COSIGN" ] || missing "cosign $COSIGN_VERSION could not be installed"

go build -o "$DIR/charter" ./cmd/charter
C=$DIR/charter
PORT=$(free_port 17000 17999)
REG=127.0.0.1:$PORT
start_registry "$DIR" "$REG"
export CHARTER_PASSWORD=pack-it COSIGN_PASSWORD=pack-it SOURCE_DATE_EPOCH=1700000000
export HOME=$DIR/home DOCKER_CONFIG=$DIR/home/.docker TUF_ROOT=$DIR/home/.sigstore/root CHARTER_CACHE_DIR=$DIR/cache
mkdir -p "$HOME" "$DOCKER_CONFIG"
(cd "$DIR" && "$C" keygen --output-key-prefix release >/dev/null)
echo '{"mediaType":"application/vnd.dev.sigstore.trustedroot+json;version=0.1"}' >"$DIR/trusted-root.json"

ref=$("$C" pack ./examples/poster --push "$REG/poster:v1" --key "$DIR/release.key" --insecure-registry "$REG" 2>"$DIR/pack.log") \
  || { cat "$DIR/pack.log"; fail "charter pack --push --key"; }
log "pushed and signed $ref"
V=(--insecure-ignore-tlog --allow-http-registry --key "$DIR/release.pub")
"$COSIGN" verify "${V[@]}" --trusted-root "$DIR/trusted-root.json" "$ref" >/dev/null 2>"$DIR/v.log" || { cat "$DIR/v.log"; fail "cosign verify"; }
"$COSIGN" verify-attestation "${V[@]}" --trusted-root "$DIR/trusted-root.json" --type cyclonedx "$ref" >/dev/null 2>"$DIR/v.log" \
  || { cat "$DIR/v.log"; fail "cosign verify-attestation --type cyclonedx"; }
"$COSIGN" verify-attestation "${V[@]}" --trusted-root "$DIR/trusted-root.json" --type slsaprovenance1 "$ref" >/dev/null 2>"$DIR/v.log" \
  || { cat "$DIR/v.log"; fail "cosign verify-attestation --type slsaprovenance1"; }
log "cosign $COSIGN_VERSION verifies the signature, the SBOM and the SLSA provenance"

# The revision annotation follows HEAD: in a tree others commit to, compare two packs
# made while HEAD stood still.
same=0
for _ in 1 2 3; do
  head=$(git rev-parse HEAD)
  one=$("$C" pack ./examples/poster --push "$REG/poster:r1" --insecure-registry "$REG" 2>/dev/null) || fail "pack"
  two=$("$C" pack ./examples/poster --push "$REG/poster:r2" --insecure-registry "$REG" 2>/dev/null) || fail "pack"
  [ "$(git rev-parse HEAD)" = "$head" ] || continue
  [ "${one#*@}" = "${two#*@}" ] || fail "the same source packed twice: ${one#*@} then ${two#*@}"
  same=1
  break
done
[ "$same" = 1 ] || log "HEAD moved during every attempt: the same-digest check was not made"

idx=$("$C" pack ./examples/poster --platform linux/amd64,linux/arm64 --push "$REG/poster:multi" --insecure-registry "$REG" 2>/dev/null) \
  || fail "two-platform pack"
# From the scratch folder: the repository's own charter.yaml is not the poster's contract.
cd "$DIR"
"$C" scan "registry:$REG/poster:multi" --platform linux/arm64 --insecure-registry "$REG" --scanners config,secret,file \
  --fail-on info -o json --output "$DIR/arm64.json" || fail "the arm64 image of $idx does not pass charter's image checks at INFO"
"$C" sbom "registry:$REG/poster:multi" --platform linux/arm64 --insecure-registry "$REG" >"$DIR/sbom.txt" || fail "sbom of the arm64 image"
grep -q stdlib "$DIR/sbom.txt" || { cat "$DIR/sbom.txt"; fail "the arm64 image's SBOM has no Go toolchain"; }
log "index $idx: the arm64 image passes at INFO and its program is catalogued"
log "ok"
