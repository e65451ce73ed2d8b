package job

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Transport is an http.RoundTripper that retries what a platform asks to retry: 429 Too
// Many Requests always (the request was refused, not processed), and 5xx answers and
// broken connections when repeating the request is safe. Waits grow exponentially from
// BaseDelay to MaxDelay with full jitter (a random wait between zero and the cap, so
// that many clients do not return in step); a Retry-After answer is honoured, never
// undercut. Retrying stops after MaxAttempts, when the next wait would pass the
// request's context deadline or exceed MaxRetryAfter, or when the Budget is spent; the
// caller then gets the last answer.
//
// Repeating a request is safe when its method is idempotent (GET, HEAD, OPTIONS, PUT,
// DELETE), when it carries an Idempotency-Key header, or when the connection was refused
// before anything was sent. A POST that got a 5xx may have been processed: it is not
// repeated unless RetryUnsafeRequests is set; wrap it in Once with a Reconcile hook
// instead, which asks the platform.
//
// The zero value is ready to use; a Transport is safe for concurrent use.
type Transport struct {
	// Base sends the requests; nil means http.DefaultTransport.
	Base http.RoundTripper
	// MaxAttempts bounds the tries per request, the first included; 0 means 4.
	MaxAttempts int
	// BaseDelay is the cap of the first wait; 0 means 200ms.
	BaseDelay time.Duration
	// MaxDelay caps every wait computed by backoff; 0 means 30s.
	MaxDelay time.Duration
	// MaxRetryAfter is the longest Retry-After honoured; a platform asking for a longer
	// pause gets its answer returned instead. 0 means 1m.
	MaxRetryAfter time.Duration
	// Budget limits retries across requests, so a failing platform is not hammered;
	// nil means a budget of this Transport's own (see RetryBudget).
	Budget *RetryBudget
	// RetryUnsafeRequests also repeats POST and PATCH requests without an
	// Idempotency-Key after a 5xx or a broken connection. The platform may then act twice.
	RetryUnsafeRequests bool
	// Logger, when set, gets a line for each retry (no URLs' query strings, no bodies).
	Logger *slog.Logger

	once   sync.Once
	budget *RetryBudget
}

// RetryBudget lets retries through while their number stays small next to the requests
// that succeed: it holds up to Max tokens, a retry spends one, a success earns Ratio. A
// fresh budget is full. The zero value allows no retries; use NewRetryBudget.
type RetryBudget struct {
	mu     sync.Mutex
	tokens float64
	max    float64
	ratio  float64
}

// NewRetryBudget returns a full budget of max retries that earns ratio of a retry per
// successful request (10 and 0.1: after a burst of 10 retries, one retry per 10 successes).
func NewRetryBudget(max int, ratio float64) *RetryBudget {
	return &RetryBudget{tokens: float64(max), max: float64(max), ratio: ratio}
}

func (b *RetryBudget) spend() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

func (b *RetryBudget) earn() {
	b.mu.Lock()
	b.tokens = min(b.max, b.tokens+b.ratio)
	b.mu.Unlock()
}

// RoundTrip implements http.RoundTripper.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	t.once.Do(func() {
		t.budget = t.Budget
		if t.budget == nil {
			t.budget = NewRetryBudget(10, 0.1)
		}
	})
	base := t.Base
	if base == nil {
		base = http.DefaultTransport
	}
	replayable := req.Body == nil || req.Body == http.NoBody || req.GetBody != nil
	maxAttempts := orDefault(t.MaxAttempts, 4)
	ctx := req.Context()
	for attempt := 1; ; attempt++ {
		r := req
		if attempt > 1 && req.GetBody != nil {
			body, err := req.GetBody()
			if err != nil {
				return nil, err
			}
			r = req.Clone(ctx)
			r.Body = body
		}
		resp, err := base.RoundTrip(r)
		retry, after := t.shouldRetry(req, resp, err)
		if !retry {
			if err == nil && resp.StatusCode < 400 {
				t.budget.earn()
			}
			return resp, err
		}
		wait, ok := t.wait(ctx, attempt, after)
		if !ok || !replayable || attempt >= maxAttempts || !t.budget.spend() {
			return resp, err
		}
		t.log(req, resp, err, attempt, wait)
		if resp != nil {
			drain(resp)
		}
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return nil, ctx.Err()
		case <-timer.C:
		}
	}
}

// shouldRetry reports whether the outcome is worth another try, and the wait the
// platform asked for (-1 when it did not say).
func (t *Transport) shouldRetry(req *http.Request, resp *http.Response, err error) (bool, time.Duration) {
	if err != nil {
		if req.Context().Err() != nil {
			return false, -1
		}
		var op *net.OpError
		refused := errors.As(err, &op) && op.Op == "dial"
		return refused || t.safe(req), -1
	}
	switch c := resp.StatusCode; {
	case c == http.StatusTooManyRequests:
		return true, retryAfter(resp.Header.Get("Retry-After"), time.Now())
	case c >= 500 && c != http.StatusNotImplemented && c != http.StatusHTTPVersionNotSupported:
		return t.safe(req), retryAfter(resp.Header.Get("Retry-After"), time.Now())
	}
	return false, -1
}

// safe reports whether sending req twice cannot make the platform act twice.
func (t *Transport) safe(req *http.Request) bool {
	switch req.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodPut, http.MethodDelete, http.MethodTrace:
		return true
	}
	return t.RetryUnsafeRequests || req.Header.Get("Idempotency-Key") != ""
}

// wait returns how long to wait before attempt+1, and false when that is not worth it.
func (t *Transport) wait(ctx context.Context, attempt int, after time.Duration) (time.Duration, bool) {
	baseDelay, maxDelay := orDefault(t.BaseDelay, 200*time.Millisecond), orDefault(t.MaxDelay, 30*time.Second)
	capd := baseDelay
	for i := 1; i < attempt && capd < maxDelay; i++ {
		capd *= 2
	}
	capd = min(capd, maxDelay)
	w := time.Duration(rand.Int64N(int64(capd) + 1)) //nolint:gosec // G404: jitter spreads clients out; it guards nothing
	if after >= 0 {
		if after > orDefault(t.MaxRetryAfter, time.Minute) {
			return 0, false
		}
		// Never before the platform said (and not sooner than backoff would), with a
		// little jitter after it so that clients told the same time spread out.
		w = max(w, after+time.Duration(rand.Int64N(int64(baseDelay)+1))) //nolint:gosec // G404: jitter, as above
	}
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < w {
		return 0, false
	}
	return w, true
}

func (t *Transport) log(req *http.Request, resp *http.Response, err error, attempt int, wait time.Duration) {
	if t.Logger == nil {
		return
	}
	attrs := []slog.Attr{slog.String("method", req.Method), slog.String("host", req.URL.Host),
		slog.String("path", req.URL.Path), slog.Int("attempt", attempt), slog.Int64("wait_ms", wait.Milliseconds())}
	if resp != nil {
		attrs = append(attrs, slog.Int("status", resp.StatusCode))
	} else {
		attrs = append(attrs, slog.String("error", err.Error()))
	}
	t.Logger.LogAttrs(req.Context(), slog.LevelInfo, "retrying request", attrs...)
}

// retryAfter parses a Retry-After value (seconds or an HTTP date); -1 when absent or
// unreadable.
func retryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return -1
	}
	if s, err := strconv.ParseInt(v, 10, 64); err == nil {
		if s < 0 || s > 1<<31 {
			return -1
		}
		return time.Duration(s) * time.Second
	}
	if at, err := http.ParseTime(v); err == nil {
		return max(0, at.Sub(now))
	}
	return -1
}

// drain reads a little of a discarded answer so the connection can be reused.
func drain(resp *http.Response) {
	_, _ = io.CopyN(io.Discard, resp.Body, 64<<10)
	_ = resp.Body.Close()
}

func orDefault[T int | time.Duration](v, def T) T {
	if v <= 0 {
		return def
	}
	return v
}
