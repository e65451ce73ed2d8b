package inventory

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/charterhq/charter/internal/vulndb"
)

// The benchmarks fill a store with synthetic images of 400 packages each: a Debian base
// (one of 20 variants of 120 packages), and 280 language packages drawn from pools of
// 20,000 Maven, npm, PyPI and Go names in a few versions each; one image in ten carries
// log4j-core, in a version before or after the Log4Shell fix. The fleet size is
// CHARTER_BENCH_IMAGES (default 500); the goal is measured with 10000 (4 M
// package rows), which takes minutes to build:
//
//	CHARTER_BENCH_IMAGES=10000 go test -run '^$' -bench . -benchtime 20x ./internal/inventory
//
// PostgreSQL benchmarks run when CHARTER_TEST_POSTGRES is set (scripts/bench/inventory.sh).

const benchPackages = 400

// benchBatch is how many images a bulk add commits at once (charter inventory add
// batches what its readers have ready, up to addBatch in the cli).
const benchBatch = 50

func benchImages() int {
	if n, err := strconv.Atoi(os.Getenv("CHARTER_BENCH_IMAGES")); err == nil && n > 0 {
		return n
	}
	return 500
}

var log4jVersions = []string{"2.14.1", "2.17.1", "2.12.1", "2.16.0", "2.15.0", "2.11.2"}

// synthImage is image i of the synthetic fleet; the same i gives the same image.
func synthImage(i int) *Image {
	r := rand.New(rand.NewSource(int64(i))) //nolint:gosec // deterministic synthetic data
	variant := i % 20
	img := &Image{
		Digest:    fmt.Sprintf("sha256:%064x", i+1),
		Reference: fmt.Sprintf("registry.example.com/team%d/service%d:%d", i%50, i, r.Intn(100)),
		Distro:    "debian-12",
		Created:   time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Minute),
		Layers:    []string{fmt.Sprintf("sha256:%064x", 1_000_000+variant), fmt.Sprintf("sha256:%064x", 2_000_000+i)},
		Packages:  make([]Package, 0, benchPackages),
	}
	for k := 0; k < 120; k++ {
		name := fmt.Sprintf("libdeb%d", k)
		src := fmt.Sprintf("srcdeb%d", k/3)
		if k == 0 {
			name, src = "libssl3", "openssl"
		}
		v := fmt.Sprintf("%d.%d.%d-%d+deb12u%d", k%7, k%5, k%3, 1+variant%2, 1+variant%4)
		if k == 0 {
			v = []string{"3.0.11-1~deb12u1", "3.0.11-1~deb12u2", "3.0.13-1~deb12u1"}[variant%3]
		}
		img.Packages = append(img.Packages, Package{Ecosystem: "deb", Name: name, Version: v, SourceName: src, SourceVersion: v,
			PURL: "pkg:deb/debian/" + name + "@" + v + "?arch=amd64&distro=debian-12", LayerIndex: 0, Path: "/var/lib/dpkg/status"})
	}
	ecos := []string{"maven", "npm", "pypi", "golang"}
	n := len(img.Packages)
	if i%10 == 0 {
		v := log4jVersions[(i/10)%len(log4jVersions)]
		img.Packages = append(img.Packages, maven("log4j-core", v, 1))
	}
	for len(img.Packages) < benchPackages {
		eco := ecos[r.Intn(len(ecos))]
		name := fmt.Sprintf("%s-lib-%d", eco, r.Intn(20_000))
		v := fmt.Sprintf("1.%d.%d", r.Intn(3), r.Intn(2))
		img.Packages = append(img.Packages, Package{Ecosystem: eco, Name: name, Version: v,
			PURL: "pkg:" + eco + "/example/" + name + "@" + v, LayerIndex: 1, Path: fmt.Sprintf("/app/%d/%s", len(img.Packages)-n, name)})
	}
	return img
}

// benchStores are built once per process: filling 4 M rows is the slow part.
var benchStores sync.Map // name → *benchStore

type benchStore struct {
	once   sync.Once
	s      Store
	rate   float64 // images/s while filling
	err    error
	closer func()
}

func fill(b *testing.B, name string, open func() (Store, func(), error), workers int) Store {
	v, _ := benchStores.LoadOrStore(name, &benchStore{})
	bs := v.(*benchStore)
	bs.once.Do(func() {
		bs.s, bs.closer, bs.err = open()
		if bs.err != nil {
			return
		}
		n := benchImages()
		start := time.Now()
		var wg sync.WaitGroup
		next := make(chan int)
		errs := make(chan error, workers)
		for range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for first := range next {
					batch := make([]*Image, 0, benchBatch)
					for i := first; i < min(first+benchBatch, n); i++ {
						batch = append(batch, synthImage(i))
					}
					if _, err := bs.s.AddAll(context.Background(), batch); err != nil {
						errs <- err
						return
					}
				}
			}()
		}
		for i := 0; i < n; i += benchBatch {
			next <- i
		}
		close(next)
		wg.Wait()
		select {
		case bs.err = <-errs:
		default:
		}
		bs.rate = float64(n) / time.Since(start).Seconds()
		fmt.Fprintf(os.Stderr, "inventory bench: %s filled with %d images × %d packages in %s (%.0f images/s, %d workers)\n",
			name, n, benchPackages, time.Since(start).Round(time.Millisecond), bs.rate, workers)
	})
	if bs.err != nil {
		b.Fatal(bs.err)
	}
	return bs.s
}

func sqliteBench(b *testing.B) Store {
	return fill(b, "sqlite", func() (Store, func(), error) {
		dir, err := os.MkdirTemp("", "charter-inventory-bench-")
		if err != nil {
			return nil, nil, err
		}
		s, err := Open(context.Background(), filepath.Join(dir, "inventory.db"))
		return s, func() { _ = os.RemoveAll(dir) }, err
	}, 1)
}

func postgresBench(b *testing.B) Store {
	dsn := os.Getenv("CHARTER_TEST_POSTGRES")
	if dsn == "" {
		b.Skip("CHARTER_TEST_POSTGRES is not set (scripts/bench/inventory.sh starts a PostgreSQL and sets it)")
	}
	return fill(b, "postgres", func() (Store, func(), error) {
		// one schema for the whole process: every benchmark reads the same fleet
		schema := fmt.Sprintf("bench%d", time.Now().UnixNano())
		db, err := sql.Open("pgx", dsn)
		if err != nil {
			return nil, nil, err
		}
		drop := func() { _, _ = db.Exec("DROP SCHEMA " + schema + " CASCADE"); _ = db.Close() }
		if _, err := db.Exec("CREATE SCHEMA " + schema); err != nil {
			_ = db.Close()
			return nil, nil, err
		}
		u, err := url.Parse(dsn)
		if err != nil {
			drop()
			return nil, nil, err
		}
		q := u.Query()
		q.Set("search_path", schema)
		u.RawQuery = q.Encode()
		s, err := Open(context.Background(), u.String())
		return s, drop, err
	}, 1)
}

func TestMain(m *testing.M) {
	code := m.Run()
	benchStores.Range(func(_, v any) bool {
		bs := v.(*benchStore)
		if bs.s != nil {
			_ = bs.s.Close()
		}
		if bs.closer != nil {
			bs.closer()
		}
		return true
	})
	os.Exit(code)
}

func benchAdvisory(b *testing.B, path string) *vulndb.Advisory {
	data, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	adv, err := vulndb.ParseAdvisory(data)
	if err != nil {
		b.Fatal(err)
	}
	return adv
}

// Advisories the affected benchmarks answer: Log4Shell (one image in ten holds
// log4j-core, a third of those in an affected version) and DSA-5532-1 (openssl: libssl3
// is in every image, in an affected version in a third of them: the widest answer).
const (
	log4shellAdvisory = "testdata/GHSA-jfh8-c2jx-5x3c.json"
	opensslAdvisory   = "../../examples/osv/DSA-5532-1.json"
)

// benchAffected answers the advisory in file against s.
func benchAffected(b *testing.B, s Store, file string) {
	adv := benchAdvisory(b, file)
	b.ResetTimer()
	var n int
	for b.Loop() {
		res, err := Affected(context.Background(), s, adv)
		if err != nil {
			b.Fatal(err)
		}
		n = len(res)
	}
	b.ReportMetric(float64(n), "affected")
}

func benchQuery(b *testing.B, s Store) {
	q := Query{PURL: "pkg:maven/org.apache.logging.log4j/log4j-core", Range: mustRangeB(b, "<2.17.1")}
	b.ResetTimer()
	var n int
	for b.Loop() {
		res, err := Search(context.Background(), s, q)
		if err != nil {
			b.Fatal(err)
		}
		n = len(res)
	}
	b.ReportMetric(float64(n), "results")
}

func mustRangeB(b *testing.B, s string) Range {
	r, err := ParseRange(s)
	if err != nil {
		b.Fatal(err)
	}
	return r
}

// benchAddBulk adds b.N new images to the filled store in batches, as a bulk add does.
func benchAddBulk(b *testing.B, s Store) {
	base := benchImages() + 1_000_000*int(time.Now().UnixNano()%1000+1)
	imgs := make([]*Image, 0, b.N)
	for i := 0; i < b.N; i++ {
		imgs = append(imgs, synthImage(base+i))
	}
	b.ResetTimer()
	for start := 0; start < len(imgs); start += benchBatch {
		if _, err := s.AddAll(context.Background(), imgs[start:min(start+benchBatch, len(imgs))]); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "images/s")
}

// benchAdd adds new images (beyond the fleet) to the filled store, one at a time.
func benchAdd(b *testing.B, s Store) {
	base := benchImages() + 1_000_000*int(time.Now().UnixNano()%1000+1)
	imgs := make([]*Image, 0, b.N)
	for i := 0; i < b.N; i++ {
		imgs = append(imgs, synthImage(base+i))
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := s.Add(context.Background(), imgs[i]); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "images/s")
}

func BenchmarkSQLiteAffected(b *testing.B) { benchAffected(b, sqliteBench(b), log4shellAdvisory) }
func BenchmarkSQLiteAffectedEverywhere(b *testing.B) {
	benchAffected(b, sqliteBench(b), opensslAdvisory)
}
func BenchmarkSQLiteQuery(b *testing.B)   { benchQuery(b, sqliteBench(b)) }
func BenchmarkSQLiteAdd(b *testing.B)     { benchAdd(b, sqliteBench(b)) }
func BenchmarkSQLiteAddBulk(b *testing.B) { benchAddBulk(b, sqliteBench(b)) }

func BenchmarkPostgresAffected(b *testing.B) { benchAffected(b, postgresBench(b), log4shellAdvisory) }
func BenchmarkPostgresAffectedEverywhere(b *testing.B) {
	benchAffected(b, postgresBench(b), opensslAdvisory)
}
func BenchmarkPostgresQuery(b *testing.B)   { benchQuery(b, postgresBench(b)) }
func BenchmarkPostgresAdd(b *testing.B)     { benchAdd(b, postgresBench(b)) }
func BenchmarkPostgresAddBulk(b *testing.B) { benchAddBulk(b, postgresBench(b)) }
