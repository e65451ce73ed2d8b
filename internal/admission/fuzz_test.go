package admission

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// FuzzDecodeReview: whatever the body, decoding either fails with a *badRequest or
// yields a request with a UID; decoding its object either fails or yields a pod spec
// whose containers all have JSON patch paths under the spec path, and a bounded
// KIND/NAME workload.
func FuzzDecodeReview(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.json"))
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u","kind":{"version":"v1","kind":"Pod"},"operation":"CREATE","object":{"spec":{"containers":[{"name":"a","image":"x"}]}}}}`))
	f.Add([]byte(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u","kind":{"group":"batch","version":"v1","kind":"CronJob"},"object":null}}`))
	f.Add([]byte(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u","kind":{"version":"v1","kind":"Pod"},"operation":"CREATE","object":{"metadata":{"generateName":"web-","labels":{"pod-template-hash":"5d4f"},"ownerReferences":[{"kind":"ReplicaSet","name":"web-5d4f","controller":true}]},"spec":{"containers":[{"name":"a","image":"x"}]}}}}`))
	f.Add([]byte(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u","kind":{"version":"v1","kind":"Pod"},"operation":"CREATE","object":{"metadata":{"ownerReferences":[{"kind":"Job","name":"nightly-29410560"}]},"spec":{"containers":[{"name":"a","image":"x"}]}}}}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		rev, err := decodeReview(body)
		if err != nil {
			var bad *badRequest
			if !errors.As(err, &bad) {
				t.Fatalf("error of type %T: %v", err, err)
			}
			return
		}
		if rev.Request == nil || rev.Request.UID == "" {
			t.Fatal("decoded a review without a request UID")
		}
		p, err := podFromRequest(rev.Request)
		if err != nil {
			return
		}
		if p.Spec == nil || p.Meta == nil || p.Object == nil {
			t.Fatal("pod without spec or metadata")
		}
		if w := workloadOf(p, time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)); !strings.Contains(w, "/") || len(w) > 63+1+253+2*len("…") {
			t.Fatalf("workload %q is not KIND/NAME within bounds", w)
		}
		for _, c := range p.containers() {
			if len(c.Path) <= len(p.SpecPath) || c.Path[:len(p.SpecPath)] != p.SpecPath {
				t.Fatalf("container path %q outside %q", c.Path, p.SpecPath)
			}
		}
		resp := (&decision{reasons: []string{"x"}}).response()
		if resp.Allowed {
			t.Fatal("a decision with a reason allowed")
		}
	})
}
