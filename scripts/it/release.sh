#!/usr/bin/env bash
# The release is reproducible and verifiable:
#   - scripts/release.sh runs twice on the same commit, each time from its own temporary
#     copy of the tree into its own output folder: every file (binaries, SBOMs, charter's
#     image as an OCI archive, SHA256SUMS) is bit-identical, compared by SHA-256;
#   - the binaries say what they were built from: `charter version -o json` names the
#     release's version, its commit and the commit's time (not the build's);
#   - charter's own image passes its own contract (release.sh's check at failOn: low);
#   - the signatures made with a charter key verify with charter verify-blob and with
#     cosign v2.6.5 verify-blob (cosign cached by scripts/it/sign.sh, installed if missing),
#     and a changed binary does not.
# Under CI a missing tool fails; locally the cosign check is skipped with a note.
set -euo pipefail
cd "$(git rev-parse --show-toplevel)"

COSIGN_VERSION=v2.6.5
CACHE=${CHARTER_IT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/charter-it}
COSIGN=$CACHE/cosign-$COSIGN_VERSION/cosign
DIR=$(mktemp -d /tmp/charter-it-release.XXXXXX)
trap 'rm -rf "$DIR"' EXIT
log() { printf 'it/release: %s\n' "$*" >&2; }
fail() { log "FAIL: $*"; exit 1; }

go build -o "$DIR/charter" ./cmd/charter
export CHARTER_PASSWORD=release-it
(cd "$DIR" && ./charter keygen --output-key-prefix release >/dev/null)

start=$(date +%s)
scripts/release.sh --out "$DIR/a" --key "$DIR/release.key" >"$DIR/a.log" 2>&1 || { cat "$DIR/a.log"; fail "first release build"; }
mid=$(date +%s)
scripts/release.sh --out "$DIR/b" --key "$DIR/release.key" >"$DIR/b.log" 2>&1 || { cat "$DIR/b.log"; fail "second release build"; }
end=$(date +%s)
log "two release builds: $((mid - start))s and $((end - mid))s"

# ECDSA signatures are randomised: compare everything else.
diff <(cd "$DIR/a" && sha256sum -- $(ls | grep -v '\.sig$')) <(cd "$DIR/b" && sha256sum -- $(ls | grep -v '\.sig$')) \
  || fail "two builds of the same commit differ"
grep -q 'PASS (fail-on LOW)' "$DIR/a.log" || { cat "$DIR/a.log"; fail "charter's image did not pass its own contract at LOW"; }
log "bit-identical: $(cd "$DIR/a" && ls | grep -vc '\.sig$') files; charter's image passes charter.yaml at LOW"

(cd "$DIR/a" && sha256sum -c SHA256SUMS >/dev/null) || fail "SHA256SUMS does not match the files"
bin=$(cd "$DIR/a" && ls charter_*_linux_amd64)

# The stamp: the commit released and the commit's time in UTC (or SOURCE_DATE_EPOCH),
# whatever the build's time.
if [ "$(uname -m)" = x86_64 ]; then
  head=$(git rev-parse HEAD)
  when=$(date -u -d "@${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct HEAD)}" +%Y-%m-%dT%H:%M:%SZ)
  want=${bin#charter_}
  want=${want%_linux_amd64}
  "$DIR/a/$bin" version -o json >"$DIR/version.json" || fail "$bin version -o json"
  field() { sed -n "s/^ *\"$1\": \"\(.*\)\",\{0,1\}$/\1/p" "$DIR/version.json"; }
  got="$(field version) $(field commit) $(field date)"
  [ "$got" = "$want $head $when" ] || fail "$bin version says \"$got\", want \"$want $head $when\""
  "$DIR/a/$bin" version | grep -qF "charter $want (commit ${head:0:12}, $when, go" || fail "$bin version: $("$DIR/a/$bin" version)"
  log "stamped: $got"
fi
"$DIR/charter" verify-blob --key "$DIR/release.pub" --signature "$DIR/a/$bin.sig" "$DIR/a/$bin" >/dev/null || fail "charter verify-blob $bin"
"$DIR/charter" verify-blob --key "$DIR/release.pub" --signature "$DIR/a/SHA256SUMS.sig" "$DIR/a/SHA256SUMS" >/dev/null || fail "charter verify-blob SHA256SUMS"
cp "$DIR/a/$bin" "$DIR/changed" && printf x >>"$DIR/changed"
if "$DIR/charter" verify-blob --key "$DIR/release.pub" --signature "$DIR/a/$bin.sig" "$DIR/changed" >/dev/null 2>&1; then
  fail "a changed binary verified"
fi

if [ ! -x "$COSIGN" ]; then
  log "installing cosign $COSIGN_VERSION (first run only)"
  mkdir -p "$(dirname "$COSIGN")"
  GOBIN=$(dirname "$COSIGN") GOFLAGS=-trimpath go install "github.com/sigstore/cosign/v2/cmd/cosign@$COSIGN_VERSION" >"$DIR/cosign-install.log" 2>&1 || true
fi
if [ -x "$COSIGN" ]; then
  export COSIGN_PASSWORD=$CHARTER_PASSWORD HOME=$DIR
  "$COSIGN" verify-blob --key "$DIR/release.pub" --signature "$DIR/a/$bin.sig" --insecure-ignore-tlog "$DIR/a/$bin" >/dev/null 2>&1 \
    || fail "cosign $COSIGN_VERSION verify-blob rejects charter's signature"
  if "$COSIGN" verify-blob --key "$DIR/release.pub" --signature "$DIR/a/$bin.sig" --insecure-ignore-tlog "$DIR/changed" >/dev/null 2>&1; then
    fail "cosign verified a changed binary"
  fi
  "$COSIGN" sign-blob --yes --tlog-upload=false --key "$DIR/release.key" --output-signature "$DIR/cosign.sig" "$DIR/a/SHA256SUMS" >/dev/null 2>&1 \
    || fail "cosign sign-blob with a charter key"
  "$DIR/charter" verify-blob --key "$DIR/release.pub" --signature "$DIR/cosign.sig" "$DIR/a/SHA256SUMS" >/dev/null \
    || fail "charter verify-blob rejects cosign's signature"
  log "cosign $COSIGN_VERSION: verifies charter's blob signatures, and charter verifies cosign's"
elif [ "${CI:-}" = true ]; then
  fail "cosign $COSIGN_VERSION is not installed and could not be"
else
  log "skipped the cosign check: cosign $COSIGN_VERSION not installed"
fi
log "ok"
