package catalog

import (
	"crypto/md5"
	"encoding/hex"
	"strings"
	"testing"
)

const debOSRelease = `PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
NAME="Debian GNU/Linux"
VERSION_ID="12"
VERSION_CODENAME=bookworm
ID=debian
`

func stanza(name, version, arch, source string) string {
	s := "Package: " + name + "\nStatus: install ok installed\nPriority: optional\nArchitecture: " + arch + "\nVersion: " + version + "\n"
	if source != "" {
		s += "Source: " + source + "\n"
	}
	return s + "Description: test\n multi-line\n .\n description\n\n"
}

func md5hex(s string) string {
	h := md5.Sum([]byte(s))
	return hex.EncodeToString(h[:])
}

func TestDpkgLayersAndBase(t *testing.T) {
	status0 := stanza("openssl", "3.0.11-1~deb12u1", "amd64", "") + stanza("libc6", "2.36-9+deb12u3", "amd64", "glibc") +
		"Package: removed\nStatus: deinstall ok config-files\nVersion: 1.0\n\n"
	status1 := stanza("openssl", "3.0.11-1~deb12u2", "amd64", "") + stanza("libc6", "2.36-9+deb12u3", "amd64", "glibc") +
		stanza("curl", "7.88.1-10+deb12u5", "amd64", "")
	ref := buildImage(t,
		layer{"# debian.sh --arch 'amd64' out/ 'bookworm'", []file{
			reg("/etc/os-release", debOSRelease),
			reg("/var/lib/dpkg/status", status0),
			reg("/var/lib/dpkg/info/openssl.list", "/.\n/usr\n/usr/bin\n/usr/bin/openssl\n"),
			reg("/var/lib/dpkg/info/openssl.md5sums", md5hex("v1")+"  usr/bin/openssl\n"),
			reg("/var/lib/dpkg/info/libc6:amd64.list", "/usr/lib/x86_64-linux-gnu/libc.so.6\n"),
			reg("/usr/share/doc/openssl/copyright", "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\nFiles: *\nLicense: Apache-2.0\n"),
			bin("/usr/bin/openssl", []byte("v1")),
		}},
		hist(`/bin/sh -c #(nop)  CMD ["bash"]`),
		layer{"RUN apt-get update && apt-get install -y curl openssl", []file{
			reg("/var/lib/dpkg/status", status1),
			reg("/var/lib/dpkg/info/openssl.md5sums", md5hex("v2")+"  usr/bin/openssl\n"),
			bin("/usr/bin/openssl", []byte("v2")),
		}},
		hist(`CMD ["curl"]`),
	)
	r, _, _ := catalogOf(t, ref)
	if r.Distro == nil || r.Distro.Qualifier() != "debian-12" {
		t.Fatalf("distro = %+v", r.Distro)
	}
	if n := len(find(r, Deb, "removed")); n != 0 {
		t.Errorf("a removed package with config files left was reported")
	}
	ssl := one(t, r, Deb, "openssl")
	if ssl.Version != "3.0.11-1~deb12u2" || ssl.Layer != 0 || ssl.ChangedLayer != 1 || !ssl.Base {
		t.Errorf("openssl = version %s layer %d changed %d base %v", ssl.Version, ssl.Layer, ssl.ChangedLayer, ssl.Base)
	}
	if want := "pkg:deb/debian/openssl@3.0.11-1~deb12u2?arch=amd64&distro=debian-12"; ssl.PURL != want {
		t.Errorf("purl = %s, want %s", ssl.PURL, want)
	}
	if strings.Join(ssl.Files, ",") != "/usr,/usr/bin,/usr/bin/openssl" || ssl.Digests["/usr/bin/openssl"] != "md5:"+md5hex("v2") {
		t.Errorf("openssl files %v digests %v", ssl.Files, ssl.Digests)
	}
	if strings.Join(ssl.Licenses, ",") != "Apache-2.0" {
		t.Errorf("licences = %v", ssl.Licenses)
	}
	libc := one(t, r, Deb, "libc6")
	if libc.Source == nil || libc.Source.Name != "glibc" || libc.Source.Version != "2.36-9+deb12u3" || libc.ChangedLayer != 0 {
		t.Errorf("libc6 = %+v", libc)
	}
	if !strings.Contains(libc.PURL, "upstream=glibc") || len(libc.Files) != 1 {
		t.Errorf("libc6 purl %s files %v (from libc6:amd64.list)", libc.PURL, libc.Files)
	}
	curl := one(t, r, Deb, "curl")
	if curl.Layer != 1 || curl.ChangedLayer != 1 || curl.Base {
		t.Errorf("curl = layer %d changed %d base %v", curl.Layer, curl.ChangedLayer, curl.Base)
	}
	rp := r.Report()
	if len(rp) != len(r.Packages) || rp[0].LayerIndex == nil || rp[0].Instruction == "" || !strings.HasPrefix(rp[0].Layer, "sha256:") {
		t.Errorf("report packages = %+v", rp[0])
	}
}

func TestDpkgDistrolessStatusD(t *testing.T) {
	ref := buildImage(t, layer{"bazel build", []file{
		reg("/etc/os-release", debOSRelease),
		reg("/var/lib/dpkg/status.d/base-files", "Package: base-files\nVersion: 12.4+deb12u5\nArchitecture: amd64\n"),
		reg("/var/lib/dpkg/status.d/base-files.md5sums", md5hex("x")+"  etc/debian_version\n"),
		reg("/var/lib/dpkg/status.d/libssl3", "Package: libssl3\nVersion: 3.0.11-1~deb12u2\nArchitecture: amd64\nSource: openssl\n"),
		reg("/etc/debian_version", "x"),
	}})
	r, _, _ := catalogOf(t, ref)
	bf := one(t, r, Deb, "base-files")
	if bf.Digests["/etc/debian_version"] != "md5:"+md5hex("x") || len(bf.Files) != 1 {
		t.Errorf("base-files digests %v files %v", bf.Digests, bf.Files)
	}
	ssl := one(t, r, Deb, "libssl3")
	if ssl.Source == nil || ssl.Source.Name != "openssl" || ssl.Source.Version != ssl.Version {
		t.Errorf("libssl3 source = %+v", ssl.Source)
	}
}

func TestParseDpkgStatusHost(t *testing.T) {
	b := readHost(t, "/var/lib/dpkg/status")
	found := parseDpkgStatus(b, true)
	installed := 0
	for _, f := range found {
		if f.Package != nil {
			installed++
		}
	}
	// Ground truth: the stanzas dpkg itself counts as installed.
	want := strings.Count(string(b), "\nStatus: install ok installed") + strings.Count(string(b), "\nStatus: hold ok installed")
	if strings.HasPrefix(string(b), "Status:") {
		t.Skip("unusual status layout")
	}
	if installed != want {
		t.Errorf("parsed %d installed packages, the status file has %d", installed, want)
	}
}
