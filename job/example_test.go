package job_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"

	"github.com/charterhq/charter/job"
)

// A job's main: the work runs inside Run, and the exit code tells `charter run` whether
// to retry (75) or not (0, 1).
func ExampleRun() {
	dir, _ := os.MkdirTemp("", "job-example")
	defer func() { _ = os.RemoveAll(dir) }()

	err := job.Run(context.Background(), func(ctx context.Context) error {
		// Under `charter run` the state comes from CHARTER_STATE_SOCKET; here, a file.
		page, _, err := job.Checkpoint[int](ctx, "page")
		if err != nil {
			return err
		}
		fmt.Println("starting at page", page)
		return job.SetCheckpoint(ctx, "page", page+1)
	}, job.WithStateFile(filepath.Join(dir, "state.db")))
	fmt.Println("exit code", job.ExitCode(err))
	// Output:
	// starting at page 0
	// exit code 0
}

// Once posts an item a single time however often the job runs. Here the platform makes
// the post but answers 500, so the first run cannot know whether it went through; the
// second run's reconcile hook asks the platform, finds the post, and records it.
func ExampleOnce() {
	var posts atomic.Int32
	platform := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method == http.MethodPost:
			posts.Add(1)
			w.WriteHeader(http.StatusInternalServerError) // made, but the client hears a failure
		case posts.Load() > 0: // GET: "does the post exist?"
			_, _ = io.WriteString(w, "post-1")
		default:
			http.NotFound(w, r)
		}
	}))
	defer platform.Close()
	dir, _ := os.MkdirTemp("", "job-example")
	defer func() { _ = os.RemoveAll(dir) }()

	post := func(ctx context.Context) (string, error) {
		resp, err := http.Post(platform.URL+"/posts", "text/plain", strings.NewReader("hello"))
		if err != nil {
			return "", err // may have been sent: reconciled on the next attempt
		}
		defer func() { _ = resp.Body.Close() }()
		switch {
		case resp.StatusCode == http.StatusTooManyRequests:
			return "", job.NoEffect(fmt.Errorf("rate limited"))
		case resp.StatusCode >= 400 && resp.StatusCode < 500:
			return "", job.Permanent(fmt.Errorf("refused: %s", resp.Status))
		case resp.StatusCode != http.StatusCreated:
			return "", fmt.Errorf("platform: %s", resp.Status)
		}
		id, err := io.ReadAll(resp.Body)
		return string(id), err
	}
	exists := func(ctx context.Context) (string, bool, error) {
		resp, err := http.Get(platform.URL + "/posts?key=item-1")
		if err != nil {
			return "", false, err
		}
		defer func() { _ = resp.Body.Close() }()
		id, err := io.ReadAll(resp.Body)
		return string(id), resp.StatusCode == http.StatusOK, err
	}

	for run := 1; run <= 3; run++ {
		_ = job.Run(context.Background(), func(ctx context.Context) error {
			id, err := job.Once(ctx, "item-1", post, job.Reconcile(exists))
			fmt.Printf("run %d: %s %v\n", run, id, err)
			return err
		}, job.WithStateFile(filepath.Join(dir, "state.db")))
	}
	fmt.Println("posts made:", posts.Load())
	// Output:
	// run 1:  platform: 500 Internal Server Error
	// run 2: post-1 <nil>
	// run 3: post-1 <nil>
	// posts made: 1
}

// Transport retries a rate-limited request after the pause the platform asks for.
func ExampleTransport() {
	var calls atomic.Int32
	platform := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			w.Header().Set("Retry-After", "0")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		_, _ = io.WriteString(w, "ok")
	}))
	defer platform.Close()

	client := &http.Client{Transport: &job.Transport{MaxAttempts: 5, Budget: job.NewRetryBudget(20, 0.1)}}
	resp, err := client.Post(platform.URL+"/v1/posts", "application/json", strings.NewReader(`{"text":"hi"}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer func() { _ = resp.Body.Close() }()
	fmt.Println(resp.Status, "after", calls.Load(), "requests")
	// Output:
	// 200 OK after 2 requests
}

// NewRedactingHandler masks known secret values and anything that looks like a
// credential, in messages and attributes.
func ExampleNewRedactingHandler() {
	token := "pt_live_8Hq2Lx9Vw3Kz7Rm4"
	h := slog.NewJSONHandler(os.Stdout, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{} // stable output for the example
			}
			return a
		},
	})
	log := slog.New(job.NewRedactingHandler(h, []string{token}))
	log.Info("calling the platform", "auth", "Bearer "+token, "password", "hunter2",
		"db", "postgres://app:Zq8wK2vL9xR4@db:5432/app")
	// Output:
	// {"level":"INFO","msg":"calling the platform","auth":"Bearer [REDACTED]","password":"[REDACTED]","db":"postgres://app:[REDACTED:url-credentials]@db:5432/app"}
}
