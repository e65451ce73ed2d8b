package image

import (
	"archive/tar"
	"bytes"
	stdgzip "compress/gzip"
	"context"
	"fmt"
	"io"
	"math/rand"
	"os"
	"path/filepath"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/layout"
	kgzip "github.com/klauspost/compress/gzip"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// benchImage is a generated image of about 160 MB uncompressed (see benchMB) in five gzip layers:
// a few thousand text-like files (compressing about 3:1, like binaries and libraries
// do) from a few bytes to several MB, with a secret file deleted in a later layer.
type benchImage struct {
	dir   string   // OCI layout
	blobs []string // layer blob paths, for the raw gunzip baseline
	bytes int64    // uncompressed tar bytes of all layers
}

var (
	benchOnce sync.Once
	benchImg  benchImage
	benchErr  error
)

// benchMB is the image's uncompressed size; CHARTER_BENCH_MB overrides it (the memory
// goal is stated for 1 GB images).
func benchMB() int64 {
	if v, err := strconv.Atoi(os.Getenv("CHARTER_BENCH_MB")); err == nil && v > 0 {
		return int64(v)
	}
	return 160
}

func getBenchImage(b *testing.B) benchImage {
	benchOnce.Do(func() {
		dir, err := os.MkdirTemp("", "charter-bench-")
		if err != nil {
			benchErr = err
			return
		}
		benchImg, benchErr = writeBenchImage(b, dir)
	})
	if benchErr != nil {
		b.Fatal(benchErr)
	}
	return benchImg
}

func TestMain(m *testing.M) {
	code := m.Run()
	if benchImg.dir != "" {
		_ = os.RemoveAll(filepath.Dir(benchImg.dir))
	}
	os.Exit(code)
}

var words = strings.Fields(`the quick brown fox jumps over lazy dog lib usr share bin
	openssl python3 package version config token secret error return value struct func
	import module golang debian alpine layer image docker registry manifest digest`)

func textFile(r *rand.Rand, size int) []byte {
	var buf bytes.Buffer
	for buf.Len() < size {
		buf.WriteString(words[r.Intn(len(words))])
		if r.Intn(9) == 0 {
			fmt.Fprintf(&buf, " %x\n", r.Uint64())
		} else {
			buf.WriteByte(' ')
		}
	}
	return buf.Bytes()[:size]
}

func writeBenchImage(t testing.TB, dir string) (benchImage, error) {
	r := rand.New(rand.NewSource(42))
	const layers = 5
	per := benchMB() << 20 / layers
	var vl []v1.Layer
	var tarBytes int64
	for li := range layers {
		var tb bytes.Buffer
		tw := tar.NewWriter(&tb)
		var n int64
		for fi := 0; n < per; fi++ {
			size := 1 << (4 + r.Intn(18)) // 16 B .. 2 MiB
			name := fmt.Sprintf("usr/lib/pkg%d/dir%d/file%d.so", li, fi%40, fi)
			if li == 0 && fi == 3 {
				name = "app/.env"
			}
			body := textFile(r, size)
			if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg}); err != nil {
				return benchImage{}, err
			}
			if _, err := tw.Write(body); err != nil {
				return benchImage{}, err
			}
			n += int64(size)
		}
		if li == layers-1 {
			if err := tw.WriteHeader(&tar.Header{Name: "app/.wh..env", Typeflag: tar.TypeReg}); err != nil {
				return benchImage{}, err
			}
		}
		if err := tw.Close(); err != nil {
			return benchImage{}, err
		}
		tarBytes += int64(tb.Len())
		var zb bytes.Buffer
		zw := stdgzip.NewWriter(&zb)
		if _, err := zw.Write(tb.Bytes()); err != nil {
			return benchImage{}, err
		}
		if err := zw.Close(); err != nil {
			return benchImage{}, err
		}
		l := &rawLayer{blob: zb.Bytes(), digest: sha(zb.Bytes()), diffID: sha(tb.Bytes()), mediaType: "application/vnd.oci.image.layer.v1.tar+gzip"}
		vl = append(vl, l)
	}
	img := imageOf(t, vl, nil)
	out := filepath.Join(dir, "oci")
	p, err := layout.Write(out, emptyIndex())
	if err != nil {
		return benchImage{}, err
	}
	if err := p.AppendImage(img, layout.WithAnnotations(map[string]string{refNameAnnotation: "bench"})); err != nil {
		return benchImage{}, err
	}
	bi := benchImage{dir: out}
	for _, l := range vl {
		rl := l.(*rawLayer)
		bi.blobs = append(bi.blobs, filepath.Join(out, blobPath(rl.digest)))
	}
	bi.bytes = tarBytes
	return bi, nil
}

// benchAnalyzers stand in for the scan's: one that reads the start of every regular
// file (as a content scanner would) and one that wants a few named files.
func benchAnalyzers() []Analyzer {
	content := &PathAnalyzer{Name: "bench-content/1", Globs: []string{"/*", "/*/*", "/*/*/*", "/*/*/*/*", "/*/*/*/*/*"}, MaxBytes: 64 << 10,
		Func: func(f *File, c []byte) ([]Record, error) {
			if bytes.Contains(c, []byte("token secret error")) {
				return []Record{{Kind: "hit"}}, nil
			}
			return nil, nil
		}}
	named := &PathAnalyzer{Name: "bench-named/1", Paths: []string{"/app/.env", "/etc/os-release"}, MaxBytes: 1 << 20,
		Func: func(*File, []byte) ([]Record, error) { return []Record{{Kind: "found"}}, nil }}
	return []Analyzer{content, named}
}

// peakHeap samples the live heap while fn runs and returns its peak in bytes.
func peakHeap(fn func()) uint64 {
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	var peak atomic.Uint64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			metrics.Read(sample)
			if v := sample[0].Value.Uint64(); v > peak.Load() {
				peak.Store(v)
			}
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
	}()
	fn()
	close(stop)
	<-done
	return peak.Load()
}

// BenchmarkWalk compares a full walk (digests, decompression, tar index, analyzers,
// squash) with decompressing the same layers and nothing else. MB/s is of uncompressed
// layer bytes; peak-heap-MB is the live heap's high-water mark during one iteration.
func BenchmarkWalk(b *testing.B) {
	bi := getBenchImage(b)
	ref := "oci-dir:" + bi.dir
	b.Run("walk-cold", func(b *testing.B) {
		b.SetBytes(bi.bytes)
		b.ReportAllocs()
		var peak uint64
		for b.Loop() {
			peak = max(peak, peakHeap(func() {
				o := Options{NoCache: true, Getenv: func(string) string { return "" }}
				im, err := Open(context.Background(), ref, o)
				if err != nil {
					b.Fatal(err)
				}
				x, err := im.Walk(context.Background(), benchAnalyzers()...)
				if err != nil {
					b.Fatal(err)
				}
				if len(x.Hidden) != 1 {
					b.Fatalf("hidden %d", len(x.Hidden))
				}
				_ = im.Close()
			}))
		}
		b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
	})
	b.Run("walk-warm", func(b *testing.B) {
		o := Options{CacheDir: b.TempDir(), Getenv: func(string) string { return "" }}
		im, err := Open(context.Background(), ref, o)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := im.Walk(context.Background(), benchAnalyzers()...); err != nil {
			b.Fatal(err)
		}
		_ = im.Close()
		b.ReportAllocs()
		for b.Loop() {
			im, err := Open(context.Background(), ref, o)
			if err != nil {
				b.Fatal(err)
			}
			x, err := im.Walk(context.Background(), benchAnalyzers()...)
			if err != nil || !x.Layers[0].Cached {
				b.Fatal("not cached", err)
			}
			_ = im.Close()
		}
	})
	gunzip := func(newReader func(io.Reader) (io.Reader, error)) func(b *testing.B) {
		return func(b *testing.B) {
			b.SetBytes(bi.bytes)
			b.ReportAllocs()
			for b.Loop() {
				for _, p := range bi.blobs {
					f, err := os.Open(p)
					if err != nil {
						b.Fatal(err)
					}
					zr, err := newReader(f)
					if err != nil {
						b.Fatal(err)
					}
					if _, err := io.Copy(io.Discard, zr); err != nil {
						b.Fatal(err)
					}
					_ = f.Close()
				}
			}
		}
	}
	b.Run("gunzip-klauspost", gunzip(func(r io.Reader) (io.Reader, error) { return kgzip.NewReader(r) }))
	b.Run("gunzip-stdlib", gunzip(func(r io.Reader) (io.Reader, error) { return stdgzip.NewReader(r) }))
}

// TestWriteBenchImage writes the benchmark image as an OCI layout into
// $CHARTER_BENCH_IMAGE_DIR, for scripts/bench/scan.sh to compare tools on.
func TestWriteBenchImage(t *testing.T) {
	dir := os.Getenv("CHARTER_BENCH_IMAGE_DIR")
	if dir == "" {
		t.Skip("set CHARTER_BENCH_IMAGE_DIR to write the benchmark image (scripts/bench/scan.sh does)")
	}
	bi, err := writeBenchImage(t, dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %s: %d MB uncompressed in %d layers", bi.dir, bi.bytes>>20, len(bi.blobs))
}
