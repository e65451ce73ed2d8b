#!/usr/bin/env bash
# Build a charter release from one commit, reproducibly:
#   - the commit's tree only (git archive: no working-copy changes, no .git), in a fresh
#     temporary directory, so where the checkout lives does not matter;
#   - static binaries for linux/amd64 and linux/arm64: CGO_ENABLED=0, -trimpath, no VCS
#     stamping by the toolchain, -ldflags "-s -w -buildid= -X …/internal/cli.Version=VERSION
#     -X …/internal/cli.Commit=COMMIT -X …/internal/cli.Date=DATE" (DATE: the commit time
#     in UTC, or SOURCE_DATE_EPOCH when the environment sets it; never the build time);
#   - a CycloneDX SBOM per binary (charter sbom, dated SOURCE_DATE_EPOCH = the same time);
#   - charter's own image for both platforms (charter pack, OCI layout), checked against
#     charter.yaml (failOn: low) with the Dockerfile linted alongside;
#   - SHA256SUMS over every file, and with --key a cosign-compatible signature of each
#     binary and of SHA256SUMS (charter sign-blob; password from CHARTER_PASSWORD).
# Two runs on the same commit give bit-identical files (scripts/it/release.sh checks).
#
# usage: scripts/release.sh [--ref REF] [--out DIR] [--version VERSION] [--key cosign.key] [--no-image]
set -euo pipefail

ref=HEAD out=dist version="" key="" image=1
while [ $# -gt 0 ]; do
  case "$1" in
    --ref) ref=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --version) version=$2; shift 2 ;;
    --key) key=$2; shift 2 ;;
    --no-image) image=0; shift ;;
    *) echo "release.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done

root=$(git rev-parse --show-toplevel)
commit=$(git -C "$root" rev-parse --verify "$ref^{commit}")
committed=$(git -C "$root" log -1 --format=%ct "$commit")
# SOURCE_DATE_EPOCH from the environment wins (a rebuild that pins its own time); else
# the commit's time, so the date is a property of the commit, not of the build.
epoch=${SOURCE_DATE_EPOCH:-$committed}
case "$epoch" in ''|*[!0-9]*) echo "release.sh: SOURCE_DATE_EPOCH=$epoch is not a number of seconds" >&2; exit 2 ;; esac
date=$(date -u -d "@$epoch" +%Y-%m-%dT%H:%M:%SZ)
[ -n "$version" ] || version=$(git -C "$root" describe --tags --exact-match "$commit" 2>/dev/null || echo "v0.0.0-$(date -u -d "@$committed" +%Y%m%d%H%M%S)-${commit:0:12}")
[ -z "$key" ] || key=$(realpath "$key")
mkdir -p "$out"
out=$(realpath "$out")
rm -rf "${out:?}"/*

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
src=$work/src
mkdir -p "$src"
git -C "$root" archive "$commit" | tar -x -C "$src"

export SOURCE_DATE_EPOCH=$epoch CGO_ENABLED=0 GOFLAGS="" GOTOOLCHAIN=local
pkg=github.com/charterhq/charter/internal/cli
ldflags="-s -w -buildid= -X $pkg.Version=$version -X $pkg.Commit=$commit -X $pkg.Date=$date"
echo "charter $version from $commit (dated $date, epoch $epoch, $(go version | cut -d' ' -f3))"

for arch in amd64 arm64; do
  bin=charter_${version}_linux_$arch
  (cd "$src" && GOOS=linux GOARCH=$arch go build -trimpath -buildvcs=false -ldflags "$ldflags" -o "$out/$bin" ./cmd/charter)
  echo "built $bin"
done

# A charter for this machine runs the release's own steps: the release binary itself
# when it is for this machine.
host=$work/charter
if [ "$(go env GOHOSTOS)/$(go env GOHOSTARCH)" = linux/amd64 ] || [ "$(go env GOHOSTOS)/$(go env GOHOSTARCH)" = linux/arm64 ]; then
  cp "$out/charter_${version}_linux_$(go env GOHOSTARCH)" "$host"
else
  (cd "$src" && GOOS= GOARCH= go build -trimpath -buildvcs=false -ldflags "$ldflags" -o "$host" ./cmd/charter)
fi
export CHARTER_CACHE_DIR=$work/cache

for arch in amd64 arm64; do
  bin=charter_${version}_linux_$arch
  mkdir -p "$work/sbom-$arch/usr/local/bin"
  cp "$out/$bin" "$work/sbom-$arch/usr/local/bin/charter"
  # A relative dir: reference, so the document does not name the temporary directory.
  (cd "$work" && "$host" sbom "dir:sbom-$arch" -o cyclonedx-json --output "$out/$bin.cdx.json")
done

if [ "$image" = 1 ]; then
  # charter's own image, packed from the release binaries themselves, then held to
  # charter.yaml: the image's config, files, secrets and packages, and the Dockerfile.
  (cd "$src" && "$host" pack --platform linux/amd64,linux/arm64 \
     --binary "linux/amd64=$out/charter_${version}_linux_amd64" --binary "linux/arm64=$out/charter_${version}_linux_arm64" \
     --version "$version" --oci-layout "$work/oci" --tag "$version" --name charter --bin-dir /usr/local/bin >/dev/null)
  "$host" db update --source "$src/examples/osv" --offline >/dev/null
  (cd "$src" && "$host" check "oci-dir:$work/oci:$version" --charter charter.yaml --lint Dockerfile --offline --no-progress)
  tar -C "$work/oci" --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$epoch" -cf "$out/charter_${version}_oci.tar" .
  echo "image: charter_${version}_oci.tar (oci-archive:, tag $version)"
fi

(cd "$out" && sha256sum -- * > SHA256SUMS)
if [ -n "$key" ]; then
  for f in "$out"/charter_"${version}"_linux_* "$out/SHA256SUMS"; do
    case "$f" in *.cdx.json) continue ;; esac
    "$host" sign-blob --key "$key" --output-signature "$f.sig" "$f"
  done
  echo "signed: SHA256SUMS.sig and one .sig per binary (verify: charter verify-blob or cosign verify-blob --insecure-ignore-tlog)"
else
  echo "unsigned: pass --key cosign.key (and CHARTER_PASSWORD) to sign"
fi
echo "release in $out:"
(cd "$out" && ls -l)
