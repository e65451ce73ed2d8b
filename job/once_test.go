package job_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/charterhq/charter/internal/fakeplatform"
	"github.com/charterhq/charter/job"
)

// secretToken is the platform token the jobs use; no output may ever show it.
const secretToken = "pt_9fK2mQ7xLw4RzT8vB3nY6cH1jD5sG0aE"

// TestMain doubles as the poster job for the kill tests: the test binary runs itself
// with JOB_TEST_POSTER=1.
func TestMain(m *testing.M) {
	if os.Getenv("JOB_TEST_POSTER") == "1" {
		items, _ := strconv.Atoi(os.Getenv("JOB_TEST_ITEMS"))
		p := newPoster(os.Getenv("PLATFORM_URL"), os.Getenv("PLATFORM_TOKEN"), items, os.Getenv("JOB_TEST_RECONCILE") == "1")
		err := job.Run(context.Background(), p.run, job.WithStateFile(os.Getenv("JOB_TEST_STATE")), job.WithJobID("poster"))
		if err != nil {
			job.Logger(context.Background()).Error("run failed", "err", err)
		}
		os.Exit(job.ExitCode(err))
	}
	os.Exit(m.Run())
}

func runJob(t *testing.T, path string, fn func(ctx context.Context) error) error {
	t.Helper()
	return job.Run(context.Background(), fn, job.WithStateFile(path), job.WithoutSignals(),
		job.WithLogger(slog.New(slog.NewTextHandler(testWriter{t}, nil))))
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func TestOnceOutcomes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	calls := map[string]int{}
	step := func(key string, err error) func(context.Context) (string, error) {
		return func(context.Context) (string, error) {
			calls[key]++
			if err != nil {
				return "", err
			}
			return "result-" + key, nil
		}
	}
	errRefused := errors.New("400: bad text")
	err := runJob(t, path, func(ctx context.Context) error {
		if v, err := job.Once(ctx, "ok", step("ok", nil)); v != "result-ok" || err != nil {
			t.Errorf("ok: %q %v", v, err)
		}
		if v, err := job.Once(ctx, "ok", step("ok", nil)); v != "result-ok" || err != nil {
			t.Errorf("ok again: %q %v", v, err)
		}
		_, err := job.Once(ctx, "perm", step("perm", job.Permanent(errRefused)))
		var se *job.StepError
		if !errors.As(err, &se) || !errors.Is(err, errRefused) || !job.IsPermanent(err) || job.ExitCode(err) != 1 {
			t.Errorf("perm: %v", err)
		}
		if _, err := job.Once(ctx, "noeffect", step("noeffect", job.NoEffect(errors.New("429")))); err == nil || job.ExitCode(err) != 75 {
			t.Errorf("noeffect: %v", err)
		}
		if _, err := job.Once(ctx, "noeffect", step("noeffect", nil)); err != nil {
			t.Errorf("noeffect, second call: %v", err)
		}
		if _, err := job.Once(ctx, "unknown", step("unknown", errors.New("timeout"))); err == nil {
			t.Error("unknown: want the error")
		}
		// Same run, no hook: the step's outcome is unknown, so it is not run again.
		if _, err := job.Once(ctx, "unknown", step("unknown", nil)); !job.IsPermanent(err) {
			t.Errorf("unknown without a hook: %v", err)
		}
		_, err = job.Once(ctx, "unknown2", step("unknown2", errors.New("timeout")))
		if err == nil {
			t.Error("unknown2: want the error")
		}
		v, err := job.Once(ctx, "unknown2", step("unknown2", nil),
			job.Reconcile(func(context.Context) (string, bool, error) { return "found-it", true, nil }))
		if v != "found-it" || err != nil {
			t.Errorf("unknown2 reconciled: %q %v", v, err)
		}
		return job.SetCheckpoint(ctx, "cursor", map[string]int{"page": 4})
	})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{"ok": 1, "perm": 1, "noeffect": 2, "unknown": 1, "unknown2": 1}
	if fmt.Sprint(calls) != fmt.Sprint(want) {
		t.Errorf("calls %v, want %v", calls, want)
	}

	// A second run sees the first one's records and checkpoint.
	err = runJob(t, path, func(ctx context.Context) error {
		for _, k := range []string{"ok", "noeffect", "unknown2"} {
			if _, err := job.Once(ctx, k, step(k, nil)); err != nil {
				t.Errorf("%s in run 2: %v", k, err)
			}
		}
		if _, err := job.Once(ctx, "perm", step("perm", nil)); !job.IsPermanent(err) {
			t.Errorf("perm in run 2: %v", err)
		}
		cur, ok, err := job.Checkpoint[map[string]int](ctx, "cursor")
		if !ok || err != nil || cur["page"] != 4 {
			t.Errorf("checkpoint: %v %v %v", cur, ok, err)
		}
		return nil
	})
	if err != nil || fmt.Sprint(calls) != fmt.Sprint(want) {
		t.Fatalf("run 2 ran steps again: %v (%v)", calls, err)
	}
}

func TestNoState(t *testing.T) {
	t.Setenv(job.EnvStateSocket, "")
	err := job.Run(context.Background(), func(ctx context.Context) error {
		_, err := job.Once(ctx, "k", func(context.Context) (int, error) { return 1, nil })
		return err
	}, job.WithoutSignals())
	if !errors.Is(err, job.ErrNoState) {
		t.Fatalf("%v, want ErrNoState", err)
	}
}

func TestExitCode(t *testing.T) {
	for err, want := range map[error]int{nil: 0, errors.New("x"): 75, job.Permanent(errors.New("x")): 1,
		fmt.Errorf("wrapped: %w", job.Permanent(errors.New("x"))): 1, job.NoEffect(errors.New("x")): 75} {
		if got := job.ExitCode(err); got != want {
			t.Errorf("ExitCode(%v) = %d, want %d", err, got, want)
		}
	}
}

// platformConfig is a hostile platform: rate limits, and one post in ten fails, half of
// them after the post was made.
func platformConfig(seed uint64) fakeplatform.Config {
	return fakeplatform.Config{Token: secretToken, RateLimit: 3, Window: 100 * time.Millisecond, RetryAfter: "0",
		FailBefore: 0.05, FailAfter: 0.05, Latency: 2 * time.Millisecond, Seed: seed}
}

// TestPostsThroughTheLibrary reruns the poster in-process until it succeeds.
func TestPostsThroughTheLibrary(t *testing.T) {
	for _, reconcile := range []bool{true, false} {
		t.Run(fmt.Sprintf("reconcile=%v", reconcile), func(t *testing.T) {
			plat := fakeplatform.Start(platformConfig(1))
			defer plat.Close()
			const items = 40
			p := newPoster(plat.URL(), secretToken, items, reconcile)
			path := filepath.Join(t.TempDir(), "state.db")
			var logs bytes.Buffer
			runs := 0
			for ; runs < 300; runs++ {
				err := job.Run(context.Background(), p.run, job.WithStateFile(path), job.WithoutSignals(),
					job.WithLogger(slog.New(slog.NewJSONHandler(&logs, nil))))
				if err == nil {
					break
				}
				if job.ExitCode(err) != 75 {
					t.Fatalf("run %d: %v", runs, err)
				}
			}
			checkCounts(t, plat, items, reconcile)
			if strings.Contains(logs.String(), secretToken) {
				t.Fatal("the token appears in the job's logs")
			}
			t.Logf("%d runs, platform %+v", runs+1, plat.Stats())
		})
	}
}

func checkCounts(t *testing.T, plat *fakeplatform.Server, items int, exactlyOnce bool) {
	t.Helper()
	for _, p := range plat.CheckPosts(items, exactlyOnce) {
		t.Error(p)
	}
}

// TestKillNine kills the poster with SIGKILL at random moments, reruns it each time,
// then lets it finish. CHARTER_KILLS sets the number of kills (default 6).
func TestKillNine(t *testing.T) {
	kills := 6
	if s := os.Getenv("CHARTER_KILLS"); s != "" {
		kills, _ = strconv.Atoi(s)
	}
	for _, reconcile := range []bool{true, false} {
		t.Run(fmt.Sprintf("reconcile=%v", reconcile), func(t *testing.T) {
			killTest(t, kills, reconcile)
		})
	}
}

func killTest(t *testing.T, kills int, reconcile bool) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 7))
	plat := fakeplatform.Start(platformConfig(seed))
	defer plat.Close()
	items := 30 + kills/2
	dir := t.TempDir()
	env := append(os.Environ(), "JOB_TEST_POSTER=1", "JOB_TEST_ITEMS="+strconv.Itoa(items),
		"PLATFORM_URL="+plat.URL(), "PLATFORM_TOKEN="+secretToken, "JOB_TEST_STATE="+filepath.Join(dir, "state.db"),
		"JOB_TEST_RECONCILE="+map[bool]string{true: "1", false: "0"}[reconcile])
	var out bytes.Buffer
	start := func() *exec.Cmd {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env, cmd.Stdout, cmd.Stderr = env, &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd
	}
	killed := 0
	for killed < kills {
		cmd := start()
		time.Sleep(time.Duration(rng.Int64N(int64(60 * time.Millisecond))))
		if err := cmd.Process.Signal(syscall.SIGKILL); err == nil {
			killed++
		}
		_ = cmd.Wait()
		if !plat.WaitIdle(10 * time.Second) {
			t.Fatal("the platform is still busy 10s after a kill")
		}
	}
	finished := false
	for range 100 {
		cmd := start()
		err := cmd.Wait()
		if err == nil {
			finished = true
			break
		}
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 75 {
			t.Fatalf("run after the kills: %v\n%s", err, tail(out.String()))
		}
	}
	if !finished {
		t.Fatalf("the poster did not finish in 100 runs\n%s", tail(out.String()))
	}
	checkCounts(t, plat, items, reconcile)
	if strings.Contains(out.String(), secretToken) {
		t.Fatal("the token appears in the job's output")
	}
	if !strings.Contains(out.String(), `"auth":"Bearer [REDACTED]"`) {
		t.Errorf("no redacted auth line in the output:\n%s", tail(out.String()))
	}
	t.Logf("%d kills, %d items, platform %+v", killed, items, plat.Stats())
}

func tail(s string) string {
	if len(s) > 3000 {
		return "…" + s[len(s)-3000:]
	}
	return s
}
