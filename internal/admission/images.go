package admission

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"golang.org/x/sync/singleflight"

	"github.com/charterhq/charter/internal/image"
	"github.com/charterhq/charter/internal/report"
	"github.com/charterhq/charter/internal/sign"
)

// imageResult is what the registry said about one image under one set of requirements.
type imageResult struct {
	// Ref is the image by digest, HOST/REPO@sha256:…, when it was resolved.
	Ref    string
	Digest string
	// Denied is why the image is refused when the check ran and said no.
	Denied string
	// Err is set when the check could not complete (registry down, slow, unauthorized):
	// the failure policy decides.
	Err error
	// Cached is set on results served from the cache.
	Cached bool
}

// imageChecker verifies images against the registry, caching results and sharing one
// lookup among concurrent requests for the same image.
type imageChecker struct {
	opts    sign.Options
	timeout time.Duration
	ttl     time.Duration
	now     func() time.Time
	metrics *metrics

	group singleflight.Group
	cache *resultCache
}

// check runs the image checks for ref under r, from the cache when it can.
func (ic *imageChecker) check(ctx context.Context, ref string, r *requirements) imageResult {
	qualified := qualify(ref)
	key := r.imageKey() + "|" + qualified
	if res, ok := ic.cache.get(key, ic.now()); ok {
		ic.metrics.cache.WithLabelValues("hit").Inc()
		res.Cached = true
		return res
	}
	ic.metrics.cache.WithLabelValues("miss").Inc()
	ch := ic.group.DoChan(key, func() (any, error) {
		// The lookup outlives the request that started it (others wait on it too), so it
		// gets its own deadline rather than the first caller's cancellation.
		lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), ic.timeout)
		defer cancel()
		res := ic.lookup(lctx, ref, r)
		ic.remember(key, r, res)
		return res, nil
	})
	select {
	case out := <-ch:
		return out.Val.(imageResult)
	case <-ctx.Done():
		return imageResult{Err: fmt.Errorf("checking %s took longer than %s", ref, ic.timeout)}
	}
}

// remember caches a result: a verified image for the TTL, a refusal briefly, a failure
// to check not at all. A verified tag is also cached under its digest, so the digest the
// mutating webhook wrote is a cache hit for the validating one.
func (ic *imageChecker) remember(key string, r *requirements, res imageResult) {
	if res.Err != nil {
		ic.metrics.registryErrors.Inc()
		return
	}
	now := ic.now()
	if res.Denied != "" {
		ic.cache.put(key, res, now, now.Add(min(ic.ttl, maxNegativeTTL)))
		return
	}
	ic.cache.put(key, res, now, now.Add(ic.ttl))
	if res.Ref != "" {
		ic.cache.put(r.imageKey()+"|"+res.Ref, res, now, now.Add(ic.ttl))
	}
}

// lookup asks the registry: resolve the tag, verify the signature, check the verdict.
func (ic *imageChecker) lookup(ctx context.Context, ref string, r *requirements) imageResult {
	var res imageResult
	if r.signature {
		got, err := ic.verifySignature(ctx, ref, r.verifier)
		if err != nil {
			return ic.failed(ctx, ref, err, unsigned(ref, r.keysHint))
		}
		res.Ref, res.Digest = got.Ref, got.Digest.String()
	} else {
		digestRef, err := ic.resolve(ctx, ref)
		if err != nil {
			return ic.failed(ctx, ref, err, nil)
		}
		res.Ref, res.Digest = digestRef, digestRef[strings.LastIndexByte(digestRef, '@')+1:]
	}
	if v := r.verdict; v != nil {
		p := sign.VerdictPolicy{FailOn: v.failOn, MaxAge: v.maxAge, Now: ic.now()}
		if _, err := sign.CheckVerdict(ctx, res.Ref, r.verifier, v.typ, p, ic.opts); err != nil {
			return ic.failed(ctx, ref, err, noVerdict(ref, v))
		}
	}
	return res
}

// verifySignature looks for a classic signature first and for a bundle only when there
// is none: an image signed either way costs half the registry requests of looking at
// both. The bundle lookup names the image by the digest the first one resolved, so
// both look at the same image.
func (ic *imageChecker) verifySignature(ctx context.Context, ref string, verifier *sign.Verifier) (*sign.Verified, error) {
	opts := ic.opts
	opts.Format = sign.FormatClassic
	got, err := sign.Verify(ctx, ref, verifier, opts)
	var classic *sign.VerifyError
	if !errors.As(err, &classic) {
		return got, err
	}
	opts.Format = sign.FormatBundle
	got, err = sign.Verify(ctx, classic.Ref, verifier, opts)
	var bundle *sign.VerifyError
	switch {
	case errors.As(err, &bundle):
		bundle.Tag, bundle.Reasons = classic.Tag, mergeReasons(classic.Reasons, bundle.Reasons)
		return nil, bundle
	case err != nil:
		return nil, err
	}
	got.Tag = classic.Tag
	return got, nil
}

// mergeReasons joins the two lookups' reasons, saying "no signatures found" once when
// both found none.
func mergeReasons(a, b []string) []string {
	const none = "no signatures found ("
	if len(a) == 1 && len(b) == 1 && strings.HasPrefix(a[0], none) && strings.HasPrefix(b[0], none) {
		return []string{strings.TrimSuffix(a[0], ")") + ", " + strings.TrimPrefix(b[0], none)}
	}
	return append(append([]string(nil), a...), b...)
}

// failed turns a verification error into a refusal (the check ran and said no, or the
// image does not exist) or a failure to check. refusal words a *sign.VerifyError.
func (ic *imageChecker) failed(ctx context.Context, ref string, err error, refusal func(reasons string) string) imageResult {
	var ve *sign.VerifyError
	switch {
	case errors.As(err, &ve) && refusal != nil:
		return imageResult{Denied: refusal(clip(strings.Join(ve.Reasons, "; "), 400))}
	case errors.Is(err, image.ErrNotFound):
		return imageResult{Denied: fmt.Sprintf("image %s was not found in its registry; check the name and tag, and that it was pushed", ref)}
	case errors.Is(err, image.ErrInvalidRef):
		return imageResult{Denied: fmt.Sprintf("image %q is not a valid image reference", clip(ref, 200))}
	case ctx.Err() != nil:
		return imageResult{Err: fmt.Errorf("checking %s took longer than %s: the registry is slow or unreachable", ref, ic.timeout)}
	}
	return imageResult{Err: fmt.Errorf("could not check %s: %s", ref, clip(err.Error(), 300))}
}

func unsigned(ref, keysHint string) func(string) string {
	return func(why string) string {
		return fmt.Sprintf("image %s is not signed by any key in %s (%s); sign it with `charter sign --key cosign.key %s`",
			ref, keysHint, why, ref)
	}
}

func noVerdict(ref string, v *verdictRequirement) func(string) string {
	return func(why string) string {
		age := ""
		if v.maxAge > 0 {
			age = " and at most " + v.maxAge.String() + " old"
		}
		return fmt.Sprintf("image %s has no passing verdict attestation with failOn %s or stricter%s (%s); scan and attest it: "+
			"`charter scan %s -o json --output report.json && charter attest --key cosign.key --type verdict --predicate report.json %s`",
			ref, severityWord(v.failOn), age, why, ref, ref)
	}
}

// resolve names ref by digest with one HEAD request.
func (ic *imageChecker) resolve(ctx context.Context, ref string) (string, error) {
	reg, err := image.ParseRegistry(ref, ic.opts.Image)
	if err != nil {
		return "", err
	}
	opts := append(reg.Options[:len(reg.Options):len(reg.Options)], remote.WithContext(ctx))
	desc, err := remote.Head(reg.Ref, opts...)
	if err != nil {
		return "", reg.Error(err)
	}
	if d, ok := reg.Ref.(name.Digest); ok && d.DigestStr() != desc.Digest.String() {
		return "", fmt.Errorf("registry answered %s for %s", desc.Digest, d.DigestStr())
	}
	return reg.Ref.Context().Name() + "@" + desc.Digest.String(), nil
}

// qualify writes ref in full (docker.io/library/nginx:latest) so that two spellings of
// one image share a cache entry and exemption patterns match either; an unparsable ref
// is returned as it is (its check will say why).
func qualify(ref string) string {
	r, err := name.ParseReference(ref)
	if err != nil {
		return ref
	}
	return r.Name()
}

// isDigestRef reports whether ref names its image by digest.
func isDigestRef(ref string) bool {
	_, err := name.NewDigest(ref)
	return err == nil
}

// resultCache is a bounded map of results with expiry times.
type resultCache struct {
	mu      sync.Mutex
	entries map[string]cacheEntry
	max     int
}

type cacheEntry struct {
	res     imageResult
	expires time.Time
}

func newResultCache(max int) *resultCache {
	return &resultCache{entries: map[string]cacheEntry{}, max: max}
}

func (c *resultCache) get(key string, now time.Time) (imageResult, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[key]
	if !ok || !now.Before(e.expires) {
		return imageResult{}, false
	}
	return e.res, true
}

// put stores a result. A full cache first drops expired entries, then an arbitrary
// half: a burst of distinct images costs lookups, never unbounded memory.
func (c *resultCache) put(key string, res imageResult, now, expires time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) >= c.max {
		for k, e := range c.entries {
			if !now.Before(e.expires) {
				delete(c.entries, k)
			}
		}
		for k := range c.entries {
			if len(c.entries) < c.max/2 {
				break
			}
			delete(c.entries, k)
		}
	}
	c.entries[key] = cacheEntry{res: res, expires: expires}
}

// severityWord is a severity as charter.yaml writes it.
func severityWord(s report.Severity) string { return strings.ToLower(s.String()) }
