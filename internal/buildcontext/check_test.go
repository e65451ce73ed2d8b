package buildcontext

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/charterhq/charter/internal/report"
	"github.com/charterhq/charter/internal/secrets"
)

func TestCheckSecretThroughBuildStageIsFound(t *testing.T) {
	fs, _, _ := check(t, map[string]string{
		"Dockerfile": `FROM python:3.12 AS build
WORKDIR /src
COPY . .
RUN pip wheel -w /wheels .

FROM python:3.12-slim
COPY --from=build /src/config /app/config
COPY --from=build /wheels /wheels
`,
		"pyproject.toml":     "x",
		"config/.env":        "DB_PASSWORD=x",
		"config/settings.py": "DEBUG = False",
	})
	if got := byRule(fs); !slices.Equal(got, []string{"CTX001 Dockerfile:3"}) {
		t.Fatalf("findings %q", got)
	}
	f := fs[0]
	for _, want := range []string{"config/.env", ".env file", "/app/config/.env", "via stage build (line 3, /src/config/.env)", "COPY --from at line 7"} {
		if !strings.Contains(f.Message, want) {
			t.Errorf("message %q lacks %q", f.Message, want)
		}
	}
	if f.Severity != report.Critical || f.Location.Instruction != "COPY . ." || f.Remediation == "" {
		t.Errorf("finding %+v", f)
	}
}

func TestCheckSecretOnlyInDiscardedStageIsSentNotCopied(t *testing.T) {
	fs, _, _ := check(t, map[string]string{
		"Dockerfile": `FROM alpine AS fetch
COPY id_rsa /root/.ssh/id_rsa
RUN git clone git@github.com:o/private.git /deps

FROM scratch
COPY app /app
`,
		"id_rsa":  "not really a key",
		"app/bin": "x",
	})
	if got := byRule(fs); !slices.Equal(got, []string{"CTX002 id_rsa"}) {
		t.Fatalf("findings %q", got)
	}
	if msg := fs[0].Message; !strings.Contains(msg, "used by COPY into stage fetch (line 2), but does not reach") || !strings.Contains(msg, "SSH private key") {
		t.Errorf("message %q", msg)
	}
}

func TestCheckIgnoredSecretIsNothing(t *testing.T) {
	fs, warns, c := check(t, map[string]string{
		"Dockerfile":    "FROM node:22\nWORKDIR /app\nCOPY . .\n",
		".dockerignore": ".env\n.git\n",
		".env":          "NPM_TOKEN=x",
		"index.js":      "x",
		".git/config":   "[core]\n",
	})
	if len(fs) != 0 || len(warns) != 0 {
		t.Errorf("findings %q, warnings %q", byRule(fs), warns)
	}
	if _, ok := c.Lookup(".env"); ok {
		t.Error(".env is sent")
	}
}

// TestCheckNeverReadsSymlinkTargets points links in the context at files outside it that
// hold fake secrets (and at /etc/shadow): they are reported as links, never opened, and
// no finding, evidence or warning carries their content.
func TestCheckNeverReadsSymlinkTargets(t *testing.T) {
	outside := t.TempDir()
	writeTree(t, outside, map[string]string{
		"id_rsa":     "-----BEGIN OPENSSH PRIVATE KEY-----\n" + fakeAWSKey + "\n",
		"secret.txt": fakeSecretLine + "\n",
	})
	files := map[string]string{
		"Dockerfile": "FROM scratch\nCOPY . /app/\nCOPY config.txt /etc/config.txt\n",
		"id_rsa":     "-> " + filepath.Join(outside, "id_rsa"),
		"config.txt": "-> " + filepath.Join(outside, "secret.txt"),
		"shadow":     "-> /etc/shadow",
		"main.go":    "package main",
	}
	c := load(t, files)
	var opened []string
	c.reads = func(rel string) { opened = append(opened, rel) }
	fs, warns := Check(context.Background(), c, parseDockerfile(t, files["Dockerfile"]), nil)

	if !slices.Equal(opened, []string{"main.go"}) {
		t.Errorf("opened %q: only main.go is a regular file", opened)
	}
	for _, name := range []string{"id_rsa", "config.txt", "shadow"} {
		if f, ok := c.Lookup(name); !ok || !f.IsSymlink() {
			t.Errorf("%s = %+v, want a symlink entry", name, f)
		}
	}
	if len(fs) != 0 {
		t.Errorf("findings %q", byRule(fs))
	}
	out, _ := json.Marshal(struct {
		F []report.Finding
		W []string
	}{fs, warns})
	for _, secret := range []string{fakeAWSKey, "wJalrXUtnFEMI", "OPENSSH"} {
		if strings.Contains(string(out), secret) {
			t.Errorf("output carries %q: %s", secret, out)
		}
	}
	// The COPY of the link resolves inside the context only: the target is not there.
	if !strings.Contains(strings.Join(warns, "\n"), `COPY source "config.txt": not found`) {
		t.Errorf("warnings %q", warns)
	}
}

func TestCheckSymlinkLoopInSources(t *testing.T) {
	files := map[string]string{
		"Dockerfile": "FROM scratch\nCOPY loop-a /x\nCOPY . /all/\n",
		"loop-a":     "-> loop-b",
		"loop-b":     "-> loop-a",
		"dir/self":   "-> ..",
		"dir/.env":   "x",
	}
	done := make(chan []report.Finding, 1)
	var warns []string
	go func() {
		fs, w, _ := check(t, files)
		warns = w
		done <- fs
	}()
	select {
	case fs := <-done:
		if got := byRule(fs); !slices.Equal(got, []string{"CTX001 Dockerfile:3"}) {
			t.Errorf("findings %q", got)
		}
		if !strings.Contains(strings.Join(warns, "\n"), "too many levels of symbolic links") {
			t.Errorf("warnings %q", warns)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Check did not finish on a symlink loop")
	}
}

// TestCheckLimits exercises the paths that do not read a file: a named pipe (never
// opened), a file larger than the per-file cap (read in part) and an exhausted total
// budget (name-only classification still works).
func TestCheckLimits(t *testing.T) {
	files := map[string]string{
		"Dockerfile": "FROM scratch\nCOPY . /app/\n",
		".env":       "|fifo",
		"pipe":       "|fifo",
		"big.txt":    strings.Repeat("lorem ipsum\n", 1000),
		"z/.npmrc":   "//registry.npmjs.org/:_authToken=x\n",
		"z/id_rsa":   "key",
	}
	root := t.TempDir()
	writeTree(t, root, files)
	c, err := Load(context.Background(), root, filepath.Join(root, "Dockerfile"), Options{MaxReadBytes: 1024, MaxTotalReadBytes: 1030})
	if err != nil {
		t.Fatal(err)
	}
	var opened []string
	c.reads = func(rel string) { opened = append(opened, rel) }
	done := make(chan struct{})
	var fs []report.Finding
	var warns []string
	go func() {
		defer close(done)
		fs, warns = Check(context.Background(), c, parseDockerfile(t, files["Dockerfile"]), nil)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Check blocked on a named pipe")
	}
	if slices.Contains(opened, "pipe") || slices.Contains(opened, ".env") {
		t.Errorf("opened %q: special files must not be opened", opened)
	}
	w := strings.Join(warns, "\n")
	if !strings.Contains(w, "only the first 1 KiB of 1 large file(s)") || !strings.Contains(w, "big.txt") ||
		!strings.Contains(w, "read budget") {
		t.Errorf("warnings %q", warns)
	}
	if !slices.ContainsFunc(fs, func(f report.Finding) bool { return f.Rule == "CTX001" && strings.Contains(f.Message, "z/id_rsa") }) {
		t.Errorf("findings %q: z/id_rsa is classified by name even past the budget", byRule(fs))
	}
	if slices.ContainsFunc(fs, func(f report.Finding) bool { return strings.Contains(f.Message, ".env") }) {
		t.Errorf("findings %q: a named pipe called .env holds no secret", byRule(fs))
	}
}

func TestCheckGitDirectory(t *testing.T) {
	tree := map[string]string{
		"Dockerfile":            "FROM alpine\nCOPY . /src/\n",
		".git/HEAD":             "ref: refs/heads/main\n",
		".git/config":           "[core]\n",
		".git/objects/ab/cdef0": "\x00\x01binary",
		"vendor/lib/.git/HEAD":  "x",
		"main.go":               "x",
	}
	fs, _, _ := check(t, tree)
	if got := byRule(fs); !slices.Equal(got, []string{"CTX003 .git", "CTX003 vendor/lib/.git"}) {
		t.Fatalf("findings %q", got)
	}
	if !strings.Contains(fs[0].Message, "line 2 copies it into the final image") || fs[0].Severity != report.Medium {
		t.Errorf("finding %+v", fs[0])
	}
	tree[".dockerignore"] = "**/.git\n"
	if fs, _, _ := check(t, tree); len(fs) != 0 {
		t.Errorf("ignored .git: findings %q", byRule(fs))
	}
}

func TestCheckScansEachFileOnceAndSkipsTheDockerfile(t *testing.T) {
	files := map[string]string{
		"Dockerfile":    "FROM alpine AS a\nCOPY app.conf /a/\nFROM a\nCOPY app.conf /b/\nCOPY --from=a /a /c\n",
		".dockerignore": "nothing\n",
		"app.conf":      "x",
	}
	c := load(t, files)
	var opened []string
	c.reads = func(rel string) { opened = append(opened, rel) }
	Check(context.Background(), c, parseDockerfile(t, files["Dockerfile"]), nil)
	if !slices.Equal(opened, []string{"app.conf"}) {
		t.Errorf("opened %q", opened)
	}
}

func TestCheckDisplayAndUnresolvedWarnings(t *testing.T) {
	files := map[string]string{
		"Dockerfile": "FROM alpine\nARG CONF\nCOPY ${CONF} /etc/app/\n",
		".env":       "x",
	}
	c := load(t, files)
	fs, warns := Check(context.Background(), c, parseDockerfile(t, files["Dockerfile"]), func(rel string) string { return "svc/" + rel })
	if got := byRule(fs); !slices.Equal(got, []string{"CTX002 svc/.env"}) {
		t.Errorf("findings %q", got)
	}
	if len(warns) != 1 || !strings.Contains(warns[0], "Dockerfile:3:") || !strings.Contains(warns[0], "svc/.env") {
		t.Errorf("warnings %q", warns)
	}
}

// TestCheckContentSecretsAreRedacted needs the content scanner: the evidence is the
// redacted match and the raw value appears nowhere in the output.
func TestCheckContentSecretsAreRedacted(t *testing.T) {
	requireContentScanner(t)
	files := map[string]string{
		"Dockerfile":        "FROM alpine\nCOPY settings.py /app/\n",
		"settings.py":       "DEBUG = False\nAWS_KEY = \"" + fakeAWSKey + "\"\n",
		"scripts/deploy.sh": "#!/bin/sh\n" + fakeSecretLine + "\n",
	}
	fs, warns, _ := check(t, files)
	got := byRule(fs)
	if !slices.Contains(got, "CTX001 Dockerfile:2") || !slices.Contains(got, "CTX002 scripts/deploy.sh:2") {
		t.Fatalf("findings %q", got)
	}
	for _, f := range fs {
		if f.Evidence == "" || strings.Count(f.Evidence, "*") == 0 {
			t.Errorf("%s: evidence %q is not redacted", f.Rule, f.Evidence)
		}
	}
	out, _ := json.Marshal(struct {
		F []report.Finding
		W []string
	}{fs, warns})
	for _, m := range secrets.ScanString(files["settings.py"] + files["scripts/deploy.sh"]) {
		if strings.Contains(string(out), m.Value) {
			t.Errorf("output carries the raw secret %q", secrets.Redact(m.Value))
		}
	}
}

func TestCheckUnreadableRoot(t *testing.T) {
	c := load(t, map[string]string{"Dockerfile": "FROM scratch\n"})
	if err := os.RemoveAll(c.Root); err != nil {
		t.Fatal(err)
	}
	fs, warns := Check(context.Background(), c, parseDockerfile(t, "FROM scratch\n"), nil)
	if len(fs) != 0 || len(warns) != 1 || !strings.Contains(warns[0], "not scanned") {
		t.Errorf("findings %q warnings %q", byRule(fs), warns)
	}
}

func TestRules(t *testing.T) {
	want := map[string]report.Severity{"CTX001": report.Critical, "CTX002": report.High, "CTX003": report.Medium}
	rules := Rules()
	if len(rules) != len(want) {
		t.Fatalf("%d rules", len(rules))
	}
	for _, r := range rules {
		if want[r.ID] != r.Severity || r.Category != "context" || r.Title == "" || r.Description == "" ||
			r.Remediation == "" || len(r.References) == 0 {
			t.Errorf("rule %+v is incomplete", r)
		}
	}
	report.NewCatalog(rules) // panics on a duplicate ID
}
