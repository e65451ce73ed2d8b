package admission

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// TestBadRequestsGet400 covers bodies that are not an AdmissionReview this webhook can
// answer: the API server sees a webhook failure, which its failurePolicy: Fail denies.
func TestBadRequestsGet400(t *testing.T) {
	f := newFixture(t, "")
	good, err := json.Marshal(reviewOf(t, hardenedPod("x/y:1"), podGVK, "shop"))
	if err != nil {
		t.Fatal(err)
	}
	swap := func(old, new string) []byte { return bytes.Replace(good, []byte(old), []byte(new), 1) }
	huge := append([]byte(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u","object":{"pad":"`),
		bytes.Repeat([]byte("a"), MaxBody)...)
	huge = append(huge, `"}}}`...)
	cases := map[string][]byte{
		"malformed JSON":     []byte(`{"apiVersion":"admission.k8s.io/v1","kind":`),
		"not an object":      []byte(`[1,2,3]`),
		"empty body":         nil,
		"v1beta1":            swap(`"admission.k8s.io/v1"`, `"admission.k8s.io/v1beta1"`),
		"wrong kind":         swap(`"kind":"AdmissionReview"`, `"kind":"ConversionReview"`),
		"no request":         []byte(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview"}`),
		"request null":       []byte(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":null}`),
		"no uid":             swap(`"uid":"uid-pod"`, `"uid":""`),
		"body over 3 MiB":    huge,
		"wrong field type":   []byte(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":7}}`),
		"uid over 128 bytes": swap(`"uid":"uid-pod"`, `"uid":"`+strings.Repeat("u", 129)+`"`),
	}
	for name, body := range cases {
		t.Run(name, func(t *testing.T) {
			for _, path := range []string{"/validate", "/mutate"} {
				status, rev, raw := f.post(path, body)
				if status != http.StatusBadRequest {
					t.Errorf("%s: HTTP %d, want 400 (%v %s)", path, status, rev, clip(raw, 200))
				}
			}
		})
	}
	resp, err := f.client.Get(f.ts.URL + "/validate")
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("GET /validate: HTTP %d, want 400", resp.StatusCode)
	}
	resp, err = f.client.Post(f.ts.URL+"/validate", "text/plain", bytes.NewReader(good))
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("text/plain body: HTTP %d, want 400", resp.StatusCode)
	}
}

// TestBadObjectsAreDenied covers well-formed reviews whose object cannot be checked.
func TestBadObjectsAreDenied(t *testing.T) {
	f := newFixture(t, "")
	signed := f.pushSigned("shop/web:1.0")
	review := func(mod func(*admissionv1.AdmissionRequest)) *admissionv1.AdmissionReview {
		r := reviewOf(t, hardenedPod(signed), podGVK, "shop")
		mod(r.Request)
		return r
	}
	cases := []struct {
		name string
		rev  *admissionv1.AdmissionReview
		want string
	}{
		{"missing object", review(func(r *admissionv1.AdmissionRequest) { r.Object = runtime.RawExtension{} }), "carries no object"},
		{"null object", review(func(r *admissionv1.AdmissionRequest) { r.Object.Raw = []byte("null") }), "carries no object"},
		{"kind not handled", review(func(r *admissionv1.AdmissionRequest) {
			r.Kind = metav1.GroupVersionKind{Version: "v1", Kind: "Service"}
		}), "charter does not check v1 Service"},
		{"object of another kind", review(func(r *admissionv1.AdmissionRequest) { r.Kind = deploymentGVK }), "but the request says apps/v1 Deployment"},
		{"object not a pod", review(func(r *admissionv1.AdmissionRequest) { r.Object.Raw = []byte(`{"spec":{"containers":"x"}}`) }), "cannot be read"},
		{"container without image", reviewOf(t, &corev1.Pod{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app"}}}}, podGVK, "shop"), "container app has no image"},
		{"unparsable image", reviewOf(t, hardenedPod("UPPER/Case::bad"), podGVK, "shop"), "is not a valid image reference"},
		{"image reference too long", reviewOf(t, hardenedPod(f.reg.host+"/"+strings.Repeat("a", 2000)+":1"), podGVK, "shop"), "longer than 1024 bytes"},
		{"image the registry lacks", reviewOf(t, hardenedPod(f.reg.host+"/shop/missing:1.0"), podGVK, "shop"), "was not found in its registry"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			resp := f.admit("/validate", c.rev)
			if resp.Allowed {
				t.Fatal("admitted")
			}
			if !strings.Contains(message(resp), c.want) {
				t.Errorf("message %q\ndoes not say %q", message(resp), c.want)
			}
		})
	}
}

// TestDeleteAndStatusNeedNoChecks: nothing new runs.
func TestDeleteAndStatusNeedNoChecks(t *testing.T) {
	f := newFixture(t, "")
	del := reviewOf(t, hardenedPod("nowhere/x:1"), podGVK, "shop")
	del.Request.Operation, del.Request.Object = admissionv1.Delete, runtime.RawExtension{}
	if resp := f.admit("/validate", del); !resp.Allowed {
		t.Errorf("DELETE denied: %s", message(resp))
	}
	st := reviewOf(t, hardenedPod("nowhere/x:1"), podGVK, "shop")
	st.Request.Operation, st.Request.SubResource = admissionv1.Update, "status"
	if resp := f.admit("/validate", st); !resp.Allowed {
		t.Errorf("status update denied: %s", message(resp))
	}
}

func TestRegistryDownOrSlowFailsClosed(t *testing.T) {
	f := newFixture(t, "  timeout: 300ms\n")
	ref := f.pushSigned("shop/web:1.0")
	f.reg.down.Store(true)
	resp := f.admit("/validate", reviewOf(t, hardenedPod(ref), podGVK, "shop"))
	if resp.Allowed || !strings.Contains(message(resp), "failurePolicy closed") {
		t.Errorf("registry down: allowed %v, %q", resp.Allowed, message(resp))
	}
	f.reg.down.Store(false)
	f.reg.delay.Store(int64(2 * time.Second))
	start := time.Now()
	resp = f.admit("/validate", reviewOf(t, hardenedPod(ref), podGVK, "shop"))
	took := time.Since(start)
	if resp.Allowed || !strings.Contains(message(resp), "took longer than 300ms") {
		t.Errorf("registry slow: allowed %v, %q", resp.Allowed, message(resp))
	}
	if took > 1500*time.Millisecond {
		t.Errorf("a 300ms timeout answered after %s", took)
	}
	// A failure to check is not cached: once the registry answers, the image is admitted.
	f.reg.delay.Store(0)
	if resp := f.admit("/validate", reviewOf(t, hardenedPod(ref), podGVK, "shop")); !resp.Allowed {
		t.Errorf("registry back: denied: %s", message(resp))
	}
}

func TestFailOpenNamespaceAdmitsWithWarning(t *testing.T) {
	f := newFixture(t, "  timeout: 300ms\n  namespaces:\n    - { namespaces: [legacy], failurePolicy: open }\n")
	ref := f.pushSigned("shop/web:1.0")
	f.reg.down.Store(true)
	resp := f.admit("/validate", reviewOf(t, hardenedPod(ref), podGVK, "legacy"))
	if !resp.Allowed || len(resp.Warnings) == 0 || !strings.Contains(resp.Warnings[0], "failurePolicy open") {
		t.Errorf("fail-open namespace: allowed %v, warnings %q, %q", resp.Allowed, resp.Warnings, message(resp))
	}
	// Fail open covers only failures to check: an unsigned image is still denied.
	f.reg.down.Store(false)
	unsigned := f.push("shop/unsigned:1.0")
	if resp := f.admit("/validate", reviewOf(t, hardenedPod(unsigned), podGVK, "legacy")); resp.Allowed {
		t.Error("fail-open namespace admitted an unsigned image")
	}
	// Other namespaces stay closed.
	f.reg.down.Store(true)
	if resp := f.admit("/validate", reviewOf(t, hardenedPod(f.reg.host+"/shop/other:2"), podGVK, "shop")); resp.Allowed {
		t.Error("registry down: a closed namespace admitted")
	}
}
