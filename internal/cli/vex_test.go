package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// VEX documents from the charter file and from --vex suppress the findings they say do
// not affect the image (shown as suppressed by vex), by package or by the image's
// digest; affected statements and other packages still fail the gate; an unreadable
// document is exit 2. An ignore naming the source package covers its binaries.
func TestCheckVEX(t *testing.T) {
	cache := cacheWithDB(t)
	ref := ociRef(t, vulnImage(t, ""))
	code, out, errOut := runAt(t, cache, testNow, nil, false, "check", ref, "-o", "json")
	if code != ExitFail {
		t.Fatalf("baseline: exit %d %s", code, errOut)
	}
	digest := decodeReport(t, out).Target.Digest
	if !strings.HasPrefix(digest, "sha256:") {
		t.Fatalf("no image digest in the report: %q", digest)
	}
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	openvex := func(status, products string) string {
		return fmt.Sprintf(`{"@context": "https://openvex.dev/ns/v0.2.0", "@id": "https://example.com/vex/1",
  "author": "security", "timestamp": "2026-01-01T00:00:00Z", "version": 1,
  "statements": [{"vulnerability": {"name": "CVE-2023-5363"}, "products": %s, "status": %q,
    "justification": "vulnerable_code_not_in_execute_path"}]}`, products, status)
	}
	bothPkgs := `[{"@id": "pkg:deb/debian/libssl3"}, {"@id": "pkg:deb/debian/openssl"}]`
	image := fmt.Sprintf(`[{"@id": "pkg:oci/app@%s", "subcomponents": [{"@id": "pkg:deb/debian/libssl3"}]}]`, strings.Replace(digest, ":", "%3A", 1))
	cdx := `{"bomFormat": "CycloneDX", "specVersion": "1.5", "version": 1,
  "components": [{"type": "library", "bom-ref": "ssl", "name": "libssl3", "purl": "pkg:deb/debian/libssl3"},
                 {"type": "library", "bom-ref": "cli", "name": "openssl", "purl": "pkg:deb/debian/openssl"}],
  "vulnerabilities": [{"id": "DSA-5532-1", "analysis": {"state": "not_affected", "justification": "code_not_reachable"},
                       "affects": [{"ref": "ssl"}, {"ref": "cli"}]}]}`
	charterWith := func(name, body string) string {
		return write(name, "version: 1\npolicy:\n"+body)
	}
	for _, tc := range []struct {
		name       string
		args       []string
		want       int
		suppressed int
	}{
		{"charter file policy.vex", []string{"--charter", charterWith("vex.charter.yaml", "  vex: [ ./not-affected.json ]\n")}, ExitPass, 2},
		{"--vex flag", []string{"--vex", write("not-affected.json", openvex("not_affected", bothPkgs))}, ExitPass, 2},
		{"fixed by image digest, one subcomponent", []string{"--vex", write("image.json", openvex("fixed", image))}, ExitFail, 1},
		{"affected", []string{"--vex", write("affected.json", openvex("affected", bothPkgs))}, ExitFail, 0},
		{"CycloneDX VEX by alias", []string{"--vex", write("cdx.json", cdx)}, ExitPass, 2},
		{"ignore by source package", []string{"--charter", charterWith("ignore.charter.yaml",
			"  ignore:\n    - { id: CVE-2023-5363, package: openssl, reason: \"no TLS server\" }\n")}, ExitPass, 2},
	} {
		args := append([]string{"check", ref, "-o", "json"}, tc.args...)
		code, out, errOut := runAt(t, cache, testNow, nil, false, args...)
		if code != tc.want {
			t.Errorf("%s: exit %d, want %d\n%s", tc.name, code, tc.want, errOut)
			continue
		}
		r := decodeReport(t, out)
		n := 0
		for _, f := range findingsOf(r, "CVE-2023-5363") {
			if f.Suppressed != nil {
				n++
				wantBy := "vex"
				if strings.HasPrefix(tc.name, "ignore") {
					wantBy = "charter.yaml"
				}
				if f.Suppressed.By != wantBy || f.Suppressed.Reason == "" {
					t.Errorf("%s: suppressed %+v", tc.name, f.Suppressed)
				}
			}
		}
		if n != tc.suppressed || r.Summary.Suppressed != tc.suppressed {
			t.Errorf("%s: %d CVE-2023-5363 findings suppressed (summary %d), want %d", tc.name, n, r.Summary.Suppressed, tc.suppressed)
		}
	}
	code, _, errOut = runAt(t, cache, testNow, nil, false, "check", ref, "--vex", filepath.Join(dir, "missing.json"))
	if code != ExitError || !strings.Contains(errOut, "missing.json") {
		t.Errorf("missing VEX document: exit %d, stderr %q", code, errOut)
	}
	code, out, _ = runAt(t, cache, testNow, nil, false, "scan", ref, "-o", "json", "--scanners", "vuln",
		"--vex", filepath.Join(dir, "not-affected.json"))
	if r := decodeReport(t, out); code != ExitPass || r.Summary.Suppressed != 2 {
		t.Errorf("scan --vex: exit %d, summary %+v", code, r.Summary)
	}
}
