package policy

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/charterhq/charter/internal/report"
)

func TestLoadHadolintExamples(t *testing.T) {
	cases := map[string]Hadolint{
		"ignored.yaml": {Ignored: []string{"DL3000", "SC1010"}},
		"trusted.yaml": {Ignored: []string{"DL3000", "SC1010"},
			TrustedRegistries: []string{"docker.io", "my-company.com:5000", "*.gcr.io"}},
		"trusted-string.yml": {TrustedRegistries: []string{"registry.internal.example.com"}},
		"override.yaml": {FailureThreshold: "info", Override: map[string]string{
			"DL3001": "error", "DL3002": "error", "DL3042": "warning", "DL3033": "warning",
			"DL3032": "info", "DL3015": "style"}},
		"everything.yaml": {
			Ignored:           []string{"DL3008", "DL3059"},
			TrustedRegistries: []string{"docker.io", "ghcr.io"},
			LabelSchema: map[string]string{"author": "text", "contact": "email", "created": "rfc3339",
				"version": "semver", "documentation": "url", "git-revision": "hash", "license": "spdx"},
			StrictLabels: true, DisableIgnorePragma: true,
			Override:         map[string]string{"DL3007": "error", "DL3006": "info"},
			FailureThreshold: "warning", Format: "sarif", NoColor: true,
		},
		"ci-nofail.yaml": {FailureThreshold: "ignore", Format: "gitlab_codeclimate", NoFail: true, StrictLabels: true,
			TrustedRegistries: []string{"internal.registry.example.com"}},
		"legacy.yaml": {Format: "json", TrustedRegistries: []string{"quay.io"}, Ignored: []string{"DL3018"}},
	}
	files, _ := filepath.Glob(filepath.Join("testdata", "hadolint", "*"))
	if len(files) != len(cases) {
		t.Errorf("%d files in testdata/hadolint, %d cases", len(files), len(cases))
	}
	for name, want := range cases {
		t.Run(name, func(t *testing.T) {
			h, err := LoadHadolint(filepath.Join("testdata", "hadolint", name))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(*h, want) {
				t.Errorf("got  %+v\nwant %+v", *h, want)
			}
		})
	}
}

func TestParseHadolintErrors(t *testing.T) {
	cases := []struct{ name, src, want string }{
		{"misspelt ignored", "ignore:\n  - DL3008\n", `.hadolint.yaml:1: unknown key "ignore" (did you mean "ignored"?)`},
		{"snake case", "failure_threshold: error\n",
			`.hadolint.yaml:1: unknown key "failure_threshold" (did you mean "failure-threshold"?)`},
		{"unknown key", "ignored: []\nrules: {}\n", `.hadolint.yaml:2: unknown key "rules"`},
		{"ignored as string", "ignored: DL3008\n", `.hadolint.yaml:1: ignored: want a list, got the string "DL3008"`},
		{"threshold", "failure-threshold: warn\n",
			`.hadolint.yaml:1: failure-threshold: "warn" is not one of error, warning, info, style, ignore, none`},
		{"override level", "override:\n  warning: [DL3008]\n  fatal: [DL3002]\n",
			`.hadolint.yaml:3: unknown key "fatal" in override`},
		{"override not list", "override:\n  error: DL3002\n", `.hadolint.yaml:2: override.error: want a list, got the string "DL3002"`},
		{"label type", "label-schema:\n  author: text\n  version: semvar\n",
			`.hadolint.yaml:3: label-schema.version: "semvar" is not one of text, url, spdx, hash, rfc3339, semver, email (did you mean "semver"?)`},
		{"no-fail string", "no-fail: \"true\"\n", `.hadolint.yaml:1: no-fail: want true or false, got the string "true"`},
		{"format", "format: xml\n",
			`.hadolint.yaml:1: format: "xml" is not one of tty, json, checkstyle, codeclimate, gitlab_codeclimate, gnu, codacy, sonarqube, sarif, junit`},
		{"registry number", "trustedRegistries: [docker.io, 5000]\n",
			`.hadolint.yaml:1: trustedRegistries[1]: want a string, got the number 5000`},
		{"not a mapping", "- DL3008\n", `.hadolint.yaml:1: a hadolint configuration is a mapping (ignored:, override:, …), got a list`},
		{"syntax", "ignored:\n  - DL3008\n - DL3009\n", `.hadolint.yaml:3: invalid YAML: did not find expected key`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseHadolint(".hadolint.yaml", []byte(tc.src))
			var pe *Error
			if !errors.As(err, &pe) {
				t.Fatalf("error %T %v is not *Error", err, err)
			}
			if err.Error() != tc.want {
				t.Errorf("error\n got: %s\nwant: %s", err, tc.want)
			}
		})
	}
}

func TestParseHadolintEmpty(t *testing.T) {
	for _, src := range []string{"", "# no settings yet\n"} {
		h, err := ParseHadolint(".hadolint.yaml", []byte(src))
		if err != nil || !reflect.DeepEqual(*h, Hadolint{}) {
			t.Errorf("%q: %+v %v", src, h, err)
		}
	}
}

func TestHadolintOverridePrecedence(t *testing.T) {
	// A rule under several levels gets the most severe, whatever the order in the file.
	h, err := ParseHadolint(".hadolint.yaml", []byte("override:\n  style: [DL3008]\n  warning: [DL3008]\n  info: [DL3008]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got := h.Override["DL3008"]; got != "warning" {
		t.Errorf("DL3008 level %q, want warning", got)
	}
}

func TestFindHadolint(t *testing.T) {
	dir := t.TempDir()
	if _, ok := FindHadolint(dir); ok {
		t.Error("found in empty dir")
	}
	if err := os.WriteFile(filepath.Join(dir, ".hadolint.yml"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if p, ok := FindHadolint(dir); !ok || filepath.Base(p) != ".hadolint.yml" {
		t.Errorf("yml: %q %v", p, ok)
	}
	if err := os.WriteFile(filepath.Join(dir, ".hadolint.yaml"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if p, ok := FindHadolint(dir); !ok || filepath.Base(p) != ".hadolint.yaml" {
		t.Errorf("both: %q %v, want .yaml preferred", p, ok)
	}
}

func TestHadolintApply(t *testing.T) {
	h, err := ParseHadolint(".hadolint.yaml", []byte(`
ignored: [DL3008, dl3057]
override:
  error: [DL3002]
  warning: [DL3006]
  info: [DL3013]
  style: [DF011]
`))
	if err != nil {
		t.Fatal(err)
	}
	pragma := finding("DF014", report.Low, "Dockerfile", 1, "DL3057")
	pragma.Suppressed = &report.Suppression{By: "pragma", Reason: "inline"}
	r := newReport(
		finding("DF010", report.Low, "Dockerfile", 4, "DL3008"),    // ignored by alias
		finding("DF010", report.Low, "Dockerfile", 5, "DL3013"),    // same rule, other alias: info
		finding("DF001", report.High, "Dockerfile", 9, "DL3002"),   // error → MEDIUM
		finding("DF002", report.High, "Dockerfile", 1, "DL3006"),   // warning → LOW
		finding("DF011", report.High, "Dockerfile", 6, "DL3004"),   // by charter ID: style → INFO
		finding("DF003", report.Medium, "Dockerfile", 1, "DL3007"), // untouched
		pragma, // already suppressed: kept
		finding("DF014", report.Low, "Dockerfile.ci", 1, "DL3057"), // ignored, case-insensitively
	)
	h.Apply(r)
	want := []string{
		"DF010 LOW suppressed-by-hadolint",
		"DF010 INFO",
		"DF001 MEDIUM",
		"DF002 LOW",
		"DF011 INFO",
		"DF003 MEDIUM",
		"DF014 LOW suppressed-by-pragma",
		"DF014 LOW suppressed-by-hadolint",
	}
	if got := summary(r.Findings); !reflect.DeepEqual(got, want) {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	if s := r.Findings[0].Suppressed; s.Reason != ".hadolint.yaml ignored" {
		t.Errorf("reason %q", s.Reason)
	}
}

func TestHadolintFailOn(t *testing.T) {
	cases := []struct {
		src  string
		sev  report.Severity
		set  bool
		desc string
	}{
		{"", report.SeverityNone, false, "unset"},
		{"failure-threshold: error\n", report.Medium, true, "error"},
		{"failure-threshold: warning\n", report.Low, true, "warning"},
		{"failure-threshold: info\n", report.Info, true, "info"},
		{"failure-threshold: style\n", report.Info, true, "style"},
		{"failure-threshold: ignore\n", report.Info, true, "ignore fails on anything, as in hadolint"},
		{"failure-threshold: none\n", report.Info, true, "none fails on anything, as in hadolint"},
		{"no-fail: true\nfailure-threshold: error\n", report.SeverityNone, true, "no-fail wins"},
		{"no-fail: false\n", report.SeverityNone, false, "no-fail false sets nothing"},
	}
	for _, tc := range cases {
		h, err := ParseHadolint(".hadolint.yaml", []byte(tc.src))
		if err != nil {
			t.Fatal(err)
		}
		sev, set := h.FailOn()
		if sev != tc.sev || set != tc.set {
			t.Errorf("%s: FailOn = %v %v, want %v %v", tc.desc, sev, set, tc.sev, tc.set)
		}
	}
}

func TestHadolintSeverity(t *testing.T) {
	for level, want := range map[string]report.Severity{
		"error": report.Medium, "warning": report.Low, "info": report.Info, "style": report.Info, "ERROR": report.Medium,
	} {
		if got, ok := HadolintSeverity(level); !ok || got != want {
			t.Errorf("%s: %v %v, want %v", level, got, ok, want)
		}
	}
	if _, ok := HadolintSeverity("ignore"); ok {
		t.Error("ignore is not a finding level")
	}
}
