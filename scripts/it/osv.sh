#!/usr/bin/env bash
# charter and osv-scanner v1.9.2 (offline, on the same OSV zips) agree on the advisories
# of 600 packages drawn from the shared corpus (Go, crates.io, PyPI, npm, Maven), and of
# every listed PyPI version that is not a PEP 440 version (matched by exact string), one
# charter finding per osv-scanner alias group, and every difference has a known reason
# (see docs/vulndb.md, "Compared with osv-scanner"). A thin wrapper over
# scripts/bench/osv-compare.sh with a smaller SBOM; osv-scanner is go-installed into the
# cache once.
#
#   scripts/it/osv.sh      # a missing tool or corpus skips, unless CI=true (then it fails)
set -euo pipefail
cd "$(dirname "$0")/../.."
if ! command -v python3 >/dev/null && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3 >/dev/null 2>&1 || true
fi
SKIP_MISSING=1 COMPONENTS=${COMPONENTS:-600} exec scripts/bench/osv-compare.sh
