package policy

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/charterhq/charter/internal/report"
)

const (
	imageA = "sha256:1111111111111111111111111111111111111111111111111111111111111111"
	imageB = "sha256:2222222222222222222222222222222222222222222222222222222222222222"
)

func vulnFinding(rule, purl string, aliases ...string) report.Finding {
	return report.Finding{Rule: rule, Aliases: aliases, Severity: report.High,
		Location: report.Location{Package: purl}}
}

func loadTestVEX(t *testing.T, names ...string) *VEX {
	t.Helper()
	var paths []string
	for _, n := range names {
		paths = append(paths, filepath.Join("testdata", "vex", n))
	}
	v, err := LoadVEX(paths)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestVEXApply(t *testing.T) {
	v := loadTestVEX(t, "openvex.json", "openvex-v0.0.2.json", "cyclonedx-vex.json")
	cases := []struct {
		name   string
		digest string
		f      report.Finding
		want   string // suppression reason prefix; "" for not suppressed
	}{
		{"not_affected, purl without version matches any version", "",
			vulnFinding("CVE-2023-5363", "pkg:deb/debian/libssl3@3.0.11-1~deb12u1?arch=amd64&distro=debian-12"),
			"not_affected: vulnerable_code_not_in_execute_path: the service never calls"},
		{"statement alias names the finding's alias", "",
			vulnFinding("CVE-2099-0001", "pkg:deb/debian/libssl3@3.0.9-1", "DSA-5532-1"), "not_affected"},
		{"another package", "",
			vulnFinding("CVE-2023-5363", "pkg:deb/debian/libssl-dev@3.0.11-1~deb12u1"), ""},
		{"not_affected without justification is invalid", "",
			vulnFinding("CVE-2023-4911", "pkg:deb/debian/libc6@2.36-9+deb12u1?distro=debian-12"), ""},
		{"image digest with subcomponent", imageA,
			vulnFinding("CVE-2023-39325", "pkg:golang/golang.org/x/net@v0.17.0", "GHSA-4374-p667-p6c8", "GO-2023-2102"), "fixed"},
		{"image digest, package not a subcomponent", imageA,
			vulnFinding("GHSA-4374-p667-p6c8", "pkg:golang/golang.org/x/crypto@v0.1.0"), ""},
		{"another image", imageB,
			vulnFinding("GHSA-4374-p667-p6c8", "pkg:golang/golang.org/x/net@v0.17.0"), ""},
		{"no image digest (an SBOM without one)", "",
			vulnFinding("GHSA-4374-p667-p6c8", "pkg:golang/golang.org/x/net@v0.17.0"), ""},
		{"image product without subcomponents covers every package (v0.0.2 string product)", imageB,
			vulnFinding("CVE-2022-0001", "pkg:npm/anything@1.0.0"), "not_affected: inline_mitigations_already_exist"},
		{"the newer statement (affected) wins", "",
			vulnFinding("CVE-2021-44228", "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1"), ""},
		{"under_investigation does not suppress", "",
			vulnFinding("CVE-2020-0001", "pkg:npm/lodash@4.17.15"), ""},
		{"CycloneDX not_affected by bom-ref, ID by reference", "",
			vulnFinding("GHSA-v845-jxx5-vc9f", "pkg:pypi/urllib3@1.26.12"), "not_affected: code_not_reachable: no cookies"},
		{"CycloneDX bom-ref names one version", "",
			vulnFinding("CVE-2023-43804", "pkg:pypi/urllib3@1.26.18"), ""},
		{"CycloneDX false_positive through a BOM-Link", "",
			vulnFinding("CVE-2023-45803", "pkg:pypi/urllib3@2.0.6"), "false_positive"},
		{"CycloneDX exploitable does not suppress", "",
			vulnFinding("CVE-2024-37891", "pkg:pypi/urllib3@1.26.12"), ""},
		{"CycloneDX resolved suppresses", "",
			vulnFinding("CVE-2018-25091", "pkg:pypi/urllib3@1.26.12"), "resolved"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := &report.Report{Target: report.Target{Kind: "image", Digest: c.digest}, Findings: []report.Finding{c.f}}
			n := v.Apply(r)
			got := r.Findings[0].Suppressed
			switch {
			case c.want == "" && got != nil:
				t.Fatalf("suppressed %+v, want not", got)
			case c.want != "" && got == nil:
				t.Fatalf("not suppressed, want %q", c.want)
			case c.want != "" && (got.By != SuppressedByVEX || !strings.HasPrefix(got.Reason, c.want)):
				t.Fatalf("suppressed %+v, want by vex with reason %q…", got, c.want)
			case (n == 1) != (c.want != ""):
				t.Fatalf("Apply returned %d", n)
			}
		})
	}
	if len(v.Warnings) != 1 || !strings.Contains(v.Warnings[0], "not_affected without a justification") {
		t.Fatalf("warnings %q", v.Warnings)
	}
}

func TestVEXKeepsEarlierSuppression(t *testing.T) {
	v := loadTestVEX(t, "openvex.json")
	f := vulnFinding("CVE-2023-5363", "pkg:deb/debian/libssl3@3.0.11-1~deb12u1")
	f.Suppressed = &report.Suppression{By: SuppressedBy, Reason: "accepted"}
	r := &report.Report{Findings: []report.Finding{f}}
	if v.Apply(r) != 0 || r.Findings[0].Suppressed.By != SuppressedBy {
		t.Fatalf("%+v", r.Findings[0].Suppressed)
	}
}

func TestPurlCovers(t *testing.T) {
	cases := []struct {
		want, got string
		ok        bool
	}{
		{"pkg:deb/debian/openssl", "pkg:deb/debian/openssl@3.0.11-1?distro=debian-12", true},
		{"pkg:deb/debian/openssl@3.0.11-1", "pkg:deb/debian/openssl@3.0.11-1?distro=debian-12", true},
		{"pkg:deb/debian/openssl@3.0.11-1", "pkg:deb/debian/openssl@3.0.11-2", false},
		{"pkg:deb/debian/openssl?distro=debian-12", "pkg:deb/debian/openssl@1?arch=amd64&distro=debian-12", true},
		{"pkg:deb/debian/openssl?distro=debian-11", "pkg:deb/debian/openssl@1?distro=debian-12", false},
		{"pkg:deb/debian/openssl", "pkg:deb/debian/openssl-dev@1", false},
		{"pkg:npm/%40babel/core", "pkg:npm/@babel/core@7.0.0", true},
		{"pkg:DEB/debian/openssl", "pkg:deb/debian/openssl@1", true},
		{"pkg:golang/golang.org/x/net", "pkg:golang/golang.org/x/net/html@v0.1.0", false},
		{"openssl", "pkg:deb/debian/openssl@1", false},
	}
	for _, c := range cases {
		if got := purlCovers(c.want, c.got); got != c.ok {
			t.Errorf("purlCovers(%q, %q) = %v", c.want, c.got, got)
		}
	}
}

func TestVEXBadDocuments(t *testing.T) {
	for name, doc := range map[string]string{
		"not JSON":       "{",
		"not VEX":        `{"hello": "world"}`,
		"bad statements": `{"@context": "https://openvex.dev/ns/v0.2.0", "statements": 3}`,
		"bad CycloneDX":  `{"bomFormat": "CycloneDX", "vulnerabilities": {}}`,
	} {
		if err := (&VEX{}).Add("doc.json", []byte(doc)); err == nil || !strings.HasPrefix(err.Error(), "doc.json: ") {
			t.Errorf("%s: error %v, want one naming the file", name, err)
		}
	}
	if _, err := LoadVEX([]string{filepath.Join(t.TempDir(), "missing.json")}); err == nil {
		t.Error("a missing file loaded")
	}
}

// FuzzVEX feeds arbitrary documents to both VEX readers. Whatever is accepted has, in
// every statement, a vulnerability ID, a known status and at least one product; and
// applying it to a report never panics.
func FuzzVEX(f *testing.F) {
	files, _ := filepath.Glob("testdata/vex/*.json")
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte(`{"statements":[{"vulnerability":{"@id":"CVE-1"},"products":[{"identifiers":{"purl":"pkg:a/b"},"hashes":{"sha-256":"x"}}],"status":"fixed"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		v := &VEX{}
		if err := v.Add("fuzz.json", data); err != nil {
			return
		}
		for _, s := range v.statements {
			if len(s.ids) == 0 || len(s.products) == 0 {
				t.Fatalf("statement without IDs or products: %+v", s)
			}
			switch s.status {
			case "not_affected", "fixed", "affected", "under_investigation":
			default:
				t.Fatalf("status %q", s.status)
			}
		}
		r := &report.Report{Target: report.Target{Digest: imageA}, Findings: []report.Finding{
			vulnFinding("CVE-2023-5363", "pkg:deb/debian/libssl3@3.0.11-1~deb12u1?distro=debian-12", "GHSA-x"),
			vulnFinding("CVE-1", "pkg:a/b@1"),
		}}
		v.Apply(r)
	})
}
