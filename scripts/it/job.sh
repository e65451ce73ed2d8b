#!/usr/bin/env bash
# The long kill test of `charter run` and the job library (issue 9). It builds charter,
# then kills a job posting to a hostile fake platform (rate limits, random 5xx before and
# after posting) with SIGKILL at random moments, KILLS times for each of four set-ups,
# rerunning it after every kill and letting it finish at the end:
#
#   - a shell job under the real `charter run`, using the state API through curl, with
#     and without a reconcile step (the platform can / cannot be asked whether a post
#     exists): every item posted exactly once / at most once;
#   - a Go job using the job library, the same two ways.
#
# Every kill takes the whole process tree down at once, as when a container is killed;
# the output of every run is checked for the platform token (it must never appear).
#
#   scripts/it/job.sh              # 200 kills per set-up
#   KILLS=20 scripts/it/job.sh     # a quicker pass
#
# A missing tool (curl) is installed when running as root with apt-get; otherwise the
# script skips, unless CI=true (then it fails).
set -euo pipefail
cd "$(dirname "$0")/../.."

KILLS=${KILLS:-200}
DIR=$(mktemp -d /tmp/charter-it-job.XXXXXX)
export GOFLAGS=${GOFLAGS:--buildvcs=false}

log() { printf 'it/job: %s\n' "$*" >&2; }
# shellcheck source=lib/common.sh
. scripts/it/lib/common.sh
cleanup() {
  local rc=$?
  rm -rf "$DIR" 2>/dev/null || true
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- tools -----------------------------------------------------------------------------
command -v go >/dev/null || missing "go is not installed"
[ -x /bin/sh ] || missing "/bin/sh is missing"
if ! command -v curl >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    log "installing curl"
    export DEBIAN_FRONTEND=noninteractive
    { apt-get update -qq && apt-get install -y -qq --no-install-recommends curl ca-certificates; } >"$DIR/apt.log" 2>&1 \
      || { cat "$DIR/apt.log" >&2; missing "curl could not be installed"; }
  else
    missing "curl is not installed (the shell job reaches the state API with it)"
  fi
fi
[ -r /proc/self/stat ] || missing "/proc is not mounted (the test walks process trees)"

# --- build -----------------------------------------------------------------------------
log "building charter"
go build -o "$DIR/charter" ./cmd/charter || { log "FAIL: charter does not build"; exit 1; }

# --- kill tests ------------------------------------------------------------------------
start=$(date +%s)
log "charter run + shell job: $KILLS kills with reconciling, $KILLS without"
CI=true CHARTER_BIN="$DIR/charter" CHARTER_KILLS="$KILLS" \
  go test -count=1 -timeout 60m -run '^TestKillNine$' -v ./internal/supervisor 2>&1 | tee "$DIR/supervisor.log" \
  | grep -E '^(---|ok|FAIL|PASS)|kills,|seed' || true
grep -q '^ok' "$DIR/supervisor.log" || { tail -n 60 "$DIR/supervisor.log" >&2; log "FAIL: charter run kill test"; exit 1; }

log "job library: $KILLS kills with reconciling, $KILLS without"
CHARTER_KILLS="$KILLS" go test -count=1 -timeout 30m -run '^TestKillNine$' -v ./job 2>&1 | tee "$DIR/job.log" \
  | grep -E '^(---|ok|FAIL|PASS)|kills,|seed' || true
grep -q '^ok' "$DIR/job.log" || { tail -n 60 "$DIR/job.log" >&2; log "FAIL: job library kill test"; exit 1; }

log "passed: $((4 * KILLS)) kills in $(($(date +%s) - start))s"
