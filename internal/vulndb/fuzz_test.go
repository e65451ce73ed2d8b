package vulndb

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/charterhq/charter/internal/version"
)

// FuzzOSV feeds arbitrary documents to the OSV parser. Whatever it accepts must be
// storable and round-trip through the store's encoding, name a valid ID, keep in order
// only versions its scheme reads (and as written, sorted, only those it cannot), and
// have intervals whose bounds are in order.
func FuzzOSV(f *testing.F) {
	files, _ := filepath.Glob("testdata/osv/*.json")
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	for _, doc := range edgeRecords {
		f.Add([]byte(doc))
	}
	lim := DefaultLimits()
	lim.MaxRecordBytes = 1 << 20
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := parseOSV(data, &lim, func(string, string) {})
		if err != nil || p.withdrawn {
			return
		}
		if !validID(p.rec.ID) || len(p.rec.Keys) != len(p.entries) {
			t.Fatalf("bad record %+v", p.rec)
		}
		if back, err := decodeRecord(encodeRecord(&p.rec)); err != nil || !reflect.DeepEqual(back, p.rec) {
			t.Fatalf("record does not round-trip: %v\n%+v\n%+v", err, p.rec, back)
		}
		for _, e := range p.entries {
			back, err := decodeEntry(encodeEntry(e))
			if err != nil || !reflect.DeepEqual(&back, e) {
				t.Fatalf("entry does not round-trip: %v\n%+v\n%+v", err, e, back)
			}
			for _, a := range e.Affected {
				checkAffected(t, a)
			}
		}
	})
}

func checkAffected(t *testing.T, a affected) {
	sch, ok := version.Named(a.Scheme)
	if !ok {
		t.Fatalf("unknown scheme %q", a.Scheme)
	}
	parse := func(s string) version.Version {
		v, err := sch.Parse(s)
		if err != nil {
			t.Fatalf("stored version %q does not parse: %v", s, err)
		}
		return v
	}
	for i := range a.Versions {
		if i > 0 && parse(a.Versions[i-1]).Compare(parse(a.Versions[i])) >= 0 {
			t.Fatalf("versions not sorted: %v", a.Versions)
		}
	}
	for i, s := range a.Unordered {
		if _, err := sch.Parse(s); err == nil || s == "" || len(s) > maxVersionLen {
			t.Fatalf("version %q kept as written, but the scheme reads it", s)
		}
		if i > 0 && a.Unordered[i-1] >= s {
			t.Fatalf("versions kept as written are not sorted: %q", a.Unordered)
		}
	}
	for _, iv := range a.Intervals {
		if iv.Lo != "" && iv.Hi != "" && parse(iv.Lo).Compare(parse(iv.Hi)) > 0 {
			t.Fatalf("interval %+v is reversed", iv)
		}
		if iv.Fixed != "" && iv.Fixed != iv.Hi {
			t.Fatalf("interval %+v reports a fix that is not its bound", iv)
		}
	}
}
