package state

import (
	"errors"
	"path/filepath"
	"testing"
	"unicode/utf8"
)

// FuzzRecords: whatever key and result a job sends, a valid pair round-trips through a
// claim and a finish, and an invalid one is refused with ErrInvalid, never stored.
func FuzzRecords(f *testing.F) {
	f.Add("post-1", "id-42")
	f.Add("post/2026-11-25 café", `{"id":"p-1"}`)
	f.Add("", "x")
	f.Add("\xff\xfe", "\x00")
	st, err := OpenEphemeral(filepath.Join(f.TempDir(), "state.db"))
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { _ = st.Close() })
	f.Fuzz(func(t *testing.T, key, result string) {
		_, _, err := st.Claim(key, "fuzz")
		if CheckKey(key) != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("invalid key %q accepted: %v", key, err)
			}
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		err = st.Finish(key, "fuzz", Done, result)
		if !utf8.ValidString(result) || len(result) > MaxResult {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("invalid result accepted: %v", err)
			}
			_ = st.Release(key, "fuzz")
			return
		}
		if err != nil && !errors.Is(err, ErrNotOwner) { // ErrNotOwner: the key was finished by an earlier input
			t.Fatal(err)
		}
		rec, ok, err := st.Lookup(key)
		if err != nil || !ok || rec.Key != key || rec.Status == InFlight {
			t.Fatalf("record of %q: %+v %v %v", key, rec, ok, err)
		}
	})
}
