package vulndb

import (
	"context"
	"reflect"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/charterhq/charter/internal/report"
)

func TestEntryRoundTrip(t *testing.T) {
	e := &entry{Affected: []affected{{
		Scheme: "semver",
		Intervals: []interval{
			{Lo: "1.0.0", Hi: "1.2.3", Fixed: "1.2.3"},
			{Lo: "2.0.0", Hi: "2.1.0", Incl: true},
			{},
		},
		Versions:  []string{"0.9.0", "0.9.1"},
		Unordered: []string{"0.1-bulbasaur", "trunk"},
		Sev:       severity{Level: report.High, Source: SevDefault, Score: 7.5, Vector: "CVSS:3.1/AV:N", Rank: 2},
	}, {Scheme: "pypi"}}}
	back, err := decodeEntry(encodeEntry(e))
	if err != nil || !reflect.DeepEqual(&back, e) {
		t.Fatalf("round trip: %v\n%+v\n%+v", err, e, back)
	}
	enc := encodeEntry(e)
	for n := range len(enc) {
		if _, err := decodeEntry(enc[:n]); err == nil {
			t.Fatalf("a value cut to %d of %d bytes decoded", n, len(enc))
		}
	}
	if _, err := decodeEntry(append(enc, 0)); err == nil {
		t.Fatal("a value with a trailing byte decoded")
	}
}

func TestRecordRoundTrip(t *testing.T) {
	r := &record{ID: "GHSA-xxxx", Aliases: []string{"CVE-2024-1"}, Summary: "s", Modified: "m",
		Published: "p", Refs: []string{"https://example.com"}, Keys: []string{"Go\x00example.com/m"}}
	back, err := decodeRecord(encodeRecord(r))
	if err != nil || !reflect.DeepEqual(&back, r) {
		t.Fatalf("round trip: %v\n%+v\n%+v", err, r, back)
	}
	enc := encodeRecord(r)
	for n := range len(enc) {
		if _, err := decodeRecord(enc[:n]); err == nil {
			t.Fatalf("a value cut to %d of %d bytes decoded", n, len(enc))
		}
	}
}

// FuzzDecodeEntry feeds arbitrary stored values to the record and index entry
// decoders: they must never panic nor allocate past the value's size, and what they
// accept re-encodes to the same value.
func FuzzDecodeEntry(f *testing.F) {
	f.Add(encodeEntry(&entry{Affected: []affected{{Scheme: "semver", Intervals: []interval{{Lo: "1.0.0", Hi: "2.0.0", Fixed: "2.0.0"}}}}}))
	f.Add(encodeEntry(&entry{Affected: []affected{{Scheme: "pep440", Versions: []string{"1.0"}, Unordered: []string{"0.1-bulbasaur", "trunk"}}}}))
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Add([]byte{1, 0, 0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Fuzz(func(t *testing.T, data []byte) {
		if r, err := decodeRecord(data); err == nil {
			if back, err := decodeRecord(encodeRecord(&r)); err != nil || !reflect.DeepEqual(back, r) {
				t.Fatalf("record re-encoding differs: %v\n%+v\n%+v", err, r, back)
			}
		}
		e, err := decodeEntry(data)
		if err != nil {
			return
		}
		back, err := decodeEntry(encodeEntry(&e))
		if err != nil || !reflect.DeepEqual(back, e) {
			t.Fatalf("re-encoding differs: %v\n%+v\n%+v", err, e, back)
		}
	})
}

// A database in an older format is refused with a message saying how to rebuild it,
// and an update rebuilds it rather than copying it.
func TestOpenOlderFormat(t *testing.T) {
	db, _, dir := build(t, snapshot())
	path := db.path
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	b, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = b.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketMeta).Put(keySchema, []byte("charter.vulndb/2")) })
	if cerr := b.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
	_, err = Open(dir)
	if err == nil || !strings.Contains(err.Error(), "charter db update") || !strings.Contains(err.Error(), "charter.vulndb/2") {
		t.Fatalf("Open of an older format: %v", err)
	}
	if _, err := Update(context.Background(), dir, UpdateOptions{}, snapshot()); err != nil {
		t.Fatalf("Update over an older format: %v", err)
	}
	db, err = Open(dir)
	if err != nil {
		t.Fatalf("Open after the update: %v", err)
	}
	_ = db.Close()
}

// Matching many packages on several workers gives what one worker gives, in the same
// order.
func TestParallelMatchKeepsOrder(t *testing.T) {
	db, _, _ := build(t, snapshot())
	debian12 := Distro{ID: "debian", VersionID: "12"}
	base := []report.Package{
		deb("libssl3", "3.0.11-1~deb12u1", "openssl", "3.0.11-1~deb12u1"),
		deb("bind9", "1:9.18.16-1~deb12u1", "", ""),
		deb("bind9", "not a version!", "", ""),
		lang("generic", "", "thing", "1"),
	}
	var pkgs []report.Package
	for len(pkgs) < 3*parallelMin {
		pkgs = append(pkgs, base...)
	}
	many, err := db.Match(context.Background(), pkgs, debian12)
	if err != nil {
		t.Fatal(err)
	}
	var want Result
	for i := 0; i < len(pkgs); i += len(base) {
		one, err := db.Match(context.Background(), pkgs[i:i+len(base)], debian12)
		if err != nil {
			t.Fatal(err)
		}
		want.Matches = append(want.Matches, one.Matches...)
		for why, n := range one.Unmatched {
			if want.Unmatched == nil {
				want.Unmatched = map[string]int{}
			}
			want.Unmatched[why] += n
		}
	}
	if len(many.Matches) == 0 || !reflect.DeepEqual(many, &want) {
		t.Fatalf("parallel match differs: %d matches, %v unmatched; want %d, %v",
			len(many.Matches), many.Unmatched, len(want.Matches), want.Unmatched)
	}
}
