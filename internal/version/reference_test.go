package version

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"testing"

	pep440 "github.com/aquasecurity/go-pep440-version"
	debver "github.com/knqyf263/go-deb-version"
)

// pypaCorpus is the PyPA advisory database in the shared corpus, when present.
const pypaCorpus = "../../../shared/corpora/osv/pypa/json"

// TestPEP440AgreesWithReference orders every version the PyPA advisories name (140,000
// listed versions, about 9,000 distinct) and checks that charter's PEP 440 order agrees
// with aquasecurity/go-pep440-version's on every adjacent pair and on sampled pairs.
func TestPEP440AgreesWithReference(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(pypaCorpus, "*.json"))
	if len(files) == 0 {
		t.Skipf("no PyPA corpus at %s: only the seeded pairs are compared", pypaCorpus)
	}
	seen := map[string]bool{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var r struct {
			Affected []struct {
				Versions []string `json:"versions"`
				Ranges   []struct {
					Events []map[string]string `json:"events"`
				} `json:"ranges"`
			} `json:"affected"`
		}
		if json.Unmarshal(data, &r) != nil {
			continue
		}
		for _, a := range r.Affected {
			for _, v := range a.Versions {
				seen[v] = true
			}
			for _, rg := range a.Ranges {
				for _, e := range rg.Events {
					for _, v := range e {
						seen[v] = true
					}
				}
			}
		}
	}
	var ours []Version
	var refs []pep440.Version
	for s := range seen {
		v, err := PEP440.Parse(s)
		ref, rerr := pep440.Parse(s)
		if (err == nil) != (rerr == nil) {
			t.Logf("%q: charter accepts %v, reference accepts %v", s, err == nil, rerr == nil)
		}
		if err == nil && rerr == nil {
			ours, refs = append(ours, v), append(refs, ref)
		}
	}
	idx := make([]int, len(ours))
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(a, b int) bool { return ours[idx[a]].Compare(ours[idx[b]]) < 0 })
	disagree := 0
	check := func(i, j int) {
		if got, want := ours[i].Compare(ours[j]), sign(refs[i].Compare(refs[j])); got != want {
			disagree++
			if disagree <= 10 {
				t.Errorf("%q vs %q: charter %d, reference %d", ours[i], ours[j], got, want)
			}
		}
	}
	for k := 0; k+1 < len(idx); k++ {
		check(idx[k], idx[k+1])
		check(idx[k], idx[(k*7919)%len(idx)])
	}
	if disagree > 0 {
		t.Errorf("%d disagreements over %d versions", disagree, len(ours))
	}
	t.Logf("%d versions compared", len(ours))
}

// FuzzPEP440Reference checks charter's PEP 440 order against the reference library on
// versions both accept.
func FuzzPEP440Reference(f *testing.F) {
	vs := ascending[PEP440]
	for i := 0; i+1 < len(vs); i++ {
		f.Add(vs[i], vs[i+1])
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		va, err1 := PEP440.Parse(a)
		vb, err2 := PEP440.Parse(b)
		ra, err3 := pep440.Parse(a)
		rb, err4 := pep440.Parse(b)
		if err1 != nil || err2 != nil || err3 != nil || err4 != nil {
			return
		}
		if got, want := va.Compare(vb), sign(ra.Compare(rb)); got != want {
			t.Fatalf("%q vs %q: charter %d, reference %d", a, b, got, want)
		}
	})
}

// FuzzDpkgReference checks charter's dpkg comparison against knqyf263/go-deb-version on
// versions whose numbers fit the library's int (it overflows on longer ones).
func FuzzDpkgReference(f *testing.F) {
	vs := ascending[Dpkg]
	for i := 0; i+1 < len(vs); i++ {
		f.Add(vs[i], vs[i+1])
	}
	long := regexp.MustCompile(`[0-9]{10,}`)
	f.Fuzz(func(t *testing.T, a, b string) {
		if long.MatchString(a) || long.MatchString(b) {
			return
		}
		va, err1 := Dpkg.Parse(a)
		vb, err2 := Dpkg.Parse(b)
		if err1 != nil || err2 != nil {
			return
		}
		ra, _ := debver.NewVersion(a)
		rb, _ := debver.NewVersion(b)
		if got, want := va.Compare(vb), sign(ra.Compare(rb)); got != want {
			t.Fatalf("%q vs %q: charter %d, reference %d", a, b, got, want)
		}
	})
}
