package policy

import (
	"testing"
	"time"

	"github.com/charterhq/charter/internal/report"
)

// An ignore's package names the source package too: Debian files advisories under the
// source (openssl), while images carry its binaries (libssl3, openssl).
func TestIgnoreBySourcePackage(t *testing.T) {
	libssl := "pkg:deb/debian/libssl3@3.0.11-1~deb12u1?arch=amd64&distro=debian-12"
	openssl := "pkg:deb/debian/openssl@3.0.11-1~deb12u1?arch=amd64&distro=debian-12"
	curl := "pkg:deb/debian/libcurl4@7.88.1-10?arch=amd64&distro=debian-12"
	src := &report.PackageSource{Name: "openssl", Version: "3.0.11-1~deb12u1"}
	newReport := func() *report.Report {
		return &report.Report{
			Packages: []report.Package{
				{Name: "libssl3", Version: "3.0.11-1~deb12u1", Ecosystem: "deb", PURL: libssl, Source: src},
				{Name: "openssl", Version: "3.0.11-1~deb12u1", Ecosystem: "deb", PURL: openssl, Source: src},
				{Name: "libcurl4", Version: "7.88.1-10", Ecosystem: "deb", PURL: curl,
					Source: &report.PackageSource{Name: "curl", Version: "7.88.1-10"}},
			},
			Findings: []report.Finding{
				vulnFinding("CVE-2023-5363", libssl), vulnFinding("CVE-2023-5363", openssl), vulnFinding("CVE-2023-5363", curl),
			},
		}
	}
	for _, tc := range []struct {
		pkg  string
		want [3]bool // libssl3, openssl, libcurl4 suppressed
	}{
		{"openssl", [3]bool{true, true, false}},
		{"pkg:deb/debian/openssl", [3]bool{true, true, false}},
		{"pkg:deb/debian/openssl@3.0.11-1~deb12u1", [3]bool{true, true, false}},
		{"pkg:deb/debian/openssl@3.0.10", [3]bool{false, false, false}},
		{"libssl3", [3]bool{true, false, false}},
		{"openssl-dev", [3]bool{false, false, false}},
		{"curl", [3]bool{false, false, true}},
	} {
		f, err := Parse("charter.yaml", []byte("version: 1\npolicy:\n  ignore:\n    - { id: CVE-2023-5363, package: \""+tc.pkg+"\", reason: accepted }\n"))
		if err != nil {
			t.Fatal(err)
		}
		r := newReport()
		f.Apply(r, nil, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
		for i, want := range tc.want {
			if got := r.Findings[i].Suppressed != nil; got != want {
				t.Errorf("package %q: %s suppressed %v, want %v", tc.pkg, r.Packages[i].Name, got, want)
			}
		}
	}
}

func TestWithName(t *testing.T) {
	for _, c := range [][4]string{
		{"pkg:deb/debian/libssl3@3.0.11-1~deb12u1?distro=debian-12", "openssl", "3.0.11-1~deb12u1", "pkg:deb/debian/openssl@3.0.11-1~deb12u1?distro=debian-12"},
		{"pkg:apk/alpine/libcrypto3@3.1.3-r0?arch=x86_64", "openssl", "", "pkg:apk/alpine/openssl@3.1.3-r0?arch=x86_64"},
		{"pkg:rpm/redhat/openssl-libs@3.0.7", "openssl", "1:3.0.7", "pkg:rpm/redhat/openssl@1:3.0.7"},
	} {
		if got := withName(c[0], c[1], c[2]); got != c[3] {
			t.Errorf("withName(%q) = %q, want %q", c[0], got, c[3])
		}
	}
}
