package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/charterhq/charter/internal/fakeplatform"
	"github.com/charterhq/charter/job"
)

const token = "pk_live_9f8e7d6c5b4a3210fedcba9876543210"

func writeQueue(t *testing.T, n int) string {
	t.Helper()
	items := make([]Item, n)
	for i := range items {
		items[i] = Item{Key: fmt.Sprintf("item-%03d", i), Text: fmt.Sprintf("post %d", i)}
	}
	b, err := json.Marshal(items)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "queue.json")
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestPostsEachItemOnce runs the job against a platform that rate-limits and fails
// before and after acting, restarting it as `charter run` would until it exits 0: every
// item is posted exactly once, and the token appears in no log line.
func TestPostsEachItemOnce(t *testing.T) {
	const items = 20
	srv := fakeplatform.Start(fakeplatform.Config{Token: token, RateLimit: 5, Window: 50 * time.Millisecond,
		RetryAfter: "0", FailBefore: 0.2, FailAfter: 0.2, Seed: 7})
	defer srv.Close()
	t.Setenv("POSTER_TOKEN", token) // so the job's redactor knows the value
	cfg := config{api: srv.URL(), token: token, queue: writeQueue(t, items), state: filepath.Join(t.TempDir(), "state.db")}
	var logs bytes.Buffer
	var err error
	attempts := 0
	for attempts = 1; attempts <= 50; attempts++ {
		p := newPoster(cfg)
		p.hc.Transport = &job.Transport{BaseDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond}
		err = job.Run(context.Background(), p.run, job.WithStateFile(cfg.state), job.WithoutSignals(),
			job.WithLogger(slog.New(slog.NewJSONHandler(&logs, nil))))
		if job.ExitCode(err) != job.ExitTempFail {
			break
		}
	}
	if err != nil {
		t.Fatalf("after %d attempts: %v", attempts, err)
	}
	srv.WaitIdle(time.Second)
	if problems := srv.CheckPosts(items, true); len(problems) > 0 {
		t.Errorf("after %d attempts: %s", attempts, strings.Join(problems, "; "))
	}
	if st := srv.Stats(); st.FailedAfter == 0 || st.FailedBefore == 0 {
		t.Errorf("the platform injected no failures (%+v): the test proves nothing", st)
	}
	if strings.Contains(logs.String(), token) {
		t.Error("the token reached the logs")
	}
	if !strings.Contains(logs.String(), `"posted"`) {
		t.Errorf("no post logged: %s", logs.String())
	}
}

func TestWrongTokenIsPermanent(t *testing.T) {
	srv := fakeplatform.Start(fakeplatform.Config{Token: token})
	defer srv.Close()
	cfg := config{api: srv.URL(), token: "wrong", queue: writeQueue(t, 2), state: filepath.Join(t.TempDir(), "state.db")}
	var logs bytes.Buffer
	err := job.Run(context.Background(), newPoster(cfg).run, job.WithStateFile(cfg.state), job.WithoutSignals(),
		job.WithLogger(slog.New(slog.NewJSONHandler(&logs, nil))))
	// Each refused item is logged and skipped; the run itself ends cleanly.
	if err != nil || !strings.Contains(logs.String(), "item not posted") {
		t.Errorf("err %v, logs %s", err, logs.String())
	}
	if n := len(srv.Counts()); n != 0 {
		t.Errorf("%d posts made with a wrong token", n)
	}
}

func TestDryRunPostsNothing(t *testing.T) {
	cfg, err := configFromEnv(func(k string) string {
		return map[string]string{"POSTER_DRY_RUN": "1", "POSTER_QUEUE": writeQueue(t, 3)}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	cfg.state = filepath.Join(t.TempDir(), "state.db")
	var logs bytes.Buffer
	err = job.Run(context.Background(), newPoster(cfg).run, job.WithStateFile(cfg.state), job.WithoutSignals(),
		job.WithLogger(slog.New(slog.NewJSONHandler(&logs, nil))))
	if err != nil || strings.Count(logs.String(), "would post") != 3 {
		t.Errorf("err %v, logs %s", err, logs.String())
	}
}

func TestConfigAndQueueErrors(t *testing.T) {
	for name, env := range map[string]map[string]string{
		"no api":   {"POSTER_TOKEN": "x"},
		"bad api":  {"POSTER_API": "ftp://example.com", "POSTER_TOKEN": "x"},
		"no token": {"POSTER_API": "https://api.example.com"},
	} {
		if _, err := configFromEnv(func(k string) string { return env[k] }); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	dir := t.TempDir()
	for name, body := range map[string]string{
		"dup":      `[{"key":"a","text":"1"},{"key":"a","text":"2"}]`,
		"no key":   `[{"text":"1"}]`,
		"not json": `{"key":"a"`,
	} {
		p := filepath.Join(dir, strings.ReplaceAll(name, " ", "-")+".json")
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := readQueue(p); err == nil {
			t.Errorf("%s: queue accepted", name)
		}
	}
	if items, err := readQueue("queue.json"); err != nil || len(items) != 3 {
		t.Errorf("the bundled queue: %d items, %v", len(items), err)
	}
}
