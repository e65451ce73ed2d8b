package vulndb

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/charterhq/charter/internal/report"
)

// corpusDir is the shared corpus of real advisories (Go vulndb, RustSec, PyPA, GHSA);
// CI has it beside the repository.
const corpusDir = "../../../shared/corpora/osv"

var corpus struct {
	once     sync.Once
	dir      string
	imported time.Duration
	tuples   []report.Package
	err      error
}

// corpusDB imports the whole corpus once per test binary run.
func corpusDB(b *testing.B) *DB {
	if _, err := os.Stat(corpusDir); err != nil {
		b.Skipf("no corpus at %s: %v", corpusDir, err)
	}
	corpus.once.Do(func() {
		corpus.dir = b.TempDir()
		start := time.Now()
		_, corpus.err = Update(context.Background(), corpus.dir, UpdateOptions{}, Source{Name: "corpus", Location: corpusDir})
		corpus.imported = time.Since(start)
		if corpus.err == nil {
			corpus.tuples, corpus.err = corpusTuples(corpusDir, 50_000)
		}
	})
	if corpus.err != nil {
		b.Fatal(corpus.err)
	}
	db, err := Open(corpus.dir)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = db.Close() })
	return db
}

// corpusTuples builds n (ecosystem, name, version) tuples from the corpus itself: every
// affected package, at the versions its advisories name (introduced, fixed, last
// affected, listed), cycled until there are n; one in ten is a package with no advisory.
func corpusTuples(dir string, n int) ([]report.Package, error) {
	purlType := map[string]string{"Go": "golang", "PyPI": "pypi", "crates.io": "cargo", "npm": "npm", "Maven": "maven"}
	type pkg struct{ eco, name string }
	versions := map[pkg]map[string]bool{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || filepath.Ext(p) != ".json" {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		var r osvRecord
		if json.Unmarshal(data, &r) != nil {
			return nil
		}
		for _, a := range r.Affected {
			t := purlType[a.Package.Ecosystem]
			if t == "" {
				continue
			}
			k := pkg{t, a.Package.Name}
			if versions[k] == nil {
				versions[k] = map[string]bool{}
			}
			for _, v := range a.Versions {
				versions[k][v] = true
			}
			for _, rg := range a.Ranges {
				for _, e := range rg.Events {
					for _, v := range []string{e.Introduced, e.Fixed, e.LastAffected} {
						if v != "" && v != "0" {
							versions[k][v] = true
						}
					}
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	type pv struct {
		k  pkg
		vs []string
	}
	var all []pv
	for k, vs := range versions {
		list := make([]string, 0, len(vs))
		for v := range vs {
			list = append(list, v)
		}
		sort.Strings(list)
		if len(list) > 0 {
			all = append(all, pv{k, list})
		}
	}
	sort.Slice(all, func(i, j int) bool {
		if all[i].k.eco != all[j].k.eco {
			return all[i].k.eco < all[j].k.eco
		}
		return all[i].k.name < all[j].k.name
	})
	out := make([]report.Package, 0, n)
	for i := 0; len(out) < n; i++ {
		e := all[(i*7919)%len(all)]
		v := e.vs[i%len(e.vs)]
		name := e.k.name
		if i%10 == 9 {
			name = fmt.Sprintf("no-advisory-%d", i)
		}
		out = append(out, tuple(e.k.eco, name, v))
	}
	return out, nil
}

func tuple(purlType, name, v string) report.Package {
	p := report.Package{Name: name, Version: v, Ecosystem: purlType}
	switch purlType {
	case "maven":
		p.PURL = "pkg:maven/" + filepath.Dir(name) + "/" + filepath.Base(name) + "@" + v
	case "golang", "npm":
		p.PURL = "pkg:" + purlType + "/" + name + "@" + v
	}
	return p
}

// BenchmarkMatchCorpus matches 50,000 tuples (and a 500-package slice of them, as one
// image scan would) against the whole corpus of real advisories. Each iteration opens
// the database afresh, as a charter process does, so per-handle caches start cold.
func BenchmarkMatchCorpus(b *testing.B) {
	corpusDB(b)
	b.ReportMetric(float64(corpus.imported.Milliseconds()), "import-ms")
	for _, n := range []int{500, 50_000} {
		pkgs := corpus.tuples[:n]
		b.Run(itoa(n)+"pkgs", func(b *testing.B) {
			matches := 0
			cpu := cpuTime()
			for b.Loop() {
				db, err := Open(corpus.dir)
				if err != nil {
					b.Fatal(err)
				}
				r, err := db.Match(context.Background(), pkgs, Distro{})
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
		})
	}
}

func reportCPU(b *testing.B, since time.Duration) {
	b.ReportMetric(float64((cpuTime()-since).Milliseconds())/float64(b.N), "cpu-ms/op")
}

// BenchmarkImportCorpus imports the whole corpus (8,173 records) into a new database:
// parse, pre-parse ranges, write, verify, rename.
func BenchmarkImportCorpus(b *testing.B) {
	if _, err := os.Stat(corpusDir); err != nil {
		b.Skipf("no corpus at %s: %v", corpusDir, err)
	}
	cpu := cpuTime()
	for b.Loop() {
		dir := b.TempDir()
		if _, err := Update(context.Background(), dir, UpdateOptions{}, Source{Name: "corpus", Location: corpusDir}); err != nil {
			b.Fatal(err)
		}
	}
	reportCPU(b, cpu)
}

// BenchmarkAdvisoryCorpus looks an advisory up by an alias (the GHSA ID of the Go
// record GO-2024-3228) and an ID that is not there, as `charter inventory affected` does:
// one seek in the ID index, whatever the database's size.
func BenchmarkAdvisoryCorpus(b *testing.B) {
	db := corpusDB(b)
	for _, id := range []string{"GHSA-wcx9-ccpj-hx3c", "CVE-2099-0001"} {
		b.Run(id, func(b *testing.B) {
			for b.Loop() {
				a, err := db.Advisory(id)
				if (err == nil) != (id == "GHSA-wcx9-ccpj-hx3c") {
					b.Fatalf("Advisory(%s): %v", id, err)
				}
				_ = a
			}
		})
	}
}
