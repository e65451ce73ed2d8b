package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/charterhq/charter/internal/report"
)

const testPassword = "correct horse battery staple"

// signEnv runs charter in-process in dir with the given environment variables.
func signEnv(t *testing.T, dir string, vars map[string]string, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	env := Env{
		Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errb,
		Getenv: func(k string) string { return vars[k] },
		Now:    func() time.Time { return time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC) },
	}
	t.Chdir(dir)
	code := Run(context.Background(), args, env)
	return code, out.String(), errb.String()
}

func testRegistryHost(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

func pushRandom(t *testing.T, ref string) string {
	t.Helper()
	img, err := random.Image(128, 1)
	if err != nil {
		t.Fatal(err)
	}
	r, err := name.ParseReference(ref, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(r, img); err != nil {
		t.Fatal(err)
	}
	d, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return d.String()
}

func TestSigningWorkflow(t *testing.T) {
	dir := t.TempDir()
	host := testRegistryHost(t)
	pw := map[string]string{"CHARTER_PASSWORD": testPassword}
	insecure := []string{"--insecure-registry", host}
	img := host + "/app:1.0"
	digest := pushRandom(t, img)

	code, out, errOut := signEnv(t, dir, pw, "", "keygen")
	if code != ExitPass {
		t.Fatalf("keygen: %d %s", code, errOut)
	}
	keyPEM, err := os.ReadFile(filepath.Join(dir, "cosign.key"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(keyPEM, []byte("-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----")) {
		t.Fatalf("cosign.key starts %.60q", keyPEM)
	}
	if fi, _ := os.Stat(filepath.Join(dir, "cosign.key")); fi.Mode().Perm() != 0o600 {
		t.Fatalf("cosign.key mode %v; want 0600", fi.Mode().Perm())
	}
	all := out + errOut
	if code, _, errOut := signEnv(t, dir, pw, "", "keygen"); code != ExitError || !strings.Contains(errOut, "already exists") {
		t.Fatalf("second keygen: %d %s; want a refusal to overwrite", code, errOut)
	}

	code, out, errOut = signEnv(t, dir, pw, "", append([]string{"sign", img}, insecure...)...)
	if code != ExitPass || strings.TrimSpace(out) != host+"/app@"+digest {
		t.Fatalf("sign: %d %q %s; want the digest printed", code, out, errOut)
	}
	all += out + errOut

	code, out, errOut = signEnv(t, dir, nil, "", append([]string{"verify", "--key", "cosign.pub", img}, insecure...)...)
	if code != ExitPass || !strings.Contains(out, "2 signatures (classic, bundle)") {
		t.Fatalf("verify: %d %q %s", code, out, errOut)
	}

	// A verdict from a charter report about this digest, then the checked promotion.
	rep := report.New("0.3.0", report.Target{Kind: "image", Ref: img, Digest: digest})
	rep.Finalize(report.High)
	b, _ := json.Marshal(rep)
	if err := os.WriteFile(filepath.Join(dir, "report.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errOut = signEnv(t, dir, pw, "", append([]string{"attest", "--type", "verdict", "--predicate", "report.json", img}, insecure...)...)
	if code != ExitPass {
		t.Fatalf("attest: %d %s", code, errOut)
	}
	code, out, errOut = signEnv(t, dir, nil, "", append([]string{"verify-attestation", "--key", "cosign.pub", "--type", "verdict", "--max-age", "7d", img}, insecure...)...)
	if code != ExitPass || !strings.Contains(out, "verdict passed with failOn HIGH") {
		t.Fatalf("verify-attestation: %d %q %s", code, out, errOut)
	}
	code, out, errOut = signEnv(t, dir, nil, "", append([]string{"promote", "--key", "cosign.pub", "--max-age", "7d", "--log", "promotions.jsonl", img, "stable"}, insecure...)...)
	if code != ExitPass || !strings.Contains(out, "to "+host+"/app:stable (was none)") {
		t.Fatalf("promote: %d %q %s", code, out, errOut)
	}
	logged, err := os.ReadFile(filepath.Join(dir, "promotions.jsonl"))
	if err != nil || !strings.Contains(string(logged), `"digest":"`+digest+`"`) {
		t.Fatalf("promotion log %q, %v", logged, err)
	}

	// Nothing secret was ever printed.
	for _, secret := range []string{testPassword, string(keyPEM[40:80])} {
		if strings.Contains(all, secret) {
			t.Fatalf("output contains a secret: %q", all)
		}
	}
}

func TestSigningExitCodes(t *testing.T) {
	dir := t.TempDir()
	host := testRegistryHost(t)
	pw := map[string]string{"COSIGN_PASSWORD": testPassword}
	insecure := []string{"--insecure-registry", host}
	signed := host + "/app:signed"
	pushRandom(t, signed)
	unsigned := host + "/app:unsigned"
	pushRandom(t, unsigned)
	if code, _, errOut := signEnv(t, dir, pw, "", "keygen"); code != ExitPass {
		t.Fatal(errOut)
	}
	if code, _, errOut := signEnv(t, dir, pw, "", "keygen", "--output-key-prefix", "other"); code != ExitPass {
		t.Fatal(errOut)
	}
	if code, _, errOut := signEnv(t, dir, pw, "", append([]string{"sign", signed}, insecure...)...); code != ExitPass {
		t.Fatal(errOut)
	}
	cases := []struct {
		name string
		vars map[string]string
		args []string
		code int
		want string
	}{
		{"wrong key", nil, []string{"verify", "--key", "other.pub", signed}, ExitFail, "does not verify with the given key"},
		{"unsigned", nil, []string{"verify", "--key", "cosign.pub", unsigned}, ExitFail, "no signatures found"},
		{"annotation missing", nil, []string{"verify", "--key", "cosign.pub", "-a", "env=prod", signed}, ExitFail, "env=prod"},
		{"no verdict", nil, []string{"promote", "--key", "cosign.pub", signed, "stable"}, ExitFail, "no verified attestation of type"},
		{"no key", nil, []string{"verify", signed}, ExitError, "no public key"},
		{"private key given to verify", nil, []string{"verify", "--key", "cosign.key", signed}, ExitError, "this is a private key"},
		{"wrong password", map[string]string{"CHARTER_PASSWORD": "nope"}, []string{"sign", signed}, ExitError, "wrong password"},
		{"no password", nil, []string{"sign", signed}, ExitError, "no password: set CHARTER_PASSWORD"},
		{"unknown image", nil, []string{"verify", "--key", "cosign.pub", host + "/nope:1"}, ExitError, "not found"},
		{"plain HTTP not allowed", nil, []string{"verify", "--key", "cosign.pub", signed}, ExitError, "--insecure-registry " + host},
		{"bad layout", nil, []string{"verify", "--key", "cosign.pub", "--layout", "x", signed}, ExitError, "--layout"},
		{"bad max age", nil, []string{"verify-attestation", "--key", "cosign.pub", "--type", "verdict", "--max-age", "soon", signed}, ExitError, "--max-age"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			args := c.args
			if c.name != "plain HTTP not allowed" {
				args = append(append([]string(nil), args...), insecure...)
			}
			code, out, errOut := signEnv(t, dir, c.vars, "", args...)
			if code != c.code || !strings.Contains(errOut, c.want) {
				t.Fatalf("exit %d, stderr %q, stdout %q; want exit %d saying %q", code, errOut, out, c.code, c.want)
			}
			if strings.Count(strings.TrimSpace(errOut), "\n") > 0 {
				t.Fatalf("stderr has more than one line: %q", errOut)
			}
			if strings.Contains(out+errOut, testPassword) {
				t.Fatal("password printed")
			}
		})
	}
}

func TestKeygenPrompt(t *testing.T) {
	dir := t.TempDir()
	var out, errb bytes.Buffer
	env := Env{
		Stdin: strings.NewReader("s3cret-pass\ns3cret-pass\n"), Stdout: &out, Stderr: &errb,
		Getenv:     func(string) string { return "" },
		IsTerminal: func(v any) bool { _, ok := v.(*strings.Reader); return ok },
	}
	t.Chdir(dir)
	if code := Run(context.Background(), []string{"keygen"}, env); code != ExitPass {
		t.Fatalf("keygen with a prompt: %d %s", code, errb.String())
	}
	if strings.Contains(out.String()+errb.String(), "s3cret-pass") {
		t.Fatal("the typed password was echoed")
	}
	env.Stdin = strings.NewReader("one\ntwo\n")
	if code := Run(context.Background(), []string{"keygen", "--force"}, env); code != ExitError || !strings.Contains(errb.String(), "do not match") {
		t.Fatalf("mismatched passwords: %d %s", code, errb.String())
	}
}
