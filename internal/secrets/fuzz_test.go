package secrets

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// seeds returns the files under testdata/seeds and the positive test texts.
func seeds(f *testing.F) [][]byte {
	f.Helper()
	paths, err := filepath.Glob(filepath.Join("testdata", "seeds", "*"))
	if err != nil || len(paths) == 0 {
		f.Fatalf("no seeds in testdata/seeds: %v", err)
	}
	var out [][]byte
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		out = append(out, b)
	}
	for _, tc := range positiveCases() {
		out = append(out, []byte(tc.text))
	}
	return out
}

// FuzzScan checks what every Scan result must satisfy, and that a match does not depend
// on where the content starts (a line break in front shifts every match by one).
func FuzzScan(f *testing.F) {
	for _, s := range seeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, content []byte) {
		ms := Scan(content)
		checkInvariants(t, content, ms)
		shifted := Scan(append([]byte{'\n'}, content...))
		if len(shifted) != len(ms) {
			t.Fatalf("%d matches, %d with a line break in front", len(ms), len(shifted))
		}
		for k, m := range ms {
			s := shifted[k]
			if s.Rule != m.Rule || s.Start != m.Start+1 || s.End != m.End+1 || s.Line != m.Line+1 {
				t.Fatalf("match %d: %s [%d,%d) line %d, shifted %s [%d,%d) line %d", k, m.Rule, m.Start, m.End, m.Line, s.Rule, s.Start, s.End, s.Line)
			}
		}
	})
}

// FuzzRedactorWriter checks that a Writer's output is String's output however the input
// is split into writes, and that no known value survives redaction.
func FuzzRedactorWriter(f *testing.F) {
	for i, s := range seeds(f) {
		f.Add(s, "changeme|"+fake(uint64(i), alnum, 12)+"|line one\nline two", uint64(i))
	}
	f.Add([]byte("aaaaaaaaaa\nab\ncd\nabcd"), "aaaa|b\nc|abcd", uint64(7))
	f.Add([]byte{}, "", uint64(0))
	f.Fuzz(func(t *testing.T, data []byte, values string, seed uint64) {
		vals := strings.Split(values, "|")
		r := NewRedactor(vals, WithScan())
		want := r.String(string(data))
		rng := rand.New(rand.NewPCG(seed, seed>>1))
		var cuts []int
		for c := rng.IntN(8); c < len(data); c += 1 + rng.IntN(16) {
			cuts = append(cuts, c)
		}
		if got := writeSplit(t, r, data, cuts); got != want {
			t.Fatalf("cuts %v:\n got %q\nwant %q", cuts, got, want)
		}
		unmasked := markerRE.ReplaceAllString(want, "\x00")
		for _, v := range vals {
			v = strings.TrimSpace(v)
			if len(v) < minRedactValue || strings.ContainsAny(v, "[]\x00") {
				continue
			}
			if strings.Contains(unmasked, v) {
				t.Fatalf("value %q survives in %q", v, want)
			}
		}
	})
}
