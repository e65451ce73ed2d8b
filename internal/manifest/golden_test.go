package manifest

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/charterhq/charter/internal/report"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// goldenInputs are the fixtures whose findings are kept in <input>.golden.
var goldenInputs = []string{
	"kube/insecure.yaml",
	"kube/hardened.yaml",
	"kube/list.json",
	"kube/pragmas.yaml",
	"kube/helm-rendered.yaml",
	"kube/kube-prometheus.yaml",
	"kube/windows.yaml",
	"compose/compose.yaml",
	"compose/many-services.yaml",
	"github/.github/workflows/ci.yml",
	"gitlab/.gitlab-ci.yml",
}

// render writes findings one a line: location, rule, severity, aliases, message,
// evidence and suppression, so a diff shows exactly what changed.
func render(fs []report.Finding) string {
	r := report.Report{Findings: fs}
	r.Sort()
	var b strings.Builder
	for _, f := range r.Findings {
		fmt.Fprintf(&b, "%s %s %s", f.Location, f.Rule, f.Severity)
		if len(f.Aliases) > 0 {
			fmt.Fprintf(&b, " [%s]", strings.Join(f.Aliases, " "))
		}
		fmt.Fprintf(&b, " %s", f.Message)
		if f.Evidence != "" {
			fmt.Fprintf(&b, " evidence=%s", f.Evidence)
		}
		if f.Suppressed != nil {
			fmt.Fprintf(&b, " suppressed-by=%s(%s)", f.Suppressed.By, f.Suppressed.Reason)
		}
		b.WriteString("\n")
	}
	return b.String()
}

func lintFixture(t *testing.T, rel string) *Result {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", rel))
	if err != nil {
		t.Fatal(err)
	}
	kind := Detect(rel, data)
	if kind == Unknown {
		t.Fatalf("%s: not detected as a deployment file", rel)
	}
	res, err := Lint(kind, rel, data)
	if err != nil {
		t.Fatalf("%s: %v", rel, err)
	}
	return res
}

func TestGolden(t *testing.T) {
	for _, rel := range goldenInputs {
		t.Run(rel, func(t *testing.T) {
			got := render(lintFixture(t, rel).Findings)
			golden := filepath.Join("testdata", rel+".golden")
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update)", err)
			}
			if got != string(want) {
				t.Errorf("findings differ from %s (go test -update rewrites it):\n--- got\n%s--- want\n%s", golden, got, want)
			}
		})
	}
}

func TestBadFilesFailWithLine(t *testing.T) {
	for _, tc := range []struct {
		rel  string
		kind Kind
		line int
		msg  string
	}{
		{"bad/broken.yaml", Kubernetes, 8, "did not find expected"},
		{"bad/wrongtype.yaml", Kubernetes, 10, "containerPort"},
		{"bad/compose.yaml", Compose, 4, "privileged"},
	} {
		data, err := os.ReadFile(filepath.Join("testdata", tc.rel))
		if err != nil {
			t.Fatal(err)
		}
		if k := Detect(tc.rel, data); k != tc.kind {
			t.Errorf("%s: detected %v, want %v", tc.rel, k, tc.kind)
		}
		_, err = Lint(tc.kind, tc.rel, data)
		var pe *ParseError
		if !errors.As(err, &pe) {
			t.Fatalf("%s: err = %v, want a ParseError", tc.rel, err)
		}
		if pe.Line != tc.line || !strings.Contains(pe.Error(), tc.msg) {
			t.Errorf("%s: got %q at line %d, want %q at line %d", tc.rel, pe.Error(), pe.Line, tc.msg, tc.line)
		}
	}
}

func TestSecretsAreRedacted(t *testing.T) {
	for _, rel := range goldenInputs {
		data, err := os.ReadFile(filepath.Join("testdata", rel))
		if err != nil {
			t.Fatal(err)
		}
		out := render(lintFixture(t, rel).Findings)
		for _, secret := range []string{"hunter2-very-secret-value", "s3cr3t-Pa55word-xyz"} {
			if strings.Contains(string(data), secret) && strings.Contains(out, secret) {
				t.Errorf("%s: secret %q appears in the findings", rel, secret)
			}
		}
	}
}

func TestEveryRuleHasAFixture(t *testing.T) {
	seen := map[string]bool{}
	for _, rel := range goldenInputs {
		for _, f := range lintFixture(t, rel).Findings {
			seen[f.Rule] = true
		}
	}
	for _, r := range Rules() {
		if !seen[r.ID] {
			t.Errorf("%s has no finding in any fixture", r.ID)
		}
	}
	if ids := slices.Sorted(func(yield func(string) bool) {
		for id := range seen {
			if !yield(id) {
				return
			}
		}
	}); len(ids) == 0 {
		t.Fatal("no findings at all")
	}
}
