package sign

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/charterhq/charter/internal/image"
	"github.com/charterhq/charter/internal/report"
)

// testRegistry is an in-process registry on loopback, with or without the referrers API.
// It logs the requests it serves, so tests can count what a verification costs.
type testRegistry struct {
	host string
	opts Options

	mu       sync.Mutex
	requests []string // "METHOD /path"
	password string   // when set, every request needs basic auth as user "ci"
}

func newRegistry(t testing.TB, referrers bool) *testRegistry {
	t.Helper()
	r := &testRegistry{}
	inner := registry.New(registry.WithReferrersSupport(referrers), registry.Logger(log.New(io.Discard, "", 0)))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.mu.Lock()
		r.requests = append(r.requests, req.Method+" "+req.URL.Path)
		password := r.password
		r.mu.Unlock()
		if user, pass, ok := req.BasicAuth(); password != "" && (!ok || user != "ci" || pass != password) {
			w.Header().Set("WWW-Authenticate", `Basic realm="test"`)
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		inner.ServeHTTP(w, req)
	}))
	t.Cleanup(srv.Close)
	r.host = strings.TrimPrefix(srv.URL, "http://")
	r.opts = Options{
		Image: image.Options{InsecureRegistries: []string{r.host}, Retry: &image.Backoff{Duration: time.Millisecond, Factor: 1, Steps: 1}},
		Now:   func() time.Time { return time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC) },
	}
	return r
}

// served returns the requests served since the last call and forgets them.
func (r *testRegistry) served() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.requests
	r.requests = nil
	return out
}

// push writes a random image to repo:tag and returns its digest.
func (r *testRegistry) push(t testing.TB, repoTag string) v1.Hash {
	t.Helper()
	img, err := random.Image(256, 1)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := name.ParseReference(r.host+"/"+repoTag, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(ref, img); err != nil {
		t.Fatal(err)
	}
	h, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func (r *testRegistry) ref(s string) string { return r.host + "/" + s }

func mustKey(t *testing.T) (*PrivateKey, *Verifier) {
	t.Helper()
	k, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	v, err := NewVerifier(k.Public())
	if err != nil {
		t.Fatal(err)
	}
	return k, v
}

func wantNotVerified(t *testing.T, err error, reason string) {
	t.Helper()
	if err == nil {
		t.Fatalf("verification passed; want it to fail with %q", reason)
	}
	var ve *VerifyError
	if !errors.As(err, &ve) || !errors.Is(err, ErrNotVerified) {
		t.Fatalf("error is %T %v; want a *VerifyError (verified: no)", err, err)
	}
	if !strings.Contains(err.Error(), reason) {
		t.Fatalf("error %q does not say %q", err, reason)
	}
}

func TestSignVerifyLayouts(t *testing.T) {
	ctx := context.Background()
	for _, referrers := range []bool{true, false} {
		for _, f := range []Format{FormatClassic, FormatBundle, FormatBoth} {
			t.Run(fmt.Sprintf("referrers=%v/%s", referrers, f), func(t *testing.T) {
				r := newRegistry(t, referrers)
				d := r.push(t, "app:v1")
				key, v := mustKey(t)
				opts := r.opts
				opts.Format = f
				s, err := Sign(ctx, r.ref("app:v1"), key, opts)
				if err != nil {
					t.Fatal(err)
				}
				if s.Digest != d || s.Tag != "v1" || s.Ref != r.ref("app@"+d.String()) {
					t.Fatalf("signed %+v; want digest %s of tag v1", s, d)
				}
				if (s.Classic != "") != f.classic() || (s.Bundle != "") != f.bundle() {
					t.Fatalf("format %s wrote classic=%q bundle=%q", f, s.Classic, s.Bundle)
				}
				// Verification accepts either layout, by tag and by digest.
				for _, ref := range []string{r.ref("app:v1"), s.Ref} {
					got, err := Verify(ctx, ref, v, r.opts)
					if err != nil {
						t.Fatal(err)
					}
					if got.Digest != d || len(got.Signatures) != len(layouts(f)) {
						t.Fatalf("verified %+v; want %d signatures", got, len(layouts(f)))
					}
				}
				// Each layout on its own.
				for _, only := range layouts(f) {
					o := r.opts
					o.Format = only
					if _, err := Verify(ctx, s.Ref, v, o); err != nil {
						t.Fatalf("only %s: %v", only, err)
					}
				}
				if f == FormatBundle && !referrers {
					// The registry has no referrers API: the sha256-<hex> index tag stands in.
					fallback := r.ref("app:" + strings.Replace(d.String(), ":", "-", 1))
					if _, err := remote.Head(mustRef(t, fallback)); err != nil {
						t.Fatalf("no fallback index tag %s: %v", fallback, err)
					}
				}
			})
		}
	}
}

func layouts(f Format) []Format {
	switch f {
	case FormatClassic:
		return []Format{FormatClassic}
	case FormatBundle:
		return []Format{FormatBundle}
	}
	return []Format{FormatClassic, FormatBundle}
}

func mustRef(t *testing.T, s string) name.Reference {
	t.Helper()
	ref, err := name.ParseReference(s, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	return ref
}

func TestSignTwiceReplaces(t *testing.T) {
	ctx := context.Background()
	r := newRegistry(t, true)
	r.push(t, "app:v1")
	key, v := mustKey(t)
	other, _ := mustKey(t)
	opts := r.opts
	opts.Format = FormatClassic
	for _, k := range []*PrivateKey{key, key, other} {
		if _, err := Sign(ctx, r.ref("app:v1"), k, opts); err != nil {
			t.Fatal(err)
		}
	}
	got, err := Verify(ctx, r.ref("app:v1"), v, r.opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Signatures) != 1 {
		t.Fatalf("signing twice with one key left %d signatures by it; want 1", len(got.Signatures))
	}
	img, err := remote.Image(mustRef(t, r.ref("app:sha256-"+got.Digest.Hex+".sig")))
	if err != nil {
		t.Fatal(err)
	}
	if ls, _ := img.Layers(); len(ls) != 2 {
		t.Fatalf(".sig holds %d layers; want 2 (one per key)", len(ls))
	}
}

func TestVerifyFailures(t *testing.T) {
	ctx := context.Background()
	r := newRegistry(t, false)
	dA := r.push(t, "app:a")
	dB := r.push(t, "app:b")
	key, v := mustKey(t)
	if _, err := Sign(ctx, r.ref("app:a"), key, r.opts); err != nil {
		t.Fatal(err)
	}

	t.Run("unsigned", func(t *testing.T) {
		_, err := Verify(ctx, r.ref("app:b"), v, r.opts)
		wantNotVerified(t, err, "no signatures found")
	})
	t.Run("wrong key", func(t *testing.T) {
		_, wrong := mustKey(t)
		_, err := Verify(ctx, r.ref("app:a"), wrong, r.opts)
		wantNotVerified(t, err, "does not verify with the given key")
	})
	t.Run("annotation required", func(t *testing.T) {
		o := r.opts
		o.Annotations = map[string]string{"env": "prod"}
		_, err := Verify(ctx, r.ref("app:a"), v, o)
		wantNotVerified(t, err, "required annotation missing or different: env=prod")
	})
	t.Run("signature copied from another digest", func(t *testing.T) {
		copyManifest(t, r.ref("app:sha256-"+dA.Hex+".sig"), r.ref("app:sha256-"+dB.Hex+".sig"))
		o := r.opts
		o.Format = FormatClassic
		_, err := Verify(ctx, r.ref("app:b"), v, o)
		wantNotVerified(t, err, "signature is for "+dA.String()+", not "+dB.String())
	})
	t.Run("bundle copied from another digest", func(t *testing.T) {
		// A's bundle, re-filed as a referrer of B: the statement inside still names A.
		ta, err := resolve(ctx, r.ref("app:a"), r.opts.Image, Limits{})
		if err != nil {
			t.Fatal(err)
		}
		tb, err := resolve(ctx, r.ref("app:b"), r.opts.Image, Limits{})
		if err != nil {
			t.Fatal(err)
		}
		data := bundleOf(t, ctx, ta)
		if _, err := tb.putReferrer(ctx, data, BundleMediaType, nil); err != nil {
			t.Fatal(err)
		}
		o := r.opts
		o.Format = FormatBundle
		_, err = Verify(ctx, r.ref("app:b"), v, o)
		wantNotVerified(t, err, "statement is about sha256:"+dA.Hex+", not "+dB.String())
	})
	t.Run("tag moved after signing", func(t *testing.T) {
		r.push(t, "app:moving")
		if _, err := Sign(ctx, r.ref("app:moving"), key, r.opts); err != nil {
			t.Fatal(err)
		}
		signed, err := resolve(ctx, r.ref("app:moving"), r.opts.Image, Limits{})
		if err != nil {
			t.Fatal(err)
		}
		moved := r.push(t, "app:moving") // someone pushes over the tag
		_, err = Verify(ctx, r.ref("app:moving"), v, r.opts)
		wantNotVerified(t, err, moved.String()+" (tag moving)")
		if _, err := Verify(ctx, signed.ref(), v, r.opts); err != nil {
			t.Fatalf("the signed digest itself no longer verifies: %v", err)
		}
	})
}

func TestVerifyTampered(t *testing.T) {
	ctx := context.Background()
	r := newRegistry(t, true)
	d := r.push(t, "app:v1")
	key, v := mustKey(t)
	if _, err := Sign(ctx, r.ref("app:v1"), key, r.opts); err != nil {
		t.Fatal(err)
	}
	tg, err := resolve(ctx, r.ref("app:v1"), r.opts.Image, Limits{})
	if err != nil {
		t.Fatal(err)
	}

	t.Run("classic payload", func(t *testing.T) {
		// The same signature annotation over a payload with one more annotation.
		m, _, err := tg.manifest(ctx, tg.tagFor("sig"))
		if err != nil || m == nil {
			t.Fatal(err)
		}
		payload, err := tg.blob(ctx, m.Layers[0])
		if err != nil {
			t.Fatal(err)
		}
		forged := bytes.Replace(payload, []byte(`"optional":null`), []byte(`"optional":{"env":"prod"}`), 1)
		if bytes.Equal(forged, payload) {
			t.Fatalf("payload %s has no optional field to tamper with", payload)
		}
		l := classicLayer{data: forged, mediaType: SimpleSigningMediaType, annotations: m.Layers[0].Annotations}
		other, _ := mustKey(t) // a key that signed nothing here, so no entry is replaced
		if _, err := tg.appendClassic(ctx, "sig", l, other); err != nil {
			t.Fatal(err)
		}
		o := r.opts
		o.Format = FormatClassic
		o.Annotations = map[string]string{"env": "prod"}
		_, err = Verify(ctx, r.ref("app:v1"), v, o)
		wantNotVerified(t, err, "layer 1: signature does not verify")
	})
	t.Run("truncated bundle", func(t *testing.T) {
		r2 := newRegistry(t, true)
		r2.push(t, "app:v1")
		o := r2.opts
		o.Format = FormatBundle
		if _, err := Sign(ctx, r2.ref("app:v1"), key, o); err != nil {
			t.Fatal(err)
		}
		t2, err := resolve(ctx, r2.ref("app:v1"), r2.opts.Image, Limits{})
		if err != nil {
			t.Fatal(err)
		}
		data := bundleOf(t, ctx, t2)
		deleteReferrers(t, ctx, t2)
		if _, err := t2.putReferrer(ctx, data[:len(data)/2], BundleMediaType, nil); err != nil {
			t.Fatal(err)
		}
		_, err = Verify(ctx, r2.ref("app:v1"), v, o)
		wantNotVerified(t, err, "bundle: invalid JSON: truncated")
	})
	t.Run("bundle payload", func(t *testing.T) {
		r3 := newRegistry(t, true)
		r3.push(t, "app:v1")
		o := r3.opts
		o.Format = FormatBundle
		if _, err := Sign(ctx, r3.ref("app:v1"), key, o); err != nil {
			t.Fatal(err)
		}
		t3, err := resolve(ctx, r3.ref("app:v1"), r3.opts.Image, Limits{})
		if err != nil {
			t.Fatal(err)
		}
		b, payload, err := ParseBundle(bundleOf(t, ctx, t3))
		if err != nil {
			t.Fatal(err)
		}
		forged := bytes.Replace(payload, []byte(SignPredicateType), []byte(SignPredicateType+" "), 1)
		b.DSSEEnvelope.Payload = b64.EncodeToString(forged)
		data, _ := json.Marshal(b)
		deleteReferrers(t, ctx, t3)
		if _, err := t3.putReferrer(ctx, data, BundleMediaType, nil); err != nil {
			t.Fatal(err)
		}
		_, err = Verify(ctx, r3.ref("app:v1"), v, o)
		wantNotVerified(t, err, "signature does not verify")
	})
	_ = d
}

// bundleOf returns the bundle stored for the image.
func bundleOf(t *testing.T, ctx context.Context, tg *target) []byte {
	t.Helper()
	refs, err := tg.referrers(ctx)
	if err != nil || len(refs) == 0 {
		t.Fatalf("no referrers: %v", err)
	}
	m, _, err := tg.manifest(ctx, tg.repo.Digest(refs[0].Digest.String()))
	if err != nil || m == nil {
		t.Fatal(err)
	}
	data, err := tg.blob(ctx, m.Layers[0])
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func deleteReferrers(t *testing.T, ctx context.Context, tg *target) {
	t.Helper()
	refs, err := tg.referrers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range refs {
		if err := remote.Delete(tg.repo.Digest(d.Digest.String()), tg.reg.writing(ctx)...); err != nil {
			t.Fatal(err)
		}
	}
}

func copyManifest(t *testing.T, from, to string) {
	t.Helper()
	desc, err := remote.Get(mustRef(t, from))
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Put(mustRef(t, to), desc); err != nil {
		t.Fatal(err)
	}
}

// testReport is a charter report about digest d with the given verdict.
func testReport(t *testing.T, d v1.Hash, pass bool, failOn string) []byte {
	t.Helper()
	r := report.New("0.3.0", report.Target{Kind: "image", Ref: "app", Digest: d.String()})
	if !pass {
		r.Findings = append(r.Findings, report.Finding{Rule: "IMG001", Severity: report.High, Title: "root", Message: "runs as root"})
	}
	s, err := report.ParseSeverity(failOn)
	if err != nil {
		t.Fatal(err)
	}
	r.Finalize(s)
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
