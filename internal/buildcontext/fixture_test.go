package buildcontext

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/charterhq/charter/internal/dockerfile"
	"github.com/charterhq/charter/internal/secrets"
)

// TestFixtureMultistage runs the preflight on a checked-in Node project: .env reaches the
// final image through the build stage; .npmrc is used by the deps stage only.
func TestFixtureMultistage(t *testing.T) {
	dir := filepath.Join("testdata", "contexts", "multistage")
	dfPath := filepath.Join(dir, "Dockerfile")
	data, err := os.ReadFile(dfPath)
	if err != nil {
		t.Fatal(err)
	}
	df, err := dockerfile.ParseBytes(dfPath, data)
	if err != nil {
		t.Fatal(err)
	}
	c, err := Load(context.Background(), dir, dfPath, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if sent := sentPaths(c); slices.Contains(sent, "npm-debug.log") || !slices.Contains(sent, "config/.env") {
		t.Errorf("sent %q", sent)
	}
	fs, warns := Check(context.Background(), c, df, func(rel string) string { return filepath.ToSlash(filepath.Join(dir, rel)) })
	got := byRule(fs)
	want := []string{"CTX001 " + filepath.ToSlash(dfPath) + ":10"}
	if _, ok := secrets.ClassifyName(".npmrc"); ok {
		want = append(want, "CTX002 "+filepath.ToSlash(filepath.Join(dir, ".npmrc")))
	}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("findings %q\nwant %q\nwarnings %q", got, want, warns)
	}
	for _, f := range fs {
		if f.Rule == "CTX001" && !strings.Contains(f.Message, "config/.env") {
			t.Errorf("CTX001 message %q", f.Message)
		}
		if f.Rule == "CTX002" && !strings.Contains(f.Message, "used by COPY into stage build (line 10) and COPY into stage deps (line 4), but does not reach the final image") {
			t.Errorf("CTX002 message %q", f.Message)
		}
	}
}
