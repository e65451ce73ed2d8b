package state

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sync"
	"time"
)

// Server serves a Store over HTTP to the attempt that currently owns it. The owner is
// not chosen by the client: `charter run` sets it when it starts an attempt, so a step a
// crashed attempt left in flight is always seen as someone else's.
//
//	GET    /v1/health                  200 {"owner": …}
//	GET    /v1/checkpoints/{key}       200 value | 404
//	PUT    /v1/checkpoints/{key}       204 (body: the value)
//	DELETE /v1/checkpoints/{key}       204
//	POST   /v1/claims/{key}            201 claimed | 202 reconcile | 200 done or failed | 409 busy
//	GET    /v1/claims/{key}            200 record | 404
//	POST   /v1/claims/{key}/done       204 (body: the result) | 409 not yours
//	POST   /v1/claims/{key}/failed     204 (body: the reason) | 409 not yours
//	POST   /v1/claims/{key}/unknown    204: outcome unknown, reconcile on the next claim
//	DELETE /v1/claims/{key}            204: no effect, the step may run again
//
// Keys are one path segment: percent-encode "/" as %2F.
type Server struct {
	open func() (*Store, error)
	mux  *http.ServeMux

	mu    sync.Mutex
	owner string
}

// NewServer returns a Server for st with no owner: claims are refused until SetOwner.
func NewServer(st *Store) *Server {
	return NewLazyServer(func() (*Store, error) { return st, nil })
}

// NewLazyServer returns a Server that gets its Store from open at each request, so that
// a store is only opened when a job uses it (open must cache what it opens).
func NewLazyServer(open func() (*Store, error)) *Server {
	s := &Server{open: open, mux: http.NewServeMux()}
	s.mux.HandleFunc("GET /v1/health", s.health)
	s.mux.HandleFunc("GET /v1/checkpoints/{key}", s.with(s.getCheckpoint))
	s.mux.HandleFunc("PUT /v1/checkpoints/{key}", s.with(s.putCheckpoint))
	s.mux.HandleFunc("DELETE /v1/checkpoints/{key}", s.with(s.deleteCheckpoint))
	s.mux.HandleFunc("POST /v1/claims/{key}", s.with(s.claim))
	s.mux.HandleFunc("GET /v1/claims/{key}", s.with(s.lookup))
	s.mux.HandleFunc("POST /v1/claims/{key}/{action}", s.with(s.finish))
	s.mux.HandleFunc("DELETE /v1/claims/{key}", s.with(s.release))
	return s
}

// with hands h the store, opening it if need be.
func (s *Server) with(h func(http.ResponseWriter, *http.Request, *Store)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		st, err := s.open()
		if err != nil {
			writeJSON(w, http.StatusServiceUnavailable, errorBody{err.Error()})
			return
		}
		h(w, r, st)
	}
}

// SetOwner makes owner the attempt whose claims the server makes; "" refuses claims.
func (s *Server) SetOwner(owner string) {
	s.mu.Lock()
	s.owner = owner
	s.mu.Unlock()
}

func (s *Server) currentOwner() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.owner
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// Listen listens on a unix socket at path that only the current user can connect to.
func Listen(path string) (net.Listener, error) {
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("state socket: %w", err)
	}
	l, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("state socket: %w", err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		_ = l.Close()
		return nil, fmt.Errorf("state socket: %w", err)
	}
	return l, nil
}

// NewHTTPServer returns an http.Server for h with timeouts suited to a local socket.
func NewHTTPServer(h http.Handler) *http.Server {
	return &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 30 * time.Second}
}

func (s *Server) health(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"owner": s.currentOwner()})
}

func (s *Server) getCheckpoint(w http.ResponseWriter, r *http.Request, st *Store) {
	v, ok, err := st.Checkpoint(r.PathValue("key"))
	switch {
	case err != nil:
		writeError(w, err)
	case !ok:
		writeJSON(w, http.StatusNotFound, errorBody{"no checkpoint with this key"})
	default:
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		_, _ = w.Write(v) //nolint:gosec // G705: opaque bytes to a job on a private socket, never rendered as HTML

	}
}

func (s *Server) putCheckpoint(w http.ResponseWriter, r *http.Request, st *Store) {
	body, err := readBody(w, r, MaxCheckpoint)
	if err == nil {
		err = st.SetCheckpoint(r.PathValue("key"), body)
	}
	writeEmpty(w, err)
}

func (s *Server) deleteCheckpoint(w http.ResponseWriter, r *http.Request, st *Store) {
	writeEmpty(w, st.DeleteCheckpoint(r.PathValue("key")))
}

// ClaimResponse is the body of POST /v1/claims/{key}: the record and what the claim found.
type ClaimResponse struct {
	Outcome string `json:"outcome"`
	Record
}

func (s *Server) claim(w http.ResponseWriter, r *http.Request, st *Store) {
	owner := s.currentOwner()
	if owner == "" {
		writeJSON(w, http.StatusServiceUnavailable, errorBody{"no attempt is running"})
		return
	}
	rec, out, err := st.Claim(r.PathValue("key"), owner)
	if err != nil {
		writeError(w, err)
		return
	}
	code := map[Outcome]int{Claimed: http.StatusCreated, Reconcile: http.StatusAccepted,
		Finished: http.StatusOK, Busy: http.StatusConflict}[out]
	writeJSON(w, code, ClaimResponse{Outcome: out.String(), Record: rec})
}

func (s *Server) lookup(w http.ResponseWriter, r *http.Request, st *Store) {
	rec, ok, err := st.Lookup(r.PathValue("key"))
	switch {
	case err != nil:
		writeError(w, err)
	case !ok:
		writeJSON(w, http.StatusNotFound, errorBody{"no record with this key"})
	default:
		writeJSON(w, http.StatusOK, rec)
	}
}

func (s *Server) finish(w http.ResponseWriter, r *http.Request, st *Store) {
	key, owner := r.PathValue("key"), s.currentOwner()
	var err error
	switch r.PathValue("action") {
	case "done", "failed":
		var body []byte
		if body, err = readBody(w, r, MaxResult); err == nil {
			status := Done
			if r.PathValue("action") == "failed" {
				status = Failed
			}
			err = st.Finish(key, owner, status, string(body))
		}
	case "unknown":
		err = st.Abandon(key, owner)
	default:
		writeJSON(w, http.StatusNotFound, errorBody{"unknown action: want done, failed or unknown"})
		return
	}
	writeEmpty(w, err)
}

func (s *Server) release(w http.ResponseWriter, r *http.Request, st *Store) {
	writeEmpty(w, st.Release(r.PathValue("key"), s.currentOwner()))
}

type errorBody struct {
	Error string `json:"error"`
}

func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return nil, fmt.Errorf("%w: the body is larger than %d bytes", ErrInvalid, limit)
	}
	return b, err
}

func writeEmpty(w http.ResponseWriter, err error) {
	if err != nil {
		writeError(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func writeError(w http.ResponseWriter, err error) {
	code := http.StatusInternalServerError
	switch {
	case errors.Is(err, ErrInvalid):
		code = http.StatusBadRequest
	case errors.Is(err, ErrNotOwner):
		code = http.StatusConflict
	}
	writeJSON(w, code, errorBody{err.Error()})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	b, _ := json.Marshal(v)
	_, _ = w.Write(append(b, '\n'))
}
