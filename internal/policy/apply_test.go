package policy

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/charterhq/charter/internal/report"
)

// testCatalog mirrors the shape of charter's real rules: charter IDs with peer aliases.
func testCatalog() *report.Catalog {
	return report.NewCatalog([]report.Rule{
		{ID: "DF001", Aliases: []string{"DL3002", "DS-0002"}, Severity: report.High, Title: "runs as root"},
		{ID: "DF010", Aliases: []string{"DL3008", "DL3013", "DL3018"}, Severity: report.Low, Title: "unpinned packages"},
		{ID: "DF014", Aliases: []string{"DL3057"}, Severity: report.Low, Title: "no HEALTHCHECK"},
		{ID: "IMG008", Aliases: []string{"CIS-DI-0008"}, Severity: report.Info, Title: "shell present"},
	}, Rules())
}

func finding(rule string, sev report.Severity, path string, line int, aliases ...string) report.Finding {
	return report.Finding{Rule: rule, Aliases: aliases, Severity: sev, Title: rule, Message: rule,
		Location: report.Location{Path: path, Line: line}}
}

func vuln(id, purl string, sev report.Severity) report.Finding {
	return report.Finding{Rule: id, Severity: sev, Title: id, Message: id,
		Location: report.Location{Package: purl, Layer: "sha256:aa"}}
}

func mustParse(t *testing.T, src string) *File {
	t.Helper()
	f, err := Parse("charter.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func newReport(fs ...report.Finding) *report.Report {
	r := report.New("test", report.Target{Kind: "repo", Ref: "."})
	r.Findings = append(r.Findings, fs...)
	return r
}

// summary renders findings compactly: RULE SEVERITY [suppressed-by] for each.
func summary(fs []report.Finding) []string {
	out := []string{}
	for _, f := range fs {
		s := f.Rule + " " + f.Severity.String()
		if f.Suppressed != nil {
			s += " suppressed-by-" + f.Suppressed.By
		}
		out = append(out, s)
	}
	return out
}

var day = time.Date(2027, 1, 31, 12, 0, 0, 0, time.UTC)

func TestApplyOverrides(t *testing.T) {
	cases := []struct {
		name  string
		rules string
		in    []report.Finding
		want  []string
	}{
		{"off drops the rule", "{DF014: off}",
			[]report.Finding{finding("DF014", report.Low, "Dockerfile", 1, "DL3057"), finding("DF001", report.High, "Dockerfile", 3)},
			[]string{"DF001 HIGH"}},
		{"severity change", "{DF014: info, DF001: critical}",
			[]report.Finding{finding("DF014", report.Low, "Dockerfile", 1), finding("DF001", report.High, "Dockerfile", 3)},
			[]string{"DF014 INFO", "DF001 CRITICAL"}},
		{"alias matches only findings carrying it", "{DL3008: off}",
			[]report.Finding{finding("DF010", report.Low, "Dockerfile", 4, "DL3008"), finding("DF010", report.Low, "Dockerfile", 5, "DL3013")},
			[]string{"DF010 LOW"}},
		{"alias severity", "{DL3057: medium}",
			[]report.Finding{finding("DF014", report.Low, "Dockerfile", 1, "DL3057")},
			[]string{"DF014 MEDIUM"}},
		{"rule ID wins over alias", "{DL3008: off, DF010: high}",
			[]report.Finding{finding("DF010", report.Low, "Dockerfile", 4, "DL3008")},
			[]string{"DF010 HIGH"}},
		{"first alias in the file wins", "{DS-0002: low, DL3002: info}",
			[]report.Finding{finding("DF001", report.High, "Dockerfile", 9, "DL3002", "DS-0002")},
			[]string{"DF001 LOW"}},
		{"IDs compare without case", "{df014: off, dl3002: info}",
			[]report.Finding{finding("DF014", report.Low, "Dockerfile", 1), finding("DF001", report.High, "Dockerfile", 9, "DL3002")},
			[]string{"DF001 INFO"}},
		{"advisory", "{CVE-2024-1234: low, GHSA-aaaa-bbbb-cccc: off}",
			[]report.Finding{vuln("CVE-2024-1234", "pkg:deb/debian/openssl@3.0.11", report.Critical),
				vuln("GHSA-aaaa-bbbb-cccc", "pkg:golang/golang.org/x/net@v0.1.0", report.High)},
			[]string{"CVE-2024-1234 LOW"}},
		{"off drops suppressed findings too", "{DF001: off}",
			[]report.Finding{func() report.Finding {
				f := finding("DF001", report.High, "Dockerfile", 9)
				f.Suppressed = &report.Suppression{By: "pragma", Reason: "ci image"}
				return f
			}()},
			[]string{}},
		{"severity change keeps a suppression", "{DF001: critical}",
			[]report.Finding{func() report.Finding {
				f := finding("DF001", report.High, "Dockerfile", 9)
				f.Suppressed = &report.Suppression{By: "pragma"}
				return f
			}()},
			[]string{"DF001 CRITICAL suppressed-by-pragma"}},
		{"catalog alias reaches a finding without that peer's ID", "{DL3002: off}",
			[]report.Finding{finding("DF001", report.High, "Dockerfile", 1, "DS-0002", "CIS-DI-0001")},
			[]string{}},
		{"catalog alias, finding without aliases", "{dl3057: info}",
			[]report.Finding{finding("DF014", report.Low, "Dockerfile", 1)},
			[]string{"DF014 INFO"}},
		{"finding alias wins over catalog alias", "{DL3002: info, DS-0002: low}",
			[]report.Finding{finding("DF001", report.High, "Dockerfile", 1, "DS-0002")},
			[]string{"DF001 LOW"}},
		{"catalog alias of another rule", "{DL3057: off}",
			[]report.Finding{finding("DF001", report.High, "Dockerfile", 1)},
			[]string{"DF001 HIGH"}},
		{"unrelated findings untouched", "{DF014: off}",
			[]report.Finding{finding("IMG008", report.Info, "", 0)},
			[]string{"IMG008 INFO"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := mustParse(t, "version: 1\npolicy:\n  rules: "+tc.rules+"\n")
			r := newReport(tc.in...)
			f.Apply(r, testCatalog(), day)
			if got := summary(r.Findings); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestApplyIgnore(t *testing.T) {
	const openssl = "pkg:deb/debian/openssl@3.0.11-1~deb12u2?arch=amd64&distro=debian-12"
	cases := []struct {
		name   string
		entry  string // one policy.ignore entry, flow style
		in     []report.Finding
		pkgs   bool // the run catalogued packages
		want   []string
		reason string // wanted reason/expires on the first finding when suppressed
	}{
		{"by rule ID", "{id: DF001, reason: ci image}",
			[]report.Finding{finding("DF001", report.High, "Dockerfile", 3)}, false,
			[]string{"DF001 HIGH suppressed-by-charter.yaml"}, "ci image|"},
		{"by alias", "{id: DL3002, reason: ci image, expires: 2027-02-01}",
			[]report.Finding{finding("DF001", report.High, "Dockerfile", 3, "DL3002")}, false,
			[]string{"DF001 HIGH suppressed-by-charter.yaml"}, "ci image|2027-02-01"},
		{"alias the finding does not carry", "{id: DL3013, reason: r}",
			[]report.Finding{finding("DF010", report.Low, "Dockerfile", 3, "DL3008")}, false,
			[]string{"DF010 LOW", "POL002 INFO"}, ""},
		{"advisory with package name", "{id: CVE-2024-1234, package: openssl, reason: not reachable}",
			[]report.Finding{vuln("CVE-2024-1234", openssl, report.High), vuln("CVE-2024-1234", "pkg:deb/debian/libssl3@3.0.11", report.High)}, true,
			[]string{"CVE-2024-1234 HIGH suppressed-by-charter.yaml", "CVE-2024-1234 HIGH"}, "not reachable|"},
		{"advisory with purl prefix", "{id: CVE-2024-1234, package: \"pkg:deb/debian/openssl\", reason: r}",
			[]report.Finding{vuln("CVE-2024-1234", openssl, report.High), vuln("CVE-2024-1234", "pkg:deb/debian/openssl-dev@3.0.11", report.High)}, true,
			[]string{"CVE-2024-1234 HIGH suppressed-by-charter.yaml", "CVE-2024-1234 HIGH"}, "r|"},
		{"advisory id in another case", "{id: cve-2024-1234, reason: r}",
			[]report.Finding{vuln("CVE-2024-1234", openssl, report.High)}, true,
			[]string{"CVE-2024-1234 HIGH suppressed-by-charter.yaml"}, "r|"},
		{"catalog alias: a DF001 that hadolint would not raise", "{id: DL3002, reason: r}",
			[]report.Finding{finding("DF001", report.High, "Dockerfile", 3, "DS-0002", "CIS-DI-0001")}, false,
			[]string{"DF001 HIGH suppressed-by-charter.yaml"}, "r|"},
		{"package given, finding has none", "{id: DF001, package: openssl, reason: r}",
			[]report.Finding{finding("DF001", report.High, "Dockerfile", 3)}, false,
			[]string{"DF001 HIGH", "POL002 INFO"}, ""},
		{"path glob", "{id: DF001, path: \"build/**/Dockerfile*\", reason: r}",
			[]report.Finding{finding("DF001", report.High, "build/ci/x/Dockerfile.ci", 3), finding("DF001", report.High, "Dockerfile", 3)}, false,
			[]string{"DF001 HIGH suppressed-by-charter.yaml", "DF001 HIGH"}, "r|"},
		{"expires today still suppresses", "{id: DF001, reason: r, expires: 2027-01-31}",
			[]report.Finding{finding("DF001", report.High, "Dockerfile", 3)}, false,
			[]string{"DF001 HIGH suppressed-by-charter.yaml"}, "r|2027-01-31"},
		{"expired yesterday", "{id: DF001, reason: r, expires: 2027-01-30}",
			[]report.Finding{finding("DF001", report.High, "Dockerfile", 3)}, false,
			[]string{"DF001 HIGH", "POL001 MEDIUM"}, ""},
		{"expired and matching nothing is still reported", "{id: DF014, reason: r, expires: 2026-12-31}",
			[]report.Finding{finding("DF001", report.High, "Dockerfile", 3)}, false,
			[]string{"DF001 HIGH", "POL001 MEDIUM"}, ""},
		{"stale", "{id: DF014, reason: r, expires: 2027-06-01}",
			[]report.Finding{finding("DF001", report.High, "Dockerfile", 3)}, false,
			[]string{"DF001 HIGH", "POL002 INFO"}, ""},
		{"advisory not stale on a run without packages", "{id: CVE-2024-9999, reason: r}",
			[]report.Finding{finding("DF001", report.High, "Dockerfile", 3)}, false,
			[]string{"DF001 HIGH"}, ""},
		{"advisory stale on a run with packages", "{id: CVE-2024-9999, reason: r}",
			[]report.Finding{vuln("CVE-2024-1234", openssl, report.High)}, true,
			[]string{"CVE-2024-1234 HIGH", "POL002 INFO"}, ""},
		{"pragma suppression kept, entry counts as used", "{id: DF001, reason: r}",
			[]report.Finding{func() report.Finding {
				f := finding("DF001", report.High, "Dockerfile", 3)
				f.Suppressed = &report.Suppression{By: "pragma", Reason: "inline"}
				return f
			}()}, false,
			[]string{"DF001 HIGH suppressed-by-pragma"}, "inline|"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := mustParse(t, "version: 1\npolicy:\n  ignore:\n    - "+tc.entry+"\n")
			r := newReport(tc.in...)
			if tc.pkgs {
				r.Packages = []report.Package{{Name: "openssl", Version: "3.0.11", Ecosystem: "deb"}}
			}
			f.Apply(r, testCatalog(), day)
			if got := summary(r.Findings); !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
			if s := r.Findings[0].Suppressed; tc.reason != "" {
				if s == nil || s.Reason+"|"+s.Expires != tc.reason {
					t.Errorf("suppression %+v, want reason|expires %q", s, tc.reason)
				}
			}
		})
	}
}

func TestApplyWithoutCatalog(t *testing.T) {
	// Without a catalog only the finding's own rule and aliases can match.
	f := mustParse(t, "version: 1\npolicy:\n  rules: {DL3002: off, DL3057: info}\n")
	r := newReport(finding("DF001", report.High, "Dockerfile", 1, "DS-0002"), finding("DF014", report.Low, "Dockerfile", 1, "DL3057"))
	f.Apply(r, nil, day)
	if got, want := summary(r.Findings), []string{"DF001 HIGH", "DF014 INFO"}; !reflect.DeepEqual(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestPolicyFindings(t *testing.T) {
	src := `version: 1
policy:
  ignore:
    - id: CVE-2024-1234
      package: openssl
      reason: not reachable
      expires: 2027-01-30
    - {id: DF014, reason: orchestrator checks health}
`
	f := mustParse(t, src)
	r := newReport(vuln("CVE-2024-1234", "pkg:deb/debian/openssl@3.0.11", report.High))
	f.Apply(r, testCatalog(), day)
	r.Finalize(f.FailOn())
	want := []report.Finding{
		{Rule: "POL001", Severity: report.Medium, Title: rulePOL001.Title,
			Message: "ignore of CVE-2024-1234 (package openssl) expired on 2027-01-30: its findings count again; " +
				"fix them or renew the entry with a new reason and date",
			Location: report.Location{Path: "charter.yaml", Line: 4, Column: 7}, Remediation: rulePOL001.Remediation,
			References: rulePOL001.References},
		{Rule: "POL002", Severity: report.Info, Title: rulePOL002.Title,
			Message:  "stale ignore: no finding matched DF014; remove the entry or correct it",
			Location: report.Location{Path: "charter.yaml", Line: 8, Column: 7}, Remediation: rulePOL002.Remediation,
			References: rulePOL002.References},
	}
	var got []report.Finding
	for _, fd := range r.Findings {
		if strings.HasPrefix(fd.Rule, "POL") {
			got = append(got, fd)
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("policy findings\n got %+v\nwant %+v", got, want)
	}
	// The expired exception no longer protects the gate.
	if r.Verdict.Pass || r.Summary.High != 1 || r.Summary.Medium != 1 || r.Summary.Suppressed != 0 {
		t.Errorf("verdict %+v summary %+v: want a failing run with the HIGH counted", r.Verdict, r.Summary)
	}
}

func TestPolicyFindingsCanBeTuned(t *testing.T) {
	src := "version: 1\npolicy:\n  rules: {POL002: off, POL001: high}\n  ignore:\n" +
		"    - {id: DF014, reason: r}\n    - {id: DF001, reason: r, expires: 2020-01-01}\n"
	f := mustParse(t, src)
	r := newReport()
	f.Apply(r, testCatalog(), day)
	if got, want := summary(r.Findings), []string{"POL001 HIGH"}; !reflect.DeepEqual(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
	if err := f.Validate(testCatalog()); err != nil {
		t.Errorf("POL IDs in policy.rules: %v", err)
	}
}

func TestExpiryUsesNowsDate(t *testing.T) {
	f := mustParse(t, "version: 1\npolicy:\n  ignore: [{id: DF001, reason: r, expires: 2027-01-31}]\n")
	for _, tc := range []struct {
		now     time.Time
		expired bool
	}{
		{time.Date(2027, 1, 31, 0, 0, 0, 0, time.UTC), false},
		{time.Date(2027, 1, 31, 23, 59, 59, 0, time.UTC), false},
		{time.Date(2027, 2, 1, 0, 0, 0, 0, time.UTC), true},
		// The date is read in now's own zone: late on the 31st in New York is the 1st in UTC.
		{time.Date(2027, 1, 31, 22, 0, 0, 0, time.FixedZone("EST", -5*3600)), false},
		{time.Date(2027, 2, 1, 1, 0, 0, 0, time.FixedZone("CET", 3600)), true},
	} {
		r := newReport(finding("DF001", report.High, "Dockerfile", 1))
		f.Apply(r, nil, tc.now)
		if expired := r.Findings[0].Suppressed == nil; expired != tc.expired {
			t.Errorf("now %v: expired = %v, want %v", tc.now, expired, tc.expired)
		}
	}
}

func TestApplyNil(t *testing.T) {
	var f *File
	r := newReport(finding("DF001", report.High, "Dockerfile", 1))
	f.Apply(r, testCatalog(), day)
	if got := summary(r.Findings); !reflect.DeepEqual(got, []string{"DF001 HIGH"}) {
		t.Errorf("nil file changed the report: %q", got)
	}
	mustParse(t, "version: 1\n").Apply(nil, nil, day) // must not panic
	var h *Hadolint
	h.Apply(r)
	if sev, ok := h.FailOn(); ok || sev != report.SeverityNone {
		t.Errorf("nil hadolint FailOn = %v %v", sev, ok)
	}
}

func TestValidate(t *testing.T) {
	cat := testCatalog()
	ok := "version: 1\npolicy:\n  rules:\n    DF014: off\n    df001: low\n    pol002: off\n    DL3008: info\n    CIS-DI-0008: low\n    CVE-2024-1234: low\n    GHSA-abcd-efgh-ijkl: off\n"
	if err := mustParse(t, ok).Validate(cat); err != nil {
		t.Errorf("valid IDs: %v", err)
	}
	bad := "version: 1\npolicy:\n  rules:\n    DF014: off\n    DF0l4: low\n"
	err := mustParse(t, bad).Validate(cat)
	var pe *Error
	if !errors.As(err, &pe) {
		t.Fatalf("unknown rule: %v, want *Error", err)
	}
	want := `charter.yaml:5: policy.rules: unknown rule "DF0l4" (did you mean "DF014"?); ` +
		"`charter rules` lists them (advisory IDs like CVE-2024-1234 are accepted too)"
	if err.Error() != want {
		t.Errorf("got  %s\nwant %s", err, want)
	}
	// A made-up prefix is not an advisory.
	if err := mustParse(t, "version: 1\npolicy: {rules: {XYZ-2024-1: off}}\n").Validate(cat); err == nil {
		t.Error("XYZ-2024-1 accepted as an advisory")
	}
	var nilFile *File
	if nilFile.Validate(cat) != nil || mustParse(t, bad).Validate(nil) != nil {
		t.Error("nil file or catalog must validate")
	}
}

func TestLooksLikeAdvisory(t *testing.T) {
	yes := []string{"CVE-2024-1234", "GHSA-xxxx-yyyy-zzzz", "GO-2024-2687", "DSA-5555-1", "DLA-3000-1",
		"RUSTSEC-2023-0001", "PYSEC-2021-19", "USN-6000-1", "ALAS2-2023-2001", "RHSA-2024:1234", "cve-2024-1"}
	no := []string{"DF001", "DL3008", "DS-0002", "CIS-DI-0001", "POL001", "CVE", "CVE-", "XYZ-2024-1", "GHSA-abc"}
	for _, id := range yes {
		if !looksLikeAdvisory(id) {
			t.Errorf("%s: want advisory", id)
		}
	}
	for _, id := range no {
		if looksLikeAdvisory(id) {
			t.Errorf("%s: want not an advisory", id)
		}
	}
}

func TestMatchPackage(t *testing.T) {
	const purl = "pkg:deb/debian/openssl@3.0.11-1~deb12u2?arch=amd64&distro=debian-12"
	cases := []struct {
		want, got string
		match     bool
	}{
		{"openssl", purl, true},
		{"openssl-dev", purl, false},
		{"debian", purl, false},
		{"pkg:deb/debian/openssl", purl, true},
		{"pkg:deb/debian/openss", purl, false},
		{"pkg:deb/debian", purl, true},
		{"pkg:deb/debian/", purl, true},
		{"pkg:deb/", purl, true},
		{"pkg:deb", purl, true},
		{"pkg:de", purl, false},
		{"pkg:rpm/", purl, false},
		{"pkg:deb/debian/openssl@3.0", purl, true},
		{"pkg:deb/debian/openssl@3.1", purl, false},
		{"pkg:deb/debian/openssl@3.0.11-1~deb12u2", purl, true},
		{"@angular/core", "pkg:npm/%40angular/core@17.0.0", false},
		{"core", "pkg:npm/%40angular/core@17.0.0", true},
		{"pkg:npm/%40angular/core", "pkg:npm/%40angular/core@17.0.0", true},
		{"golang.org/x/net", "pkg:golang/golang.org/x/net@v0.1.0", false},
		{"net", "pkg:golang/golang.org/x/net@v0.1.0", true},
		{"pkg:golang/golang.org/x/net", "pkg:golang/golang.org/x/net@v0.1.0", true},
		{"pkg:golang/golang.org/x/net", "pkg:golang/golang.org/x/net/html@v0.1.0", true},
		{"openssl", "openssl", true}, // a finding without a purl
		{"openssl", "", false},
	}
	for _, tc := range cases {
		if got := matchPackage(tc.want, tc.got); got != tc.match {
			t.Errorf("matchPackage(%q, %q) = %v, want %v", tc.want, tc.got, got, tc.match)
		}
	}
}

func TestMatchPath(t *testing.T) {
	cases := []struct {
		pattern, path string
		match         bool
	}{
		{"Dockerfile", "Dockerfile", true},
		{"Dockerfile", "sub/Dockerfile", false},
		{"*/Dockerfile", "sub/Dockerfile", true},
		{"*/Dockerfile", "a/b/Dockerfile", false},
		{"**/Dockerfile", "Dockerfile", true},
		{"**/Dockerfile", "a/b/Dockerfile", true},
		{"build/**", "build/ci/Dockerfile", true},
		{"build/**", "build", true},
		{"build/**/x/**/Dockerfile", "build/a/x/b/c/Dockerfile", true},
		{"build/**/x/**/Dockerfile", "build/a/y/b/c/Dockerfile", false},
		{"/etc/*", "etc/shadow", true},
		{"etc/*", "/etc/shadow", true},
		{"./Dockerfile", "Dockerfile", true},
		{"Docker?ile", "Dockerfile", true},
		{"Dockerfile.[a-z]*", "Dockerfile.ci", true},
		{"*", "", false},
		{"**/a/**/a/**/a/**/a/**/a/**/b", strings.Repeat("a/", 60) + "c", false},
	}
	for _, tc := range cases {
		if got := matchPath(tc.pattern, tc.path); got != tc.match {
			t.Errorf("matchPath(%q, %q) = %v, want %v", tc.pattern, tc.path, got, tc.match)
		}
	}
}

func TestRules(t *testing.T) {
	rules := Rules()
	if len(rules) != 2 || rules[0].ID != "POL001" || rules[1].ID != "POL002" {
		t.Fatalf("Rules() = %+v", rules)
	}
	if rules[0].Severity != report.Medium || rules[1].Severity != report.Info {
		t.Errorf("severities %v %v", rules[0].Severity, rules[1].Severity)
	}
	for _, r := range rules {
		if r.Title == "" || r.Description == "" || r.Remediation == "" || r.Category != "policy" || len(r.References) == 0 {
			t.Errorf("%s: incomplete metadata %+v", r.ID, r)
		}
	}
	report.NewCatalog(rules) // no duplicate IDs
}
