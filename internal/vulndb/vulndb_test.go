package vulndb

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/charterhq/charter/internal/report"
)

// build imports sources into a fresh database directory and opens it.
func build(t testing.TB, sources ...Source) (*DB, *UpdateResult, string) {
	t.Helper()
	dir := t.TempDir()
	res, err := Update(context.Background(), dir, UpdateOptions{}, sources...)
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	db, err := Open(dir)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db, res, dir
}

func snapshot() Source { return Source{Name: "snapshot", Location: "testdata/osv"} }

func deb(name, ver, src, srcVer string) report.Package {
	p := report.Package{Name: name, Version: ver, Ecosystem: "deb",
		PURL: "pkg:deb/debian/" + name + "@" + ver + "?distro=debian-12"}
	if src != "" {
		p.Source = &report.PackageSource{Name: src, Version: srcVer}
	}
	return p
}

func lang(eco, purl, name, ver string) report.Package {
	return report.Package{Name: name, Version: ver, Ecosystem: eco, PURL: purl}
}

type want struct {
	id      string
	aliases string // comma-separated, exact
	fixed   string
	sev     report.Severity
	source  string
}

func TestMatchSnapshot(t *testing.T) {
	db, res, _ := build(t, snapshot())
	if got := res.Sources[0].Imported; got != 11 {
		t.Fatalf("imported %d records, want 11; stats %+v", got, res.Sources[0])
	}
	debian12 := Distro{ID: "debian", VersionID: "12"}
	cases := []struct {
		name   string
		pkg    report.Package
		distro Distro
		want   []want
	}{
		{"debian binary matched by source package", deb("libssl3", "3.0.11-1~deb12u1", "openssl", "3.0.11-1~deb12u1"), debian12,
			[]want{{"CVE-2023-5363", "DSA-5532-1", "3.0.11-1~deb12u2", report.High, SevDebian}}},
		{"debian fixed version", deb("libssl3", "3.0.11-1~deb12u2", "openssl", "3.0.11-1~deb12u2"), debian12, nil},
		{"debian several CVEs keep the DSA id", deb("bind9", "1:9.18.16-1~deb12u1", "", ""), debian12,
			[]want{{"DSA-5504-1", "CVE-2023-3341,CVE-2023-4236", "1:9.18.19-1~deb12u1", report.Medium, SevDefault}}},
		{"debian epoch 0 is older than any epoch 1", deb("bind9", "9.99-1", "", ""), debian12,
			[]want{{"DSA-5504-1", "CVE-2023-3341,CVE-2023-4236", "1:9.18.19-1~deb12u1", report.Medium, SevDefault}}},
		{"debian newer epoch", deb("bind9", "1:9.18.19-1~deb12u1", "", ""), debian12, nil},
		{"debian release picks the record", deb("libc6", "2.36-9+deb12u1", "glibc", "2.36-9+deb12u1"), debian12,
			[]want{{"CVE-2023-4911", "DEBIAN-CVE-2023-4911", "2.36-9+deb12u3", report.High, SevDebian}}},
		{"debian last_affected: no fix", deb("libc6", "2.31-13+deb11u7", "glibc", "2.31-13+deb11u7"), Distro{ID: "debian", VersionID: "11.8"},
			[]want{{"CVE-2023-4911", "DEBIAN-CVE-2023-4911", "", report.Medium, SevDefault}}},
		{"debian past last_affected", deb("libc6", "2.31-13+deb11u8", "glibc", "2.31-13+deb11u8"), Distro{ID: "debian", VersionID: "11"}, nil},
		{"debian distro from purl", deb("libssl3", "3.0.9-1", "openssl", "3.0.9-1"), Distro{},
			[]want{{"CVE-2023-5363", "DSA-5532-1", "3.0.11-1~deb12u2", report.High, SevDebian}}},
		{"alpine by origin", report.Package{Name: "libcrypto3", Version: "3.1.3-r0", Ecosystem: "apk",
			Source: &report.PackageSource{Name: "openssl", Version: "3.1.3-r0"}}, Distro{ID: "alpine", VersionID: "3.18.4"},
			[]want{{"CVE-2023-5363", "ALPINE-CVE-2023-5363", "3.1.4-r0", report.Medium, SevDefault}}},
		{"alpine other release", report.Package{Name: "openssl", Version: "3.1.3-r0", Ecosystem: "apk"}, Distro{ID: "alpine", VersionID: "3.19.0"}, nil},
		{"go stdlib toolchain version", lang("golang", "pkg:golang/stdlib@go1.21.1", "stdlib", "go1.21.1"), Distro{},
			[]want{{"CVE-2023-39325", "GHSA-4374-p667-p6c8,GO-2023-2102", "1.21.3", report.Medium, SevDefault}}},
		{"go stdlib release candidate", lang("golang", "pkg:golang/stdlib@go1.21rc2", "stdlib", "go1.21rc2"), Distro{},
			[]want{{"CVE-2023-39325", "GHSA-4374-p667-p6c8,GO-2023-2102", "1.21.3", report.Medium, SevDefault}}},
		{"go stdlib fixed", lang("golang", "pkg:golang/stdlib@go1.20.10", "stdlib", "go1.20.10"), Distro{}, nil},
		{"go module, GO and GHSA records merged", lang("golang", "pkg:golang/golang.org/x/net@v0.15.0", "golang.org/x/net", "v0.15.0"), Distro{},
			[]want{{"CVE-2023-39325", "GHSA-4374-p667-p6c8,GO-2023-2102", "0.17.0", report.High, SevCVSSv31}}},
		{"go pseudo-version inside the range", lang("golang", "pkg:golang/golang.org/x/crypto@v0.0.0-20210711020723-a769d52b0f7a", "golang.org/x/crypto", "v0.0.0-20210711020723-a769d52b0f7a"), Distro{},
			[]want{{"CVE-2021-43565", "GHSA-gwc9-m7rh-j2ww,GO-2022-0968", "0.0.0-20211202192323-5770296d904e", report.Medium, SevDefault}}},
		{"go pseudo-version before introduced", lang("golang", "pkg:golang/golang.org/x/crypto@v0.0.0-20200622213623-75b288015ac9", "golang.org/x/crypto", "v0.0.0-20200622213623-75b288015ac9"), Distro{}, nil},
		{"go pseudo-version at the fix", lang("golang", "pkg:golang/golang.org/x/crypto@v0.0.0-20211202192323-5770296d904e", "golang.org/x/crypto", "v0.0.0-20211202192323-5770296d904e"), Distro{}, nil},
		{"npm", lang("npm", "pkg:npm/lodash@4.17.20", "lodash", "4.17.20"), Distro{},
			[]want{{"CVE-2021-23337", "GHSA-35jh-r3h4-6jhm", "4.17.21", report.High, SevCVSSv31}}},
		{"npm last_affected", lang("npm", "pkg:npm/lodash.template@4.5.0", "lodash.template", "4.5.0"), Distro{},
			[]want{{"CVE-2021-23337", "GHSA-35jh-r3h4-6jhm", "", report.High, SevCVSSv31}}},
		{"npm past last_affected", lang("npm", "pkg:npm/lodash.template@4.5.1", "lodash.template", "4.5.1"), Distro{}, nil},
		{"pypi GHSA and PYSEC merged", lang("pypi", "pkg:pypi/urllib3@1.26.12", "urllib3", "1.26.12"), Distro{},
			[]want{{"CVE-2023-43804", "GHSA-v845-jxx5-vc9f,PYSEC-2023-192", "1.26.17", report.Medium, SevCVSSv31}}},
		{"pypi second range, name normalised", lang("pypi", "", "URLLib3", "2.0.4"), Distro{},
			[]want{{"CVE-2023-43804", "GHSA-v845-jxx5-vc9f,PYSEC-2023-192", "2.0.6", report.Medium, SevCVSSv31}}},
		{"pypi fixed", lang("pypi", "pkg:pypi/urllib3@2.0.6", "urllib3", "2.0.6"), Distro{}, nil},
		{"maven log4shell", lang("maven", "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1", "log4j-core", "2.14.1"), Distro{},
			[]want{{"CVE-2021-44228", "GHSA-jfh8-c2jp-5v3q", "2.15.0", report.Critical, SevCVSSv31}}},
		{"maven beta introduced", lang("maven", "pkg:maven/org.apache.logging.log4j/log4j-core@2.0-beta9", "log4j-core", "2.0-beta9"), Distro{},
			[]want{{"CVE-2021-44228", "GHSA-jfh8-c2jp-5v3q", "2.3.1", report.Critical, SevCVSSv31}}},
		{"maven before introduced", lang("maven", "pkg:maven/org.apache.logging.log4j/log4j-core@2.0-beta8", "log4j-core", "2.0-beta8"), Distro{}, nil},
		{"maven between ranges", lang("maven", "pkg:maven/org.apache.logging.log4j/log4j-core@2.12.2", "log4j-core", "2.12.2"), Distro{}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, err := db.Match(context.Background(), []report.Package{c.pkg}, c.distro)
			if err != nil {
				t.Fatal(err)
			}
			checkMatches(t, r, c.want)
		})
	}
}

func checkMatches(t *testing.T, r *Result, ws []want) {
	t.Helper()
	if len(r.Matches) != len(ws) {
		t.Fatalf("got %d matches, want %d: %+v (unmatched %v)", len(r.Matches), len(ws), r.Matches, r.Unmatched)
	}
	for i, w := range ws {
		m := r.Matches[i]
		if m.ID != w.id || strings.Join(m.Aliases, ",") != w.aliases || m.Fixed != w.fixed || m.Severity != w.sev || m.SeveritySource != w.source {
			t.Errorf("match %d = %s aliases %v fixed %q %s from %q; want %+v", i, m.ID, m.Aliases, m.Fixed, m.Severity, m.SeveritySource, w)
		}
	}
}

func TestFinding(t *testing.T) {
	db, _, _ := build(t, snapshot())
	li := 2
	p := deb("libssl3", "3.0.11-1~deb12u1", "openssl", "3.0.11-1~deb12u1")
	p.LayerIndex, p.Layer, p.Instruction, p.Locations = &li, "sha256:abc", "RUN apt-get install -y libssl3", []string{"/var/lib/dpkg/status"}
	r, err := db.Match(context.Background(), []report.Package{p, lang("generic", "", "busybox", "1.36")}, Distro{ID: "debian", VersionID: "12"})
	if err != nil {
		t.Fatal(err)
	}
	fs := r.Findings()
	if len(fs) != 1 {
		t.Fatalf("findings %+v", fs)
	}
	f := fs[0]
	if f.Rule != "CVE-2023-5363" || f.Severity != report.High || f.Location.Package != p.PURL ||
		*f.Location.LayerIndex != 2 || f.Location.Layer != "sha256:abc" || f.Location.Instruction == "" || f.Location.Path != "/var/lib/dpkg/status" {
		t.Errorf("finding %+v", f)
	}
	if want := "libssl3 (source openssl) 3.0.11-1~deb12u1 → 3.0.11-1~deb12u2 (severity from Debian urgency)"; f.Message != want {
		t.Errorf("message %q, want %q", f.Message, want)
	}
	if r.Unmatched["ecosystem generic has no advisories"] != 1 {
		t.Errorf("unmatched %v", r.Unmatched)
	}
}

func TestStatus(t *testing.T) {
	db, _, dir := build(t, snapshot())
	st := db.Status()
	if st.Records != 11 || st.Ecosystems["Debian:12"] != 3 || st.Ecosystems["Go"] != 3 || st.Ecosystems["Alpine:v3.18"] != 1 ||
		len(st.Sources) != 1 || st.Sources[0].Records != 11 || st.Path != filepath.Join(dir, dbFile) {
		t.Errorf("status %+v", st)
	}
	if st.Stale(st.Built.Add(23*time.Hour)) || !st.Stale(st.Built.Add(25*time.Hour)) {
		t.Error("Stale is not 24 h")
	}
}

func TestOpenWithoutDatabase(t *testing.T) {
	_, err := Open(t.TempDir())
	if err == nil || !strings.Contains(err.Error(), "charter db update") {
		t.Fatalf("Open of an empty dir: %v", err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, dbFile), []byte("not a database"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(dir); err == nil {
		t.Fatal("Open of a garbage file succeeded")
	}
}

func TestDefaultDir(t *testing.T) {
	t.Setenv("CHARTER_CACHE_DIR", "/x/cache")
	if d, _ := DefaultDir(); d != "/x/cache/vulndb" {
		t.Errorf("DefaultDir = %q", d)
	}
}
