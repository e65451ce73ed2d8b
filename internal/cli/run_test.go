package cli

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/charterhq/charter/internal/testutil"
)

// runCharterRun runs `charter run` in-process and returns its exit code and both streams.
func runCharterRun(t *testing.T, dir string, args ...string) (int, string, string) {
	t.Helper()
	if dir != "" {
		t.Chdir(dir)
	}
	var out, errb testutil.SyncBuffer
	env := Env{Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" }, Now: time.Now}
	code := Run(context.Background(), append([]string{"run"}, args...), env)
	return code, out.String(), errb.String()
}

func TestRunPassesOnTheExitCode(t *testing.T) {
	for script, want := range map[string]int{"exit 0": 0, "exit 3": 3, "exit 75": 75, "kill -9 $$": 137} {
		code, _, stderr := runCharterRun(t, t.TempDir(), "--", "/bin/sh", "-c", script)
		if code != want {
			t.Errorf("%s: exit %d, want %d\n%s", script, code, want, stderr)
		}
	}
	if code, _, _ := runCharterRun(t, t.TempDir(), "/nonexistent/job"); code != 127 {
		t.Errorf("missing command: exit %d, want 127", code)
	}
}

func TestRunWithCharterFile(t *testing.T) {
	t.Setenv("POSTER_AUTH", "Qm9-very-secret-7731")
	dir := project(t, map[string]string{"charter.yaml": `version: 1
image: { name: registry.example.com/pr/poster }
job:
  deadline: 5s
  retries: { max: 3, backoff: 10ms, maxBackoff: 20ms, jitter: full, on: [75] }
  state: state/poster.db
  redact: { env: ["*_AUTH"], patterns: ['EAA[A-Za-z0-9]{10,}'] }
`})
	script := `echo "auth $POSTER_AUTH fb EAAB1234567890xyz"
test -S "$CHARTER_STATE_SOCKET" || exit 9
curl -s --unix-socket "$CHARTER_STATE_SOCKET" -X PUT --data "attempt $CHARTER_ATTEMPT" http://charter/v1/checkpoints/last || true
[ "$CHARTER_ATTEMPT" -ge 2 ] || exit 75`
	code, stdout, stderr := runCharterRun(t, dir, "--", "/bin/sh", "-c", script)
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	all := stdout + stderr
	for _, leak := range []string{"Qm9-very-secret-7731", "EAAB1234567890xyz"} {
		if strings.Contains(all, leak) {
			t.Errorf("%q leaked:\n%s", leak, all)
		}
	}
	for _, want := range []string{"auth [REDACTED] fb [REDACTED]", `"job_id":"registry.example.com/pr/poster"`,
		`"action":"attempt","attempt":2,"status":"ok"`, `"action":"state","status":"opened"`} {
		if !strings.Contains(all, want) {
			t.Errorf("want %s in:\n%s", want, all)
		}
	}
}

func TestRunRefusesBadInput(t *testing.T) {
	dir := project(t, map[string]string{"charter.yaml": "version: 1\njob:\n  deadline: soon\n"})
	code, _, stderr := runCharterRun(t, dir, "--", "true")
	if code != 2 || !strings.Contains(stderr, "charter.yaml:3") {
		t.Errorf("bad charter file: exit %d, %q", code, stderr)
	}
	dir = project(t, map[string]string{"charter.yaml": "version: 1\njob:\n  state: postgres://db/state\n"})
	code, _, stderr = runCharterRun(t, dir, "--", "true")
	if code != 2 || !strings.Contains(stderr, "URLs are not supported") {
		t.Errorf("state URL: exit %d, %q", code, stderr)
	}
	code, _, stderr = runCharterRun(t, t.TempDir())
	if code != 2 || !strings.Contains(stderr, "charter run --help") && !strings.Contains(stderr, "arg") {
		t.Errorf("no command: exit %d, %q", code, stderr)
	}
}

func TestRunHelpShowsExamples(t *testing.T) {
	code, stdout, _ := run(t, "", "", "run", "--help")
	if code != 0 || !strings.Contains(stdout, "ENTRYPOINT") || !strings.Contains(stdout, "CHARTER_STATE_SOCKET") {
		t.Errorf("help: %d\n%s", code, stdout)
	}
}

func TestRunRefusesAStateFileInUse(t *testing.T) {
	dir := project(t, map[string]string{"charter.yaml": "version: 1\njob:\n  state: state.db\n"})
	t.Chdir(dir)
	started := make(chan struct{})
	first := make(chan int)
	go func() {
		var out testutil.SyncBuffer
		env := Env{Stdout: &out, Stderr: &out, Getenv: func(string) string { return "" }, Now: time.Now}
		close(started)
		first <- Run(context.Background(), []string{"run", "--", "/bin/sh", "-c", "sleep 3"}, env)
	}()
	<-started
	time.Sleep(300 * time.Millisecond) // the first run holds the file
	code, _, stderr := runCharterRun(t, "", "--", "true")
	if code != 2 || !strings.Contains(stderr, "in use by another run") {
		t.Errorf("second run on the same state: exit %d, %q", code, stderr)
	}
	if code := <-first; code != 0 {
		t.Errorf("first run: exit %d", code)
	}
}
