package supervisor

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/charterhq/charter/internal/testutil"
)

// TestMain doubles as a supervisor process for the tests that signal or kill one: the
// test binary runs itself with SUPERVISOR_TEST_CONFIG set to a JSON Config.
func TestMain(m *testing.M) {
	if js := os.Getenv("SUPERVISOR_TEST_CONFIG"); js != "" {
		var cfg Config
		if err := json.Unmarshal([]byte(js), &cfg); err != nil {
			panic(err)
		}
		cfg.Env = os.Environ()
		red, err := NewRedaction(RedactionSources{Env: cfg.Env})
		if err != nil {
			panic(err)
		}
		cfg.Redaction, cfg.Stdin, cfg.Stdout, cfg.Stderr = red, os.Stdin, os.Stdout, os.Stderr
		code, err := Run(context.Background(), cfg)
		if err != nil {
			_, _ = os.Stderr.WriteString("supervisor: " + err.Error() + "\n")
		}
		os.Exit(code)
	}
	os.Exit(m.Run())
}

type result struct {
	code           int
	stdout, stderr string
	events         []Event
	took           time.Duration
}

// run runs a supervisor in-process; events go to their own buffer.
func run(t *testing.T, cfg Config) result {
	t.Helper()
	var out, errb, evb testutil.SyncBuffer
	cfg.Stdout, cfg.Stderr, cfg.Events = &out, &errb, &evb
	if cfg.Env == nil {
		cfg.Env = os.Environ()
	}
	if cfg.Grace == 0 {
		cfg.Grace = 200 * time.Millisecond
	}
	if cfg.Backoff == 0 {
		cfg.Backoff = 10 * time.Millisecond
	}
	cfg.Group = true
	start := time.Now()
	code, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	r := result{code: code, stdout: out.String(), stderr: errb.String(), took: time.Since(start)}
	sc := bufio.NewScanner(strings.NewReader(evb.String()))
	for sc.Scan() {
		var e Event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("event line is not JSON: %q: %v", sc.Text(), err)
		}
		if e.JobID == "" || e.RunID == "" || e.Action == "" || e.Status == "" || e.Time.IsZero() {
			t.Errorf("event misses a field: %s", sc.Text())
		}
		r.events = append(r.events, e)
	}
	return r
}

// final returns the run's last event.
func (r result) final(t *testing.T) Event {
	t.Helper()
	if len(r.events) == 0 || r.events[len(r.events)-1].Action != ActionRun {
		t.Fatalf("no run event at the end: %+v", r.events)
	}
	return r.events[len(r.events)-1]
}

func (r result) count(action, status string) int {
	n := 0
	for _, e := range r.events {
		if e.Action == action && (status == "" || e.Status == status) {
			n++
		}
	}
	return n
}

func sh(script string) []string { return []string{"/bin/sh", "-c", script} }

func TestExitCodes(t *testing.T) {
	for _, tc := range []struct {
		name    string
		command []string
		code    int
	}{
		{"success", sh("echo hi"), 0},
		{"exit code", sh("exit 3"), 3},
		{"death by signal", sh("kill -9 $$"), 137},
		{"not found", []string{"/nonexistent/job"}, ExitNotFound},
		{"not executable", []string{"/etc/hostname"}, ExitNoExec},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := run(t, Config{Command: tc.command})
			if r.code != tc.code {
				t.Fatalf("exit %d, want %d; events %+v", r.code, tc.code, r.events)
			}
			if ev := r.final(t); *ev.ExitCode != tc.code || ev.Duration == nil {
				t.Errorf("final event %+v", ev)
			}
		})
	}
}

func TestRetries(t *testing.T) {
	// Fails with 75 until the third attempt.
	script := sh(`echo "attempt $CHARTER_ATTEMPT of run $CHARTER_RUN_ID"; [ "$CHARTER_ATTEMPT" -ge 3 ] || exit 75`)
	r := run(t, Config{Command: script, Attempts: 5})
	if r.code != 0 || r.count(ActionAttempt, "started") != 3 || r.count(ActionBackoff, "") != 2 {
		t.Fatalf("exit %d after %d attempts: %s", r.code, r.count(ActionAttempt, "started"), r.stdout)
	}
	r = run(t, Config{Command: script, Attempts: 2})
	if r.code != 75 || r.count(ActionAttempt, "started") != 2 || !strings.Contains(r.final(t).Reason, "no attempts left") {
		t.Fatalf("exit %d, final %+v", r.code, r.final(t))
	}
	r = run(t, Config{Command: sh("exit 1"), Attempts: 5})
	if r.code != 1 || r.count(ActionAttempt, "started") != 1 {
		t.Fatalf("exit 1 was retried: %+v", r.events)
	}
	// A death by SIGKILL is retried when 137 is listed.
	r = run(t, Config{Command: sh(`[ "$CHARTER_ATTEMPT" -ge 2 ] || kill -9 $$`), Attempts: 3, RetryOn: []int{75, 137}})
	if r.code != 0 || r.count(ActionAttempt, "started") != 2 {
		t.Fatalf("SIGKILL with 137 in RetryOn: exit %d, %+v", r.code, r.events)
	}
}

func TestDeadlineAlwaysEndsTheRun(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
	}{
		{"a command that ignores SIGTERM", Config{Command: sh(`trap "" TERM; sleep 30; sleep 30`), Deadline: 300 * time.Millisecond}},
		{"retries forever", Config{Command: sh(`exit 75`), Attempts: 1000, Deadline: 300 * time.Millisecond}},
		{"long backoff", Config{Command: sh(`exit 75`), Attempts: 3, Backoff: time.Hour, Deadline: 300 * time.Millisecond}},
		{"attempt timeouts", Config{Command: sh(`sleep 30`), Attempts: 1000, AttemptTimeout: 50 * time.Millisecond, Deadline: 300 * time.Millisecond}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := run(t, tc.cfg)
			if r.took > tc.cfg.Deadline+time.Second {
				t.Fatalf("the run took %v with a %v deadline", r.took, tc.cfg.Deadline)
			}
			if r.code == 0 {
				t.Fatalf("exit 0 after the deadline: %+v", r.final(t))
			}
		})
	}
	r := run(t, Config{Command: sh(`trap "" TERM; sleep 30`), Deadline: 200 * time.Millisecond})
	if r.code != ExitDeadline || r.final(t).Status != "deadline" {
		t.Fatalf("exit %d, %+v", r.code, r.final(t))
	}
}

func TestAttemptTimeoutIsRetried(t *testing.T) {
	r := run(t, Config{Command: sh(`[ "$CHARTER_ATTEMPT" -ge 2 ] || sleep 30`), Attempts: 3, AttemptTimeout: 100 * time.Millisecond})
	if r.code != 0 || r.count(ActionAttempt, "timeout") != 1 {
		t.Fatalf("exit %d, %+v", r.code, r.events)
	}
}

func TestKillSwitch(t *testing.T) {
	dir := t.TempDir()
	marker := filepath.Join(dir, "ran")
	action := sh("touch " + marker)
	kill := filepath.Join(dir, "kill")
	if err := os.WriteFile(kill, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	r := run(t, Config{Command: action, KillSwitch: KillSwitch{File: kill, Mode: ModeSkip}})
	if r.code != 0 || r.final(t).Status != "skipped" || !strings.Contains(r.final(t).Reason, kill) {
		t.Fatalf("file, skip: exit %d, %+v", r.code, r.final(t))
	}
	if _, err := os.Stat(marker); err == nil {
		t.Fatal("the action ran although the kill switch was on")
	}
	r = run(t, Config{Command: action, KillSwitch: KillSwitch{Env: "POSTER_OFF", Mode: ModeStop},
		Getenv: func(k string) string { return map[string]string{"POSTER_OFF": "1"}[k] }})
	if r.code != ExitStopped || r.final(t).Status != "stopped" {
		t.Fatalf("env, stop: exit %d, %+v", r.code, r.final(t))
	}

	flag := "false"
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		_, _ = w.Write([]byte(flag))
	}))
	defer srv.Close()
	r = run(t, Config{Command: action, KillSwitch: KillSwitch{URL: srv.URL}})
	if r.code != 0 {
		t.Fatalf("URL off: exit %d, %+v", r.code, r.final(t))
	}
	mu.Lock()
	flag = "skip"
	mu.Unlock()
	r = run(t, Config{Command: action, KillSwitch: KillSwitch{URL: srv.URL, Mode: ModeStop}})
	if r.code != 0 || r.final(t).Status != "skipped" {
		t.Fatalf("URL says skip: exit %d, %+v", r.code, r.final(t))
	}
	// An unreachable switch fails closed: the action does not run.
	srv.Close()
	_ = os.Remove(marker)
	r = run(t, Config{Command: action, KillSwitch: KillSwitch{URL: srv.URL}})
	if _, err := os.Stat(marker); err == nil || r.code == 0 || r.count(ActionKillSwitch, "unreachable") != 1 {
		t.Fatalf("unreachable URL: exit %d, %+v", r.code, r.events)
	}

	// Watched during the attempt: the switch turns on while the job sleeps.
	watched := filepath.Join(dir, "kill2")
	go func() {
		time.Sleep(150 * time.Millisecond)
		_ = os.WriteFile(watched, nil, 0o600)
	}()
	r = run(t, Config{Command: sh("sleep 30"), KillSwitch: KillSwitch{File: watched, Mode: ModeSkip, Poll: 20 * time.Millisecond}})
	if r.code != 0 || r.count(ActionAttempt, "killed") != 1 || r.took > 2*time.Second {
		t.Fatalf("switch during the attempt: exit %d after %v, %+v", r.code, r.took, r.events)
	}
}

func TestRedactsOutput(t *testing.T) {
	const envSecret = "Zx81-secret-from-env-q7"
	const fileSecret = "file-secret-3f9a8b7c6d"
	const patternSecret = "EAAB1234567890abcdefghijklmnop"
	const ghp = "ghp_R8x2Lq9ZfT4mWc7Vb1Nd6Kp3Hs5Jy0Ga2EuXo"
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "db_password"), []byte(fileSecret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := append(os.Environ(), "POSTER_AUTH="+envSecret, "GH="+ghp)
	red, err := NewRedaction(RedactionSources{Env: env, EnvGlobs: []string{"*_AUTH"}, Files: []string{filepath.Join(dir, "*")},
		Patterns: []string{`EAA[A-Za-z0-9]{20,}`}})
	if err != nil {
		t.Fatal(err)
	}
	// Each secret is written in pieces, on stdout and stderr, and one in the exit reason.
	script := `
printf '%s' "${POSTER_AUTH%%secret*}"; sleep 0.05; printf '%s\n' "secret${POSTER_AUTH#*secret}"
printf 'db: %s' "$(cut -c1-6 "$DIR/db_password")" >&2; printf '%s\n' "$(cut -c7- "$DIR/db_password")" >&2
printf 'fb: EAAB12345'; printf '67890abcdefghijklmnop\n'
echo "gh: $GH"
echo "no newline at the end: $POSTER_AUTH"`
	r := run(t, Config{Command: sh(script), Env: append(env, "DIR="+dir), Redaction: red})
	all := r.stdout + r.stderr
	for _, v := range []string{envSecret, fileSecret, patternSecret, ghp} {
		if strings.Contains(all, v) {
			t.Errorf("%q leaked:\n%s", v, all)
		}
	}
	for _, want := range []string{"db: [REDACTED]", "fb: [REDACTED]", "gh: [REDACTED", "no newline at the end: [REDACTED]"} {
		if !strings.Contains(all, want) {
			t.Errorf("want %q in:\n%s", want, all)
		}
	}
}

func TestCancelledContextStopsTheCommand(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(200*time.Millisecond, cancel)
	start := time.Now()
	code, err := Run(ctx, Config{Command: sh(`trap 'exit 5' TERM; while :; do sleep 0.05; done`), Attempts: 3,
		RetryOn: []int{5}, Grace: 5 * time.Second, Group: true})
	if err != nil || code != 5 || time.Since(start) > 3*time.Second {
		t.Fatalf("exit %d (%v) after %v; want the command's 5 soon after SIGTERM, no retry", code, err, time.Since(start))
	}
}
