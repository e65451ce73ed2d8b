package buildcontext

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/charterhq/charter/internal/dockerfile"
	"github.com/charterhq/charter/internal/report"
	"github.com/charterhq/charter/internal/secrets"
)

// writeTree creates files under root. A key ending in "/" is a directory; a value
// starting with "-> " makes a symlink to the rest; "|fifo" makes a named pipe.
func writeTree(t testing.TB, root string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		var err error
		switch {
		case strings.HasSuffix(name, "/"):
			err = os.MkdirAll(p, 0o755)
		case strings.HasPrefix(content, "-> "):
			err = os.Symlink(strings.TrimPrefix(content, "-> "), p)
		case content == "|fifo":
			err = syscall.Mkfifo(p, 0o644)
		default:
			err = os.WriteFile(p, []byte(content), 0o644)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

// load writes the tree and loads it with the Dockerfile at its root.
func load(t testing.TB, files map[string]string) *Context {
	t.Helper()
	root := t.TempDir()
	writeTree(t, root, files)
	df := filepath.Join(root, "Dockerfile")
	c, err := Load(context.Background(), root, df, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func parseDockerfile(t testing.TB, src string) *dockerfile.File {
	t.Helper()
	df, err := dockerfile.ParseBytes("Dockerfile", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return df
}

// sentPaths lists the paths of the entries sent.
func sentPaths(c *Context) []string {
	out := make([]string, len(c.Files))
	for i, f := range c.Files {
		out[i] = f.Path
	}
	slices.Sort(out)
	return out
}

// check loads the tree (which must hold the Dockerfile) and runs Check on it.
func check(t testing.TB, files map[string]string) ([]report.Finding, []string, *Context) {
	t.Helper()
	c := load(t, files)
	fs, warns := Check(context.Background(), c, parseDockerfile(t, files["Dockerfile"]), nil)
	return fs, warns, c
}

// byRule lists "RULE path:line" for each finding, sorted.
func byRule(fs []report.Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.Rule+" "+f.Location.String())
	}
	slices.Sort(out)
	return out
}

// fakeAWSKey is a made-up credential in the shape secret scanners look for.
const fakeAWSKey = "AKIAQX7RMZ3TBV5LWK2N"

const fakeSecretLine = "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYzQ4vT8kLmN"

// requireContentScanner skips a test that needs secrets.Scan when the scanner does not
// yet recognise the fake credentials used here (the package is developed alongside).
func requireContentScanner(t *testing.T) {
	t.Helper()
	if len(secrets.ScanString(fakeSecretLine+"\n"+"key_id = "+fakeAWSKey+"\n")) == 0 {
		t.Skip("secrets.Scan does not detect the fake AWS credentials yet; content-based checks not exercised")
	}
}
