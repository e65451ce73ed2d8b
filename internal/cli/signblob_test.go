package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSignBlob(t *testing.T) {
	dir := project(t, map[string]string{"charter_linux_amd64": "a release binary"})
	t.Chdir(dir)
	var out, errb strings.Builder
	env := Env{Stdout: &out, Stderr: &errb, Getenv: func(k string) string {
		if k == "CHARTER_PASSWORD" {
			return "pw"
		}
		return ""
	}}
	if code := Run(t.Context(), []string{"keygen"}, env); code != 0 {
		t.Fatalf("keygen: %d %s", code, errb.String())
	}
	if code := Run(t.Context(), []string{"sign-blob", "--key", "cosign.key", "--output-signature", "bin.sig", "charter_linux_amd64"}, env); code != 0 {
		t.Fatalf("sign-blob: %d %s", code, errb.String())
	}
	code, stdout, stderr := run(t, "", "", "verify-blob", "--key", "cosign.pub", "--signature", "bin.sig", "charter_linux_amd64")
	if code != 0 || !strings.HasPrefix(stdout, "Verified OK") {
		t.Fatalf("verify-blob: %d %q %q", code, stdout, stderr)
	}
	if err := os.WriteFile(filepath.Join(dir, "charter_linux_amd64"), []byte("a changed binary"), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := run(t, "", "", "verify-blob", "--key", "cosign.pub", "--signature", "bin.sig", "charter_linux_amd64"); code != 1 || stderr == "" {
		t.Errorf("changed file: exit %d, %q", code, stderr)
	}
	if code, _, _ := run(t, "", "", "verify-blob", "--key", "cosign.pub", "charter_linux_amd64"); code != 2 {
		t.Errorf("no --signature: exit %d", code)
	}
}
