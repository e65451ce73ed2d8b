package manifest

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// seedFuzz adds every fixture of one kind, and a few hostile shapes, to a fuzz corpus.
func seedFuzz(f *testing.F, glob string) {
	f.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", glob))
	if err != nil {
		f.Fatal(err)
	}
	for _, p := range files {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, s := range []string{
		"", "---\n---\n", "a: &a [*a]\n", "kind: List\napiVersion: v1\nitems: [[]]\n",
		"apiVersion: v1\nkind: Pod\nspec: {containers: [{securityContext: {runAsUser: x}}]}\n",
		"apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: List\n  items: []\n",
		"{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"spec\":{\"volumes\":[{\"hostPath\":{}}]}}",
		"services:\n  a: {image: x, volumes: [\"/:/h\"], environment: [\"TOKEN=ghp_0123456789abcdefghij0123456789abcdef\"]}\n",
		"jobs: {b: {services: {d: {options: --privileged}}, steps: [{run: \"docker run \\\\\\n -v /var/run/docker.sock:/s x\"}]}}\n",
	} {
		f.Add([]byte(s))
	}
}

// checkResult asserts what holds for any input: a finding lies inside the file, names
// its rule and resource, and an error is a ParseError whose line is inside the file.
func checkResult(t *testing.T, data []byte, res *Result, err error) {
	t.Helper()
	// YAML ends a line at \n, \r\n or a lone \r; a parser error may name the line after
	// the last.
	lines := bytes.Count(data, []byte("\n")) + bytes.Count(data, []byte("\r")) + 2
	if err != nil {
		var pe *ParseError
		if !errors.As(err, &pe) && res != nil {
			t.Fatalf("error %T with a result", err)
		}
		if errors.As(err, &pe) && (pe.Line < 0 || pe.Line > lines+1) {
			t.Fatalf("error line %d outside a %d-line file: %v", pe.Line, lines, err)
		}
		return
	}
	for _, f := range res.Findings {
		if f.Rule == "" || f.Location.Path != "f" || f.Location.Line < 1 || f.Location.Line > lines {
			t.Fatalf("bad finding %+v in a %d-line file", f, lines)
		}
	}
}

func FuzzDecodeKubernetes(f *testing.F) {
	seedFuzz(f, "kube/*.yaml")
	seedFuzz(f, "kube/*.json")
	f.Fuzz(func(t *testing.T, data []byte) {
		res, err := LintKubernetes("f", data)
		checkResult(t, data, res, err)
		sameAsOracle(t, data)
	})
}

func FuzzLintCompose(f *testing.F) {
	seedFuzz(f, "compose/*.yaml")
	f.Fuzz(func(t *testing.T, data []byte) {
		res, err := LintCompose("f", data)
		checkResult(t, data, res, err)
	})
}

func FuzzLintCI(f *testing.F) {
	seedFuzz(f, "github/.github/workflows/*.yml")
	seedFuzz(f, "gitlab/.gitlab-ci.yml")
	f.Fuzz(func(t *testing.T, data []byte) {
		res, err := LintGitHubActions("f", data)
		checkResult(t, data, res, err)
		res, err = LintGitLabCI("f", data)
		checkResult(t, data, res, err)
	})
}
