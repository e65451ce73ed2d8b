package lint

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/charterhq/charter/internal/report"
)

func writeTree(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestIsDockerfileName(t *testing.T) {
	yes := []string{"Dockerfile", "dockerfile", "Containerfile", "Dockerfile.prod", "api.Dockerfile", "build.containerfile"}
	no := []string{"Dockerfile.dockerignore", ".dockerignore", "docker-compose.yml", "README.md", ".Dockerfile", "Dockerfiles"}
	for _, n := range yes {
		if !IsDockerfileName(n) {
			t.Errorf("%s should be a Dockerfile", n)
		}
	}
	for _, n := range no {
		if IsDockerfileName(n) {
			t.Errorf("%s should not be a Dockerfile", n)
		}
	}
}

func TestDiscoverSkipsVendoredAndLinks(t *testing.T) {
	dir := writeTree(t, map[string]string{
		"Dockerfile":                    "FROM scratch\n",
		"svc/api/Dockerfile.prod":       "FROM scratch\n",
		"node_modules/x/Dockerfile":     "FROM scratch\n",
		".git/Dockerfile":               "FROM scratch\n",
		"tools/tool.Dockerfile":         "FROM scratch\n",
		"tools/Dockerfile.dockerignore": "*\n",
		"outside/Dockerfile":            "FROM scratch\n",
	})
	if err := os.Symlink(filepath.Join(dir, "outside"), filepath.Join(dir, "linked")); err != nil {
		t.Fatal(err)
	}
	paths, _, err := Discover(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	var rel []string
	for _, p := range paths {
		r, _ := filepath.Rel(dir, p)
		rel = append(rel, filepath.ToSlash(r))
	}
	want := []string{"Dockerfile", "outside/Dockerfile", "svc/api/Dockerfile.prod", "tools/tool.Dockerfile"}
	if !slices.Equal(rel, want) {
		t.Fatalf("got %v, want %v", rel, want)
	}
}

func TestRunDirectoryPathsAndContext(t *testing.T) {
	dir := writeTree(t, map[string]string{
		"svc/Dockerfile": "FROM debian:12\nCOPY . /app\n",
		"svc/.env":       "DB_PASSWORD=Zq8vT2mXe9LrP4sKw8ZbN3yHd\n",
		"svc/main.go":    "package main\n",
	})
	r, err := Run(context.Background(), dir, Options{Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	if r.Target.Kind != "repo" {
		t.Errorf("target kind %q", r.Target.Kind)
	}
	var ctx001 *report.Finding
	for i, f := range r.Findings {
		if !strings.HasPrefix(f.Location.Path, "svc/") {
			t.Errorf("%s: path %q is not relative to the lint argument", f.Rule, f.Location.Path)
		}
		if f.Rule == "CTX001" {
			ctx001 = &r.Findings[i]
		}
	}
	if ctx001 == nil {
		t.Fatalf("the .env copied by COPY . /app must be CTX001; findings: %+v", r.Findings)
	}
	if strings.Contains(ctx001.Evidence, "vT2mXe9LrP4") || strings.Contains(ctx001.Message, "vT2mXe9LrP4") {
		t.Fatalf("CTX001 leaks the secret: %+v", ctx001)
	}
}

func TestRunHadolintConfig(t *testing.T) {
	dir := writeTree(t, map[string]string{
		".hadolint.yaml":    "ignored:\n  - DL3002\ntrustedRegistries:\n  - registry.example.com\n",
		"app/Dockerfile":    "FROM docker.io/debian:12\nUSER root\n",
		"app/.dockerignore": "*\n",
	})
	r, err := Run(context.Background(), dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var trusted, suppressed bool
	for _, f := range r.Findings {
		if slices.Contains(f.Aliases, "DL3026") {
			trusted = true
		}
		if slices.Contains(f.Aliases, "DL3002") && f.Suppressed != nil && f.Suppressed.By == "hadolint" {
			suppressed = true
		}
	}
	if !trusted || !suppressed {
		t.Fatalf("trustedRegistries applied %v, DL3002 ignored %v: %+v", trusted, suppressed, r.Findings)
	}
}

func TestRunBadInput(t *testing.T) {
	dir := writeTree(t, map[string]string{
		"bin/Dockerfile": "FROM scratch\n\x00\x01\x02ELF",
		"bad/Dockerfile": "FROM debian:12\nNOTANINSTRUCTION x\n",
	})
	for _, c := range []struct{ target, want string }{
		{filepath.Join(dir, "bad", "Dockerfile"), ":2:"},
		{filepath.Join(dir, "bin", "Dockerfile"), "Dockerfile"},
		{filepath.Join(dir, "missing"), "missing"},
	} {
		_, err := Run(context.Background(), c.target, Options{})
		var le *Error
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v should mention %q", c.target, err, c.want)
		}
		if err != nil && !errors.As(err, &le) {
			t.Errorf("%s: error %T is not *lint.Error", c.target, err)
		}
	}
}
