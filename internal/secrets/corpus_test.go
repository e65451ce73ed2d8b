package secrets

import (
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// dockerfileCorpus is the shared corpus of 474 real Dockerfiles (see its README).
const dockerfileCorpus = "../../../shared/corpora/dockerfiles/files"

// corpusFiles returns the corpus file names, or skips the test when the corpus is absent.
func corpusFiles(tb testing.TB) []string {
	tb.Helper()
	entries, err := os.ReadDir(dockerfileCorpus)
	if err != nil {
		tb.Skipf("Dockerfile corpus not available: %v", err)
	}
	var out []string
	for _, e := range entries {
		if e.Type().IsRegular() {
			out = append(out, e.Name())
		}
	}
	return out
}

// expectedInCorpus lists what Scan reports in the Dockerfile corpus, "file:line rule",
// each reviewed: all are real credentials that those Dockerfiles bake into their images.
var expectedInCorpus = map[string]string{
	"jessfraz__dockerfiles__chromium__Dockerfile:42 gcp-api-key":        "Chromium's published default Google API key, written to /etc/chromium.d/googleapikeys",
	"jessfraz__dockerfiles__chromium__Dockerfile:42 generic-assignment": "the matching GOOGLE_DEFAULT_CLIENT_SECRET (an OAuth client secret) on the same line",
	"jessfraz__dockerfiles__telize__Dockerfile:8 generic-assignment":    "ENV LICENSE_KEY: a MaxMind license key used to download GeoIP databases",
}

func TestDockerfileCorpusFalsePositives(t *testing.T) {
	var got []string
	for _, name := range corpusFiles(t) {
		b, err := os.ReadFile(filepath.Join(dockerfileCorpus, name))
		if err != nil {
			t.Fatal(err)
		}
		ms := Scan(b)
		checkInvariants(t, b, ms)
		for _, m := range ms {
			key := name + ":" + strconv.Itoa(m.Line) + " " + m.Rule
			got = append(got, key)
			if _, ok := expectedInCorpus[key]; !ok {
				t.Errorf("unexpected match %s: %s", key, Redact(m.Value))
			}
		}
	}
	for key := range expectedInCorpus {
		if !slices.Contains(got, key) {
			t.Errorf("reviewed match %s no longer reported", key)
		}
	}
	t.Logf("%d matches in the Dockerfile corpus, all reviewed true positives", len(got))
}

// goroot returns $(go env GOROOT)/src, or skips.
func gorootSrc(tb testing.TB) string {
	tb.Helper()
	out, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		tb.Skipf("go env GOROOT: %v", err)
	}
	dir := filepath.Join(strings.TrimSpace(string(out)), "src")
	if _, err := os.Stat(dir); err != nil {
		tb.Skipf("Go source not available: %v", err)
	}
	return dir
}

// isCryptoTestMaterial reports paths whose keys and secrets are real test material:
// the crypto packages' tests and test vectors.
func isCryptoTestMaterial(rel string) bool {
	return strings.HasPrefix(rel, "crypto/") && (strings.Contains(rel, "/testdata/") || strings.HasSuffix(rel, "_test.go") || strings.HasSuffix(rel, ".pem"))
}

// TestGoSourceFalsePositives scans all of Go's own source tree (Go files, testdata,
// scripts; about 100 MB) and reports what it finds. Matches in the crypto packages'
// tests are real test keys and vectors, counted apart; anything else is a false
// positive and must stay rare.
func TestGoSourceFalsePositives(t *testing.T) {
	if testing.Short() {
		t.Skip("scans about 100 MB; skipped with -short")
	}
	root := gorootSrc(t)
	crypto := map[string]int{}
	var others []string
	files, size := 0, 0
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return nil
		}
		files++
		size += len(b)
		rel := filepath.ToSlash(strings.TrimPrefix(p, root+string(filepath.Separator)))
		for _, m := range Scan(b) {
			if isCryptoTestMaterial(rel) {
				crypto[m.Rule]++
			} else {
				others = append(others, rel+":"+strconv.Itoa(m.Line)+" "+m.Rule+" "+Redact(m.Value))
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(others)
	t.Logf("scanned %d files, %d MB", files, size>>20)
	t.Logf("crypto test keys and vectors (true positives): %v", crypto)
	t.Logf("other matches (false positives): %d", len(others))
	for _, o := range others {
		t.Log("  " + o)
	}
	if crypto["pem-private-key"] == 0 {
		t.Error("no PEM private key found in crypto's testdata")
	}
	if len(others) > 5 {
		t.Errorf("%d false positives in Go's source, want at most 5", len(others))
	}
}
