package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// check --vuln-predicate writes an in-toto vulnerability predicate (vulns v0.1) that
// `charter attest --type vuln` signs as it is and verify-attestation accepts; suppressed
// findings stay out of it.
func TestVulnPredicateAttested(t *testing.T) {
	cache := cacheWithDB(t)
	ref := ociRef(t, vulnImage(t, ""))
	dir := t.TempDir()
	pred := filepath.Join(dir, "vulns.json")
	charter := filepath.Join(dir, "charter.yaml")
	if err := os.WriteFile(charter, []byte("version: 1\npolicy:\n  ignore:\n    - { id: CVE-2011-3374, reason: accepted }\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, errOut := runAt(t, cache, testNow, nil, false, "check", ref, "--charter", charter, "--fail-on", "none", "--vuln-predicate", pred)
	if code != ExitPass {
		t.Fatalf("check --vuln-predicate: exit %d %s", code, errOut)
	}
	data, err := os.ReadFile(pred)
	if err != nil {
		t.Fatal(err)
	}
	var p vulnsPredicate
	if err := json.Unmarshal(data, &p); err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for _, r := range p.Scanner.Result {
		ids[r.ID] = true
		if len(r.Severity) != 1 || r.Severity[0].Score == "" || len(r.Annotations) == 0 {
			t.Errorf("result %+v", r)
		}
	}
	started, err1 := time.Parse(time.RFC3339, p.Metadata.ScanStartedOn)
	finished, err2 := time.Parse(time.RFC3339, p.Metadata.ScanFinishedOn)
	switch {
	case p.Scanner.URI != "https://github.com/charterhq/charter" || p.Scanner.Version == "":
		t.Errorf("scanner %+v", p.Scanner)
	case p.Scanner.DB.LastUpdate == "" || p.Scanner.DB.URI == "" || p.Scanner.DB.Version == "":
		t.Errorf("db %+v", p.Scanner.DB)
	case !ids["CVE-2023-5363"] || !ids["CVE-2023-23931"] || ids["CVE-2011-3374"]:
		t.Errorf("result IDs %v: want the vulnerabilities, without the ignored one", ids)
	case err1 != nil || err2 != nil || started.After(finished):
		t.Errorf("metadata %+v", p.Metadata)
	case len(p.Invocation.Parameters) != 2 || p.Invocation.Parameters[0] != "check":
		t.Errorf("invocation %+v", p.Invocation)
	}

	host := testRegistryHost(t)
	img := host + "/app:1.0"
	pushRandom(t, img)
	pw := map[string]string{"CHARTER_PASSWORD": testPassword}
	insecure := []string{"--insecure-registry", host}
	if code, _, errOut := signEnv(t, dir, pw, "", "keygen"); code != ExitPass {
		t.Fatalf("keygen: %d %s", code, errOut)
	}
	code, _, errOut = signEnv(t, dir, pw, "", append([]string{"attest", "--type", "vuln", "--predicate", "vulns.json", img}, insecure...)...)
	if code != ExitPass {
		t.Fatalf("attest --type vuln: %d %s", code, errOut)
	}
	code, out, errOut := signEnv(t, dir, nil, "", append([]string{"verify-attestation", "--key", "cosign.pub", "--type", "vuln", "--json", img}, insecure...)...)
	if code != ExitPass || !strings.Contains(out, "CVE-2023-5363") || !strings.Contains(out, "scanStartedOn") {
		t.Fatalf("verify-attestation: %d %.400s %s", code, out, errOut)
	}
	// Not a predicate: a broken one is refused, naming what is missing.
	if err := os.WriteFile(filepath.Join(dir, "bad.json"), []byte(`{"scanner": {"uri": ""}, "metadata": {}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, errOut = signEnv(t, dir, pw, "", append([]string{"attest", "--type", "vuln", "--predicate", "bad.json", img}, insecure...)...)
	if code != ExitError || !strings.Contains(errOut, "scanner.uri") {
		t.Fatalf("attest of a broken predicate: %d %s", code, errOut)
	}
}
