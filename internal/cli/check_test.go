package cli

import (
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/charterhq/charter/internal/imagecheck/imagetest"
	"github.com/charterhq/charter/internal/report"
)

// vulnFindings are a report's vulnerability findings (rule not a charter rule ID), one
// comparable line each: rule, package, severity, message, layer and instruction.
func vulnFindings(r report.Report) []string {
	var out []string
	for _, f := range r.Findings {
		if !isAdvisory(f.Rule) {
			continue
		}
		layer := -1
		if f.Location.LayerIndex != nil {
			layer = *f.Location.LayerIndex
		}
		sup := ""
		if f.Suppressed != nil {
			sup = " suppressed by " + f.Suppressed.By
		}
		out = append(out, fmt.Sprintf("%s %s %s %q layer %d %s %q%s", f.Rule, f.Location.Package, f.Severity, f.Message,
			layer, f.Location.Layer, f.Location.Instruction, sup))
	}
	slices.Sort(out)
	return out
}

func isAdvisory(rule string) bool {
	for _, p := range []string{"CVE-", "GHSA-", "GO-", "PYSEC-", "DSA-", "DEBIAN-"} {
		if strings.HasPrefix(rule, p) {
			return true
		}
	}
	return false
}

func findingsOf(r report.Report, rule string) []report.Finding {
	var out []report.Finding
	for _, f := range r.Findings {
		if f.Rule == rule {
			out = append(out, f)
		}
	}
	return out
}

// The gate: the planted openssl fails it at HIGH, with the advisory, both aliases, the
// fixed version, the base layer and its instruction; a fixed glibc is not reported; apt
// has no fix; the Go and Python findings name their layers.
func TestCheckFailsOnPlantedVulnerability(t *testing.T) {
	cache := cacheWithDB(t)
	ref := ociRef(t, vulnImage(t, ""))
	code, out, errOut := runAt(t, cache, testNow, nil, false, "check", ref, "-o", "json")
	if code != ExitFail || errOut != "" {
		t.Fatalf("exit %d, want 1; stderr %q", code, errOut)
	}
	r := decodeReport(t, out)
	if r.Verdict.Pass || r.Verdict.FailOn != "HIGH" || r.Summary.High != 2 || r.Target.Kind != "image" {
		t.Errorf("verdict %+v, summary %+v, target %+v", r.Verdict, r.Summary, r.Target)
	}
	ssl := findingsOf(r, "CVE-2023-5363")
	if len(ssl) != 2 {
		t.Fatalf("CVE-2023-5363: %d findings, want 2 (libssl3 and openssl): %v", len(ssl), vulnFindings(r))
	}
	for _, f := range ssl {
		loc := f.Location
		if f.Severity != report.High || !slices.Equal(f.Aliases, []string{"DEBIAN-CVE-2023-5363", "DSA-5532-1"}) ||
			!strings.Contains(f.Message, "3.0.11-1~deb12u1 → 3.0.11-1~deb12u2") ||
			!strings.HasPrefix(loc.Package, "pkg:deb/debian/") || !strings.Contains(loc.Package, "distro=debian-12") ||
			loc.LayerIndex == nil || *loc.LayerIndex != 0 || !strings.HasPrefix(loc.Layer, "sha256:") || loc.Instruction != strings.TrimSpace(baseStep) ||
			f.Remediation == "" {
			t.Errorf("CVE-2023-5363: %+v at %+v", f, loc)
		}
	}
	if apt := findingsOf(r, "CVE-2011-3374"); len(apt) != 1 || !strings.Contains(apt[0].Message, "2.6.1 → no fix") || apt[0].Remediation != "" {
		t.Errorf("apt CVE-2011-3374 (no fix): %+v", apt)
	}
	if hasRule(r, "CVE-2023-4911") {
		t.Errorf("glibc 2.36-9+deb12u3 has the fix, yet CVE-2023-4911 is reported")
	}
	for rule, want := range map[string]struct {
		purl, fixed string
		layer       int
		instruction string
	}{
		"CVE-2025-22870": {"pkg:golang/golang.org/x/net@v0.35.0", "→ 0.36.0", 2, appStep},
		"CVE-2025-22872": {"pkg:golang/golang.org/x/net@v0.35.0", "→ 0.38.0", 2, appStep},
		"CVE-2023-23931": {"pkg:pypi/cryptography@38.0.4", "→ 39.0.1", 1, pythonStep},
	} {
		fs := findingsOf(r, rule)
		if len(fs) != 1 {
			t.Errorf("%s: %d findings, want 1", rule, len(fs))
			continue
		}
		loc := fs[0].Location
		if loc.Package != want.purl || !strings.Contains(fs[0].Message, want.fixed) || loc.LayerIndex == nil ||
			*loc.LayerIndex != want.layer || loc.Instruction != want.instruction || fs[0].Severity != report.Medium {
			t.Errorf("%s: %+v at %+v", rule, fs[0], loc)
		}
	}
	if n := len(vulnFindings(r)); n != 6 {
		t.Errorf("%d vulnerability findings, want 6:\n%s", n, strings.Join(vulnFindings(r), "\n"))
	}
	if len(r.Packages) < 10 {
		t.Errorf("report has %d packages", len(r.Packages))
	}
	for _, f := range r.Findings {
		if !isAdvisory(f.Rule) {
			t.Errorf("non-vulnerability finding on the planted image: %s %s %s", f.Rule, f.Severity, f.Message)
		}
	}

	code, out, _ = runAt(t, cache, testNow, nil, false, "check", ref)
	if code != ExitFail || !strings.Contains(out, "CVE-2023-5363 (DEBIAN-CVE-2023-5363,DSA-5532-1)") || !strings.Contains(out, "FAIL (fail-on HIGH)") {
		t.Errorf("table: exit %d\n%s", code, out)
	}
	code, out, _ = runAt(t, cache, testNow, nil, false, "check", ref, "-o", "sarif")
	if code != ExitFail || !strings.Contains(out, `"ruleId": "CVE-2023-5363"`) {
		t.Errorf("sarif: exit %d\n%.1500s", code, out)
	}
}

// The charter file decides: an ignore with a reason passes the gate, an expired one does
// not (and says so), and its failOn tightens the threshold.
func TestCheckCharterFilePolicy(t *testing.T) {
	cache := cacheWithDB(t)
	ref := ociRef(t, vulnImage(t, ""))
	charter := func(body string) string {
		return filepath.Join(project(t, map[string]string{"charter.yaml": "version: 1\npolicy:\n" + body}), "charter.yaml")
	}
	ignore := `  ignore:
    - { id: CVE-2023-5363, reason: "no TLS server; the fix ships with the next base image", expires: %s }
`
	for _, tc := range []struct {
		name, body string
		args       []string
		want       int
		check      func(r report.Report) string
	}{
		{"ignored", fmt.Sprintf(ignore, "2027-01-31"), nil, ExitPass, func(r report.Report) string {
			if !r.Verdict.Pass || r.Summary.Suppressed != 2 || r.Summary.High != 0 || r.Summary.Medium != 3 {
				return fmt.Sprintf("verdict %+v summary %+v", r.Verdict, r.Summary)
			}
			for _, f := range findingsOf(r, "CVE-2023-5363") {
				if f.Suppressed == nil || f.Suppressed.By != "charter.yaml" || f.Suppressed.Expires != "2027-01-31" {
					return fmt.Sprintf("not suppressed by the charter file: %+v", f)
				}
			}
			return ""
		}},
		{"ignored by alias", `  ignore:
    - { id: DSA-5532-1, reason: "accepted until the base image is rebuilt" }
`, nil, ExitPass, nil},
		{"expired", fmt.Sprintf(ignore, "2026-01-31"), nil, ExitFail, func(r report.Report) string {
			if r.Summary.High != 2 || !hasRule(r, "POL001") {
				return fmt.Sprintf("an expired ignore still suppresses, or is not reported: summary %+v rules %v", r.Summary, rulesOf(r))
			}
			return ""
		}},
		{"failOn medium", "  failOn: medium\n" + fmt.Sprintf(ignore, "2027-01-31"), nil, ExitFail, func(r report.Report) string {
			if r.Verdict.FailOn != "MEDIUM" || len(r.Verdict.Reasons) != 3 {
				return fmt.Sprintf("verdict %+v", r.Verdict)
			}
			return ""
		}},
		{"--fail-on wins", "  failOn: medium\n" + fmt.Sprintf(ignore, "2027-01-31"), []string{"--fail-on", "critical"}, ExitPass, nil},
		{"--ignore-base", "  failOn: high\n", []string{"--ignore-base"}, ExitPass, func(r report.Report) string {
			for _, f := range r.Findings {
				if strings.HasPrefix(f.Location.Package, "pkg:deb/") {
					return "a base-image package's vulnerability is reported with --ignore-base: " + f.Rule
				}
			}
			return ""
		}},
		{"--only-fixable", "  failOn: high\n", []string{"--only-fixable"}, ExitFail, func(r report.Report) string {
			if hasRule(r, "CVE-2011-3374") || !hasRule(r, "CVE-2023-5363") {
				return fmt.Sprintf("rules %v", rulesOf(r))
			}
			return ""
		}},
	} {
		args := append([]string{"check", ref, "-o", "json", "--charter", charter(tc.body)}, tc.args...)
		code, out, errOut := runAt(t, cache, testNow, nil, false, args...)
		if code != tc.want {
			t.Errorf("%s: exit %d, want %d\n%s", tc.name, code, tc.want, errOut)
			continue
		}
		if tc.check != nil {
			if msg := tc.check(decodeReport(t, out)); msg != "" {
				t.Errorf("%s: %s", tc.name, msg)
			}
		}
	}
}

// Without a database check cannot look, so it must not pass: exit 2 with one line that
// says what to run. A database older than 24 hours is used, with a warning on stderr.
func TestCheckDatabaseRequiredAndFresh(t *testing.T) {
	ref := ociRef(t, vulnImage(t, ""))
	for _, args := range [][]string{
		{"check", ref},
		{"check", ref, "-o", "json"},
		{"scan", ref, "--scanners", "vuln"},
		{"scan", ref},
	} {
		code, out, errOut := runAt(t, t.TempDir(), testNow, nil, false, args...)
		if code != ExitError || out != "" || strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, "charter db update") ||
			!strings.Contains(errOut, "vulndb") {
			t.Errorf("%v without a database: exit %d, stdout %q, stderr %q", args, code, out, errOut)
		}
	}
	code, _, errOut := runAt(t, t.TempDir(), testNow, nil, false, "scan", ref, "--scanners", "config,secret,file,package")
	if code != ExitPass || errOut != "" {
		t.Errorf("scan without vuln needs no database: exit %d, stderr %q", code, errOut)
	}

	cache := cacheWithDB(t)
	code, _, errOut = runAt(t, cache, testNow.Add(23*time.Hour), nil, false, "check", ref, "-o", "json")
	if code != ExitFail || errOut != "" {
		t.Errorf("a 23-hour-old database: exit %d, stderr %q", code, errOut)
	}
	code, out, errOut := runAt(t, cache, testNow.Add(50*time.Hour), nil, false, "check", ref, "-o", "json")
	if code != ExitFail || !strings.Contains(errOut, "warning: the vulnerability database is 2 days old") ||
		!strings.Contains(errOut, "charter db update") || strings.Count(errOut, "\n") != 1 {
		t.Errorf("a 50-hour-old database: exit %d, stderr %q", code, errOut)
	}
	if r := decodeReport(t, out); len(findingsOf(r, "CVE-2023-5363")) != 2 {
		t.Errorf("a stale database is not used: %v", rulesOf(r))
	}
}

// sbom:FILE reaches the same vulnerability findings as the image it was made from:
// same advisories, packages, severities, fixed versions, layers and instructions.
func TestCheckSBOMMatchesImage(t *testing.T) {
	cache := cacheWithDB(t)
	ref := ociRef(t, vulnImage(t, ""))
	_, out, _ := runAt(t, cache, testNow, nil, false, "check", ref, "-o", "json")
	want := vulnFindings(decodeReport(t, out))
	if len(want) != 6 {
		t.Fatalf("image: %d vulnerability findings", len(want))
	}
	dir := t.TempDir()
	fromCheck := filepath.Join(dir, "check.cdx.json")
	if code, _, errOut := runAt(t, cache, testNow, nil, false, "check", ref, "-o", "json", "--sbom-output", fromCheck); code != ExitFail {
		t.Fatalf("check --sbom-output: exit %d %s", code, errOut)
	}
	docs := []string{fromCheck}
	for _, format := range []string{"cyclonedx-json", "cyclonedx-xml", "spdx-json", "spdx-tag-value"} {
		p := filepath.Join(dir, "image."+format)
		if code, _, errOut := runAt(t, cache, testNow, nil, false, "sbom", ref, "-o", format, "--output", p); code != ExitPass {
			t.Fatalf("sbom -o %s: exit %d %s", format, code, errOut)
		}
		docs = append(docs, p)
	}
	for _, doc := range docs {
		code, out, errOut := runAt(t, cache, testNow, nil, false, "check", "sbom:"+doc, "-o", "json")
		if code != ExitFail {
			t.Errorf("check sbom:%s: exit %d, want 1\n%s", filepath.Base(doc), code, errOut)
			continue
		}
		r := decodeReport(t, out)
		if got := vulnFindings(r); !slices.Equal(got, want) {
			t.Errorf("check sbom:%s differs from the image:\n got %s\nwant %s", filepath.Base(doc), strings.Join(got, "\n     "), strings.Join(want, "\n     "))
		}
		if r.Target.Kind != "sbom" || r.Target.Ref != "sbom:"+doc || len(r.Packages) == 0 {
			t.Errorf("sbom:%s: target %+v, %d packages", filepath.Base(doc), r.Target, len(r.Packages))
		}
	}
	code, out, errOut := runAt(t, cache, testNow, nil, false, "scan", "sbom:"+docs[1], "-o", "json")
	if r := decodeReport(t, out); code != ExitFail || !slices.Equal(vulnFindings(r), want) || len(r.Packages) == 0 {
		t.Errorf("scan sbom:FILE: exit %d %s, findings %v", code, errOut, vulnFindings(r))
	}
	code, out, errOut = runAt(t, cache, testNow, nil, false, "scan", "sbom:"+docs[1], "--scanners", "secret,vuln")
	if code != ExitError || out != "" || !strings.Contains(errOut, "--scanners package,vuln") {
		t.Errorf("scan sbom:FILE --scanners secret: exit %d, stderr %q", code, errOut)
	}
	for _, bad := range []string{"sbom:" + filepath.Join(dir, "missing.json"), "sbom:" + filepath.Join("testdata", "dpkg", "status"), "sbom:"} {
		code, out, errOut := runAt(t, cache, testNow, nil, false, "check", bad)
		if code != ExitError || out != "" || strings.Count(errOut, "\n") != 1 {
			t.Errorf("check %s: exit %d, stdout %q, stderr %q", bad, code, out, errOut)
		}
	}
}

// IMG009: a package file replaced by a later layer, and a status file edited to claim a
// fixed openssl (the vulnerability disappears; the edit does not).
func TestCheckIntegrity(t *testing.T) {
	cache := cacheWithDB(t)
	ref := ociRef(t, tamperedImage(t))
	for _, args := range [][]string{{"check", ref, "-o", "json"}, {"scan", ref, "--scanners", "package", "-o", "json"}} {
		code, out, errOut := runAt(t, cache, testNow, nil, false, args...)
		if code != ExitFail {
			t.Fatalf("%v: exit %d, want 1\n%s", args, code, errOut)
		}
		r := decodeReport(t, out)
		var modified, rewritten []report.Finding
		for _, f := range findingsOf(r, "IMG009") {
			switch {
			case strings.Contains(f.Message, "differ from the checksums dpkg recorded"):
				modified = append(modified, f)
			case strings.Contains(f.Message, "the package database was edited"):
				rewritten = append(rewritten, f)
			}
		}
		if len(modified) != 1 || modified[0].Location.Path != "/usr/bin/hello" || modified[0].Severity != report.High ||
			modified[0].Location.LayerIndex == nil || *modified[0].Location.LayerIndex != 2 ||
			modified[0].Location.Instruction != "COPY hello /usr/bin/hello # buildkit" {
			t.Errorf("%v: modified file: %+v", args, modified)
		}
		if len(rewritten) != 2 {
			t.Errorf("%v: version rewrites: %+v", args, rewritten)
		}
		for _, f := range rewritten {
			if !strings.Contains(f.Message, "from 3.0.11-1~deb12u1 to 3.0.11-1~deb12u2") || f.Location.LayerIndex == nil || *f.Location.LayerIndex != 3 {
				t.Errorf("%v: rewrite finding %+v", args, f)
			}
		}
		if hasRule(r, "CVE-2023-5363") {
			t.Errorf("%v: the edited status still matches CVE-2023-5363", args)
		}
	}
	if code, out, errOut := runAt(t, cache, testNow, nil, false, "check", ociRef(t, vulnImage(t, "")), "-o", "json"); code != ExitFail || hasRule(decodeReport(t, out), "IMG009") {
		t.Errorf("IMG009 on the untampered image (exit %d %s)", code, errOut)
	}
	code, out, _ := runAt(t, cache, testNow, nil, false, "rules", "IMG009")
	if code != ExitPass || !strings.Contains(out, "package database") {
		t.Errorf("charter rules IMG009: exit %d\n%s", code, out)
	}
}

// A build argument in the history is masked in everything the package and vulnerability
// paths print: findings' instructions, the report's packages, every SBOM format.
func TestCheckNoSecretPrinted(t *testing.T) {
	sec := imagetest.NewSecrets()
	cache := cacheWithDB(t)
	history := "RUN |1 NPM_TOKEN=" + sec.BuildArgToken + " /bin/sh -c apt-get install -y python3-cryptography # buildkit"
	ref := ociRef(t, vulnImage(t, history))
	var runs [][]string
	for _, f := range []string{"json", "table", "sarif"} {
		runs = append(runs, []string{"check", ref, "-o", f}, []string{"scan", ref, "-o", f})
	}
	for _, f := range []string{"table", "json", "cyclonedx-json", "cyclonedx-xml", "spdx-json", "spdx-tag-value"} {
		runs = append(runs, []string{"sbom", ref, "-o", f, "--files"})
	}
	for _, args := range runs {
		code, out, errOut := runAt(t, cache, testNow, nil, true, args...)
		if code == ExitError {
			t.Errorf("%v: exit 2: %s", args, errOut)
		}
		noSecrets(t, strings.Join(args[:1], " ")+" "+strings.Join(args[2:], " "), out+errOut, sec)
		if args[0] != "sbom" && !strings.Contains(out, "IMG002") {
			t.Errorf("%v: the build argument is not reported", args)
		}
	}
	leaky := ociRef(t, imagetest.Leaky(t, sec))
	for _, f := range []string{"json", "table", "sarif"} {
		code, out, errOut := runAt(t, cache, testNow, nil, false, "check", leaky, "-o", f)
		if code != ExitFail {
			t.Errorf("check of the leaky image -o %s: exit %d %s", f, code, errOut)
		}
		noSecrets(t, "check leaky -o "+f, out+errOut, sec)
	}
	_, out, _ := runAt(t, cache, testNow, nil, false, "check", ref, "-o", "json")
	fs := findingsOf(decodeReport(t, out), "CVE-2023-23931")
	if len(fs) != 1 || !strings.HasPrefix(fs[0].Location.Instruction, "RUN |1 NPM_TOKEN=[REDACTED] /bin/sh -c apt-get install") {
		t.Errorf("the instruction is not masked, or not kept readable around the value: %+v", fs)
	}
}

// --offline touches no network: a registry reference is refused before any request, and
// a bare name that would fall back to the registry fails without reaching it.
func TestCheckOffline(t *testing.T) {
	cache := cacheWithDB(t)
	var requests atomic.Int32
	reg := registry.New(registry.Logger(log.New(io.Discard, "", 0)))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		reg.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	host := strings.TrimPrefix(srv.URL, "http://")
	tag, err := name.ParseReference(host + "/charter-test/vuln:1")
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(tag, vulnImage(t, "")); err != nil {
		t.Fatal(err)
	}
	requests.Store(0)
	for _, args := range [][]string{
		{"check", "registry:" + host + "/charter-test/vuln:1", "--insecure-registry", host, "--offline"},
		{"check", host + "/charter-test/vuln:1", "--insecure-registry", host, "--offline"},
		{"check", ociRef(t, vulnImage(t, "")), "--offline", "--base", "registry:" + host + "/charter-test/vuln:1", "--insecure-registry", host},
	} {
		code, out, errOut := runAt(t, cache, testNow, map[string]string{"DOCKER_HOST": "unix://" + filepath.Join(t.TempDir(), "none.sock")}, false, args...)
		if code != ExitError || out != "" || strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, "--offline") {
			t.Errorf("%v: exit %d, stdout %q, stderr %q", args, code, out, errOut)
		}
	}
	if n := requests.Load(); n != 0 {
		t.Errorf("--offline: the registry saw %d request(s)", n)
	}
	code, _, errOut := runAt(t, cache, testNow, nil, false, "check", "registry:"+host+"/charter-test/vuln:1", "--insecure-registry", host, "-o", "json")
	if code != ExitFail || requests.Load() == 0 {
		t.Errorf("online check of the same reference: exit %d %s", code, errOut)
	}
	code, _, errOut = runAt(t, cache, testNow, nil, false, "check", ociRef(t, vulnImage(t, "")), "--offline", "-o", "json")
	if code != ExitFail {
		t.Errorf("--offline on a local source: exit %d %s", code, errOut)
	}
}

// --lint adds the Dockerfile's findings to the same verdict.
func TestCheckLint(t *testing.T) {
	cache := cacheWithDB(t)
	ref := ociRef(t, vulnImage(t, ""))
	dir := project(t, map[string]string{"Dockerfile": rootDockerfile, "app": "binary"})
	code, out, errOut := runAt(t, cache, testNow, nil, false, "check", ref, "--lint", dir, "-o", "json", "--fail-on", "critical")
	r := decodeReport(t, out)
	if code != ExitPass || !hasRule(r, "DF001") || !hasRule(r, "CVE-2023-5363") {
		t.Errorf("check --lint: exit %d %s, rules %v", code, errOut, rulesOf(r))
	}
	code, _, errOut = runAt(t, cache, testNow, nil, false, "check", ref, "--lint", filepath.Join(dir, "missing"))
	if code != ExitError || !strings.Contains(errOut, "--lint") {
		t.Errorf("check --lint MISSING: exit %d, stderr %q", code, errOut)
	}
}

// The packages scanner fills report.packages; vuln alone does not.
func TestScanPackageAndVulnScanners(t *testing.T) {
	cache := cacheWithDB(t)
	ref := ociRef(t, vulnImage(t, ""))
	code, out, _ := runAt(t, cache, testNow, nil, false, "scan", ref, "--scanners", "package", "-o", "json")
	r := decodeReport(t, out)
	if code != ExitPass || len(r.Packages) < 10 || len(vulnFindings(r)) != 0 {
		t.Errorf("--scanners package: exit %d, %d packages, vulns %v", code, len(r.Packages), vulnFindings(r))
	}
	var got []string
	for _, p := range r.Packages {
		if p.Name == "golang.org/x/net" || p.Name == "cryptography" || p.Name == "libssl3" || p.Name == "stdlib" {
			got = append(got, fmt.Sprintf("%s %s %s base=%v layer=%d", p.Ecosystem, p.Name, p.Version, p.Base, *p.LayerIndex))
		}
	}
	slices.Sort(got)
	want := []string{
		"deb libssl3 3.0.11-1~deb12u1 base=true layer=0",
		"golang golang.org/x/net v0.35.0 base=false layer=2",
		"golang stdlib go1.26.8 base=false layer=2",
		"golang stdlib go1.26.8 base=false layer=2",
		"pypi cryptography 38.0.4 base=false layer=1",
	}
	if !slices.Equal(got, want) {
		t.Errorf("packages:\n got %v\nwant %v", got, want)
	}
	code, out, _ = runAt(t, cache, testNow, nil, false, "scan", ref, "--scanners", "vuln", "-o", "json")
	r = decodeReport(t, out)
	if code != ExitFail || len(r.Packages) != 0 || len(vulnFindings(r)) != 6 {
		t.Errorf("--scanners vuln: exit %d, %d packages, vulns %v", code, len(r.Packages), vulnFindings(r))
	}
}

// A database without an ecosystem the image needs says so: those packages were not
// checked.
func TestCheckWarnsAboutMissingEcosystems(t *testing.T) {
	cache := t.TempDir()
	dir := t.TempDir()
	for _, f := range []string{"DSA-5532-1.json", "DEBIAN-CVE-2023-5363.json"} {
		b, err := os.ReadFile(filepath.Join(snapshotDir, f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if code, _, errOut := runAt(t, cache, testNow, nil, false, "db", "update", "--source", dir); code != ExitPass {
		t.Fatalf("db update: %s", errOut)
	}
	_, out, _ := runAt(t, cache, testNow, nil, false, "check", ociRef(t, vulnImage(t, "")), "-o", "json")
	r := decodeReport(t, out)
	var warns []string
	for _, w := range r.Warnings {
		if strings.Contains(w, "the vulnerability database has no") {
			warns = append(warns, w)
		}
	}
	if len(warns) != 2 || !strings.Contains(warns[0], "no Go advisories: 5 Go package(s)") || !strings.Contains(warns[0], "charter db update --ecosystem Go") ||
		!strings.Contains(warns[1], "no PyPI advisories: 1 PyPI package(s)") {
		t.Errorf("warnings: %q", r.Warnings)
	}
}
