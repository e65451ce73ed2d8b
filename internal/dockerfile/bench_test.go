package dockerfile

import (
	"os"
	"path/filepath"
	"testing"
)

// corpusDir holds real Dockerfiles from public repositories (see its README).
const corpusDir = "../../../shared/corpora/dockerfiles/files"

func loadCorpus(tb testing.TB) map[string][]byte {
	tb.Helper()
	entries, err := os.ReadDir(corpusDir)
	if err != nil {
		tb.Fatalf("the shared Dockerfile corpus is required: %v", err)
	}
	files := map[string][]byte{}
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(corpusDir, e.Name()))
		if err != nil {
			tb.Fatal(err)
		}
		files[e.Name()] = data
	}
	return files
}

// BenchmarkLintCorpus parses and lints every corpus Dockerfile with the full rule set and
// reports Dockerfiles per second (goal: >= 2,000/s on one core: run with -cpu 1).
func BenchmarkLintCorpus(b *testing.B) {
	files := loadCorpus(b)
	names := make([]string, 0, len(files))
	var size int64
	for n, data := range files {
		names = append(names, n)
		size += int64(len(data))
	}
	b.SetBytes(size)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, n := range names {
			f, err := ParseBytes(n, files[n])
			if err != nil {
				continue
			}
			_ = Lint(f, nil)
		}
	}
	b.ReportMetric(float64(b.N*len(names))/b.Elapsed().Seconds(), "dockerfiles/s")
}
