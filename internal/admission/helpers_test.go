package admission

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"

	"github.com/charterhq/charter/internal/image"
	"github.com/charterhq/charter/internal/policy"
	"github.com/charterhq/charter/internal/sign"
	"github.com/charterhq/charter/internal/testutil"
)

// testRegistry is go-containerregistry's in-process registry behind a switch that counts
// requests and can make the registry slow or down.
type testRegistry struct {
	srv      *httptest.Server
	host     string
	requests atomic.Int64
	down     atomic.Bool
	delay    atomic.Int64 // nanoseconds added to every request
}

func newTestRegistry(t testing.TB) *testRegistry {
	r := &testRegistry{}
	inner := registry.New(registry.WithReferrersSupport(true), registry.Logger(log.New(io.Discard, "", 0)))
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.requests.Add(1)
		if d := time.Duration(r.delay.Load()); d > 0 {
			select {
			case <-time.After(d):
			case <-req.Context().Done():
				return
			}
		}
		if r.down.Load() {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		inner.ServeHTTP(w, req)
	}))
	t.Cleanup(r.srv.Close)
	r.host = strings.TrimPrefix(r.srv.URL, "http://")
	return r
}

// fixture is a running webhook over HTTPS, a registry, and a signing key.
type fixture struct {
	t    testing.TB
	reg  *testRegistry
	key  *sign.PrivateKey
	opts image.Options
	srv  *Server
	ts   *httptest.Server
	// client trusts the webhook's CA and speaks HTTP/2, as the API server does.
	client *http.Client
	audit  *testutil.SyncBuffer
}

var (
	keyOnce sync.Once
	testKey *sign.PrivateKey
)

// sharedKey is generated once: key generation is the slow part of a fixture.
func sharedKey(t testing.TB) *sign.PrivateKey {
	keyOnce.Do(func() {
		k, err := sign.GenerateKey()
		if err != nil {
			panic(err)
		}
		testKey = k
	})
	return testKey
}

// newFixture starts a webhook whose charter file holds signing.keys and the given
// admission section (YAML, indented under "admission:"), or none when empty.
func newFixture(t testing.TB, admissionYAML string) *fixture {
	t.Helper()
	return newFixtureConfig(t, admissionYAML, nil)
}

// newFixtureConfig is newFixture with a last say on the webhook's configuration.
func newFixtureConfig(t testing.TB, admissionYAML string, configure func(*Config)) *fixture {
	t.Helper()
	f := &fixture{t: t, reg: newTestRegistry(t), key: sharedKey(t), audit: &testutil.SyncBuffer{}}
	f.opts = image.Options{InsecureRegistries: []string{f.reg.host},
		Retry: &image.Backoff{Duration: time.Millisecond, Factor: 1, Steps: 1}}
	dir := t.TempDir()
	pub, err := sign.MarshalPublicKey(f.key.Public())
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "cosign.pub"), pub)
	doc := "version: 1\nsigning:\n  keys: [./cosign.pub]\n"
	if admissionYAML != "" {
		doc += "admission:\n" + admissionYAML
	}
	writeFile(t, filepath.Join(dir, "charter.yaml"), []byte(doc))
	pf, err := policy.Load(filepath.Join(dir, "charter.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	v, err := sign.NewVerifier(f.key.Public())
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{Policy: pf, Verifier: v, Image: f.opts, Audit: slog.New(slog.NewJSONHandler(f.audit, nil))}
	if configure != nil {
		configure(&cfg)
	}
	f.srv, err = New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = f.srv.Close() })
	f.ts = httptest.NewUnstartedServer(f.srv.Handler())
	// As in production: an ECDSA P-256 certificate and HTTP/2, which the API server uses
	// to call webhooks.
	certs, err := MakeCerts("charter-admission", "test", time.Hour, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	pair, err := tls.X509KeyPair(certs.ServerCert, certs.Key)
	if err != nil {
		t.Fatal(err)
	}
	f.ts.TLS = &tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12}
	f.ts.EnableHTTP2 = true
	f.ts.StartTLS()
	t.Cleanup(f.ts.Close)
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(certs.CACert)
	f.client = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{ForceAttemptHTTP2: true,
		TLSClientConfig: &tls.Config{RootCAs: roots, ServerName: "charter-admission.test.svc", MinVersion: tls.VersionTLS12}}}
	t.Cleanup(f.client.CloseIdleConnections)
	return f
}

func writeFile(t testing.TB, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// push puts a small random image at host/repo:tag and returns its reference.
func (f *fixture) push(repoTag string) string {
	f.t.Helper()
	ref := f.reg.host + "/" + repoTag
	img, err := random.Image(128, 1)
	if err != nil {
		f.t.Fatal(err)
	}
	r, err := name.ParseReference(ref, name.Insecure)
	if err != nil {
		f.t.Fatal(err)
	}
	if err := remote.Write(r, img); err != nil {
		f.t.Fatal(err)
	}
	return ref
}

// pushSigned pushes and signs an image.
func (f *fixture) pushSigned(repoTag string) string {
	f.t.Helper()
	ref := f.push(repoTag)
	if _, err := sign.Sign(context.Background(), ref, f.key, sign.Options{Image: f.opts}); err != nil {
		f.t.Fatal(err)
	}
	return ref
}

// post sends a body to an endpoint and returns the HTTP status and decoded review.
func (f *fixture) post(path string, body []byte) (int, *admissionv1.AdmissionReview, string) {
	f.t.Helper()
	resp, err := f.client.Post(f.ts.URL+path, "application/json", bytes.NewReader(body))
	if err != nil {
		f.t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		f.t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		return resp.StatusCode, nil, string(data)
	}
	var rev admissionv1.AdmissionReview
	if err := json.Unmarshal(data, &rev); err != nil {
		f.t.Fatalf("response is not an AdmissionReview: %v\n%s", err, data)
	}
	return resp.StatusCode, &rev, string(data)
}

// admit posts a review for obj and returns the response, failing on anything but 200.
func (f *fixture) admit(path string, rev *admissionv1.AdmissionReview) *admissionv1.AdmissionResponse {
	f.t.Helper()
	body, err := json.Marshal(rev)
	if err != nil {
		f.t.Fatal(err)
	}
	status, got, raw := f.post(path, body)
	if status != http.StatusOK {
		f.t.Fatalf("HTTP %d: %s", status, raw)
	}
	if got.Response == nil || got.Response.UID != rev.Request.UID {
		f.t.Fatalf("response does not answer uid %s: %s", rev.Request.UID, raw)
	}
	if got.APIVersion != "admission.k8s.io/v1" || got.Kind != "AdmissionReview" {
		f.t.Fatalf("response type %s %s", got.APIVersion, got.Kind)
	}
	return got.Response
}

func message(r *admissionv1.AdmissionResponse) string {
	if r.Result == nil {
		return ""
	}
	return r.Result.Message
}

// reviewOf wraps an object in a CREATE AdmissionReview.
func reviewOf(t testing.TB, obj runtime.Object, gvk metav1.GroupVersionKind, namespace string) *admissionv1.AdmissionReview {
	t.Helper()
	raw, err := json.Marshal(obj)
	if err != nil {
		t.Fatal(err)
	}
	return &admissionv1.AdmissionReview{
		TypeMeta: metav1.TypeMeta{APIVersion: "admission.k8s.io/v1", Kind: "AdmissionReview"},
		Request: &admissionv1.AdmissionRequest{
			UID: types.UID("uid-" + strings.ToLower(gvk.Kind)), Kind: gvk, Namespace: namespace,
			Operation: admissionv1.Create, Object: runtime.RawExtension{Raw: raw},
		},
	}
}

var podGVK = metav1.GroupVersionKind{Version: "v1", Kind: "Pod"}

// hardenedSpec is a pod spec that passes every MAN and restricted check.
func hardenedSpec(images ...string) corev1.PodSpec {
	yes, no := true, false
	uid := int64(65532)
	spec := corev1.PodSpec{
		AutomountServiceAccountToken: &no,
		SecurityContext: &corev1.PodSecurityContext{RunAsNonRoot: &yes, RunAsUser: &uid,
			SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault}},
	}
	for i, img := range images {
		spec.Containers = append(spec.Containers, corev1.Container{
			Name: "c" + string(rune('0'+i)), Image: img,
			SecurityContext: &corev1.SecurityContext{AllowPrivilegeEscalation: &no, ReadOnlyRootFilesystem: &yes,
				RunAsNonRoot: &yes, Capabilities: &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}}},
			Resources: corev1.ResourceRequirements{Limits: corev1.ResourceList{
				corev1.ResourceCPU: resource.MustParse("500m"), corev1.ResourceMemory: resource.MustParse("128Mi")}},
		})
	}
	return spec
}

func hardenedPod(images ...string) *corev1.Pod {
	return &corev1.Pod{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "shop", Labels: map[string]string{"app": "web"}},
		Spec:       hardenedSpec(images...),
	}
}

func loadPolicy(t testing.TB, path string) *policy.File {
	t.Helper()
	pf, err := policy.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return pf
}
