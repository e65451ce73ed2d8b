// Package fakeplatform is a social platform on loopback for testing automation jobs the
// way they meet a real one: it wants a bearer token, rate-limits (429 with Retry-After),
// fails at random with 5xx either before acting or after (the post exists, the client
// hears an error), answers slowly, and counts posts by the client's key, so a test can
// prove that every item was posted exactly once.
//
//	POST /v1/posts          {"key": "item-1", "text": "…"}  → 201 {"id": "p-1"}
//	GET  /v1/posts?key=K    → 200 {"id": "p-1"} | 404
package fakeplatform

import (
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"sync"
	"time"
)

// Config shapes the platform's behaviour.
type Config struct {
	// Token is the bearer token every request must carry.
	Token string
	// RateLimit is the number of posts per Window before answering 429; 0 means none.
	RateLimit int
	Window    time.Duration
	// RetryAfter is the Retry-After value sent with a 429 ("0", "1", an HTTP date).
	RetryAfter string
	// FailBefore is the chance that a post is refused with 503 before anything happens.
	FailBefore float64
	// FailAfter is the chance that a post is stored and then answered with 500.
	FailAfter float64
	// Latency bounds a random delay before each answer.
	Latency time.Duration
	// Seed makes the random choices repeatable.
	Seed uint64
}

// Stats counts what the platform saw.
type Stats struct {
	Requests, Posts, RateLimited, FailedBefore, FailedAfter, Unauthorized, Lookups int
}

// Server is a running platform.
type Server struct {
	cfg Config
	hs  *httptest.Server

	mu          sync.Mutex
	rng         *rand.Rand
	counts      map[string]int
	ids         map[string]string
	stats       Stats
	windowStart time.Time
	inWindow    int
	active      int
	lastSeen    int // requests counted when WaitIdle last looked
}

// Start starts a platform on 127.0.0.1.
func Start(cfg Config) *Server {
	if cfg.Window <= 0 {
		cfg.Window = time.Second
	}
	if cfg.RetryAfter == "" {
		cfg.RetryAfter = "1"
	}
	// A seeded generator, so a failing run can be repeated.
	s := &Server{cfg: cfg, rng: rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x5eed)), //nolint:gosec // G404: test chaos, not security
		counts: map[string]int{}, ids: map[string]string{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/posts", s.post)
	mux.HandleFunc("GET /v1/posts", s.lookup)
	s.hs = httptest.NewServer(s.track(mux))
	return s
}

// URL is the platform's base URL.
func (s *Server) URL() string { return s.hs.URL }

// Close stops the platform.
func (s *Server) Close() { s.hs.Close() }

// Counts returns how many times each key was posted.
func (s *Server) Counts() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int, len(s.counts))
	for k, v := range s.counts {
		out[k] = v
	}
	return out
}

// Stats returns the counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}

// WaitIdle waits until no request has been handled for 25ms, as a restart delay would:
// a request a killed client had sent may still land after the kill. It reports false on
// timeout.
func (s *Server) WaitIdle(timeout time.Duration) bool {
	end := time.Now().Add(timeout)
	quietSince := time.Time{}
	for time.Now().Before(end) {
		s.mu.Lock()
		busy, seen := s.active > 0, s.stats.Requests
		s.mu.Unlock()
		switch {
		case busy || seen != s.lastSeen:
			s.lastSeen, quietSince = seen, time.Time{}
		case quietSince.IsZero():
			quietSince = time.Now()
		case time.Since(quietSince) >= 25*time.Millisecond:
			return true
		}
		time.Sleep(2 * time.Millisecond)
	}
	return false
}

func (s *Server) track(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.active++
		s.stats.Requests++
		var delay time.Duration
		if s.cfg.Latency > 0 {
			delay = time.Duration(s.rng.Int64N(int64(s.cfg.Latency)))
		}
		s.mu.Unlock()
		defer func() {
			s.mu.Lock()
			s.active--
			s.mu.Unlock()
		}()
		if r.Header.Get("Authorization") != "Bearer "+s.cfg.Token {
			s.mu.Lock()
			s.stats.Unauthorized++
			s.mu.Unlock()
			reply(w, http.StatusUnauthorized, map[string]string{"error": "bad token"})
			return
		}
		// The delay comes after the request is read, like a platform at work: a client
		// killed meanwhile does not stop the post.
		time.Sleep(delay)
		h.ServeHTTP(w, r)
	})
}

type postBody struct {
	Key  string `json:"key"`
	Text string `json:"text"`
}

func (s *Server) post(w http.ResponseWriter, r *http.Request) {
	var p postBody
	b, err := io.ReadAll(io.LimitReader(r.Body, 1<<16))
	if err != nil || json.Unmarshal(b, &p) != nil || p.Key == "" {
		reply(w, http.StatusBadRequest, map[string]string{"error": "want {\"key\": …, \"text\": …}"})
		return
	}
	s.mu.Lock()
	now := time.Now()
	if now.Sub(s.windowStart) >= s.cfg.Window {
		s.windowStart, s.inWindow = now, 0
	}
	switch {
	case s.cfg.RateLimit > 0 && s.inWindow >= s.cfg.RateLimit:
		s.stats.RateLimited++
		s.mu.Unlock()
		w.Header().Set("Retry-After", s.cfg.RetryAfter)
		reply(w, http.StatusTooManyRequests, map[string]string{"error": "slow down"})
		return
	case s.rng.Float64() < s.cfg.FailBefore:
		s.stats.FailedBefore++
		s.mu.Unlock()
		reply(w, http.StatusServiceUnavailable, map[string]string{"error": "try later"})
		return
	}
	s.inWindow++
	s.stats.Posts++
	s.counts[p.Key]++
	id := s.ids[p.Key]
	if id == "" {
		id = fmt.Sprintf("p-%d", len(s.ids)+1)
		s.ids[p.Key] = id
	}
	failAfter := s.rng.Float64() < s.cfg.FailAfter
	if failAfter {
		s.stats.FailedAfter++
	}
	s.mu.Unlock()
	if failAfter {
		reply(w, http.StatusInternalServerError, map[string]string{"error": "internal error"})
		return
	}
	reply(w, http.StatusCreated, map[string]string{"id": id})
}

func (s *Server) lookup(w http.ResponseWriter, r *http.Request) {
	key := r.URL.Query().Get("key")
	s.mu.Lock()
	s.stats.Lookups++
	id, ok := s.ids[key]
	s.mu.Unlock()
	if !ok {
		reply(w, http.StatusNotFound, map[string]string{"error": "no such post"})
		return
	}
	reply(w, http.StatusOK, map[string]string{"id": id})
}

func reply(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// CheckPosts compares what was posted for the keys item-000 … item-(items-1) with the
// delivery guarantee a test expects, and returns one line per problem: a key posted more
// than once (or, with exactlyOnce, not exactly once), keys outside that set, or fewer
// than half of the items posted at all.
func (s *Server) CheckPosts(items int, exactlyOnce bool) []string {
	counts := s.Counts()
	var problems []string
	posted := 0
	for i := range items {
		n := counts[fmt.Sprintf("item-%03d", i)]
		if n > 1 || exactlyOnce && n != 1 {
			problems = append(problems, fmt.Sprintf("item-%03d posted %d times", i, n))
		}
		posted += n
	}
	if len(counts) > items {
		problems = append(problems, fmt.Sprintf("%d keys posted, want at most %d", len(counts), items))
	}
	if posted < items/2 {
		problems = append(problems, fmt.Sprintf("only %d of %d items posted", posted, items))
	}
	return problems
}
