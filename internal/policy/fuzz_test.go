package policy

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/charterhq/charter/internal/report"
)

func addSeeds(f *testing.F, pattern string) {
	f.Helper()
	files, err := filepath.Glob(pattern)
	if err != nil || len(files) == 0 {
		f.Fatalf("no seeds for %s: %v", pattern, err)
	}
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
}

// FuzzParse checks that Parse never panics, that its errors are *Error with a sane line,
// and that whatever it accepts survives Marshal and a second Parse unchanged. Applying
// an accepted file to a report must not panic either.
func FuzzParse(f *testing.F) {
	addSeeds(f, filepath.Join("testdata", "*.yaml"))
	for _, s := range []string{
		"version: 1\npolicy:\n  ignore:\n    - {id: DF001, reason: r, path: \"**/a/**\"}\n",
		"version: 1\na: &a [x]\nb: *a\n",
		"version: 1\n---\n",
		"{version: 1, runtime: {egress: [\"[::1]:80\"]}}",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := Parse("charter.yaml", data)
		if err != nil {
			var pe *Error
			if !errors.As(err, &pe) {
				t.Fatalf("error %T is not *Error: %v", err, err)
			}
			if pe.Line < 0 || pe.Column < 0 || pe.Path != "charter.yaml" || pe.Msg == "" {
				t.Fatalf("bad error %#v", pe)
			}
			return
		}
		out, err := file.Marshal()
		if err != nil {
			t.Fatalf("marshal: %v", err)
		}
		again, err := Parse("charter.yaml", out)
		if err != nil {
			t.Fatalf("re-parse of\n%s\nfailed: %v", out, err)
		}
		if a, b := normalize(stripPositions(*file)), normalize(stripPositions(*again)); !reflect.DeepEqual(a, b) {
			t.Fatalf("round trip changed the value:\n%+v\n%+v\n%s", a, b, out)
		}
		r := report.New("fuzz", report.Target{Kind: "repo", Ref: "."})
		r.Findings = append(r.Findings,
			report.Finding{Rule: "DF001", Aliases: []string{"DL3002"}, Severity: report.High,
				Location: report.Location{Path: "a/b/Dockerfile", Line: 1}},
			report.Finding{Rule: "CVE-2024-1234", Severity: report.Critical,
				Location: report.Location{Package: "pkg:deb/debian/openssl@3.0.11"}})
		_ = file.Validate(testCatalog())
		file.Apply(r, testCatalog(), time.Date(2027, 1, 31, 0, 0, 0, 0, time.UTC))
	})
}

// FuzzParseHadolint checks the hadolint reader the same way: no panic, errors typed.
func FuzzParseHadolint(f *testing.F) {
	addSeeds(f, filepath.Join("testdata", "hadolint", "*"))
	f.Fuzz(func(t *testing.T, data []byte) {
		h, err := ParseHadolint(".hadolint.yaml", data)
		if err != nil {
			var pe *Error
			if !errors.As(err, &pe) || pe.Line < 0 {
				t.Fatalf("bad error %T %v", err, err)
			}
			return
		}
		r := report.New("fuzz", report.Target{Kind: "repo", Ref: "."})
		r.Findings = append(r.Findings, report.Finding{Rule: "DF010", Aliases: []string{"DL3008"}, Severity: report.Low})
		h.Apply(r)
		if _, set := h.FailOn(); set && !h.NoFail && h.FailureThreshold == "" {
			t.Fatal("FailOn set without a threshold or no-fail")
		}
	})
}
