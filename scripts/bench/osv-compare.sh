#!/usr/bin/env bash
# charter's vulnerability matching beside osv-scanner v1.9.2's offline mode, on the same
# packages and the same advisories:
#
#   1. from an OSV corpus (default: ../shared/corpora/osv: Go, RustSec, PyPA, GHSA), one
#      OSV zip per ecosystem in the layout osv-scanner's offline mode reads, and a
#      CycloneDX SBOM of the packages the advisories name at the versions they name
#      (introduced, fixed, last_affected, first and last listed, one below and above),
#      plus every listed PyPI version that is not a PEP 440 version;
#   2. `charter db update --source ZIP…` from those zips, then
#      `charter scan sbom:bom.cdx.json --scanners vuln`;
#   3. `osv-scanner scan --experimental-offline --sbom bom.cdx.json` on the same zips;
#   4. compare.py: per package, every advisory osv-scanner reports must be a charter
#      finding (rule or alias) and every charter finding one of osv-scanner's, one finding
#      per osv-scanner alias group; each difference is explained from the advisory, and
#      the exit status is 1 when one is not.
#
# Prints both tools' wall time and peak RSS. osv-scanner is installed with `go install`
# into the cache once (a few minutes).
#
#   scripts/bench/osv-compare.sh                   # 3,000 packages (+75 not PEP 440)
#   COMPONENTS=20000 scripts/bench/osv-compare.sh  # osv-scanner's JSON is then ~800 MB
#   EXPLAIN=1 scripts/bench/osv-compare.sh         # list every difference with its reason
#   CORPUS=DIR KEEP=1 scripts/bench/osv-compare.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
OSV_SCANNER_VERSION=v1.9.2
CORPUS=${CORPUS:-../shared/corpora/osv}
COMPONENTS=${COMPONENTS:-3000}
CACHE=${CHARTER_IT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/charter-it}
DIR=$(mktemp -d /tmp/charter-osv-compare.XXXXXX)
cleanup() {
  if [ "${KEEP:-}" = 1 ]; then log "kept $DIR"; else rm -rf "$DIR"; fi
}
trap cleanup EXIT

log() { printf 'osv-compare: %s\n' "$*" >&2; }
fail() {
  log "$*"
  exit "${FAIL_STATUS:-2}"
}
# a missing tool or corpus: a failure, except that scripts/it/osv.sh (SKIP_MISSING=1)
# skips outside CI
missing() {
  if [ "${SKIP_MISSING:-}" = 1 ] && [ "${CI:-}" != true ]; then
    log "skipped: $*"
    exit 0
  fi
  fail "$*"
}

[ -d "$CORPUS" ] || missing "no OSV corpus at $CORPUS (set CORPUS=DIR)"
command -v python3 >/dev/null || missing "python3 is needed (apt-get install python3)"

OSV_SCANNER=$CACHE/osv-scanner-$OSV_SCANNER_VERSION/osv-scanner
if [ ! -x "$OSV_SCANNER" ]; then
  log "installing osv-scanner $OSV_SCANNER_VERSION (first run only; this takes a few minutes)"
  mkdir -p "$(dirname "$OSV_SCANNER")"
  tmp=$(mktemp -d "$(dirname "$OSV_SCANNER").tmp.XXXXXX")
  if GOBIN=$tmp GOFLAGS="-mod=mod -trimpath" go install "github.com/google/osv-scanner/cmd/osv-scanner@$OSV_SCANNER_VERSION" >"$DIR/install.log" 2>&1; then
    mv "$tmp/osv-scanner" "$OSV_SCANNER"
    rm -rf "$tmp"
  else
    rm -rf "$tmp"
    tail -n 20 "$DIR/install.log" >&2
    missing "could not go install osv-scanner $OSV_SCANNER_VERSION"
  fi
fi
"$OSV_SCANNER" --version 2>&1 | grep -q "${OSV_SCANNER_VERSION#v}" || missing "$OSV_SCANNER is not osv-scanner $OSV_SCANNER_VERSION"

log "building charter"
go build -o "$DIR/charter" ./cmd/charter

log "preparing zips and an SBOM of $COMPONENTS packages from $CORPUS"
python3 scripts/bench/osv-compare/prepare.py "$CORPUS" "$DIR/data" "$COMPONENTS"

# wall seconds and peak RSS (MiB) of one run; the command's stdout goes to $1
timed() { # OUT NAME CMD...
  local out=$1 name=$2
  shift 2
  /usr/bin/time -f '%e %M' -o "$DIR/time" "$@" >"$out" 2>"$DIR/$name.err" || {
    local rc=$?
    # osv-scanner exits 1 when it finds vulnerabilities
    if [ "$name" != osv-scanner ] || [ $rc != 1 ]; then
      tail -n 20 "$DIR/$name.err" >&2
      fail "$name failed (exit $rc)"
    fi
  }
  local t m
  # GNU time puts "Command exited with non-zero status N" first when it does
  read -r t m < <(tail -n 1 "$DIR/time")
  printf '%-28s %7.2f s  %6d MiB\n' "$name" "$t" $((m / 1024))
}

sources=()
for z in "$DIR"/data/osv-scanner/*/all.zip; do sources+=(--source "$z"); done
export CHARTER_CACHE_DIR=$DIR/cache
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
timed /dev/null "charter db update" "$DIR/charter" db update --offline --no-progress "${sources[@]}"
timed "$DIR/charter.json" "charter scan sbom:" "$DIR/charter" scan "sbom:$DIR/data/bom.cdx.json" \
  --scanners vuln --offline --no-progress -o json --fail-on none
OSV_SCANNER_LOCAL_DB_CACHE_DIRECTORY=$DIR/data timed "$DIR/osv.json" osv-scanner \
  "$OSV_SCANNER" scan --experimental-offline --format json --sbom "$DIR/data/bom.cdx.json"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"

args=("$DIR/osv.json" "$DIR/charter.json" --corpus "$CORPUS")
[ "${EXPLAIN:-}" = 1 ] && args+=(--explain)
FAIL_STATUS=1
python3 scripts/bench/osv-compare/compare.py "${args[@]}" || fail "charter and osv-scanner differ without a known reason (see above)"
