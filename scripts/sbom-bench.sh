#!/usr/bin/env bash
# Compares charter's package catalog with syft's on the same image: wall time, peak RSS
# and, per ecosystem, how many packages both find.
#
#   scripts/sbom-bench.sh oci-dir:/path/to/layout      # an existing image
#   scripts/sbom-bench.sh dir:/usr                     # an unpacked tree
#   SYFT=/path/to/syft scripts/sbom-bench.sh REF
#
# charter's side runs the catalog package's TestCatalogRefToFile (the `charter sbom`
# command is not in this script's scope); syft v1.20.0 is installed with `go install`
# when missing. Both run once warm-up, then once measured, one after the other.
set -euo pipefail
cd "$(dirname "$0")/.."
REF=${1:?usage: sbom-bench.sh REF}
SYFT=${SYFT:-$(go env GOPATH)/bin/syft}
if [ ! -x "$SYFT" ]; then
  echo "installing syft v1.20.0 (first run only)" >&2
  go install github.com/anchore/syft/cmd/syft@v1.20.0
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
go test -c -o "$work/catalog.test" ./internal/catalog/

run_charter() {
  CHARTER_CATALOG_REF=$REF CHARTER_CATALOG_OUT=$work/charter.json \
    "$work/catalog.test" -test.run '^TestCatalogRefToFile$' -test.count=1 >/dev/null
}
run_syft() { "$SYFT" "$REF" -o "json=$work/syft.json" -q; }

run_charter; run_syft   # warm the page cache for both
for tool in charter syft; do
  /usr/bin/time -f "%e %M" -o "$work/$tool.time" bash -c "$(declare -f run_$tool); REF=$REF SYFT=$SYFT work=$work run_$tool"
  read -r secs kb < "$work/$tool.time"
  printf '%-8s wall %6.2f s   peak RSS %5d MiB\n' "$tool" "$secs" $((kb / 1024))
done
python3 - "$work/syft.json" "$work/charter.json" <<'PY'
import collections, json, re, sys
syft, charter = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
types = {'go-module': 'golang', 'java-archive': 'maven', 'python': 'pypi', 'npm': 'npm', 'deb': 'deb',
         'rpm': 'rpm', 'apk': 'apk', 'binary': 'generic', 'dotnet': 'nuget', 'gem': 'gem',
         'php-composer': 'composer', 'rust-crate': 'cargo'}
norm = lambda n: re.sub(r'[-_.]+', '-', n.lower())
S, C = collections.defaultdict(set), collections.defaultdict(set)
for a in syft['artifacts']:
    if a['type'] in types and a['version'] != 'UNKNOWN':
        S[types[a['type']]].add((norm(a['name']), a['version']))
for p in charter['Packages']:
    name = (p['namespace'] + '/' if p['ecosystem'] == 'npm' and p.get('namespace') else '') + p['name']
    C[p['ecosystem']].add((norm(name), p['version']))
print('ecosystem   syft  charter  both  recall  precision   (syft entries without a version left out)')
for e in sorted(set(S) | set(C)):
    s, c = S[e], C[e]
    both = len(s & c)
    print(f'{e:10} {len(s):5} {len(c):8} {both:5} {100*both/len(s) if s else 100:6.1f}% {100*both/len(c) if c else 100:8.1f}%')
PY
