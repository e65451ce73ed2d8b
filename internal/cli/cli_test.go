package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/charterhq/charter/internal/report"
)

// run executes charter in-process from dir and returns the exit code and both streams.
func run(t *testing.T, dir, stdin string, args ...string) (int, string, string) {
	t.Helper()
	if dir != "" {
		t.Chdir(dir)
	}
	var out, errb bytes.Buffer
	env := Env{
		Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errb,
		Getenv: func(string) string { return "" },
		Now:    func() time.Time { return time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC) },
	}
	code := Run(context.Background(), args, env)
	return code, out.String(), errb.String()
}

// project writes files (path → content) under a fresh directory.
func project(t *testing.T, files map[string]string) string {
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

const goodDockerfile = `FROM gcr.io/distroless/static-debian12:nonroot@sha256:6a9f8e7d6c5b4a3928171605f4e3d2c1b0a99887766554433221100ffeeddccb
COPY app /app
USER 65532:65532
HEALTHCHECK CMD ["/app", "-healthcheck"]
ENTRYPOINT ["/app"]
`

const rootDockerfile = `FROM debian:12.7@sha256:6a9f8e7d6c5b4a3928171605f4e3d2c1b0a99887766554433221100ffeeddccb
COPY app /app
HEALTHCHECK CMD ["/app", "-healthcheck"]
ENTRYPOINT ["/app"]
`

func decodeReport(t *testing.T, s string) report.Report {
	t.Helper()
	var r report.Report
	if err := json.Unmarshal([]byte(s), &r); err != nil {
		t.Fatalf("report is not JSON: %v\n%s", err, s)
	}
	return r
}

func hasRule(r report.Report, id string) bool {
	for _, f := range r.Findings {
		if f.Rule == id {
			return true
		}
	}
	return false
}

func TestVersion(t *testing.T) {
	code, out, _ := run(t, "", "", "version")
	if code != 0 || !strings.HasPrefix(out, "charter ") {
		t.Fatalf("version: code %d, out %q", code, out)
	}
}

func TestRulesExplainEveryRule(t *testing.T) {
	cat := catalog()
	if len(cat.All()) == 0 {
		t.Fatal("empty catalog")
	}
	for _, r := range cat.All() {
		if len(r.Description) < 20 || len(r.Remediation) < 10 || r.Title == "" || r.Category == "" {
			t.Errorf("%s: incomplete metadata (title %q, category %q, description %d chars, remediation %d chars)",
				r.ID, r.Title, r.Category, len(r.Description), len(r.Remediation))
		}
		code, out, errOut := run(t, "", "", "rules", r.ID)
		if code != 0 || !strings.Contains(out, r.ID) || !strings.Contains(out, "Remediation:") {
			t.Errorf("rules %s: code %d, stderr %q, out %q", r.ID, code, errOut, out)
		}
	}
}

func TestRulesListAliasAndJSON(t *testing.T) {
	code, out, _ := run(t, "", "", "rules")
	if code != 0 || !strings.Contains(out, "DF001") || !strings.Contains(out, "CTX001") {
		t.Fatalf("rules list: code %d\n%s", code, out)
	}
	code, out, _ = run(t, "", "", "rules", "dl3002")
	if code != 0 || !strings.Contains(out, "DF001") || !strings.Contains(out, "alias of DF001") {
		t.Fatalf("rules DL3002 should explain DF001: code %d\n%s", code, out)
	}
	code, out, _ = run(t, "", "", "rules", "--format", "json")
	var rules []report.Rule
	if code != 0 || json.Unmarshal([]byte(out), &rules) != nil || len(rules) != len(catalog().All()) {
		t.Fatalf("rules --format json: code %d, %d rules", code, len(rules))
	}
	code, _, errOut := run(t, "", "", "rules", "NOPE123")
	if code != 2 || !strings.Contains(errOut, "NOPE123") || strings.Count(errOut, "\n") != 1 {
		t.Fatalf("unknown rule: code %d, stderr %q", code, errOut)
	}
}

func TestLintExitCodes(t *testing.T) {
	good := project(t, map[string]string{"Dockerfile": goodDockerfile, ".dockerignore": "*\n!app\n", "app": "binary"})
	if code, out, errOut := run(t, good, "", "lint"); code != 0 {
		t.Fatalf("clean project: code %d\n%s%s", code, out, errOut)
	}
	root := project(t, map[string]string{"Dockerfile": rootDockerfile, ".dockerignore": "*\n!app\n", "app": "binary"})
	code, out, _ := run(t, root, "", "lint", ".")
	if code != 1 || !strings.Contains(out, "DF001") {
		t.Fatalf("root user: code %d\n%s", code, out)
	}
	if code, _, _ := run(t, root, "", "lint", "--fail-on", "none"); code != 0 {
		t.Fatalf("--fail-on none: code %d", code)
	}
	if code, out, _ := run(t, root, "", "lint", "-q", "--fail-on", "critical"); code != 0 || out != "" {
		t.Fatalf("-q on a passing verdict prints nothing: code %d, out %q", code, out)
	}
	bad := project(t, map[string]string{"Dockerfile": "FROM debian:12\nRUN true\nFROBNICATE now\n"})
	code, _, errOut := run(t, bad, "", "lint", "Dockerfile")
	if code != 2 || !strings.Contains(errOut, "Dockerfile:3:") || strings.Count(errOut, "\n") != 1 {
		t.Fatalf("malformed Dockerfile: code %d, stderr %q", code, errOut)
	}
	code, _, errOut = run(t, bad, "", "lint", "does-not-exist")
	if code != 2 || !strings.Contains(errOut, "does-not-exist") {
		t.Fatalf("missing path: code %d, stderr %q", code, errOut)
	}
	code, _, errOut = run(t, bad, "", "lint", "-o", "yaml")
	if code != 2 || !strings.Contains(errOut, "yaml") {
		t.Fatalf("bad format: code %d, stderr %q", code, errOut)
	}
	code, _, _ = run(t, bad, "", "lint", "--no-such-flag")
	if code != 2 {
		t.Fatalf("bad flag: code %d", code)
	}
}

func TestLintStdinJSON(t *testing.T) {
	code, out, errOut := run(t, t.TempDir(), rootDockerfile, "lint", "-", "-o", "json")
	if code != 1 {
		t.Fatalf("code %d, stderr %q", code, errOut)
	}
	r := decodeReport(t, out)
	if r.Schema != report.Schema || r.Target.Ref != "-" || r.Verdict.Pass || r.Verdict.FailOn != "HIGH" || !hasRule(r, "DF001") {
		t.Fatalf("unexpected report: %+v", r)
	}
	for _, f := range r.Findings {
		if f.Location.Path != "<stdin>" || f.Location.Line == 0 && f.Rule != "DF014" {
			t.Errorf("finding without a stdin location: %+v", f)
		}
	}
}

func TestLintSARIFRequiredFields(t *testing.T) {
	dir := project(t, map[string]string{"Dockerfile": rootDockerfile, ".dockerignore": "*\n!app\n", "app": "x"})
	code, out, _ := run(t, dir, "", "lint", "-o", "sarif", "--output", "out.sarif")
	if code != 1 || out != "" {
		t.Fatalf("code %d, stdout %q", code, out)
	}
	data, err := os.ReadFile(filepath.Join(dir, "out.sarif"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Schema  string `json:"$schema"`
		Version string `json:"version"`
		Runs    []struct {
			Tool struct {
				Driver struct {
					Name  string `json:"name"`
					Rules []struct {
						ID               string         `json:"id"`
						ShortDescription map[string]any `json:"shortDescription"`
						Help             map[string]any `json:"help"`
					} `json:"rules"`
				} `json:"driver"`
			} `json:"tool"`
			Results []struct {
				RuleID    string            `json:"ruleId"`
				Message   map[string]string `json:"message"`
				Locations []struct {
					Physical struct {
						Artifact struct {
							URI string `json:"uri"`
						} `json:"artifactLocation"`
						Region struct {
							StartLine int `json:"startLine"`
						} `json:"region"`
					} `json:"physicalLocation"`
				} `json:"locations"`
			} `json:"results"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Version != "2.1.0" || !strings.Contains(doc.Schema, "sarif") || len(doc.Runs) != 1 || doc.Runs[0].Tool.Driver.Name != "charter" {
		t.Fatalf("SARIF header: %s", data[:min(len(data), 400)])
	}
	run0 := doc.Runs[0]
	if len(run0.Results) == 0 || len(run0.Tool.Driver.Rules) == 0 {
		t.Fatal("SARIF without results or rules")
	}
	for _, rule := range run0.Tool.Driver.Rules {
		if rule.ID == "" || rule.ShortDescription["text"] == nil || rule.Help["text"] == nil {
			t.Errorf("rule descriptor incomplete: %+v", rule)
		}
	}
	for _, res := range run0.Results {
		if res.RuleID == "" || res.Message["text"] == "" || len(res.Locations) == 0 || res.Locations[0].Physical.Artifact.URI == "" {
			t.Errorf("result incomplete: %+v", res)
		}
	}
}

func TestCharterFile(t *testing.T) {
	files := map[string]string{"Dockerfile": rootDockerfile, ".dockerignore": "*\n", "app": "x"}
	dir := project(t, files)
	write := func(s string) {
		if err := os.WriteFile(filepath.Join(dir, "charter.yaml"), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("version: 1\npolicy:\n  rules: { DF001: off }\n")
	code, out, errOut := run(t, dir, "", "lint", "-o", "json")
	if code != 0 || hasRule(decodeReport(t, out), "DF001") {
		t.Fatalf("DF001: off should drop it: code %d %s", code, errOut)
	}
	write("version: 1\npolicy:\n  ignore:\n    - { id: DF001, reason: accepted, expires: 2026-01-31 }\n")
	code, out, _ = run(t, dir, "", "lint", "-o", "json")
	r := decodeReport(t, out)
	if code != 1 || !hasRule(r, "POL001") {
		t.Fatalf("an expired ignore must stop suppressing and be reported: code %d", code)
	}
	write("version: 1\npolicy:\n  ignore:\n    - { id: DL3063, reason: accepted, expires: 2027-01-31 }\n  failOn: high\n")
	code, out, _ = run(t, dir, "", "lint", "-o", "json")
	r = decodeReport(t, out)
	if code != 0 || r.Summary.Suppressed == 0 {
		t.Fatalf("an ignore by alias suppresses: code %d, summary %+v", code, r.Summary)
	}
	write("version: 1\npolicy:\n  failOn: high\n  polcy: {}\n")
	code, _, errOut = run(t, dir, "", "lint")
	if code != 2 || !strings.Contains(errOut, "charter.yaml:4") {
		t.Fatalf("unknown key: code %d, stderr %q", code, errOut)
	}
}

// TestSecretsNeverPrinted plants real-looking credentials in a Dockerfile and its build
// context and checks that no output format, and not stderr, ever carries them.
func TestSecretsNeverPrinted(t *testing.T) {
	token := "ghp_" + strings.Repeat("Ab3dE", 7) + "X"
	password := "Zq8" + "vT2mXe9LrP4sKw8ZbN3yHd"
	dir := project(t, map[string]string{
		"Dockerfile": "FROM debian:12\nENV GITHUB_TOKEN=" + token + "\nCOPY . /app\n",
		".env":       "DATABASE_PASSWORD=" + password + "\n",
	})
	for _, format := range []string{"table", "json", "sarif"} {
		code, out, errOut := run(t, dir, "", "lint", "-o", format)
		if code != 1 {
			t.Fatalf("%s: code %d, stderr %q", format, code, errOut)
		}
		for _, secret := range []string{token, password, token[4:20], password[4:20]} {
			if strings.Contains(out, secret) || strings.Contains(errOut, secret) {
				t.Fatalf("%s output leaks a secret", format)
			}
		}
		if format == "json" {
			r := decodeReport(t, out)
			if !hasRule(r, "DF004") || !hasRule(r, "CTX001") {
				t.Fatalf("expected DF004 and CTX001, got %+v", r.Summary)
			}
		}
	}
}

func TestHadolintFailureThreshold(t *testing.T) {
	dir := project(t, map[string]string{"Dockerfile": goodDockerfile, ".dockerignore": "*\n!app\n", "app": "x"})
	if code, _, _ := run(t, dir, "", "lint"); code != 0 {
		t.Fatalf("clean project: code %d", code)
	}
	// Every finding fails a gate at info; a .hadolint.yaml asking for that is honoured
	// unless --fail-on says otherwise.
	dockerfile := strings.Replace(goodDockerfile, "COPY app /app", "COPY app /app\nRUN true\nRUN true", 1)
	dir = project(t, map[string]string{"Dockerfile": dockerfile, ".dockerignore": "*\n!app\n", "app": "x",
		".hadolint.yaml": "failure-threshold: style\n"})
	if code, out, _ := run(t, dir, "", "lint"); code != 1 {
		t.Fatalf(".hadolint.yaml failure-threshold: code %d\n%s", code, out)
	}
	if code, _, _ := run(t, dir, "", "lint", "--fail-on", "high"); code != 0 {
		t.Fatalf("--fail-on wins over .hadolint.yaml: code %d", code)
	}
}
