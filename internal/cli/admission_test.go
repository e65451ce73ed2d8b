package cli

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/charterhq/charter/internal/testutil"
)

// TestAdmissionServeEndToEnd makes certificates, signs one image and not another, serves
// the webhook in-process, and posts AdmissionReviews to it over verified TLS.
func TestAdmissionServeEndToEnd(t *testing.T) {
	dir := t.TempDir()
	host := testRegistryHost(t)
	pw := map[string]string{"CHARTER_PASSWORD": testPassword}
	signed, unsigned := host+"/shop/web:1.0", host+"/shop/other:1.0"
	pushRandom(t, signed)
	pushRandom(t, unsigned)
	if code, _, errOut := signEnv(t, dir, pw, "", "keygen"); code != 0 {
		t.Fatalf("keygen: %s", errOut)
	}
	if code, _, errOut := signEnv(t, dir, pw, "", "sign", "--key", "cosign.key", "--insecure-registry", host, signed); code != 0 {
		t.Fatalf("sign: %s", errOut)
	}
	code, out, errOut := run(t, dir, "", "admission", "certs", "--service", "localhost", "--namespace", "test", "--out", "tls")
	if code != 0 {
		t.Fatalf("certs: exit %d: %s", code, errOut)
	}
	caPEM, err := base64.StdEncoding.DecodeString(strings.TrimSpace(out))
	if err != nil || !bytes.Contains(caPEM, []byte("BEGIN CERTIFICATE")) {
		t.Fatalf("certs printed %q, want the base64 CA bundle", out)
	}
	if st, err := os.Stat(filepath.Join(dir, "tls", "tls.key")); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("tls.key: %v %v", st, err)
	}
	writeTestFile(t, filepath.Join(dir, "charter.yaml"), "version: 1\nsigning:\n  keys: [./cosign.pub]\n")

	var stdout, stderr testutil.SyncBuffer
	env := Env{Stdout: &stdout, Stderr: &stderr, Getenv: func(string) string { return "" }, Now: time.Now}
	ctx, cancel := context.WithCancel(context.Background())
	exited := make(chan int, 1)
	go func() {
		exited <- Run(ctx, []string{"admission", "serve", "--listen", "127.0.0.1:0", "--insecure-registry", host,
			"--tls-cert", filepath.Join(dir, "tls", "tls.crt"), "--tls-key", filepath.Join(dir, "tls", "tls.key"),
			"--charter", filepath.Join(dir, "charter.yaml")}, env)
	}()
	addr := waitServing(t, &stderr, exited)

	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(caPEM)
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{ForceAttemptHTTP2: true,
		TLSClientConfig: &tls.Config{RootCAs: roots, ServerName: "localhost.test.svc", MinVersion: tls.VersionTLS12}}}
	for img, wantAllowed := range map[string]bool{signed: true, unsigned: false} {
		allowed, msg, proto := postPod(t, client, "https://"+addr+"/validate", img)
		if proto != "HTTP/2.0" {
			t.Errorf("served over %s, want HTTP/2.0 (the API server's protocol for webhooks)", proto)
		}
		if allowed != wantAllowed {
			t.Errorf("%s: allowed %v (%s), want %v", img, allowed, msg, wantAllowed)
		}
		if !wantAllowed && !strings.Contains(msg, "charter sign --key cosign.key "+img) {
			t.Errorf("denial %q does not say how to fix it", msg)
		}
	}
	cancel()
	waitStopped(t, &stderr, exited)
	if n := strings.Count(stdout.String(), `"msg":"admission"`); n != 2 {
		t.Errorf("%d audit lines on stdout, want 2:\n%s", n, stdout.String())
	}
}

func TestAdmissionServeNeedsTLSAndCharter(t *testing.T) {
	dir := t.TempDir()
	code, _, errOut := run(t, dir, "", "admission", "serve", "--listen", "127.0.0.1:0")
	if code != 2 || !strings.Contains(errOut, "--tls-cert and --tls-key are required") {
		t.Errorf("no TLS: exit %d, %q", code, errOut)
	}
	code, _, errOut = run(t, dir, "", "admission", "serve", "--tls-cert", "a", "--tls-key", "b")
	if code != 2 || !strings.Contains(errOut, "no charter file") {
		t.Errorf("no charter: exit %d, %q", code, errOut)
	}
	writeTestFile(t, filepath.Join(dir, "charter.yaml"), "version: 1\n")
	code, _, errOut = run(t, dir, "", "admission", "serve", "--tls-cert", "a", "--tls-key", "b")
	if code != 2 || !strings.Contains(errOut, "no public key") {
		t.Errorf("no keys: exit %d, %q", code, errOut)
	}
}

var servingLine = regexp.MustCompile(`serving https://(\S+) `)

func waitServing(t *testing.T, stderr *testutil.SyncBuffer, exited chan int) string {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if m := servingLine.FindStringSubmatch(stderr.String()); m != nil {
			return m[1]
		}
		select {
		case code := <-exited:
			t.Fatalf("serve exited %d: %s", code, stderr.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	t.Fatalf("serve did not start: %s", stderr.String())
	return ""
}

// waitStopped waits for a cancelled `admission serve` to exit 0.
func waitStopped(t *testing.T, stderr *testutil.SyncBuffer, exited chan int) {
	t.Helper()
	select {
	case code := <-exited:
		if code != 0 {
			t.Fatalf("serve exited %d after SIGTERM: %s", code, stderr.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatal("serve did not stop")
	}
}

func postPod(t *testing.T, client *http.Client, url, image string) (allowed bool, msg, proto string) {
	t.Helper()
	body := `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u1",
	  "kind":{"group":"","version":"v1","kind":"Pod"},"namespace":"shop","operation":"CREATE",
	  "object":{"apiVersion":"v1","kind":"Pod","metadata":{"name":"web"},"spec":{
	    "securityContext":{"runAsNonRoot":true,"runAsUser":65532,"seccompProfile":{"type":"RuntimeDefault"}},
	    "containers":[{"name":"web","image":"` + image + `",
	      "resources":{"limits":{"cpu":"500m","memory":"128Mi"}},
	      "securityContext":{"allowPrivilegeEscalation":false,"readOnlyRootFilesystem":true,"capabilities":{"drop":["ALL"]}}}]}}}}`
	resp, err := client.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	var rev struct {
		Response struct {
			UID     string `json:"uid"`
			Allowed bool   `json:"allowed"`
			Status  struct {
				Message string `json:"message"`
			} `json:"status"`
		} `json:"response"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&rev); err != nil || rev.Response.UID != "u1" {
		t.Fatalf("HTTP %d, %v, %+v", resp.StatusCode, err, rev)
	}
	return rev.Response.Allowed, rev.Response.Status.Message, resp.Proto
}

func writeTestFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestDeployManifestsPassLint: the webhook's own manifests meet the checks it enforces.
func TestDeployManifestsPassLint(t *testing.T) {
	dir, err := filepath.Abs(filepath.Join("..", "..", "deploy", "kubernetes"))
	if err != nil {
		t.Fatal(err)
	}
	code, out, errOut := run(t, "", "", "lint", dir, "--fail-on", "info", "-o", "json")
	if code != 0 {
		t.Fatalf("charter lint deploy/kubernetes: exit %d\n%s\n%s", code, out, errOut)
	}
	r := decodeReport(t, out)
	read := false // the pinning pragma's suppressed finding shows the Deployment was read
	for _, f := range r.Findings {
		if f.Suppressed == nil {
			t.Errorf("unsuppressed finding: %s %s", f.Rule, f.Message)
		}
		read = read || f.Rule == "MAN008" && strings.HasSuffix(f.Location.Path, "deployment.yaml")
	}
	if !read {
		t.Errorf("lint did not read deploy/kubernetes/deployment.yaml: %s", out)
	}
}
