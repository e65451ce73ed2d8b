package state

import (
	"context"
	"errors"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
)

func openTemp(t *testing.T) *Store {
	t.Helper()
	st, err := Open(filepath.Join(t.TempDir(), "sub", "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

func TestClaimLifecycle(t *testing.T) {
	st := openTemp(t)
	rec, out, err := st.Claim("post-1", "a1")
	if err != nil || out != Claimed || rec.Status != InFlight || rec.Owner != "a1" || rec.Claims != 1 {
		t.Fatalf("first claim: %+v %v %v", rec, out, err)
	}
	if _, out, _ := st.Claim("post-1", "a1"); out != Busy {
		t.Fatalf("same owner again: %v, want busy", out)
	}
	if err := st.Finish("post-1", "other", Done, "x"); !errors.Is(err, ErrNotOwner) {
		t.Fatalf("finish by another owner: %v", err)
	}
	// a1 stops without finishing; a2 finds the step in flight and must reconcile.
	rec, out, _ = st.Claim("post-1", "a2")
	if out != Reconcile || rec.Owner != "a2" || rec.Claims != 2 {
		t.Fatalf("claim after a crash: %+v %v", rec, out)
	}
	if err := st.Finish("post-1", "a1", Done, "late"); !errors.Is(err, ErrNotOwner) {
		t.Fatalf("the stopped attempt can no longer finish: %v", err)
	}
	if err := st.Finish("post-1", "a2", Done, "id-42"); err != nil {
		t.Fatal(err)
	}
	rec, out, _ = st.Claim("post-1", "a3")
	if out != Finished || rec.Status != Done || rec.Result != "id-42" || rec.FinishedAt.IsZero() {
		t.Fatalf("claim of a done step: %+v %v", rec, out)
	}

	// Release: no effect, may run again.
	if _, out, _ := st.Claim("post-2", "a3"); out != Claimed {
		t.Fatal(out)
	}
	if err := st.Release("post-2", "a3"); err != nil {
		t.Fatal(err)
	}
	if _, out, _ := st.Claim("post-2", "a3"); out != Claimed {
		t.Fatalf("after release: %v", out)
	}
	// Abandon: outcome unknown, even the same owner reconciles.
	if err := st.Abandon("post-2", "a3"); err != nil {
		t.Fatal(err)
	}
	if _, out, _ := st.Claim("post-2", "a3"); out != Reconcile {
		t.Fatalf("after abandon: %v", out)
	}
	if err := st.Finish("post-2", "a3", Failed, "rejected: 400"); err != nil {
		t.Fatal(err)
	}
	if rec, _, _ := st.Lookup("post-2"); rec.Status != Failed || rec.Result != "rejected: 400" {
		t.Fatalf("%+v", rec)
	}
}

func TestLimits(t *testing.T) {
	st := openTemp(t)
	for _, key := range []string{"", strings.Repeat("k", MaxKey+1), "\xff"} {
		if _, _, err := st.Claim(key, "a"); !errors.Is(err, ErrInvalid) {
			t.Errorf("Claim(%q): %v", key, err)
		}
	}
	if err := st.SetCheckpoint("k", make([]byte, MaxCheckpoint+1)); !errors.Is(err, ErrInvalid) {
		t.Errorf("oversized checkpoint: %v", err)
	}
	if _, _, err := st.Claim("k", ""); !errors.Is(err, ErrInvalid) {
		t.Errorf("claim without owner: %v", err)
	}
}

func TestReopenKeepsStateAndLocks(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	st, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.SetCheckpoint("cursor", []byte("page-7")); err != nil {
		t.Fatal(err)
	}
	if _, _, err := st.Claim("a", "run1"); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(path); !errors.Is(err, ErrLocked) {
		t.Fatalf("second open while held: %v, want ErrLocked", err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	st, err = Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = st.Close() }()
	if v, ok, _ := st.Checkpoint("cursor"); !ok || string(v) != "page-7" {
		t.Fatalf("checkpoint after reopen: %q %v", v, ok)
	}
	if _, out, _ := st.Claim("a", "run2"); out != Reconcile {
		t.Fatalf("claim left in flight by a closed run: %v", out)
	}
}

func serve(t *testing.T) (*Server, *Client, string) {
	t.Helper()
	st := openTemp(t)
	srv := NewServer(st)
	sock := filepath.Join(t.TempDir(), "s.sock")
	l, err := Listen(sock)
	if err != nil {
		t.Fatal(err)
	}
	hs := NewHTTPServer(srv)
	go func() { _ = hs.Serve(l) }()
	t.Cleanup(func() { _ = hs.Close() })
	c := NewClient(sock)
	t.Cleanup(func() { _ = c.Close() })
	return srv, c, sock
}

func TestServerAndClient(t *testing.T) {
	ctx := context.Background()
	srv, c, _ := serve(t)
	if _, _, err := c.Claim(ctx, "k"); err == nil || !strings.Contains(err.Error(), "503") {
		t.Fatalf("claim with no attempt running: %v", err)
	}
	srv.SetOwner("run1/1")
	// A key with a slash, a space and non-ASCII text travels as one path segment.
	key := "post/2026-11-25 café"
	if _, out, err := c.Claim(ctx, key); err != nil || out != Claimed {
		t.Fatalf("claim: %v %v", out, err)
	}
	if _, out, _ := c.Claim(ctx, key); out != Busy {
		t.Fatalf("second claim: %v", out)
	}
	if err := c.Finish(ctx, key, Done, "id-1"); err != nil {
		t.Fatal(err)
	}
	rec, out, err := c.Claim(ctx, key)
	if err != nil || out != Finished || rec.Result != "id-1" || rec.Key != key {
		t.Fatalf("claim of a done step: %+v %v %v", rec, out, err)
	}

	if _, out, _ := c.Claim(ctx, "p2"); out != Claimed {
		t.Fatal(out)
	}
	srv.SetOwner("run1/2") // the next attempt
	if err := c.Finish(ctx, "p2", Done, ""); !errors.Is(err, ErrNotOwner) {
		t.Fatalf("finish of the previous attempt's claim: %v", err)
	}
	if _, out, _ := c.Claim(ctx, "p2"); out != Reconcile {
		t.Fatalf("claim after an attempt stopped: %v", out)
	}
	if err := c.Abandon(ctx, "p2"); err != nil {
		t.Fatal(err)
	}
	if _, out, _ := c.Claim(ctx, "p2"); out != Reconcile {
		t.Fatalf("after unknown: %v", out)
	}
	if err := c.Release(ctx, "p2"); err != nil {
		t.Fatal(err)
	}

	if _, ok, err := c.Checkpoint(ctx, "cursor"); ok || err != nil {
		t.Fatalf("missing checkpoint: %v %v", ok, err)
	}
	if err := c.SetCheckpoint(ctx, "cursor", []byte("page 3")); err != nil {
		t.Fatal(err)
	}
	if v, ok, err := c.Checkpoint(ctx, "cursor"); !ok || err != nil || string(v) != "page 3" {
		t.Fatalf("checkpoint: %q %v %v", v, ok, err)
	}
	if err := c.SetCheckpoint(ctx, "big", make([]byte, MaxCheckpoint+1)); !errors.Is(err, ErrInvalid) {
		t.Fatalf("oversized checkpoint: %v", err)
	}
}

func TestServerRoutes(t *testing.T) {
	_, _, sock := serve(t)
	c := NewClient(sock)
	defer func() { _ = c.Close() }()
	code, _, err := c.do(context.Background(), http.MethodPost, "/v1/claims/k/explode", nil)
	if err != nil || code != http.StatusNotFound {
		t.Fatalf("unknown action: %d %v", code, err)
	}
	code, body, err := c.do(context.Background(), http.MethodGet, "/v1/health", nil)
	if err != nil || code != http.StatusOK || !strings.Contains(string(body), `"owner"`) {
		t.Fatalf("health: %d %s %v", code, body, err)
	}
}
