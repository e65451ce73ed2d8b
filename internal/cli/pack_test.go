package cli

import (
	"io"
	"log"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/registry"
)

// TestPackThenScan packs a small program and scans the result: the image charter packs
// passes charter's own image checks at the strictest threshold, and packing again gives
// the same reference and digest.
func TestPackThenScan(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("charter pack builds with the go command, which is not on PATH")
	}
	dir := project(t, map[string]string{
		"src/go.mod":  "module example.com/hello\n\ngo 1.22\n",
		"src/main.go": "package main\n\nfunc main() { println(\"hello\") }\n",
		"ca.pem":      "-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n",
	})
	out := filepath.Join(dir, "oci")
	args := []string{"pack", "./src", "--oci-layout", out, "--tag", "v1", "--ca-bundle", "ca.pem", "--sbom-output", "sbom.cdx.json"}
	code, stdout, stderr := run(t, dir, "", args...)
	if code != 0 {
		t.Fatalf("pack: exit %d: %s", code, stderr)
	}
	if want := "oci-dir:" + out + ":v1\n"; stdout != want {
		t.Errorf("stdout %q, want %q", stdout, want)
	}
	if !strings.Contains(stderr, "/app/src") || !strings.Contains(stderr, "sha256:") {
		t.Errorf("stderr does not say what was packed: %s", stderr)
	}
	code, _, stderr2 := run(t, dir, "", args...)
	if code != 0 || stderr2 != stderr {
		t.Errorf("second pack: exit %d, said %q, first said %q", code, stderr2, stderr)
	}
	code, report, errs := run(t, dir, "", "scan", "oci-dir:"+out+":v1", "--scanners", "config,secret,file", "--fail-on", "low", "--no-cache")
	if code != 0 {
		t.Errorf("scan of the packed image: exit %d\n%s%s", code, report, errs)
	}
	code, sb, errs := run(t, dir, "", "sbom", "sbom:sbom.cdx.json", "-o", "table")
	if code != 0 || !strings.Contains(sb, "stdlib") {
		t.Errorf("the SBOM written beside: exit %d\n%s%s", code, sb, errs)
	}
}

func TestPackRefusals(t *testing.T) {
	dir := project(t, map[string]string{"ca.pem": "x"})
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"pack", "."}, "--oci-layout"},
		{[]string{"pack", ".", "--oci-layout", "o", "--key", "cosign.key"}, "--push"},
		{[]string{"pack", ".", "--oci-layout", "o", "--ca-bundle", "missing.pem"}, "missing.pem"},
		{[]string{"pack", ".", "--oci-layout", "o", "--ca-bundle", "ca.pem", "--platform", "linux"}, "OS/ARCH"},
	} {
		code, _, stderr := run(t, dir, "", tc.args...)
		if code != 2 || !strings.Contains(stderr, tc.want) || strings.Count(strings.TrimSpace(stderr), "\n") > 0 {
			t.Errorf("%v: exit %d, stderr %q (want one line naming %s)", tc.args, code, stderr, tc.want)
		}
	}
}

func TestParseBinaries(t *testing.T) {
	if m, err := parseBinaries([]string{"app"}, []string{"linux/amd64"}); err != nil || m["linux/amd64"] != "app" {
		t.Errorf("one file: %v %v", m, err)
	}
	m, err := parseBinaries([]string{"linux/amd64=a", "linux/arm64=b"}, []string{"linux/amd64", "linux/arm64"})
	if err != nil || m["linux/arm64"] != "b" {
		t.Errorf("per platform: %v %v", m, err)
	}
	for _, bad := range [][]string{{"app"}, {"linux/amd64=a"}, {"linux/amd64="}} {
		if _, err := parseBinaries(bad, []string{"linux/amd64", "linux/arm64"}); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// TestPackPushSigned pushes to an in-process registry with --key: the image verifies,
// and so do its SBOM and provenance attestations.
func TestPackPushSigned(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("charter pack builds with the go command, which is not on PATH")
	}
	srv := httptest.NewServer(registry.New(registry.WithReferrersSupport(true), registry.Logger(log.New(io.Discard, "", 0))))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	dir := project(t, map[string]string{
		"src/go.mod":  "module example.com/hello\n\ngo 1.22\n",
		"src/main.go": "package main\n\nfunc main() { println(\"hello\") }\n",
		"ca.pem":      "-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n",
	})
	t.Chdir(dir)
	var out, errb strings.Builder
	env := Env{Stdout: &out, Stderr: &errb, Getenv: func(k string) string {
		return map[string]string{"CHARTER_PASSWORD": "pw", "SOURCE_DATE_EPOCH": "1700000000"}[k]
	}}
	for _, args := range [][]string{
		{"keygen"},
		{"pack", "./src", "--ca-bundle", "ca.pem", "--push", host + "/hello:v1", "--key", "cosign.key", "--insecure-registry", host},
		{"verify", "--key", "cosign.pub", "--insecure-registry", host, host + "/hello:v1"},
		{"verify-attestation", "--key", "cosign.pub", "--type", "cyclonedx", "--insecure-registry", host, host + "/hello:v1"},
		{"verify-attestation", "--key", "cosign.pub", "--type", "https://slsa.dev/provenance/v1", "--insecure-registry", host, host + "/hello:v1"},
	} {
		if code := Run(t.Context(), args, env); code != 0 {
			t.Fatalf("%v: exit %d\n%s", args, code, errb.String())
		}
	}
	if !strings.Contains(out.String(), host+"/hello@sha256:") {
		t.Errorf("pack did not print the pushed digest:\n%s", out.String())
	}
}
