package vulndb

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/charterhq/charter/internal/report"
)

var bench struct {
	once     sync.Once
	dir      string
	imported time.Duration
	err      error
}

// benchDB imports 100,000 synthetic advisories once per test binary run.
func benchDB(b *testing.B) *DB {
	bench.once.Do(func() {
		zip := synthZip(b, 100_000)
		bench.dir = b.TempDir()
		start := time.Now()
		_, bench.err = Update(context.Background(), bench.dir, UpdateOptions{}, Source{Name: "synthetic", Location: zip})
		bench.imported = time.Since(start)
	})
	if bench.err != nil {
		b.Fatal(bench.err)
	}
	db, err := Open(bench.dir)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = db.Close() })
	return db
}

// BenchmarkMatch matches an inventory against a database of 100,000 synthetic
// advisories over five ecosystems (about five advisories per package name).
func BenchmarkMatch(b *testing.B) {
	db := benchDB(b)
	b.ReportMetric(float64(bench.imported.Milliseconds()), "import-ms")
	for _, n := range []int{1000, 50000} {
		pkgs := synthInventory(n)
		b.Run(itoa(n)+"pkgs", func(b *testing.B) {
			matches := 0
			for b.Loop() {
				r, err := db.Match(context.Background(), pkgs, Distro{})
				if err != nil {
					b.Fatal(err)
				}
				matches = len(r.Matches)
			}
			if matches == 0 {
				b.Fatal("no matches: the benchmark measures nothing")
			}
			b.ReportMetric(float64(matches), "matches")
		})
	}
}

// BenchmarkScanMatch is what matching adds to one image scan: open the database (cold
// caches, as a charter process starts) and match 500 packages, most of them Debian
// packages, against 100,000 synthetic advisories.
func BenchmarkScanMatch(b *testing.B) {
	benchDB(b)
	var pkgs []report.Package
	for _, p := range synthInventory(2500) {
		if p.Ecosystem == "deb" || len(pkgs)%5 == 0 {
			pkgs = append(pkgs, p)
		}
		if len(pkgs) == 500 {
			break
		}
	}
	matches := 0
	cpu := cpuTime()
	for b.Loop() {
		db, err := Open(bench.dir)
		if err != nil {
			b.Fatal(err)
		}
		r, err := db.Match(context.Background(), pkgs, Distro{ID: "debian", VersionID: "12"})
		_ = db.Close()
		if err != nil {
			b.Fatal(err)
		}
		matches = len(r.Matches)
	}
	reportCPU(b, cpu)
	if matches == 0 {
		b.Fatal("no matches: the benchmark measures nothing")
	}
	b.ReportMetric(float64(matches), "matches")
}

func itoa(n int) string {
	if n >= 1000 && n%1000 == 0 {
		return itoa(n/1000) + "k"
	}
	s := ""
	for ; n > 0 || s == ""; n /= 10 {
		s = string(rune('0'+n%10)) + s
	}
	return s
}
