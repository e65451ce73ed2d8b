package secrets

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/charterhq/charter/internal/testutil"
)

func TestRedactString(t *testing.T) {
	v1, v2 := fake(100, alnum, 20), fake(101, alnum, 12)
	r := NewRedactor([]string{"  " + v1 + "\n", v2, "abc", ""})
	for _, tc := range []struct{ in, want string }{
		{"nothing here", "nothing here"},
		{"token=" + v1 + " done", "token=" + Marker + " done"},
		{v1 + v2 + " and " + v2, Marker + " and " + Marker}, // adjacent values: one marker
		{"abc is too short to be masked", "abc is too short to be masked"},
		{"a\n" + v2 + "\nb\n", "a\n" + Marker + "\nb\n"},
	} {
		if got := r.String(tc.in); got != tc.want {
			t.Errorf("String(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestRedactOverlappingValues(t *testing.T) {
	r := NewRedactor([]string{"abcdef", "defghi"})
	if got := r.String("xx abcdefghi yy"); got != "xx "+Marker+" yy" {
		t.Errorf("got %q", got)
	}
}

func TestRedactWithScan(t *testing.T) {
	r := NewRedactor(nil, WithScan())
	in := "cloning with " + fakeGHP + "\nkey:\n" + fakePEM(102, "RSA PRIVATE KEY", "\n") + "\nDB_PASSWORD=" + fakeEnvPass + "\nok\n"
	got := r.String(in)
	want := "cloning with [REDACTED:github-pat]\nkey:\n[REDACTED:pem-private-key]\nDB_PASSWORD=[REDACTED:generic-assignment]\nok\n"
	if got != want {
		t.Errorf("got %q\nwant %q", got, want)
	}
	if got := r.String(""); got != "" {
		t.Errorf("String(\"\") = %q", got)
	}
	if NewRedactor(nil).String(in) != in {
		t.Error("a Redactor without values or WithScan changed its input")
	}
}

func TestRedactMultiLineValue(t *testing.T) {
	key := fakePEM(103, "PRIVATE KEY", "\n")
	r := NewRedactor([]string{key})
	// Printed as is, as one JSON string, and re-indented: every line is masked.
	for _, in := range []string{
		"key=" + key + "\n",
		"  " + strings.ReplaceAll(key, "\n", "\n  ") + "\n",
		strings.ReplaceAll(key, "\n", "\r\n"),
	} {
		got := r.String(in)
		for _, l := range strings.Split(key, "\n") {
			if len(l) >= minValueLine && strings.Contains(got, l) {
				t.Errorf("line %q survives in %q", Redact(l), got)
			}
		}
	}
}

// writeSplit writes in through a Writer in pieces cut at the given offsets.
func writeSplit(t testing.TB, r *Redactor, in []byte, cuts []int) string {
	t.Helper()
	var out bytes.Buffer
	w := r.Writer(&out)
	prev := 0
	for _, c := range cuts {
		if _, err := w.Write(in[prev:c]); err != nil {
			t.Fatal(err)
		}
		prev = c
	}
	if _, err := w.Write(in[prev:]); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return out.String()
}

func TestWriterSameHoweverSplit(t *testing.T) {
	v := fake(104, alnum, 24)
	multi := "line-one-" + fake(105, alnum, 6) + "\nline-two-" + fake(106, alnum, 6)
	r := NewRedactor([]string{v, multi}, WithScan())
	in := []byte("start\nvalue " + v + " in a line\n" + multi + " and " + fakeNPM + "\n" +
		fakePEM(107, "OPENSSH PRIVATE KEY", "\n") + "\nprogress 10%\rprogress 20%\r" + v + "\nno newline at the end " + v)
	want := r.String(string(in))
	for _, s := range []string{v, "line-one", "line-two", fakeNPM, "OPENSSH"} {
		if strings.Contains(want, s) {
			t.Fatalf("String leaves %q in %q", Redact(s), want)
		}
	}
	// Every single cut, then byte-by-byte, then random cuts.
	for c := 0; c <= len(in); c++ {
		if got := writeSplit(t, r, in, []int{c}); got != want {
			t.Fatalf("cut at %d: %q\nwant %q", c, got, want)
		}
	}
	all := make([]int, len(in))
	for i := range all {
		all[i] = i
	}
	if got := writeSplit(t, r, in, all); got != want {
		t.Fatalf("byte by byte: %q\nwant %q", got, want)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 200 {
		var cuts []int
		for c := rng.IntN(20); c < len(in); c += 1 + rng.IntN(40) {
			cuts = append(cuts, c)
		}
		if got := writeSplit(t, r, in, cuts); got != want {
			t.Fatalf("cuts %v: %q\nwant %q", cuts, got, want)
		}
	}
}

func TestWriterFlushesCompleteLines(t *testing.T) {
	v := fake(108, alnum, 16)
	var out bytes.Buffer
	w := NewRedactor([]string{v}, WithScan()).Writer(&out)
	mustWrite(t, w, "first line\nsecond "+v[:8])
	if got := out.String(); got != "first line\n" {
		t.Fatalf("after the first write: %q", got)
	}
	mustWrite(t, w, v[8:]+" end\nthird")
	if got := out.String(); got != "first line\nsecond "+Marker+" end\n" {
		t.Fatalf("after the second write: %q", got)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if got := out.String(); got != "first line\nsecond "+Marker+" end\nthird" {
		t.Fatalf("after Close: %q", got)
	}
	if _, err := w.Write([]byte("x")); err == nil {
		t.Error("Write after Close succeeded")
	}
}

func mustWrite(t testing.TB, w io.Writer, s string) {
	t.Helper()
	if _, err := w.Write([]byte(s)); err != nil {
		t.Fatal(err)
	}
}

// TestWriterBoundedBuffer streams 8 MiB without a line break: the writer must keep
// writing, holding at most a segment and the longest value, and still mask a value cut
// across segment boundaries.
func TestWriterBoundedBuffer(t *testing.T) {
	v := fake(109, alnum, 40)
	r := NewRedactor([]string{v})
	var out countingWriter
	w := r.Writer(&out)
	rw := w.(*redactWriter)
	chunk := []byte(strings.Repeat("x", 4093) + v[:20])
	chunk2 := []byte(v[20:] + strings.Repeat("y", 1000))
	maxHeld := 0
	for range 1500 {
		for _, c := range [][]byte{chunk, chunk2} {
			if _, err := w.Write(c); err != nil {
				t.Fatal(err)
			}
			maxHeld = max(maxHeld, len(rw.buf)-rw.off)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if limit := maxSegment + r.maxLen; maxHeld > limit {
		t.Errorf("held %d bytes, limit %d", maxHeld, limit)
	}
	if out.found(v) {
		t.Error("value survived")
	}
	if out.markers != 1500 {
		t.Errorf("%d markers, want 1500", out.markers)
	}
}

// countingWriter counts markers and keeps a little context to look for a value across
// Write calls, without keeping the whole stream.
type countingWriter struct {
	tail    []byte
	markers int
}

func (c *countingWriter) Write(p []byte) (int, error) {
	c.tail = append(c.tail, p...)
	c.markers += bytes.Count(p, []byte(Marker))
	if len(c.tail) > 1<<20 {
		c.tail = c.tail[len(c.tail)-4096:]
	}
	return len(p), nil
}

func (c *countingWriter) found(v string) bool { return bytes.Contains(c.tail, []byte(v)) }

func TestWriterErrors(t *testing.T) {
	boom := errors.New("boom")
	w := NewRedactor([]string{"secret-value"}).Writer(failingWriter{boom})
	if _, err := w.Write([]byte("line\n")); !errors.Is(err, boom) {
		t.Fatalf("Write: %v", err)
	}
	if _, err := w.Write([]byte("more\n")); !errors.Is(err, boom) {
		t.Fatalf("second Write: %v", err)
	}
	if err := w.Close(); !errors.Is(err, boom) {
		t.Fatalf("Close: %v", err)
	}
}

type failingWriter struct{ err error }

func (f failingWriter) Write([]byte) (int, error) { return 0, f.err }

func TestRedactorConcurrent(t *testing.T) {
	vals := []string{fake(110, alnum, 20), fake(111, alnum, 20)}
	r := NewRedactor(vals, WithScan())
	var out testutil.SyncBuffer
	w := r.Writer(&out)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				line := fmt.Sprintf("g%d i%d %s %s\n", g, i, vals[i%2], fakeGHP)
				if got := r.String(line); strings.Contains(got, vals[i%2]) || strings.Contains(got, fakeGHP) {
					t.Errorf("String leaked: %q", got)
					return
				}
				if _, err := w.Write([]byte(line)); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	if n := strings.Count(got, "\n"); n != 1600 {
		t.Errorf("%d lines, want 1600", n)
	}
	for _, v := range append(vals, fakeGHP) {
		if strings.Contains(got, v) {
			t.Errorf("%s leaked", Redact(v))
		}
	}
}

func TestRedact(t *testing.T) {
	for in, want := range map[string]string{
		"":                      "",
		"abcd":                  "****",
		"abcde":                 "abcd*",
		fakeAKIA:                fakeAKIA[:4] + strings.Repeat("*", 16),
		strings.Repeat("z", 99): "zzzz" + strings.Repeat("*", 16),
		"ñañañaña":              "ñaña****",
	} {
		if got := Redact(in); got != want {
			t.Errorf("Redact(%q) = %q, want %q", in, got, want)
		}
	}
}

// markerRE matches what the redactor writes in place of a secret.
var markerRE = regexp.MustCompile(`\[REDACTED(:[a-z0-9-]+)?\]`)
