#!/bin/bash
# Regenerates the rpm database fixtures: two tiny packages built with rpmbuild,
# installed into an SQLite and an NDB database by rpm itself, and the same headers
# loaded into a Berkeley DB hash database with db_load (rpm no longer writes BDB).
# Needs: rpm, rpmbuild (Debian package rpm), db5.3_load (db5.3-util), python3.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work"/{SPECS,root}
for pkg in "hello 1.2 3 0 MIT" "tool 2.0.1 1.el9 2 Apache-2.0"; do
  set -- $pkg
  cat > "$work/SPECS/$1.spec" <<SPEC
Name: $1
Version: $2
Release: $3
Epoch: $4
Summary: charter fixture
License: $5
BuildArch: x86_64
%description
fixture
%install
mkdir -p %{buildroot}/usr/bin %{buildroot}/etc
printf '$1 binary\n' > %{buildroot}/usr/bin/$1
printf 'conf\n' > %{buildroot}/etc/$1.conf
%files
/usr/bin/$1
%config /etc/$1.conf
SPEC
  rpmbuild -bb --define "_topdir $work" --define '_binary_payload w9.gzdio' "$work/SPECS/$1.spec" >/dev/null 2>&1
done
rpms=$(find "$work/RPMS" -name '*.rpm')
for backend in sqlite; do
  db="$work/db-$backend"
  mkdir -p "$db"
  rpm --define "_db_backend $backend" --dbpath "$db" --initdb
  rpm --define "_db_backend $backend" --dbpath "$db" --nodeps --noscripts --justdb -i $rpms
done
cp "$work/db-sqlite/rpmdb.sqlite" "$here/rpmdb.sqlite"
# Debian builds rpm without NDB: the NDB fixture is written by the tests (see rpm_test.go).
# BDB: the same header blobs, keyed by their 4-byte package number as rpm did.
python3 - "$work/db-sqlite/rpmdb.sqlite" > "$work/dump" <<'PY'
import sqlite3, struct, sys
print("VERSION=3\nformat=bytevalue\ntype=hash\nHEADER=END")
for hnum, blob in sqlite3.connect(sys.argv[1]).execute("select hnum, blob from Packages order by hnum"):
    print(" " + struct.pack("<I", hnum).hex())
    print(" " + blob.hex())
print("DATA=END")
PY
rm -f "$here/Packages"
db5.3_load -f "$work/dump" "$here/Packages"
ls -la "$here"
