// Command poster is charter's example automation job: it posts the items of a queue to
// a social platform's HTTP API, each exactly once however often it is killed and
// restarted, and never prints its token.
//
// It is built on charter's job library: Run (signals, state, a redacting logger), Once
// with a Reconcile hook (a post in flight when the job died is looked up, not repeated),
// a checkpoint (the queue position), and Transport (429 and 5xx retried with backoff,
// Retry-After honoured). Its exit code tells `charter run` what to do: 0 done, 75 try
// again later, 1 do not retry.
//
// Configuration, from the environment:
//
//	POSTER_API         the platform's base URL (required)
//	POSTER_TOKEN       the bearer token, or POSTER_TOKEN_FILE naming a file that holds it
//	POSTER_QUEUE       the queue, a JSON array of {"key": …, "text": …} (default /etc/poster/queue.json)
//	POSTER_STATE       the state file when not run under `charter run` (default /tmp/poster/state.db)
//	POSTER_DRY_RUN     "1": read and check the queue, log what would be posted, post nothing
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/charterhq/charter/job"
)

// Item is one queued post. Key identifies it on the platform, so a post can be looked up.
type Item struct {
	Key  string `json:"key"`
	Text string `json:"text"`
}

// maxQueue bounds the queue file; a queue is a list of short posts.
const maxQueue = 4 << 20

func main() {
	cfg, err := configFromEnv(os.Getenv)
	if err != nil {
		fmt.Fprintln(os.Stderr, "poster:", err)
		os.Exit(job.ExitPermanent)
	}
	var opts []job.Option
	if os.Getenv(job.EnvStateSocket) == "" {
		if err := os.MkdirAll(filepath.Dir(cfg.state), 0o700); err != nil {
			fmt.Fprintln(os.Stderr, "poster:", err)
			os.Exit(job.ExitTempFail)
		}
		opts = append(opts, job.WithStateFile(cfg.state))
	}
	err = job.Run(context.Background(), newPoster(cfg).run, opts...)
	if err != nil {
		fmt.Fprintln(os.Stderr, "poster:", err)
	}
	os.Exit(job.ExitCode(err))
}

// config is the job's configuration.
type config struct {
	api, token, queue, state string
	dryRun                   bool
}

func configFromEnv(getenv func(string) string) (config, error) {
	c := config{api: getenv("POSTER_API"), token: getenv("POSTER_TOKEN"), queue: getenv("POSTER_QUEUE"),
		state: getenv("POSTER_STATE"), dryRun: getenv("POSTER_DRY_RUN") == "1"}
	if c.queue == "" {
		c.queue = "/etc/poster/queue.json"
	}
	if c.state == "" {
		c.state = "/tmp/poster/state.db"
	}
	if f := getenv("POSTER_TOKEN_FILE"); f != "" && c.token == "" {
		b, err := os.ReadFile(f) //nolint:gosec // the operator names the mounted secret
		if err != nil {
			return c, fmt.Errorf("POSTER_TOKEN_FILE: %w", err)
		}
		c.token = strings.TrimSpace(string(b))
	}
	if c.dryRun {
		return c, nil
	}
	u, err := url.Parse(c.api)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return c, errors.New("POSTER_API must be the platform's http(s) base URL")
	}
	if c.token == "" {
		return c, errors.New("no token: set POSTER_TOKEN or POSTER_TOKEN_FILE")
	}
	return c, nil
}

// poster posts a queue through one HTTP client.
type poster struct {
	cfg config
	hc  *http.Client
}

func newPoster(cfg config) *poster {
	tr := &job.Transport{MaxAttempts: 4, BaseDelay: 200 * time.Millisecond, MaxDelay: 5 * time.Second, MaxRetryAfter: 30 * time.Second}
	return &poster{cfg: cfg, hc: &http.Client{Transport: tr, Timeout: 30 * time.Second}}
}

// readQueue loads and checks the queue: every item needs a unique key.
func readQueue(path string) ([]Item, error) {
	f, err := os.Open(path) //nolint:gosec // the operator names the queue
	if err != nil {
		return nil, err
	}
	defer func() { _ = f.Close() }()
	b, err := io.ReadAll(io.LimitReader(f, maxQueue+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxQueue {
		return nil, fmt.Errorf("%s: over %d bytes", path, maxQueue)
	}
	var items []Item
	if err := json.Unmarshal(b, &items); err != nil {
		return nil, fmt.Errorf("%s: want a JSON array of {\"key\", \"text\"}: %w", path, err)
	}
	seen := map[string]bool{}
	for i, it := range items {
		if it.Key == "" || seen[it.Key] {
			return nil, fmt.Errorf("%s: item %d: every item needs a unique key", path, i)
		}
		seen[it.Key] = true
	}
	return items, nil
}

// run posts every item not posted yet. A failure that may pass ends the run (exit 75);
// the next run goes on from the checkpoint and reconciles the item in flight.
func (p *poster) run(ctx context.Context) error {
	log := job.Logger(ctx)
	items, err := readQueue(p.cfg.queue)
	if err != nil {
		return job.Permanent(err)
	}
	next, _, err := job.Checkpoint[int](ctx, "next")
	if err != nil {
		return err
	}
	log.Info("queue read", "items", len(items), "from", next, "dry_run", p.cfg.dryRun)
	for i := next; i < len(items); i++ {
		it := items[i]
		if p.cfg.dryRun {
			log.Info("would post", "key", it.Key, "chars", len(it.Text))
			continue
		}
		id, err := job.Once(ctx, "post-"+it.Key,
			func(ctx context.Context) (string, error) { return p.post(ctx, it) },
			job.Reconcile(func(ctx context.Context) (string, bool, error) { return p.lookup(ctx, it.Key) }))
		switch {
		case job.IsPermanent(err):
			log.Warn("item not posted", "key", it.Key, "err", err)
		case err != nil:
			return err
		default:
			log.Info("posted", "key", it.Key, "id", id)
		}
		if err := job.SetCheckpoint(ctx, "next", i+1); err != nil {
			return err
		}
	}
	return nil
}

func (p *poster) request(ctx context.Context, method, path string, body io.Reader) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(p.cfg.api, "/")+path, body)
	if err != nil {
		return nil, job.Permanent(err)
	}
	req.Header.Set("Authorization", "Bearer "+p.cfg.token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return p.hc.Do(req)
}

// post publishes one item and returns the platform's post ID.
func (p *poster) post(ctx context.Context, it Item) (string, error) {
	body, err := json.Marshal(it)
	if err != nil {
		return "", job.Permanent(err)
	}
	resp, err := p.request(ctx, http.MethodPost, "/v1/posts", strings.NewReader(string(body)))
	if err != nil {
		return "", err // it may have been sent: the next attempt reconciles
	}
	defer func() { _ = resp.Body.Close() }()
	switch c := resp.StatusCode; {
	case c == http.StatusCreated:
		return decodeID(resp.Body)
	case c == http.StatusTooManyRequests:
		return "", job.NoEffect(errors.New("rate limited"))
	case c >= 400 && c < 500:
		return "", job.Permanent(fmt.Errorf("platform refused the post: %s", resp.Status))
	default:
		return "", fmt.Errorf("platform answered %s", resp.Status)
	}
}

// lookup asks the platform whether the item was posted.
func (p *poster) lookup(ctx context.Context, key string) (string, bool, error) {
	resp, err := p.request(ctx, http.MethodGet, "/v1/posts?key="+url.QueryEscape(key), nil)
	if err != nil {
		return "", false, err
	}
	defer func() { _ = resp.Body.Close() }()
	switch resp.StatusCode {
	case http.StatusOK:
		id, err := decodeID(resp.Body)
		return id, err == nil, err
	case http.StatusNotFound:
		return "", false, nil
	}
	return "", false, fmt.Errorf("lookup: %s", resp.Status)
}

func decodeID(r io.Reader) (string, error) {
	var out struct {
		ID string `json:"id"`
	}
	if err := json.NewDecoder(io.LimitReader(r, 4096)).Decode(&out); err != nil {
		return "", fmt.Errorf("platform answer: %w", err)
	}
	if out.ID == "" {
		return "", errors.New("platform answer has no id")
	}
	return out.ID, nil
}
