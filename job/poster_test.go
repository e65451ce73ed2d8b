package job_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/charterhq/charter/job"
)

// poster is the job the end-to-end tests run: it posts items to the fake platform
// through the library, the way an automation author would write it.
type poster struct {
	base, token string
	hc          *http.Client
	items       int
	reconcile   bool // the platform can be asked whether a post exists
}

func newPoster(base, token string, items int, reconcile bool) *poster {
	tr := &job.Transport{BaseDelay: 10 * time.Millisecond, MaxDelay: 80 * time.Millisecond, MaxRetryAfter: 2 * time.Second}
	return &poster{base: base, token: token, items: items, reconcile: reconcile,
		hc: &http.Client{Transport: tr, Timeout: 5 * time.Second}}
}

// run posts every item not posted yet; a failure that may pass ends the run (exit 75)
// and the next run goes on from the checkpoint.
func (p *poster) run(ctx context.Context) error {
	log := job.Logger(ctx)
	next, _, err := job.Checkpoint[int](ctx, "next")
	if err != nil {
		return err
	}
	for i := next; i < p.items; i++ {
		key := fmt.Sprintf("item-%03d", i)
		var opts []job.StepOption[string]
		if p.reconcile {
			opts = append(opts, job.Reconcile(func(ctx context.Context) (string, bool, error) { return p.lookup(ctx, key) }))
		}
		id, err := job.Once(ctx, key, func(ctx context.Context) (string, error) { return p.post(ctx, key) }, opts...)
		switch {
		case job.IsPermanent(err):
			log.Warn("item not posted", "item", key, "err", err)
		case err != nil:
			return err
		default:
			// The token is logged on purpose: the handler must mask it.
			log.Info("posted", "item", key, "id", id, "auth", "Bearer "+p.token)
		}
		if err := job.SetCheckpoint(ctx, "next", i+1); err != nil {
			return err
		}
	}
	return nil
}

func (p *poster) post(ctx context.Context, key string) (string, error) {
	body := fmt.Sprintf(`{"key":%q,"text":"hello from %s"}`, key, key)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.base+"/v1/posts", strings.NewReader(body))
	if err != nil {
		return "", job.Permanent(err)
	}
	req.Header.Set("Authorization", "Bearer "+p.token)
	resp, err := p.hc.Do(req)
	if err != nil {
		return "", err // it may have been sent: unknown
	}
	defer func() { _ = resp.Body.Close() }()
	var out struct{ ID string }
	switch c := resp.StatusCode; {
	case c == http.StatusCreated:
		if err := json.NewDecoder(io.LimitReader(resp.Body, 4096)).Decode(&out); err != nil {
			return "", err
		}
		return out.ID, nil
	case c == http.StatusTooManyRequests:
		return "", job.NoEffect(fmt.Errorf("rate limited"))
	case c >= 400 && c < 500:
		return "", job.Permanent(fmt.Errorf("platform refused the post: %s", resp.Status))
	default:
		return "", fmt.Errorf("platform answered %s", resp.Status)
	}
}

func (p *poster) lookup(ctx context.Context, key string) (string, bool, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.base+"/v1/posts?key="+url.QueryEscape(key), nil)
	if err != nil {
		return "", false, err
	}
	req.Header.Set("Authorization", "Bearer "+p.token)
	resp, err := p.hc.Do(req)
	if err != nil {
		return "", false, err
	}
	defer func() { _ = resp.Body.Close() }()
	switch resp.StatusCode {
	case http.StatusOK:
		var out struct{ ID string }
		err := json.NewDecoder(io.LimitReader(resp.Body, 4096)).Decode(&out)
		return out.ID, err == nil, err
	case http.StatusNotFound:
		return "", false, nil
	}
	return "", false, fmt.Errorf("lookup: %s", resp.Status)
}
