package catalog

import (
	"archive/tar"
	"context"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

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
	var extra []image.Analyzer
	if os.Getenv("CHARTER_VERIFY") != "" {
		extra = append(extra, Hasher{})
	}
	r, idx, _ := catalogOf(t, ref, extra...)
	t.Logf("%s: %d packages in %v", ref, len(r.Packages), time.Since(start))
	if len(extra) > 0 {
		problems, unverified := Verify(idx, r)
		kinds := map[string]int{}
		for _, p := range problems {
			kinds[p.Kind]++
			if kinds[p.Kind] <= 5 {
				t.Logf("%s %s %s %s", p.Kind, p.Package.Name, p.Path, p.Actual)
			}
		}
		t.Logf("integrity: %v problems by kind, %d files unverified", kinds, unverified)
	}
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
	img, err := image.Open(ctx, "dir:"+dir, image.Options{NoCache: true, Limits: image.Limits{MaxContent: RecommendedMaxContent}})
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

// TestMakeOCIFromDir packs the trees in $CHARTER_OCI_FROM_DIR (comma-separated, one
// layer each; a layer's deletions are not expressed) into an OCI layout at
// $CHARTER_OCI_OUT, so charter and syft can be compared on the same image
// (scripts/sbom-bench.sh). With several layers, the first is made a base image: a
// `CMD ["bash"]` history entry closes it.
func TestMakeOCIFromDir(t *testing.T) {
	src, out := os.Getenv("CHARTER_OCI_FROM_DIR"), os.Getenv("CHARTER_OCI_OUT")
	if src == "" || out == "" {
		t.Skip("set CHARTER_OCI_FROM_DIR and CHARTER_OCI_OUT to build a test image from trees")
	}
	img := empty.Image
	dirs := strings.Split(src, ",")
	for i, dir := range dirs {
		tarPath := filepath.Join(t.TempDir(), "layer.tar")
		if err := tarTree(dir, tarPath); err != nil {
			t.Fatal(err)
		}
		l, err := tarball.LayerFromFile(tarPath)
		if err != nil {
			t.Fatal(err)
		}
		if img, err = mutate.Append(img, mutate.Addendum{Layer: l, History: v1.History{CreatedBy: "ADD " + filepath.Base(dir) + " /"}}); err != nil {
			t.Fatal(err)
		}
		if i == 0 && len(dirs) > 1 {
			img = withHistory(t, img, `/bin/sh -c #(nop)  CMD ["bash"]`)
		}
	}
	img = withHistory(t, img, `CMD ["/bin/sh"]`)
	if err := os.RemoveAll(out); err != nil {
		t.Fatal(err)
	}
	p, err := layout.Write(out, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.AppendImage(img); err != nil {
		t.Fatal(err)
	}
}

func withHistory(t *testing.T, img v1.Image, createdBy string) v1.Image {
	t.Helper()
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cf = cf.DeepCopy()
	cf.History = append(cf.History, v1.History{CreatedBy: createdBy, EmptyLayer: true})
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// tarTree writes dir as an uncompressed tar, symlinks kept as links.
func tarTree(dir, dst string) error {
	f, err := os.Create(dst)
	if err != nil {
		return err
	}
	tw := tar.NewWriter(f)
	err = filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err != nil || p == dir {
			return err
		}
		link := ""
		if info.Mode()&os.ModeSymlink != 0 {
			if link, err = os.Readlink(p); err != nil {
				return err
			}
		}
		h, err := tar.FileInfoHeader(info, link)
		if err != nil {
			return nil // sockets and the like
		}
		rel, _ := filepath.Rel(dir, p)
		h.Name = filepath.ToSlash(rel)
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		if info.Mode().IsRegular() {
			src, err := os.Open(p)
			if err != nil {
				return err
			}
			_, err = io.Copy(tw, src)
			_ = src.Close()
			return err
		}
		return nil
	})
	if err != nil {
		_ = f.Close()
		return err
	}
	if err := tw.Close(); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}
