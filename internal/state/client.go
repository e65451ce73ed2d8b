package state

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Client talks to a Server on a unix socket. Its claims belong to the attempt the server
// is running, so it has no owner of its own.
type Client struct {
	hc *http.Client
}

// NewClient returns a Client for the socket at path.
func NewClient(path string) *Client {
	tr := &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", path)
		},
		MaxIdleConns:    4,
		IdleConnTimeout: 30 * time.Second,
	}
	return &Client{hc: &http.Client{Transport: tr, Timeout: 30 * time.Second}}
}

// Close releases idle connections.
func (c *Client) Close() error {
	c.hc.CloseIdleConnections()
	return nil
}

// Checkpoint returns the value saved under key.
func (c *Client) Checkpoint(ctx context.Context, key string) ([]byte, bool, error) {
	code, body, err := c.do(ctx, http.MethodGet, "/v1/checkpoints/"+url.PathEscape(key), nil)
	switch {
	case err != nil:
		return nil, false, err
	case code == http.StatusNotFound:
		return nil, false, nil
	case code != http.StatusOK:
		return nil, false, apiError(code, body)
	}
	return body, true, nil
}

// SetCheckpoint saves value under key.
func (c *Client) SetCheckpoint(ctx context.Context, key string, value []byte) error {
	return c.expect(ctx, http.MethodPut, "/v1/checkpoints/"+url.PathEscape(key), value)
}

// Claim claims the step key for the running attempt.
func (c *Client) Claim(ctx context.Context, key string) (Record, Outcome, error) {
	code, body, err := c.do(ctx, http.MethodPost, "/v1/claims/"+url.PathEscape(key), nil)
	if err != nil {
		return Record{}, 0, err
	}
	out, ok := map[int]Outcome{http.StatusCreated: Claimed, http.StatusAccepted: Reconcile,
		http.StatusOK: Finished, http.StatusConflict: Busy}[code]
	if !ok {
		return Record{}, 0, apiError(code, body)
	}
	var cr ClaimResponse
	if err := json.Unmarshal(body, &cr); err != nil {
		return Record{}, 0, fmt.Errorf("state API: bad claim response: %w", err)
	}
	return cr.Record, out, nil
}

// Finish marks the running attempt's step done or failed.
func (c *Client) Finish(ctx context.Context, key string, st Status, result string) error {
	action := "done"
	if st == Failed {
		action = "failed"
	}
	return c.expect(ctx, http.MethodPost, "/v1/claims/"+url.PathEscape(key)+"/"+action, []byte(result))
}

// Release forgets the running attempt's claim on key.
func (c *Client) Release(ctx context.Context, key string) error {
	return c.expect(ctx, http.MethodDelete, "/v1/claims/"+url.PathEscape(key), nil)
}

// Abandon leaves the step in flight with its outcome unknown.
func (c *Client) Abandon(ctx context.Context, key string) error {
	return c.expect(ctx, http.MethodPost, "/v1/claims/"+url.PathEscape(key)+"/unknown", nil)
}

func (c *Client) expect(ctx context.Context, method, path string, body []byte) error {
	code, resp, err := c.do(ctx, method, path, body)
	if err != nil {
		return err
	}
	if code != http.StatusNoContent && code != http.StatusOK {
		return apiError(code, resp)
	}
	return nil
}

func (c *Client) do(ctx context.Context, method, path string, body []byte) (int, []byte, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, "http://charter"+path, rd)
	if err != nil {
		return 0, nil, err
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return 0, nil, fmt.Errorf("state API: %w", err)
	}
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(io.LimitReader(resp.Body, MaxCheckpoint+1))
	if err != nil {
		return 0, nil, fmt.Errorf("state API: %w", err)
	}
	return resp.StatusCode, b, nil
}

func apiError(code int, body []byte) error {
	var e errorBody
	msg := strings.TrimSpace(string(body))
	if json.Unmarshal(body, &e) == nil && e.Error != "" {
		msg = e.Error
	}
	if len(msg) > 200 {
		msg = msg[:200]
	}
	err := fmt.Errorf("state API: %d %s: %s", code, http.StatusText(code), msg)
	switch code {
	case http.StatusConflict:
		return fmt.Errorf("%w (%w)", ErrNotOwner, err)
	case http.StatusBadRequest, http.StatusRequestEntityTooLarge:
		return fmt.Errorf("%w (%w)", ErrInvalid, err)
	}
	return err
}
