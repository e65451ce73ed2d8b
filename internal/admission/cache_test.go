package admission

import (
	"sync"
	"testing"
	"time"
)

// TestOneLookupPerImage: many pods naming one cold image at once cost the registry what
// one verification costs; warm, they cost nothing.
func TestOneLookupPerImage(t *testing.T) {
	f := newFixture(t, "")
	probe := f.pushSigned("shop/probe:1.0")
	ref := f.pushSigned("shop/web:1.0")

	before := f.reg.requests.Load()
	if resp := f.admit("/validate", reviewOf(t, hardenedPod(probe), podGVK, "shop")); !resp.Allowed {
		t.Fatalf("denied: %s", message(resp))
	}
	one := f.reg.requests.Load() - before
	if one == 0 {
		t.Fatal("a cold verification made no registry request")
	}

	t.Logf("one cold verification: %d registry requests", one)

	// The registry is slow so that every request arrives while the first lookup runs.
	f.reg.delay.Store(int64(50 * time.Millisecond))
	before = f.reg.requests.Load()
	const n = 40
	var wg sync.WaitGroup
	denied := make(chan string, n)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if resp := f.admit("/validate", reviewOf(t, hardenedPod(ref), podGVK, "shop")); !resp.Allowed {
				denied <- message(resp)
			}
		}()
	}
	wg.Wait()
	close(denied)
	for m := range denied {
		t.Errorf("denied: %s", m)
	}
	if got := f.reg.requests.Load() - before; got != one {
		t.Errorf("%d concurrent pods with one cold image made %d registry requests; one verification makes %d", n, got, one)
	}

	f.reg.delay.Store(0)
	before = f.reg.requests.Load()
	for range 20 {
		f.admit("/validate", reviewOf(t, hardenedPod(ref), podGVK, "shop"))
	}
	if got := f.reg.requests.Load() - before; got != 0 {
		t.Errorf("warm cache: %d registry requests, want 0", got)
	}
}

func TestCacheExpiry(t *testing.T) {
	now := time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)
	c := newResultCache(4)
	c.put("a", imageResult{Digest: "sha256:a"}, now, now.Add(time.Minute))
	if _, ok := c.get("a", now.Add(59*time.Second)); !ok {
		t.Error("entry gone before its TTL")
	}
	if _, ok := c.get("a", now.Add(time.Minute)); ok {
		t.Error("entry served after its TTL")
	}
	for i := range 10 {
		c.put(string(rune('b'+i)), imageResult{}, now, now.Add(time.Minute))
	}
	if len(c.entries) > 4 {
		t.Errorf("cache holds %d entries, bound 4", len(c.entries))
	}
}

func TestRefusalIsCachedBriefly(t *testing.T) {
	f := newFixture(t, "  cacheTTL: 1h\n")
	now := time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)
	f.srv.images.now = func() time.Time { return now }
	ref := f.push("shop/web:1.0")
	if resp := f.admit("/validate", reviewOf(t, hardenedPod(ref), podGVK, "shop")); resp.Allowed {
		t.Fatal("unsigned image admitted")
	}
	f.pushSigned("shop/web:1.0") // the same image, now signed (a new random image under the tag)
	if resp := f.admit("/validate", reviewOf(t, hardenedPod(ref), podGVK, "shop")); resp.Allowed {
		t.Error("the refusal was not cached")
	}
	now = now.Add(maxNegativeTTL)
	if resp := f.admit("/validate", reviewOf(t, hardenedPod(ref), podGVK, "shop")); !resp.Allowed {
		t.Errorf("refusal cached past %s: %s", maxNegativeTTL, message(resp))
	}
}
