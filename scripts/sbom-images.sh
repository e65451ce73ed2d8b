#!/usr/bin/env bash
# Builds the real images the package catalogers are measured on (docs/sbom-catalogers.md),
# as OCI layouts under OUT (default /tmp/charter-sbom-images):
#
#   debian/      debootstrap Debian 12 minbase (layer 0, closed by CMD like a base image),
#                apt-get install python3-yaml python3-requests libcommons-lang3-java
#                node-semver (layer 1), an app layer with Go binaries, an npm tree, two
#                dist-infos, a jar and busybox copied from this machine (layer 2)
#   distroless/  a distroless-style tree: /var/lib/dpkg/status.d entries and md5sums for
#                ten of this machine's packages with their files, and a Go binary
#
# Then: scripts/sbom-bench.sh oci-dir:OUT/debian-oci   (and distroless-oci)
# Needs root, debootstrap (installed with apt-get when missing) and Debian's mirror.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-/tmp/charter-sbom-images}
MIRROR=${MIRROR:-http://deb.debian.org/debian}
mkdir -p "$OUT"
command -v debootstrap >/dev/null || apt-get install -y -qq debootstrap

base=$OUT/debian-base full=$OUT/debian-full l2=$OUT/debian-l2 l3=$OUT/debian-l3
if [ ! -e "$base/etc/os-release" ]; then
  rm -rf "$base"
  debootstrap --variant=minbase bookworm "$base" "$MIRROR"
fi
rm -rf "$full" "$l2" "$l3"
cp -a "$base" "$full"
sleep 1; touch "$OUT/marker"; sleep 1
cp /etc/resolv.conf "$full/etc/" 2>/dev/null || true
chroot "$full" /bin/sh -c 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3-yaml python3-requests libcommons-lang3-java node-semver' >/dev/null
mkdir -p "$l2"
(cd "$full" && find . -cnewer "$OUT/marker" \( -type f -o -type l \) ! -path './var/cache/apt/*' ! -path './var/lib/apt/lists/*' -print0 \
  | tar --null -T - -cf - | tar -x -C "$l2")
mkdir -p "$l3/app/bin" "$l3/app/venv/lib/python3.11/site-packages" "$l3/app/web"
cp "$(go env GOROOT)/bin/gofmt" "$l3/app/bin/"
[ -x "$(go env GOPATH)/bin/golangci-lint" ] && cp "$(go env GOPATH)/bin/golangci-lint" "$l3/app/bin/"
[ -d /usr/lib/node_modules/npm/node_modules ] && cp -a /usr/lib/node_modules/npm/node_modules "$l3/app/web/"
for d in /usr/lib/python3/dist-packages/PyYAML-*.dist-info /usr/lib/python3/dist-packages/blinker-*.dist-info; do
  [ -d "$d" ] && cp -a "$d" "$l3/app/venv/lib/python3.11/site-packages/"
done
[ -f /usr/share/java/commons-io.jar ] && cp /usr/share/java/commons-io.jar "$l3/app/commons-io-2.11.0.jar"
[ -x /usr/bin/busybox ] && cp /usr/bin/busybox "$l3/app/bin/"

dl=$OUT/distroless
rm -rf "$dl"; mkdir -p "$dl/var/lib/dpkg/status.d" "$dl/etc" "$dl/usr/bin"
cp -L /etc/os-release "$dl/etc/"
for p in base-files libc6 libssl3 tzdata netbase ca-certificates libgcc-s1 libgomp1 libstdc++6 zlib1g; do
  dpkg-query -s "$p" >/dev/null 2>&1 || continue
  dpkg-query -s "$p" | grep -v '^Status:' > "$dl/var/lib/dpkg/status.d/$p"
  for f in "/var/lib/dpkg/info/$p.md5sums" /var/lib/dpkg/info/"$p":*.md5sums; do
    [ -f "$f" ] && cp "$f" "$dl/var/lib/dpkg/status.d/$p.md5sums"
  done
  dpkg -L "$p" | while read -r x; do
    if [ -f "$x" ] && [ ! -L "$x" ]; then mkdir -p "$dl$(dirname "$x")"; cp -a "$x" "$dl$x"; fi
  done
done
cp "$(go env GOROOT)/bin/gofmt" "$dl/usr/bin/"

CHARTER_OCI_FROM_DIR=$base,$l2,$l3 CHARTER_OCI_OUT=$OUT/debian-oci go test ./internal/catalog/ -run '^TestMakeOCIFromDir$' -count=1 >/dev/null
CHARTER_OCI_FROM_DIR=$dl CHARTER_OCI_OUT=$OUT/distroless-oci go test ./internal/catalog/ -run '^TestMakeOCIFromDir$' -count=1 >/dev/null
echo "oci-dir:$OUT/debian-oci"
echo "oci-dir:$OUT/distroless-oci"
