package admission

import (
	"context"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/charterhq/charter/internal/report"
	"github.com/charterhq/charter/internal/sign"
)

func TestExemptions(t *testing.T) {
	f := newFixture(t, `  exemptions:
    - { namespace: monitoring, image: "*/vendor/*", reason: "vendor images, signed upstream" }
    - { namespace: legacy, image: "*/old/*", reason: "migrating", expires: 2020-01-31 }
    - { namespace: ci, rules: [MAN003], reason: "builders run as root until 2027" }
`)
	vendor := f.push("vendor/exporter:1.0")
	old := f.push("old/app:1.0")
	signed := f.pushSigned("ci/builder:1.0")

	resp := f.admit("/validate", reviewOf(t, hardenedPod(vendor), podGVK, "monitoring"))
	if !resp.Allowed || len(resp.Warnings) != 1 || !strings.Contains(resp.Warnings[0], "vendor images, signed upstream") {
		t.Errorf("exempt image: allowed %v, warnings %q, %s", resp.Allowed, resp.Warnings, message(resp))
	}
	if resp := f.admit("/validate", reviewOf(t, hardenedPod(vendor), podGVK, "shop")); resp.Allowed {
		t.Error("exemption applied outside its namespace")
	}
	resp = f.admit("/validate", reviewOf(t, hardenedPod(old), podGVK, "legacy"))
	if resp.Allowed || !strings.Contains(message(resp), "its exemption expired on 2020-01-31") {
		t.Errorf("expired exemption: allowed %v, %q", resp.Allowed, message(resp))
	}
	root := hardenedPod(signed)
	root.Spec.SecurityContext.RunAsNonRoot, root.Spec.SecurityContext.RunAsUser = nil, nil
	root.Spec.Containers[0].SecurityContext.RunAsNonRoot = nil
	if resp := f.admit("/validate", reviewOf(t, root, podGVK, "shop")); resp.Allowed {
		t.Fatal("root pod admitted outside the exempt namespace")
	}
	resp = f.admit("/validate", reviewOf(t, root, podGVK, "ci"))
	if !resp.Allowed || !strings.Contains(strings.Join(resp.Warnings, " "), "MAN003") {
		t.Errorf("rule exemption: allowed %v, warnings %q, %s", resp.Allowed, resp.Warnings, message(resp))
	}
}

func TestRequirementsPerNamespaceAndLabels(t *testing.T) {
	f := newFixture(t, `  require:
    checks: { pss: restricted, rules: { MAN009: off } }
  namespaces:
    - namespaces: ["sandbox-*"]
      require: { signature: false, checks: { failOn: critical, pss: none } }
    - labelSelector: { matchLabels: { charter.dev/pinned: "true" } }
      require: { digest: true }
`)
	unsigned := f.push("shop/unsigned:1.0")
	signed := f.pushSigned("shop/web:1.0")
	if resp := f.admit("/validate", reviewOf(t, hardenedPod(unsigned), podGVK, "sandbox-42")); !resp.Allowed {
		t.Errorf("sandbox namespace requires no signature, yet: %s", message(resp))
	}
	if resp := f.admit("/validate", reviewOf(t, hardenedPod(unsigned), podGVK, "shop")); resp.Allowed {
		t.Error("unsigned image admitted cluster-wide")
	}
	// Pod labels select the digest requirement.
	pod := hardenedPod(signed)
	pod.Labels["charter.dev/pinned"] = "true"
	resp := f.admit("/validate", reviewOf(t, pod, podGVK, "shop"))
	if resp.Allowed || !strings.Contains(message(resp), "is not pinned by digest; write it as "+signed+"@sha256:") {
		t.Errorf("digest requirement: allowed %v, %q", resp.Allowed, message(resp))
	}
	// restricted PSS: a pod without seccomp is denied cluster-wide; MAN009 (limits) is off.
	noSeccomp := hardenedPod(signed)
	noSeccomp.Spec.SecurityContext.SeccompProfile = nil
	if resp := f.admit("/validate", reviewOf(t, noSeccomp, podGVK, "shop")); resp.Allowed {
		t.Error("restricted profile: pod without seccomp admitted")
	}
	noLimits := hardenedPod(signed)
	noLimits.Spec.Containers[0].Resources = corev1.ResourceRequirements{}
	if resp := f.admit("/validate", reviewOf(t, noLimits, podGVK, "shop")); !resp.Allowed {
		t.Errorf("MAN009 is off, yet: %s", message(resp))
	}
}

// TestNamespaceSelector reads namespace labels from an API server (a fake one, over
// TLS with a bearer token, as in a cluster).
func TestNamespaceSelector(t *testing.T) {
	api := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer sa-token" {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		ns := strings.TrimPrefix(r.URL.Path, "/api/v1/namespaces/")
		labels := map[string]string{"kubernetes.io/metadata.name": ns}
		if ns == "batch" {
			labels["tier"] = "batch"
		}
		_ = json.NewEncoder(w).Encode(corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns, Labels: labels}})
	}))
	defer api.Close()
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "token"), []byte("sa-token\n"))
	caPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: api.Certificate().Raw})
	nl, err := NewKubeNamespaces(api.URL, caPEM, filepath.Join(dir, "token"))
	if err != nil {
		t.Fatal(err)
	}
	f := newFixture(t, "  namespaces:\n    - { namespaceSelector: { matchLabels: { tier: batch } }, require: { signature: false } }\n")
	f.srv.nsl = nl
	unsigned := f.push("shop/unsigned:1.0")
	if resp := f.admit("/validate", reviewOf(t, hardenedPod(unsigned), podGVK, "batch")); !resp.Allowed {
		t.Errorf("namespace labelled tier=batch: %s", message(resp))
	}
	if resp := f.admit("/validate", reviewOf(t, hardenedPod(unsigned), podGVK, "shop")); resp.Allowed {
		t.Error("unlabelled namespace admitted an unsigned image")
	}
	// When namespaces cannot be read, the request is denied, not waved through.
	writeFile(t, filepath.Join(dir, "token"), []byte("expired"))
	nl.cache = map[string]nsEntry{}
	resp := f.admit("/validate", reviewOf(t, hardenedPod(unsigned), podGVK, "batch"))
	if resp.Allowed || !strings.Contains(message(resp), "cannot tell which policy applies") {
		t.Errorf("API server refusing: allowed %v, %q", resp.Allowed, message(resp))
	}
}

func TestVerdictRequirement(t *testing.T) {
	f := newFixture(t, "  require:\n    verdict: { failOn: high, maxAge: 7d }\n")
	ref := f.pushSigned("shop/web:1.0")
	resp := f.admit("/validate", reviewOf(t, hardenedPod(ref), podGVK, "shop"))
	if resp.Allowed || !strings.Contains(message(resp), "has no passing verdict attestation with failOn high or stricter and at most 168h0m0s old") ||
		!strings.Contains(message(resp), "charter attest --key cosign.key --type verdict") {
		t.Fatalf("no verdict: allowed %v, %q", resp.Allowed, message(resp))
	}
	v, err := sign.Verify(context.Background(), ref, mustVerifier(t, f), sign.Options{Image: f.opts})
	if err != nil {
		t.Fatal(err)
	}
	rep := report.Report{Schema: report.Schema, Tool: report.Tool{Name: "charter", Version: "test"},
		Target:   report.Target{Kind: "image", Ref: ref, Digest: v.Digest.String()},
		Findings: []report.Finding{}, Verdict: report.Verdict{Pass: true, FailOn: "HIGH"}}
	input, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sign.Attest(context.Background(), ref, f.key, "verdict", input, sign.Options{Image: f.opts, Now: time.Now}); err != nil {
		t.Fatal(err)
	}
	f.srv.images.cache = newResultCache(100) // the refusal above is cached for 30s
	if resp := f.admit("/validate", reviewOf(t, hardenedPod(ref), podGVK, "shop")); !resp.Allowed {
		t.Errorf("passing verdict attested, yet: %s", message(resp))
	}
}

func mustVerifier(t *testing.T, f *fixture) *sign.Verifier {
	v, err := sign.NewVerifier(f.key.Public())
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestNewRefusesSignaturesWithoutKey(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "charter.yaml")
	if err := os.WriteFile(path, []byte("version: 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	pf := loadPolicy(t, path)
	if _, err := New(Config{Policy: pf}); err == nil || !strings.Contains(err.Error(), "no public key") {
		t.Errorf("New without a verifier: %v", err)
	}
	if err := os.WriteFile(path, []byte("version: 1\nadmission:\n  require: { signature: false }\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := New(Config{Policy: loadPolicy(t, path)}); err != nil {
		t.Errorf("no signature required, no key: %v", err)
	}
}

// TestNamespaceKeys: a namespaces entry with its own keys verifies its requests with
// them only (the cluster key does not count there, the team key does not count
// elsewhere), the refusal names the keys that were tried, and the cache keeps the two
// verdicts on the same image apart.
func TestNamespaceKeys(t *testing.T) {
	team, err := sign.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	teamVerifier, err := sign.NewVerifier(team.Public())
	if err != nil {
		t.Fatal(err)
	}
	f := newFixtureConfig(t, `  namespaces:
    - namespaces: ["sandbox"]
      require: { signature: false }
    - namespaces: ["team-a", "team-a-*"]
      keys: [./team-a.pub]
`, func(c *Config) { c.NamespaceVerifiers = map[int]*sign.Verifier{1: teamVerifier} })
	clusterSigned := f.pushSigned("shop/web:1.0")
	teamSigned := f.push("team-a/job:1.0")
	if _, err := sign.Sign(context.Background(), teamSigned, team, sign.Options{Image: f.opts}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		image, namespace string
		allow            bool
		says             string
	}{
		{teamSigned, "team-a", true, ""},
		{teamSigned, "team-a-dev", true, ""},
		{clusterSigned, "team-a", false, "is not signed by any key in charter.yaml admission.namespaces[1].keys"},
		{teamSigned, "shop", false, "is not signed by any key in charter.yaml signing.keys"},
		{clusterSigned, "shop", true, ""},
		{teamSigned, "sandbox", true, ""},
		// again, from the cache: each namespace keeps its own verdict on the same image
		{clusterSigned, "team-a", false, "admission.namespaces[1].keys"},
		{clusterSigned, "shop", true, ""},
		{teamSigned, "shop", false, "signing.keys"},
		{teamSigned, "team-a", true, ""},
	} {
		resp := f.admit("/validate", reviewOf(t, hardenedPod(c.image), podGVK, c.namespace))
		if resp.Allowed != c.allow || !strings.Contains(message(resp), c.says) {
			t.Errorf("%s in %s: allowed %v (%q), want %v saying %q", c.image, c.namespace, resp.Allowed, message(resp), c.allow, c.says)
		}
	}
	// team-a-dev shares team-a's entry (and verdict); then the four repeats
	if got := f.metric(`charter_admission_cache_total{result="hit"}`); got != "5" {
		t.Errorf("cache hits %q, want 5", got)
	}

	// an entry with keys but no verifier loaded for it is refused at start-up
	dir := t.TempDir()
	path := filepath.Join(dir, "charter.yaml")
	doc := "version: 1\nsigning: { keys: [./cosign.pub] }\nadmission:\n  namespaces:\n    - { namespaces: [team-a], keys: [./team-a.pub] }\n"
	if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	pf := loadPolicy(t, path)
	if got := pf.AdmissionNamespaceKeyRefs(0); len(got) != 1 || got[0] != filepath.Join(dir, "team-a.pub") {
		t.Errorf("AdmissionNamespaceKeyRefs = %v", got)
	}
	if _, err := New(Config{Policy: pf, Verifier: teamVerifier}); err == nil || !strings.Contains(err.Error(), "admission.namespaces[0].keys were not loaded") {
		t.Errorf("New without the entry's verifier: %v", err)
	}
	// an entry with its own keys needs no cluster-wide key
	doc = "version: 1\nadmission:\n  require: { signature: false }\n  namespaces:\n    - { namespaces: [team-a], keys: [./team-a.pub], require: { signature: true } }\n"
	if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := New(Config{Policy: loadPolicy(t, path), NamespaceVerifiers: map[int]*sign.Verifier{0: teamVerifier}}); err != nil {
		t.Errorf("keys only in the entry that requires signatures: %v", err)
	}
	doc = "version: 1\nadmission:\n  require: { signature: false }\n  namespaces:\n    - { namespaces: [team-a], require: { signature: true } }\n"
	if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := New(Config{Policy: loadPolicy(t, path)}); err == nil || !strings.Contains(err.Error(), "admission.namespaces[0] requires signatures but there is no public key") {
		t.Errorf("an entry requiring signatures with no key anywhere: %v", err)
	}
}
