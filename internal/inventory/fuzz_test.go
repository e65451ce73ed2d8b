package inventory

import (
	"os"
	"testing"

	"github.com/charterhq/charter/internal/report"
	"github.com/charterhq/charter/internal/version"
	"github.com/charterhq/charter/internal/vulndb"
)

// FuzzParseRange: any input parses or fails cleanly; what parses prints back to a
// range that parses to the same thing, and compiles or fails cleanly in every scheme.
func FuzzParseRange(f *testing.F) {
	for _, s := range []string{"<2.17.1", ">=2.0-beta9, <2.15.0 || >= 2.17.1", "=1.2.3", "1.2.3", "!=1.0 >0", ">= 2.0", "", "||", "<", "<<2", "<3.0.11-1~deb12u2"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseRange(s)
		if err != nil {
			return
		}
		again, err := ParseRange(r.String())
		if err != nil {
			t.Fatalf("%q printed as %q, which does not parse: %v", s, r.String(), err)
		}
		if again.String() != r.String() {
			t.Fatalf("%q: %q reparsed as %q", s, r.String(), again.String())
		}
		for _, sch := range []version.Scheme{version.Maven, version.Dpkg, version.SemVer, version.PEP440} {
			m, err := r.Compile(sch)
			if err != nil {
				continue
			}
			for _, v := range []string{"1.0", "2.17.1", "3.0.11-1~deb12u1"} {
				if pv, err := sch.Parse(v); err == nil {
					m(pv)
				}
			}
		}
	})
}

// FuzzAdvisory: an OSV document given to `charter inventory affected FILE` parses or
// fails cleanly, and what parses answers Affects for any package without panicking.
func FuzzAdvisory(f *testing.F) {
	for _, p := range []string{"testdata/GHSA-jfh8-c2jx-5x3c.json", "../../examples/osv/DSA-5532-1.json", "../../examples/osv/GO-2025-3503.json"} {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(`{"id":"X-1","affected":[{"package":{"ecosystem":"npm","name":"a"},"versions":["1.0.0"]}]}`))
	pkgs := []report.Package{
		{Ecosystem: "maven", Name: "log4j-core", Version: "2.14.1", PURL: "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1"},
		{Ecosystem: "deb", Name: "libssl3", Version: "3.0.11-1~deb12u1", PURL: "pkg:deb/debian/libssl3@3.0.11-1~deb12u1?distro=debian-12",
			Source: &report.PackageSource{Name: "openssl", Version: "3.0.11-1~deb12u1"}},
		{Ecosystem: "npm", Name: "a", Version: "1.0.0", PURL: "pkg:npm/a@1.0.0"},
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		adv, err := vulndb.ParseAdvisory(data)
		if err != nil {
			return
		}
		if adv.ID == "" || len(adv.Records) != 1 {
			t.Fatalf("parsed advisory without an ID or record: %+v", adv)
		}
		for i := range pkgs {
			if _, sev, ok := adv.Affects(&pkgs[i], vulndb.Distro{}); ok && sev == report.SeverityNone {
				t.Fatalf("%s affected with no severity", pkgs[i].Name)
			}
		}
	})
}
