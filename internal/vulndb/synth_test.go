package vulndb

import (
	"archive/zip"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/charterhq/charter/internal/report"
)

// synthEcosystems are the ecosystems synthetic advisories spread over, with how their
// versions are written.
var synthEcosystems = []struct {
	osv, purlType string
	ver           func(a, b, c int) string
}{
	{"npm", "npm", func(a, b, c int) string { return fmt.Sprintf("%d.%d.%d", a, b, c) }},
	{"PyPI", "pypi", func(a, b, c int) string { return fmt.Sprintf("%d.%d.%d", a, b, c) }},
	{"Go", "golang", func(a, b, c int) string { return fmt.Sprintf("%d.%d.%d", a, b, c) }},
	{"Maven", "maven", func(a, b, c int) string { return fmt.Sprintf("%d.%d.%d", a, b, c) }},
	{"Debian:12", "deb", func(a, b, c int) string { return fmt.Sprintf("%d.%d.%d-%d", a, b, c, 1) }},
}

// synthPackages is how many distinct package names each ecosystem's advisories cover.
const synthPackages = 20000

func synthRecord(i int) (id string, doc []byte) {
	e := synthEcosystems[i%len(synthEcosystems)]
	pkg := fmt.Sprintf("pkg%d", (i/len(synthEcosystems))%synthPackages)
	if e.osv == "Maven" {
		pkg = "org.example:" + pkg
	}
	id = fmt.Sprintf("SYN-%d", i)
	fixed := e.ver(1+i%7, i%13, i%5)
	doc = fmt.Appendf(nil, `{"id":%q,"modified":"2024-01-01T00:00:00Z","aliases":["CVE-2099-%d"],"summary":"synthetic advisory %d",
"severity":[{"type":"CVSS_V3","score":"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N"}],
"affected":[{"package":{"ecosystem":%q,"name":%q},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":%q}]}]}]}`,
		id, i, i, e.osv, pkg, fixed)
	return id, doc
}

// synthZip writes n synthetic advisories as an OSV zip.
func synthZip(t testing.TB, n int) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "all.zip")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	zw := zip.NewWriter(f)
	for i := 0; i < n; i++ {
		id, doc := synthRecord(i)
		// stored, not deflated: compressing 60,000 entries took minutes under the race
		// detector, and the import reads either the same way
		w, err := zw.CreateHeader(&zip.FileHeader{Name: id + ".json", Method: zip.Store})
		if err == nil {
			_, err = w.Write(doc)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return p
}

// synthInventory is n installed packages spread over the synthetic ecosystems, about
// a third of them at a vulnerable version.
func synthInventory(n int) []report.Package {
	out := make([]report.Package, 0, n)
	for i := 0; i < n; i++ {
		e := synthEcosystems[i%len(synthEcosystems)]
		name := fmt.Sprintf("pkg%d", (i*7919)%synthPackages)
		v := e.ver(i%9, i%4, 0)
		p := report.Package{Name: name, Version: v, Ecosystem: e.purlType}
		switch e.purlType {
		case "maven":
			p.PURL = "pkg:maven/org.example/" + name + "@" + v
		case "deb":
			p.PURL = "pkg:deb/debian/" + name + "@" + v + "?distro=debian-12"
		}
		out = append(out, p)
	}
	return out
}
