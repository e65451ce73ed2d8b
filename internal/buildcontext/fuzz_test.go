package buildcontext

import (
	"bytes"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode"

	"github.com/moby/patternmatcher/ignorefile"
)

// FuzzDockerignore parses arbitrary .dockerignore content and matches an arbitrary path.
// Invariants:
//   - nothing panics;
//   - ParseIgnore agrees with BuildKit's reader: same patterns, and it fails only where
//     the builder would (a line the reader cannot read, a pattern the matcher rejects);
//   - last match wins: appending the path itself as a pattern excludes it, and appending
//     it as an exception ("!path") sends it, whatever the patterns before.
func FuzzDockerignore(f *testing.F) {
	files, _ := filepath.Glob("testdata/ignore/*.dockerignore")
	invalid, _ := filepath.Glob("testdata/ignore/invalid/*.dockerignore")
	for _, name := range append(files, invalid...) {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		for _, p := range []string{"a.txt", "node_modules/keep/x.js", "secrets/public.txt", "docs/guide.md", ".env"} {
			f.Add(data, p)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte, p string) {
		if len(data) > 8<<10 {
			return // real .dockerignore files are a few hundred bytes; keep each run fast
		}
		ig, err := ParseIgnore(".dockerignore", data)
		agreeWithBuildKit(t, data, ig, err)
		if err != nil {
			return
		}
		if len(p) > 256 {
			p = p[:256] // Excludes is quadratic in depth; a real path is bounded by PATH_MAX
		}
		ig.Excludes(p) // must not panic on any path
		x, ok := literalPath(p)
		if !ok {
			return
		}
		if ig2, err := ParseIgnore(".dockerignore", append(slices.Clip(data), "\n"+x+"\n"...)); err == nil && !ig2.Excludes(x) {
			t.Errorf("%q appended last does not exclude %q", x, x)
		}
		if ig3, err := ParseIgnore(".dockerignore", append(slices.Clip(data), "\n!"+x+"\n"...)); err == nil && ig3.Excludes(x) {
			t.Errorf("!%q appended last does not re-include %q", x, x)
		}
	})
}

func agreeWithBuildKit(t *testing.T, data []byte, ig *Ignore, err error) {
	want, rerr := ignorefile.ReadAll(bytes.NewReader(data))
	switch {
	case rerr != nil:
		if err == nil {
			t.Fatalf("BuildKit's reader fails (%v), ParseIgnore does not", rerr)
		}
	case err == nil:
		got := make([]string, len(ig.Patterns))
		for i, p := range ig.Patterns {
			got[i] = p.String()
		}
		if !slices.Equal(got, want) {
			t.Fatalf("patterns %q, BuildKit reads %q", got, want)
		}
	default:
		if !slices.ContainsFunc(want, func(w string) bool { return validatePattern(w) != nil }) {
			t.Fatalf("ParseIgnore fails (%v) on patterns the matcher accepts: %q", err, want)
		}
	}
}

// literalPath turns s into a clean relative path without pattern syntax, written in a
// .dockerignore as itself.
func literalPath(s string) (string, bool) {
	s = strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) || strings.ContainsRune(`*?[]\`, r) || r == 0 || r == unicode.ReplacementChar {
			return '_'
		}
		return r
	}, strings.ToValidUTF8(s, "_"))
	s = strings.TrimLeft(path.Clean("/"+s), "/")
	if s == "" || s == "." {
		return "", false
	}
	if s[0] == '#' || s[0] == '!' {
		s = "x" + s
	}
	return s, true
}
