#!/usr/bin/env bash
# Runs charter's whole test suite: formatting, vet, golangci-lint, unit tests with the race
# detector, a short fuzz pass over every parser of untrusted input, and the CLI smoke tests.
# It installs what it needs (idempotently) and leaves nothing running.
#
#   ./scripts/test.sh            # everything
#   FUZZTIME=200000x ./scripts/test.sh   # longer fuzzing (inputs per target)
#   SKIP_LINT=1 ./scripts/test.sh    # no golangci-lint (local iteration only; CI always lints)
#   SKIP_IT=1 ./scripts/test.sh      # no integration scripts (local iteration only; CI always runs them)
set -euo pipefail
cd "$(dirname "$0")/.."

GOLANGCI_VERSION=v2.15.0
# Fuzz budgets are counts, not durations: with a time budget Go 1.26's fuzzer can fail
# with "context deadline exceeded" on a loaded machine (golang/go#75804), and a count
# keeps the work the same on every machine.
FUZZTIME=${FUZZTIME:-20000x}
export GOFLAGS=${GOFLAGS:--buildvcs=false}
BIN=$(go env GOPATH)/bin

step() { printf '\n==> %s\n' "$*"; }
fail() { printf 'test.sh: %s\n' "$*" >&2; exit 1; }

step "gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './.git/*'))
[ -z "$unformatted" ] || fail "gofmt needed on: $unformatted"

step "go vet"
go vet ./...

if [ "${SKIP_LINT:-}" = 1 ] && [ "${CI:-}" != true ]; then
  step "golangci-lint skipped (SKIP_LINT=1)"
else
  step "golangci-lint $GOLANGCI_VERSION"
  if ! "$BIN/golangci-lint" version 2>/dev/null | grep -q "${GOLANGCI_VERSION#v}"; then
    echo "installing golangci-lint $GOLANGCI_VERSION (first run only)"
    go install "github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$GOLANGCI_VERSION" \
      || fail "could not install golangci-lint $GOLANGCI_VERSION from the Go module proxy"
  fi
  "$BIN/golangci-lint" run ./...
fi

step "prerequisites"
# Tools unit tests call out to. Installed when missing (as root, from Debian's packages);
# under CI a tool that cannot be installed fails here with its name.
need_pkgs=()
command -v xmllint >/dev/null || need_pkgs+=(libxml2-utils)   # CycloneDX XML against the official XSDs
command -v curl >/dev/null || need_pkgs+=(curl)               # shell jobs using the state API
if [ ${#need_pkgs[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "installing ${need_pkgs[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -qq --no-install-recommends "${need_pkgs[@]}" >/tmp/charter-apt.log 2>&1 \
      || { apt-get update -qq >>/tmp/charter-apt.log 2>&1 && apt-get install -y -qq --no-install-recommends "${need_pkgs[@]}" >>/tmp/charter-apt.log 2>&1; } \
      || { tail -n 20 /tmp/charter-apt.log >&2; [ "${CI:-}" != true ] || fail "could not install ${need_pkgs[*]}"; }
  elif [ "${CI:-}" = true ]; then
    fail "missing ${need_pkgs[*]} and not root: install them first"
  else
    echo "missing ${need_pkgs[*]}: the tests that need them will say so"
  fi
fi
echo ok

step "unit tests (race detector)"
go test -race -count=1 ./...

step "fuzz ($FUZZTIME inputs per target)"
# Every Fuzz* function in the module, each run on its own for FUZZTIME.
while read -r file; do
  pkg=./$(dirname "$file")
  for fn in $(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$file" | sed 's/^func //'); do
    echo "fuzz $pkg $fn"
    go test "$pkg" -run '^$' -fuzz "^${fn}\$" -fuzztime "$FUZZTIME" -fuzzminimizetime 500x >/tmp/charter-fuzz.log 2>&1 \
      || { cat /tmp/charter-fuzz.log; fail "fuzz $pkg $fn found a failure (see testdata/fuzz/$fn)"; }
  done
done < <(grep -rl --include='*_test.go' '^func Fuzz' . | sed 's|^\./||' | sort)

step "integration (scripts/it/*.sh: real registries, daemons and peer tools)"
# Each script installs and starts what it needs, idempotently, and stops it on exit.
# SKIP_IT=1 skips them locally; CI always runs them.
if [ "${SKIP_IT:-}" = 1 ] && [ "${CI:-}" != true ]; then
  echo "skipped (SKIP_IT=1)"
else
  for it in scripts/it/*.sh; do
    [ -e "$it" ] || continue
    echo "--- $it"
    bash "$it" || fail "$it failed"
  done
fi

step "CLI smoke: the README's first command"
demo_out=$(mktemp -d)
go run ./cmd/charter demo --out "$demo_out" >/tmp/charter-demo.out 2>&1 || { cat /tmp/charter-demo.out; fail "charter demo failed"; }
sed -n '/^=== summary/,$p' /tmp/charter-demo.out
# CI runs as root with runc installed: the demo must run the poster under its profile there.
if [ "${CI:-}" = true ] && ! grep -q '^runc  *ran' /tmp/charter-demo.out; then
  fail "charter demo did not run the poster under runc"
fi
rm -rf "$demo_out"

step "all tests passed"
