package buildcontext

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestLoadNegationsAndDoubleStar(t *testing.T) {
	c := load(t, map[string]string{
		"Dockerfile":             "FROM scratch\n",
		".dockerignore":          "**/*.log\nsecrets\n!secrets/public.pem\nbuild/**\n!build/dist\n",
		"app.go":                 "package main",
		"debug.log":              "x",
		"deep/er/trace.log":      "x",
		"deep/er/keep.txt":       "x",
		"secrets/public.pem":     "x",
		"secrets/private.pem":    "x",
		"secrets/nested/key.pem": "x",
		"build/dist/app":         "x",
		"build/tmp/obj":          "x",
	})
	want := []string{".dockerignore", "Dockerfile", "app.go", "build", "build/dist", "build/dist/app",
		"deep", "deep/er", "deep/er/keep.txt", "secrets", "secrets/public.pem"}
	if got := sentPaths(c); !slices.Equal(got, want) {
		t.Errorf("sent %q\nwant %q", got, want)
	}
	if c.Ignore == nil || filepath.Base(c.Ignore.Path) != ".dockerignore" {
		t.Errorf("ignore file = %+v", c.Ignore)
	}
}

func TestLoadWalkOrderKeepsSubtreesTogether(t *testing.T) {
	c := load(t, map[string]string{"Dockerfile": "FROM scratch\n", "a/b": "x", "a-c": "x", "a/d/e": "x"})
	got := make([]string, len(c.Files))
	for i, f := range c.Files {
		got[i] = f.Path
	}
	want := []string{"Dockerfile", "a", "a/b", "a/d", "a/d/e", "a-c"}
	if !slices.Equal(got, want) {
		t.Errorf("walk order %q, want %q", got, want)
	}
	if f, ok := c.Lookup("/a/./d/e"); !ok || f.Path != "a/d/e" || !f.IsRegular() {
		t.Errorf("Lookup = %+v %v", f, ok)
	}
}

// TestLoadDockerfileIgnorePrecedence: <Dockerfile>.dockerignore beside the Dockerfile
// wins over the context's .dockerignore, which then does not apply at all.
func TestLoadDockerfileIgnorePrecedence(t *testing.T) {
	root := t.TempDir()
	writeTree(t, root, map[string]string{
		".dockerignore":                      "a.txt\n",
		"docker/app.Dockerfile":              "FROM scratch\n",
		"docker/app.Dockerfile.dockerignore": "b.txt\n",
		"a.txt":                              "x",
		"b.txt":                              "x",
	})
	c, err := Load(context.Background(), root, filepath.Join(root, "docker/app.Dockerfile"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	sent := sentPaths(c)
	if !slices.Contains(sent, "a.txt") || slices.Contains(sent, "b.txt") {
		t.Errorf("sent %q: want a.txt sent and b.txt excluded by app.Dockerfile.dockerignore", sent)
	}
	if !strings.HasSuffix(c.Ignore.Path, "app.Dockerfile.dockerignore") || c.Dockerfile != "docker/app.Dockerfile" {
		t.Errorf("ignore %s, dockerfile %s", c.Ignore.Path, c.Dockerfile)
	}

	// Without the specific file, the context's own applies.
	c, err = Load(context.Background(), root, filepath.Join(root, "docker/other.Dockerfile"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if sent := sentPaths(c); slices.Contains(sent, "a.txt") || !slices.Contains(sent, "b.txt") {
		t.Errorf("sent %q: want .dockerignore applied", sent)
	}
}

// TestLoadAlwaysSendsDockerfileAndIgnore: even "*" keeps the files the builder needs, and
// the directories leading to them.
func TestLoadAlwaysSendsDockerfileAndIgnore(t *testing.T) {
	root := t.TempDir()
	writeTree(t, root, map[string]string{
		".dockerignore":    "*\n",
		"build/Dockerfile": "FROM scratch\n",
		"build/other":      "x",
		"src/main.go":      "x",
	})
	c, err := Load(context.Background(), root, filepath.Join(root, "build/Dockerfile"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{".dockerignore", "build", "build/Dockerfile"}
	if got := sentPaths(c); !slices.Equal(got, want) {
		t.Errorf("sent %q, want %q", got, want)
	}
	if c.Excluded != 2 { // src (skipped whole) and build/other; build itself is sent
		t.Errorf("Excluded = %d, want 2", c.Excluded)
	}
}

// TestLoadSymlinksAreRecordedNotFollowed covers a link to a host file, a link loop and a
// directory link to its own parent: all are entries, none is followed.
func TestLoadSymlinksAreRecordedNotFollowed(t *testing.T) {
	c := load(t, map[string]string{
		"Dockerfile": "FROM scratch\n",
		"shadow":     "-> /etc/shadow",
		"loop-a":     "-> loop-b",
		"loop-b":     "-> loop-a",
		"dir/self":   "-> ..",
		"dir/file":   "x",
	})
	want := []string{"Dockerfile", "dir", "dir/file", "dir/self", "loop-a", "loop-b", "shadow"}
	if got := sentPaths(c); !slices.Equal(got, want) {
		t.Errorf("sent %q, want %q", got, want)
	}
	f, _ := c.Lookup("shadow")
	if !f.IsSymlink() || f.Link != "/etc/shadow" || f.IsRegular() {
		t.Errorf("shadow = %+v, want a symlink to /etc/shadow", f)
	}
	if f, _ := c.Lookup("dir/self"); !f.IsSymlink() || f.Link != ".." {
		t.Errorf("dir/self = %+v", f)
	}
}

func TestLoadSpecialFiles(t *testing.T) {
	done := make(chan *Context)
	go func() { done <- load(t, map[string]string{"Dockerfile": "FROM scratch\n", "pipe": "|fifo"}) }()
	select {
	case c := <-done:
		f, ok := c.Lookup("pipe")
		if !ok || !f.IsSpecial() || f.IsRegular() {
			t.Errorf("pipe = %+v %v, want a special file", f, ok)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Load blocked on a named pipe")
	}
}

func TestLoadLimitsAndCancellation(t *testing.T) {
	root := t.TempDir()
	files := map[string]string{"Dockerfile": "FROM scratch\n"}
	for i := range 20 {
		files[filepath.Join("d", strings.Repeat("f", i+1))] = "x"
	}
	writeTree(t, root, files)
	_, err := Load(context.Background(), root, "", Options{MaxFiles: 10})
	if !errors.Is(err, ErrTooManyFiles) {
		t.Errorf("MaxFiles 10: got %v, want ErrTooManyFiles", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Load(ctx, root, "", Options{}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: got %v", err)
	}
	if _, err := Load(context.Background(), filepath.Join(root, "missing"), "", Options{}); err == nil {
		t.Error("missing root: want an error")
	}
}

func TestLoadMalformedIgnoreNamesFileAndLine(t *testing.T) {
	root := t.TempDir()
	writeTree(t, root, map[string]string{".dockerignore": "# fine\nok\nbad[\n"})
	_, err := Load(context.Background(), root, "", Options{})
	var ie *IgnoreError
	if !errors.As(err, &ie) || ie.Line != 3 || !strings.Contains(err.Error(), ".dockerignore:3:") {
		t.Fatalf("got %v, want an IgnoreError at .dockerignore:3", err)
	}
}

func TestLoadOversizedIgnore(t *testing.T) {
	root := t.TempDir()
	writeTree(t, root, map[string]string{".dockerignore": strings.Repeat("a\n", maxIgnoreBytes)})
	if _, err := Load(context.Background(), root, "", Options{}); !errors.Is(err, errIgnoreTooLarge) {
		t.Fatalf("got %v, want errIgnoreTooLarge", err)
	}
}

func TestLoadUnreadableDirectoryIsAWarning(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("running as root: permission bits do not deny access")
	}
	root := t.TempDir()
	writeTree(t, root, map[string]string{"Dockerfile": "FROM scratch\n", "locked/secret": "x", "ok": "x"})
	if err := os.Chmod(filepath.Join(root, "locked"), 0); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.Chmod(filepath.Join(root, "locked"), 0o755) })
	c, err := Load(context.Background(), root, "", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Warnings) != 1 || !strings.Contains(c.Warnings[0], "locked/") {
		t.Errorf("warnings = %q", c.Warnings)
	}
}
