package cli

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestDemo runs the lint stage only: leaky fails, hardened and poster pass, and the
// summary says so.
func TestDemo(t *testing.T) {
	out := t.TempDir()
	// A strict charter.yaml in the current folder (charter's own repository has one) does
	// not change the verdicts on leaky and hardened: they are judged by the defaults.
	strict := project(t, map[string]string{"charter.yaml": "version: 1\npolicy:\n  failOn: info\n"})
	code, stdout, errOut := run(t, strict, "", "demo", "--out", out, "--skip", "pack")
	if code != 0 {
		t.Fatalf("demo: code %d\n%s\n%s", code, stdout, errOut)
	}
	for _, want := range []string{"examples/leaky", "examples/hardened", "examples/poster", "DF001", "DF004", "DF007", "CTX001",
		"as expected", "leaky FAIL, hardened PASS, poster PASS", "no image: the pack stage did not run"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("demo output lacks %q", want)
		}
	}
	if strings.Contains(stdout, out) && !strings.Contains(stdout, "OUT="+out) {
		t.Error("paths under --out are not shown as $OUT")
	}
	if code, _, errOut := run(t, "", "", "demo", "--skip", "lint,nope"); code != 2 || !strings.Contains(errOut, "nope") {
		t.Errorf("--skip nope: exit %d, %s", code, errOut)
	}
}

// TestDemoLifecycle runs every stage but runc from this source tree: the poster is
// packed, checked against the OSV snapshot, described, recorded in an inventory, signed
// and verified, and profiled, with each output where the summary says. The CLI smoke test in
// scripts/test.sh runs the whole demo, runc included.
func TestDemoLifecycle(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the poster with the go command; -short leaves it out")
	}
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("the pack stage needs the go command, which is not on PATH")
	}
	out := t.TempDir()
	code, stdout, errOut := run(t, "", "", "demo", "--out", out, "--skip", "runc")
	if code != 0 {
		t.Fatalf("demo: code %d\n%s\n%s", code, stdout, errOut)
	}
	for _, want := range []string{`(?m)^pack +built`, `(?m)^scan +PASS`, `(?m)^sbom +written`, `(?m)^inventory +recorded`,
		`(?m)^sign +verified`, `(?m)^profile +written`, `(?m)^runc +skipped`, `Verified 127\.0\.0\.1:`, `--read-only`,
		`stdlib +go1\.[0-9.]+ .* demo/automation/CronJob/poster \(poster\)`, `no recorded image is affected`} {
		if !regexp.MustCompile(want).MatchString(stdout) {
			t.Errorf("demo output lacks %q\n%s", want, stdout)
		}
	}
	for _, f := range []string{"artifacts/oci/index.json", "artifacts/poster.cdx.json", "artifacts/cosign.key", "artifacts/cosign.pub",
		"artifacts/bundle/config.json", "artifacts/profile-docker.sh", "artifacts/cache/vulndb/vuln.db", "artifacts/inventory.db"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
	var bom struct{ BOMFormat string }
	b, err := os.ReadFile(filepath.Join(out, "artifacts/poster.cdx.json"))
	if err != nil || json.Unmarshal(b, &bom) != nil || bom.BOMFormat != "CycloneDX" {
		t.Errorf("the SBOM is not CycloneDX: %v", err)
	}
}
