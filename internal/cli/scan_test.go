package cli

import (
	"bytes"
	"context"
	"io"
	"log"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/charterhq/charter/internal/imagecheck/imagetest"
	"github.com/charterhq/charter/internal/report"
)

// scanEnv runs charter in-process with its layer cache in cache and stderr reported as
// a terminal or not.
func scanEnv(t *testing.T, cache string, terminal bool, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	env := Env{
		Stdout: &out, Stderr: &errb,
		Getenv: func(k string) string {
			if k == "CHARTER_CACHE_DIR" {
				return cache
			}
			return ""
		},
		Now:        func() time.Time { return time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC) },
		IsTerminal: func(w any) bool { return terminal && w == io.Writer(&errb) },
	}
	if len(args) > 0 && args[0] == "scan" && !slices.ContainsFunc(args, func(a string) bool { return strings.HasPrefix(a, "--scanners") }) {
		// These tests are about the image checks: the package and vuln scanners (the
		// latter needs a database) are tested with a database in check_test.go.
		args = append(args, "--scanners", "config,secret,file")
	}
	code := Run(context.Background(), args, env)
	return code, out.String(), errb.String()
}

// imageSources writes img as an OCI layout and a docker save archive, and pushes it to
// an in-process registry; it returns one reference per source and the registry host.
func imageSources(t *testing.T, img v1.Image) (refs []string, host string) {
	t.Helper()
	dir := t.TempDir()
	refs = append(refs, imagetest.WriteOCI(t, filepath.Join(dir, "oci"), "v1", img))

	archive := filepath.Join(dir, "image.tar")
	if err := tarball.WriteToFile(archive, name.MustParseReference("charter-test/app:1").(name.Tag), img); err != nil {
		t.Fatal(err)
	}
	refs = append(refs, "docker-archive:"+archive)

	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(srv.Close)
	host = strings.TrimPrefix(srv.URL, "http://")
	ref := host + "/charter-test/app:1"
	tag, err := name.ParseReference(ref)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(tag, img); err != nil {
		t.Fatal(err)
	}
	refs = append(refs, "registry:"+ref)
	return refs, host
}

// planted is what the leaky image must give away: rule, a piece of the message, and
// the layer the finding must name (-1: a config finding, no layer).
var planted = []struct {
	rule, msg string
	layer     int
}{
	{"IMG001", "sets no user", -1},
	{"IMG002", "Env API_TOKEN", -1},
	{"IMG002", "build argument NPM_TOKEN", 2},
	{"IMG003", "/root/.ssh/id_rsa", 3},
	{"IMG004", "/app/.env", 1},
	{"IMG005", "/bin/bash is setuid root", 0},
	{"IMG006", "/srv/upload", 0},
	{"IMG007", "port 22/tcp", -1},
	{"IMG007", "/usr/sbin/sshd", 0},
	{"IMG008", "shells: /bin/bash, /bin/sh", 0},
}

func checkPlanted(t *testing.T, r report.Report) {
	t.Helper()
	for _, p := range planted {
		var hit *report.Finding
		for i, f := range r.Findings {
			if f.Rule == p.rule && strings.Contains(f.Message, p.msg) {
				hit = &r.Findings[i]
			}
		}
		if hit == nil {
			t.Errorf("%s %q not found", p.rule, p.msg)
			continue
		}
		loc := hit.Location
		switch {
		case p.layer < 0 && loc.LayerIndex != nil:
			t.Errorf("%s %q: config finding names layer %d", p.rule, p.msg, *loc.LayerIndex)
		case p.layer >= 0 && (loc.LayerIndex == nil || *loc.LayerIndex != p.layer || !strings.HasPrefix(loc.Layer, "sha256:") || loc.Instruction == ""):
			t.Errorf("%s %q: location %+v, want layer %d with diffID and instruction", p.rule, p.msg, loc, p.layer)
		}
	}
}

// noSecrets fails if any planted secret, or any line of the key, appears in s.
func noSecrets(t *testing.T, where, s string, sec imagetest.Secrets) {
	t.Helper()
	for _, v := range sec.All() {
		for _, line := range strings.Split(v, "\n") {
			if len(line) >= 8 && strings.Contains(s, line) {
				t.Errorf("%s: secret %q… printed unredacted", where, line[:8])
			}
		}
	}
}

func TestScanLeakyImageEverySource(t *testing.T) {
	sec := imagetest.NewSecrets()
	refs, host := imageSources(t, imagetest.Leaky(t, sec))
	cache := t.TempDir()
	for _, ref := range refs {
		t.Run(strings.SplitN(ref, ":", 2)[0], func(t *testing.T) {
			for _, format := range []string{"json", "table", "sarif"} {
				code, out, errOut := scanEnv(t, cache, false, "scan", ref, "--insecure-registry", host, "-o", format)
				if code != ExitFail {
					t.Fatalf("-o %s: exit %d, want 1\nstderr: %s", format, code, errOut)
				}
				if errOut != "" {
					t.Errorf("-o %s: stderr not empty without a terminal: %q", format, errOut)
				}
				noSecrets(t, ref+" -o "+format, out+errOut, sec)
				switch format {
				case "json":
					r := decodeReport(t, out)
					checkPlanted(t, r)
					if r.Target.Kind != "image" || r.Target.Ref != ref || r.Verdict.Pass || r.Summary.Critical < 4 {
						t.Errorf("report target %+v, verdict %+v, summary %+v", r.Target, r.Verdict, r.Summary)
					}
					if !strings.HasPrefix(ref, "docker-archive:") && !strings.HasPrefix(r.Target.Digest, "sha256:") {
						t.Errorf("target digest %q", r.Target.Digest)
					}
				case "sarif":
					if !strings.Contains(out, `"uri": "image://`+ref+`/sha256:`) || !strings.Contains(out, "/root/.ssh/id_rsa") ||
						!strings.Contains(out, `"ruleId": "IMG004"`) {
						t.Errorf("SARIF without image:// locations or IMG004:\n%.2000s", out)
					}
				case "table":
					if !strings.Contains(out, "IMG003 (CIS-DI-0010)") || !strings.Contains(out, "FAIL (fail-on HIGH)") {
						t.Errorf("table:\n%s", out)
					}
				}
			}
		})
	}
}

func TestScanCleanImage(t *testing.T) {
	refs, host := imageSources(t, imagetest.Clean(t))
	for _, ref := range refs {
		code, out, errOut := scanEnv(t, t.TempDir(), false, "scan", ref, "--insecure-registry", host, "-o", "json", "--fail-on", "medium")
		if code != ExitPass {
			t.Fatalf("%s: exit %d, want 0\n%s%s", ref, code, out, errOut)
		}
		r := decodeReport(t, out)
		for _, f := range r.Findings {
			if f.Severity >= report.Medium {
				t.Errorf("%s: %s %s %q on the clean image", ref, f.Rule, f.Severity, f.Message)
			}
		}
		if !r.Verdict.Pass {
			t.Errorf("%s: verdict %+v", ref, r.Verdict)
		}
	}
}

func TestScanWarmCacheSameReport(t *testing.T) {
	refs, _ := imageSources(t, imagetest.Leaky(t, imagetest.NewSecrets()))
	cache := t.TempDir()
	_, cold, _ := scanEnv(t, cache, false, "scan", refs[0], "-o", "json")
	if entries, err := os.ReadDir(cache); err != nil || len(entries) == 0 {
		t.Fatalf("no layer cache written under %s (%v)", cache, err)
	}
	_, warm, _ := scanEnv(t, cache, false, "scan", refs[0], "-o", "json")
	if cold != warm {
		t.Errorf("warm scan differs from cold scan\ncold: %s\nwarm: %s", cold, warm)
	}
	nocache := t.TempDir()
	_, fresh, _ := scanEnv(t, nocache, false, "scan", refs[0], "-o", "json", "--no-cache")
	if fresh != cold {
		t.Errorf("--no-cache scan differs from cold scan")
	}
	if entries, _ := os.ReadDir(nocache); len(entries) != 0 {
		t.Errorf("--no-cache wrote %d entries to the cache", len(entries))
	}
}

func TestScanScanners(t *testing.T) {
	refs, _ := imageSources(t, imagetest.Leaky(t, imagetest.NewSecrets()))
	cache := t.TempDir()
	for _, bad := range []string{"vuln", "config,vuln", "secrets-and-more"} {
		code, out, errOut := scanEnv(t, cache, false, "scan", refs[0], "--scanners", bad)
		if code != ExitError || out != "" || strings.Count(errOut, "\n") != 1 {
			t.Errorf("--scanners %s: exit %d, stdout %q, stderr %q", bad, code, out, errOut)
		}
		if strings.Contains(bad, "vuln") && !strings.Contains(errOut, "charter db update") {
			t.Errorf("--scanners %s without a database: stderr does not say how to get one: %q", bad, errOut)
		}
	}
	code, out, _ := scanEnv(t, cache, false, "scan", refs[0], "--scanners", "secret", "-o", "json")
	r := decodeReport(t, out)
	if code != ExitFail || !hasRule(r, "IMG003") || hasRule(r, "IMG001") || hasRule(r, "IMG005") {
		t.Errorf("--scanners secret: exit %d, rules %v", code, rulesOf(r))
	}
	code, out, _ = scanEnv(t, cache, false, "scan", refs[0], "--scanners", "file", "--fail-on", "high", "-o", "json")
	r = decodeReport(t, out)
	if code != ExitPass || !hasRule(r, "IMG005") || hasRule(r, "IMG002") {
		t.Errorf("--scanners file: exit %d, rules %v", code, rulesOf(r))
	}
}

func rulesOf(r report.Report) []string {
	var ids []string
	for _, f := range r.Findings {
		ids = append(ids, f.Rule)
	}
	return ids
}

func TestScanErrorsAreOneLine(t *testing.T) {
	img := imagetest.Leaky(t, imagetest.NewSecrets())
	refs, host := imageSources(t, img)
	index := pushIndex(t, host, img)
	dir := t.TempDir()
	if code, out, errOut := scanEnv(t, dir, false, "scan", "registry:"+index, "--insecure-registry", host, "--platform", "linux/amd64", "-o", "json"); code != ExitFail {
		t.Fatalf("--platform linux/amd64 of an index: exit %d\n%s%s", code, out, errOut)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"scan", "oci-dir:" + filepath.Join(dir, "missing")}, "missing"},
		{[]string{"scan", refs[2]}, "--insecure-registry " + host},
		{[]string{"scan", "registry:" + host + "/charter-test/nope:1", "--insecure-registry", host}, "image not found"},
		{[]string{"scan", "registry:" + index, "--insecure-registry", host, "--platform", "linux/s390x"}, "linux/amd64"},
		{[]string{"scan", refs[0], "-o", "xml"}, "unknown format"},
		{[]string{"scan"}, "accepts 1 arg"},
	} {
		code, out, errOut := scanEnv(t, dir, false, tc.args...)
		if code != ExitError || out != "" || strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d, stdout %q, stderr %q (want one line with %q)", tc.args, code, out, errOut, tc.want)
		}
	}
}

// pushIndex pushes a one-platform (linux/amd64) index of img and returns its reference.
func pushIndex(t *testing.T, host string, img v1.Image) string {
	t.Helper()
	idx := mutate.AppendManifests(empty.Index, mutate.IndexAddendum{
		Add:        img,
		Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "amd64"}},
	})
	ref := host + "/charter-test/multi:1"
	tag, err := name.ParseReference(ref)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.WriteIndex(tag, idx); err != nil {
		t.Fatal(err)
	}
	return ref
}

func TestScanProgressOnTerminalOnly(t *testing.T) {
	refs, _ := imageSources(t, imagetest.Leaky(t, imagetest.NewSecrets()))
	code, _, errOut := scanEnv(t, t.TempDir(), true, "scan", refs[0], "--no-cache", "-o", "json")
	if code != ExitFail || !strings.Contains(errOut, "\r\x1b[2K") || !strings.Contains(errOut, "layers ") || !strings.Contains(errOut, " MB") {
		t.Errorf("terminal: exit %d, stderr %q", code, errOut)
	}
	if strings.Count(errOut, "\x1b[2K") < 2 || !strings.HasSuffix(errOut, "\r\x1b[2K") {
		t.Errorf("progress line not cleared at the end: %q", errOut)
	}
	_, _, errOut = scanEnv(t, t.TempDir(), true, "scan", refs[0], "--no-cache", "--no-progress", "-o", "json")
	if errOut != "" {
		t.Errorf("--no-progress: stderr %q", errOut)
	}
}

func TestScanCharterFile(t *testing.T) {
	refs, _ := imageSources(t, imagetest.Leaky(t, imagetest.NewSecrets()))
	dir := project(t, map[string]string{"charter.yaml": `version: 1
policy:
  failOn: critical
  rules: { IMG008: off }
  ignore:
    - { id: CIS-DI-0008, path: /bin/bash, reason: "the test image needs it" }
`})
	code, out, errOut := scanEnv(t, t.TempDir(), false, "scan", refs[0], "--charter", filepath.Join(dir, "charter.yaml"), "-o", "json")
	r := decodeReport(t, out)
	if code != ExitFail || r.Verdict.FailOn != "CRITICAL" || hasRule(r, "IMG008") || r.Summary.Suppressed != 1 {
		t.Errorf("exit %d (%s), failOn %s, summary %+v, rules %v", code, errOut, r.Verdict.FailOn, r.Summary, rulesOf(r))
	}
	for _, f := range r.Findings {
		if f.Rule == "IMG005" && (f.Suppressed == nil || f.Suppressed.By != "charter.yaml") {
			t.Errorf("IMG005 not suppressed: %+v", f)
		}
	}
}
