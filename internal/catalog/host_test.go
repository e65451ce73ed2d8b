package catalog

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/charterhq/charter/internal/image"
)

// TestCatalogRefToFile catalogs the image named by $CHARTER_CATALOG_REF and writes the
// packages as JSON to $CHARTER_CATALOG_OUT: the comparison with syft
// (scripts/sbom-compare.sh) reads it.
func TestCatalogRefToFile(t *testing.T) {
	ref, out := os.Getenv("CHARTER_CATALOG_REF"), os.Getenv("CHARTER_CATALOG_OUT")
	if ref == "" || out == "" {
		t.Skip("set CHARTER_CATALOG_REF and CHARTER_CATALOG_OUT to catalog an image")
	}
	start := time.Now()
	r, _, _ := catalogOf(t, ref)
	t.Logf("%s: %d packages in %v", ref, len(r.Packages), time.Since(start))
	for i := range r.Packages {
		r.Packages[i].Files, r.Packages[i].Digests = nil, nil
	}
	b, err := json.MarshalIndent(r, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(out, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestHostDpkgCount catalogs a root filesystem holding this machine's dpkg database and
// compares the count with dpkg-query's.
func TestHostDpkgCount(t *testing.T) {
	if _, err := exec.LookPath("dpkg-query"); err != nil {
		t.Skip("no dpkg-query on this machine")
	}
	q, err := exec.Command("dpkg-query", "-W", "-f", "${db:Status-Status} ${Package}\n").Output()
	if err != nil {
		t.Skipf("dpkg-query: %v", err)
	}
	want := 0
	for _, l := range strings.Split(string(q), "\n") {
		if strings.HasPrefix(l, "installed ") {
			want++
		}
	}
	root := t.TempDir()
	copyHost(t, "/var/lib/dpkg/status", root)
	copyHost(t, "/etc/os-release", root)
	r, _, _ := catalogOf(t, "dir:"+root)
	got := len(find2(r, Deb))
	if got != want {
		t.Errorf("dpkg packages: charter %d, dpkg-query (installed) %d", got, want)
	}
	t.Logf("dpkg: charter %d, dpkg-query %d installed", got, want)
}

func find2(r *Result, eco string) []Package {
	var out []Package
	for _, p := range r.Packages {
		if p.Ecosystem == eco {
			out = append(out, p)
		}
	}
	return out
}

func copyHost(t testing.TB, src, root string) {
	t.Helper()
	b := readHost(t, src)
	dst := filepath.Join(root, src)
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// walkDirCatalog is the benchmark body: catalog an unpacked tree with every cataloger.
func walkDirCatalog(tb testing.TB, dir string) *Result {
	ctx := context.Background()
	img, err := image.Open(ctx, "dir:"+dir, image.Options{NoCache: true, Limits: image.Limits{MaxContent: 256 << 20}})
	if err != nil {
		tb.Fatal(err)
	}
	defer func() { _ = img.Close() }()
	idx, err := img.Walk(ctx, Analyzers()...)
	if err != nil {
		tb.Fatal(err)
	}
	return Build(idx, Options{})
}

// BenchmarkCatalogDirUsr catalogs this machine's /usr (set CHARTER_BENCH_DIR for
// another tree). Compare with `syft dir:/usr` via scripts/sbom-bench.sh.
func BenchmarkCatalogDirUsr(b *testing.B) {
	dir := os.Getenv("CHARTER_BENCH_DIR")
	if dir == "" {
		dir = "/usr"
	}
	if _, err := os.Stat(dir); err != nil {
		b.Skip(err)
	}
	for b.Loop() {
		r := walkDirCatalog(b, dir)
		b.ReportMetric(float64(len(r.Packages)), "packages")
	}
}
