package job

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// flaky answers with the given codes in turn, then 200; it counts the requests and
// checks that a repeated body arrives whole.
func flaky(t *testing.T, retryAfter string, codes ...int) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i := int(n.Add(1)) - 1
		if b, _ := io.ReadAll(r.Body); r.Method == http.MethodPost && string(b) != "payload" {
			t.Errorf("request %d: body %q", i, b)
		}
		if i < len(codes) {
			if retryAfter != "" {
				w.Header().Set("Retry-After", retryAfter)
			}
			w.WriteHeader(codes[i])
			return
		}
		_, _ = io.WriteString(w, "ok")
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

// send sends a request through tr and returns the final status code.
func send(t *testing.T, tr *Transport, method, url string, hdr ...string) int {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader("payload"))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	return resp.StatusCode
}

func TestTransportRetries(t *testing.T) {
	fast := func() *Transport { return &Transport{BaseDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond} }
	for _, tc := range []struct {
		name     string
		method   string
		hdr      []string
		codes    []int
		tr       *Transport
		status   int
		requests int32
	}{
		{"429 is retried for any method", "POST", nil, []int{429, 429}, fast(), 200, 3},
		{"5xx is retried for GET", "GET", nil, []int{503, 500, 502}, fast(), 200, 4},
		{"5xx is not retried for a plain POST", "POST", nil, []int{500}, fast(), 500, 1},
		{"5xx is retried for a POST with an idempotency key", "POST", []string{"Idempotency-Key", "k1"}, []int{500}, fast(), 200, 2},
		{"RetryUnsafeRequests repeats a POST", "POST", nil, []int{503}, &Transport{BaseDelay: time.Millisecond, RetryUnsafeRequests: true}, 200, 2},
		{"4xx is not retried", "GET", nil, []int{404}, fast(), 404, 1},
		{"501 is not retried", "GET", nil, []int{501}, fast(), 501, 1},
		{"MaxAttempts bounds the tries", "GET", nil, []int{503, 503, 503, 503}, &Transport{BaseDelay: time.Millisecond, MaxAttempts: 2}, 503, 2},
		{"the budget stops retries", "GET", nil, []int{503, 503, 503}, &Transport{BaseDelay: time.Millisecond, Budget: NewRetryBudget(1, 0)}, 503, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, n := flaky(t, "", tc.codes...)
			status := send(t, tc.tr, tc.method, srv.URL, tc.hdr...)
			if status != tc.status || n.Load() != tc.requests {
				t.Fatalf("status %d after %d requests, want %d after %d", status, n.Load(), tc.status, tc.requests)
			}
		})
	}
}

func TestTransportHonoursRetryAfter(t *testing.T) {
	srv, n := flaky(t, "1", 429)
	start := time.Now()
	status := send(t, &Transport{BaseDelay: time.Millisecond}, "POST", srv.URL)
	if el := time.Since(start); status != 200 || n.Load() != 2 || el < time.Second {
		t.Fatalf("status %d after %d requests in %v; want 200 after 2, not before 1s", status, n.Load(), el)
	}

	// A pause longer than MaxRetryAfter is the platform's answer, returned at once.
	srv, n = flaky(t, "120", 429)
	start = time.Now()
	status = send(t, &Transport{MaxRetryAfter: 10 * time.Second}, "POST", srv.URL)
	if status != 429 || n.Load() != 1 || time.Since(start) > time.Second {
		t.Fatalf("status %d after %d requests; want the 429 at once", status, n.Load())
	}
}

func TestTransportStopsAtDeadline(t *testing.T) {
	srv, n := flaky(t, "", 503, 503, 503, 503, 503, 503, 503, 503)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL, nil)
	tr := &Transport{BaseDelay: 200 * time.Millisecond, MaxDelay: time.Second, MaxAttempts: 100, Budget: NewRetryBudget(100, 0)}
	start := time.Now()
	resp, err := tr.RoundTrip(req)
	if err == nil {
		_ = resp.Body.Close()
	}
	if time.Since(start) > 400*time.Millisecond {
		t.Fatalf("took %v past a 300ms deadline (%d requests)", time.Since(start), n.Load())
	}
}

func TestTransportRetriesRefusedConnections(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close() // nothing listens: every dial is refused
	req, _ := http.NewRequest("POST", url, strings.NewReader("payload"))
	var calls atomic.Int32
	tr := &Transport{BaseDelay: time.Millisecond, MaxAttempts: 3, Base: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		calls.Add(1)
		return http.DefaultTransport.RoundTrip(r)
	})}
	if resp, err := tr.RoundTrip(req); err == nil {
		_ = resp.Body.Close()
		t.Fatal("want an error")
	}
	if calls.Load() != 3 {
		t.Fatalf("%d tries, want 3 (a refused POST was never sent)", calls.Load())
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Duration{
		"":                              -1,
		"0":                             0,
		"7":                             7 * time.Second,
		" 3 ":                           3 * time.Second,
		"-1":                            -1,
		"soon":                          -1,
		"Wed, 25 Nov 2026 12:00:30 GMT": 30 * time.Second,
		"Wed, 25 Nov 2026 11:00:00 GMT": 0,
	} {
		if got := retryAfter(in, now); got != want {
			t.Errorf("retryAfter(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestBackoffFullJitter(t *testing.T) {
	tr := &Transport{BaseDelay: 100 * time.Millisecond, MaxDelay: 400 * time.Millisecond}
	for attempt, capd := range map[int]time.Duration{1: 100 * time.Millisecond, 2: 200 * time.Millisecond, 3: 400 * time.Millisecond, 9: 400 * time.Millisecond, 80: 400 * time.Millisecond} {
		var maxSeen time.Duration
		for range 200 {
			w, ok := tr.wait(context.Background(), attempt, -1)
			if !ok || w < 0 || w > capd {
				t.Fatalf("attempt %d: wait %v outside [0, %v]", attempt, w, capd)
			}
			maxSeen = max(maxSeen, w)
		}
		if maxSeen < capd/2 {
			t.Errorf("attempt %d: waits never above %v of a %v cap: not full jitter", attempt, maxSeen, capd)
		}
	}
}
