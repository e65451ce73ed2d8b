package sign

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"

	"github.com/charterhq/charter/internal/image"
)

// TestVerifyRequestCount: a cold verification pings the registry once and spends one
// request on each thing it reads (the tag, the signature manifest or referrers, the
// payload), however many of them there are. An admission webhook pays this for every
// image it has not seen.
func TestVerifyRequestCount(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name      string
		referrers bool   // the registry serves the referrers API
		signed    Format // how the image is signed
		verify    Format // what Verify accepts
		max       int    // registry requests at most, the one ping included
	}{
		// ping, tag, .sig manifest, payload
		{"classic", true, FormatClassic, FormatClassic, 4},
		// ping, tag, referrers, bundle manifest, bundle
		{"bundle", true, FormatBundle, FormatBundle, 5},
		// ping, tag, .sig manifest, payload, referrers
		{"classic/accept-both", true, FormatClassic, FormatBoth, 5},
		// ping, tag, referrers (404), sha256-<hex> index tag, bundle manifest, bundle
		{"bundle/no-referrers-api", false, FormatBundle, FormatBundle, 6},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRegistry(t, tc.referrers)
			r.push(t, "app:v1")
			key, v := mustKey(t)
			opts := r.opts
			opts.Format = tc.signed
			if _, err := Sign(ctx, r.ref("app:v1"), key, opts); err != nil {
				t.Fatal(err)
			}
			r.served()
			opts.Format = tc.verify
			got, err := Verify(ctx, r.ref("app:v1"), v, opts)
			if err != nil {
				t.Fatal(err)
			}
			if len(got.Signatures) != 1 {
				t.Fatalf("verified %d signatures, want 1", len(got.Signatures))
			}
			reqs := r.served()
			pings := 0
			for _, q := range reqs {
				if strings.HasSuffix(q, " /v2/") {
					pings++
				}
			}
			t.Logf("%d registry requests:\n%s", len(reqs), strings.Join(reqs, "\n"))
			if pings != 1 || len(reqs) > tc.max {
				t.Errorf("verification made %d requests, %d of them pings; want at most %d, one ping", len(reqs), pings, tc.max)
			}
		})
	}
}

// keychain answers every registry with one username and password.
type keychain struct{ password string }

func (k keychain) Resolve(authn.Resource) (authn.Authenticator, error) {
	return authn.FromConfig(authn.AuthConfig{Username: "ci", Password: k.password}), nil
}

// TestSharedClientKeepsAccessRules: the one client a call shares still signs in with
// the keychain's credentials on every request, and still refuses plain HTTP to a
// registry not declared insecure.
func TestSharedClientKeepsAccessRules(t *testing.T) {
	ctx := context.Background()
	r := newRegistry(t, true)
	r.push(t, "app:v1")
	r.mu.Lock()
	r.password = "s3cret"
	r.mu.Unlock()
	key, v := mustKey(t)
	opts := r.opts
	opts.Image.Keychain = keychain{"s3cret"}
	opts.Format = FormatClassic
	if _, err := Sign(ctx, r.ref("app:v1"), key, opts); err != nil {
		t.Fatal(err)
	}
	r.served()
	if _, err := Verify(ctx, r.ref("app:v1"), v, opts); err != nil {
		t.Fatal(err)
	}
	// The ping is answered 401 (it learns the scheme); every request after it is signed
	// in, or it would have failed.
	if reqs := r.served(); len(reqs) == 0 || len(reqs) > 4 {
		t.Errorf("authenticated verification made %d requests:\n%s", len(reqs), strings.Join(reqs, "\n"))
	}

	opts.Image.Keychain = keychain{"wrong"}
	_, err := Verify(ctx, r.ref("app:v1"), v, opts)
	var ie *image.Error
	if err == nil || !errors.As(err, &ie) || errors.Is(err, ErrNotVerified) {
		t.Fatalf("wrong password: got %T %v; want a registry error", err, err)
	}

	opts.Image.Keychain = keychain{"s3cret"}
	opts.Image.InsecureRegistries = nil
	if _, err := Verify(ctx, r.ref("app:v1"), v, opts); err == nil || !strings.Contains(err.Error(), "plain HTTP") {
		t.Fatalf("registry not declared insecure: got %v; want plain HTTP refused", err)
	}
}
