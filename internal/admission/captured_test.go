package admission

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// captured reads a review as an API server sends it, with REGISTRY standing for the test
// registry's host.
func (f *fixture) captured(name string) []byte {
	f.t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		f.t.Fatal(err)
	}
	return bytes.ReplaceAll(data, []byte("REGISTRY"), []byte(f.reg.host))
}

func TestCapturedReviews(t *testing.T) {
	f := newFixture(t, "")
	f.pushSigned("shop/web:1.0")
	f.pushSigned("ci/runner:latest")

	status, rev, raw := f.post("/validate", f.captured("deployment-review.json"))
	if status != http.StatusOK || !rev.Response.Allowed || rev.Response.UID != "0df28fbd-5f5f-11e8-bc74-36e6bb280816" {
		t.Fatalf("hardened Deployment: HTTP %d %s", status, raw)
	}
	status, rev, raw = f.post("/mutate", f.captured("deployment-review.json"))
	if status != http.StatusOK || !rev.Response.Allowed || !bytes.Contains(rev.Response.Patch, []byte(`"path":"/spec/template/spec/containers/0/image"`)) {
		t.Fatalf("mutate Deployment: HTTP %d %s", status, raw)
	}

	status, rev, raw = f.post("/validate", f.captured("pod-socket-review.json"))
	if status != http.StatusOK || rev.Response.Allowed {
		t.Fatalf("socket pod: HTTP %d %s", status, raw)
	}
	msg := message(rev.Response)
	for _, want := range []string{"MAN001", "MAN002", "MAN008", "MAN011", "Pod/ci/runner-7d4b9c-*"} {
		if want == "Pod/ci/runner-7d4b9c-*" {
			if !strings.Contains(f.audit.String(), want) {
				t.Errorf("audit log does not name %s", want)
			}
			continue
		}
		if !strings.Contains(msg, want) {
			t.Errorf("denial does not name %s: %s", want, msg)
		}
	}
	// The secret in the pod's env reaches neither the answer nor the audit log.
	for what, text := range map[string]string{"response": raw, "audit log": f.audit.String()} {
		if strings.Contains(text, "wJalrXUtnFEMI") {
			t.Errorf("the %s carries the secret literal from the pod's env", what)
		}
	}
}

func TestAuditLogAndMetrics(t *testing.T) {
	f := newFixture(t, "")
	signed := f.pushSigned("shop/web:1.0")
	unsigned := f.push("shop/unsigned:1.0")
	f.admit("/validate", reviewOf(t, hardenedPod(signed), podGVK, "shop"))
	f.admit("/validate", reviewOf(t, hardenedPod(signed), podGVK, "shop"))
	f.admit("/validate", reviewOf(t, hardenedPod(unsigned), podGVK, "shop"))
	f.post("/validate", []byte("{"))

	lines := strings.Split(strings.TrimSpace(f.audit.String()), "\n")
	if len(lines) != 4 {
		t.Fatalf("%d audit lines, want 4:\n%s", len(lines), f.audit.String())
	}
	var rec struct {
		Msg      string        `json:"msg"`
		Allowed  bool          `json:"allowed"`
		Resource string        `json:"resource"`
		Images   []imageRecord `json:"images"`
		Reasons  []string      `json:"reasons"`
	}
	if err := json.Unmarshal([]byte(lines[0]), &rec); err != nil {
		t.Fatal(err)
	}
	if rec.Msg != "admission" || !rec.Allowed || rec.Resource != "Pod/shop/web" || len(rec.Images) != 1 ||
		!strings.HasPrefix(rec.Images[0].Digest, "sha256:") || rec.Images[0].Cached {
		t.Errorf("first audit line: %s", lines[0])
	}
	if err := json.Unmarshal([]byte(lines[1]), &rec); err != nil || !rec.Images[0].Cached {
		t.Errorf("second audit line does not say cached: %s", lines[1])
	}
	if err := json.Unmarshal([]byte(lines[2]), &rec); err != nil || rec.Allowed || len(rec.Reasons) != 1 ||
		!strings.Contains(rec.Reasons[0], "not signed") {
		t.Errorf("denial audit line: %s", lines[2])
	}

	resp, err := f.client.Get(f.ts.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	for _, want := range []string{
		`charter_admission_decisions_total{decision="allow",endpoint="validate"} 2`,
		`charter_admission_decisions_total{decision="deny",endpoint="validate"} 1`,
		`charter_admission_decisions_total{decision="error",endpoint="validate"} 1`,
		`charter_admission_cache_total{result="hit"} 1`,
		`charter_admission_cache_total{result="miss"} 2`,
		`charter_admission_request_duration_seconds_count{endpoint="validate"} 4`,
		`charter_admission_registry_errors_total 0`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	for _, path := range []string{"/healthz", "/readyz"} {
		resp, err := f.client.Get(f.ts.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("%s: HTTP %d", path, resp.StatusCode)
		}
	}
	f.srv.SetReady(false)
	resp, err = f.client.Get(f.ts.URL + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("/readyz when not ready: HTTP %d", resp.StatusCode)
	}
}
