package secrets

import (
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// goSourceSample returns every 20th Go file of Go's source tree (about 4.5 MB), in a
// stable order.
func goSourceSample(b *testing.B) [][]byte {
	b.Helper()
	root := gorootSrc(b)
	var out [][]byte
	n := 0
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() || !strings.HasSuffix(p, ".go") {
			return nil
		}
		if n++; n%20 != 0 {
			return nil
		}
		data, err := os.ReadFile(p)
		if err == nil {
			out = append(out, data)
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	return out
}

func dockerfileSample(b *testing.B) [][]byte {
	b.Helper()
	var out [][]byte
	for _, name := range corpusFiles(b) {
		data, err := os.ReadFile(filepath.Join(dockerfileCorpus, name))
		if err != nil {
			b.Fatal(err)
		}
		out = append(out, data)
	}
	return out
}

func totalSize(files [][]byte) int64 {
	var n int64
	for _, f := range files {
		n += int64(len(f))
	}
	return n
}

// BenchmarkScan measures Scan's throughput file by file, as the build-context and image
// scanners call it: on Go source, on real Dockerfiles, on both, and on text without a
// single anchor (the floor: one table lookup per byte).
func BenchmarkScan(b *testing.B) {
	goSrc, dockerfiles := goSourceSample(b), dockerfileSample(b)
	noAnchor := [][]byte{[]byte(strings.Repeat("the quick brown fox jumps over a lazy dog 0123456789\n", 80000))}
	for _, bc := range []struct {
		name  string
		files [][]byte
	}{
		{"go-source", goSrc},
		{"dockerfiles", dockerfiles},
		{"mixed", append(append([][]byte{}, goSrc...), dockerfiles...)},
		{"no-anchor", noAnchor},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(totalSize(bc.files))
			b.ReportAllocs()
			for b.Loop() {
				for _, f := range bc.files {
					Scan(f)
				}
			}
		})
	}
}

// BenchmarkRedactorWriter measures a child's output going through a Writer that masks 10
// known values and Scan matches, in 4 KiB writes.
func BenchmarkRedactorWriter(b *testing.B) {
	var data []byte
	for _, f := range dockerfileSample(b) {
		data = append(data, f...)
	}
	var vals []string
	for i := range 10 {
		vals = append(vals, fake(uint64(200+i), alnum, 24))
	}
	r := NewRedactor(vals, WithScan())
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		w := r.Writer(io.Discard)
		for off := 0; off < len(data); off += 4096 {
			if _, err := w.Write(data[off:min(off+4096, len(data))]); err != nil {
				b.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			b.Fatal(err)
		}
	}
}
