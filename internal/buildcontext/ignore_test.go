package buildcontext

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/moby/patternmatcher/ignorefile"
)

func readIgnoreFixture(t *testing.T, name string) *Ignore {
	t.Helper()
	p := filepath.Join("testdata", "ignore", name)
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	ig, err := ParseIgnore(p, data)
	if err != nil {
		t.Fatal(err)
	}
	return ig
}

// TestParseIgnoreAgreesWithBuildKit checks the normalisation against BuildKit's own
// reader on every fixture.
func TestParseIgnoreAgreesWithBuildKit(t *testing.T) {
	files, _ := filepath.Glob("testdata/ignore/*.dockerignore")
	if len(files) == 0 {
		t.Fatal("no fixtures")
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		want, err := ignorefile.ReadAll(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		ig, err := ParseIgnore(f, data)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		var got []string
		for _, p := range ig.Patterns {
			got = append(got, p.String())
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s:\n got %q\nwant %q", f, got, want)
		}
	}
}

func TestParseIgnoreLinesAndNormalisation(t *testing.T) {
	ig := readIgnoreFixture(t, "bom-and-spaces.dockerignore")
	want := []IgnorePattern{
		{Line: 2, Pattern: ".env"},
		{Line: 3, Pattern: "# leading space: not a comment"},
		{Line: 4, Pattern: "kept.txt", Negate: true},
		{Line: 5, Pattern: "/"},
		{Line: 6, Pattern: "double/slash"},
	}
	if !slices.Equal(ig.Patterns, want) {
		t.Errorf("got %+v\nwant %+v", ig.Patterns, want)
	}
}

func TestParseIgnoreErrorsNameFileAndLine(t *testing.T) {
	for name, line := range map[string]int{"bracket.dockerignore": 3, "bang.dockerignore": 2, "trailing-backslash.dockerignore": 2} {
		p := filepath.Join("testdata", "ignore", "invalid", name)
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		_, err = ParseIgnore(p, data)
		var ie *IgnoreError
		if !errors.As(err, &ie) || ie.Line != line || ie.Path != p {
			t.Errorf("%s: got %v, want an IgnoreError at line %d", name, err, line)
			continue
		}
		if !strings.Contains(err.Error(), p+":"+strings.TrimSpace(string(rune('0'+line)))) {
			t.Errorf("%s: message %q does not name the file and line", name, err)
		}
	}
}

func TestParseIgnoreLineTooLong(t *testing.T) {
	data := []byte("ok\n" + strings.Repeat("a", 70<<10) + "\n")
	_, err := ParseIgnore(".dockerignore", data)
	var ie *IgnoreError
	if !errors.As(err, &ie) || ie.Line != 2 {
		t.Fatalf("got %v, want an error at line 2", err)
	}
}

// TestExcludes pins BuildKit's semantics on the documented examples: parent-directory
// matches, "**", exceptions with last-match-wins, and exceptions that re-include files
// inside an excluded directory.
func TestExcludes(t *testing.T) {
	docs := readIgnoreFixture(t, "buildkit-docs.dockerignore")
	exc := readIgnoreFixture(t, "exceptions.dockerignore")
	cases := []struct {
		ig       *Ignore
		path     string
		excluded bool
	}{
		{docs, "somedir/temporary.txt", true},
		{docs, "somedir/subdir/temporary.txt", true},
		{docs, "temporary.txt", false}, // */temp* needs one directory level
		{docs, "tempa", true},
		{docs, "tempab", false},
		{docs, "main.go", true},
		{docs, "a/b/c.go", true},
		{docs, "keep.go", false}, // exception after **/*.go
		{docs, "a/keep.go", true},
		{docs, "abs/path", true}, // leading "/" dropped
		{docs, "abs/path/deeper/file", true},
		{docs, "dot/path/x", true}, // leading "./" cleaned
		{docs, "node_modules/left-pad/index.js", true},
		{docs, "node_modules/keep/index.js", false},
		{docs, "node_modules/keep", true}, // "keep/**" re-includes what is below, not the directory itself
		{docs, "secrets/private.txt", true},
		{docs, "secrets/public.txt", false},
		{docs, "secret.txt", true}, // "**/secret.txt" matches at the root too
		{docs, "x/y/secret.txt", true},
		{docs, "Dockerfile", false},
		{exc, "CHANGELOG.md", true},
		{exc, "README.md", false},
		{exc, "README-secret.md", true}, // last match wins
		{exc, "docs/guide.md", false},   // glob exception re-includes inside an excluded directory
		{exc, "docs/guide.html", true},
		{nil, "anything", false},
	}
	for _, tc := range cases {
		if got := tc.ig.Excludes(tc.path); got != tc.excluded {
			name := "<nil>"
			if tc.ig != nil {
				name = filepath.Base(tc.ig.Path)
			}
			t.Errorf("%s: Excludes(%q) = %v, want %v", name, tc.path, got, tc.excluded)
		}
	}
}

// TestExcludesAgreesWithLoad checks that Excludes answers what the walk sends, on a tree
// with every case of the documented fixture.
func TestExcludesAgreesWithLoad(t *testing.T) {
	ignore, err := os.ReadFile("testdata/ignore/buildkit-docs.dockerignore")
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{".dockerignore": string(ignore), "Dockerfile": "FROM scratch\n"}
	for _, p := range []string{"somedir/temporary.txt", "somedir/subdir/temporary.txt", "temporary.txt", "tempa",
		"tempab", "main.go", "a/b/c.go", "keep.go", "a/keep.go", "abs/path/deeper/file", "dot/path/x",
		"node_modules/left-pad/index.js", "node_modules/keep/index.js", "node_modules/keep/sub/x.js",
		"secrets/private.txt", "secrets/public.txt", "secret.txt", "x/y/secret.txt", "x/y/other.txt"} {
		files[p] = "x"
	}
	c := load(t, files)
	sent := map[string]bool{}
	for _, f := range c.Files {
		sent[f.Path] = true
	}
	hasSentChild := map[string]bool{}
	for _, f := range c.Files {
		for d := filepath.Dir(f.Path); d != "."; d = filepath.Dir(d) {
			hasSentChild[d] = true
		}
	}
	for p := range files {
		for d := p; d != "."; d = filepath.Dir(d) {
			forced := d == "Dockerfile" || d == ".dockerignore"
			if forced || hasSentChild[d] { // an excluded directory is sent to hold what an exception re-includes
				continue
			}
			if c.Ignore.Excludes(d) == sent[d] {
				t.Errorf("%s: Excludes = %v but sent = %v", d, c.Ignore.Excludes(d), sent[d])
			}
		}
	}
	if !sent["node_modules/keep"] || !sent["node_modules"] {
		t.Error("directories above a re-included file must be sent too")
	}
}
