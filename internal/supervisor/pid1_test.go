package supervisor

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// waitFor polls cond for up to 5s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(5 * time.Second); time.Now().Before(end); time.Sleep(10 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

func exitCode(t *testing.T, err error) int {
	t.Helper()
	var ee *exec.ExitError
	if err == nil {
		return 0
	}
	if !errors.As(err, &ee) {
		t.Fatal(err)
	}
	return ee.ExitCode()
}

// TestForwardsSignalsAndPassesOnTheExitCode: SIGTERM to the supervisor reaches the
// command, whose exit code becomes the supervisor's; no retry follows.
func TestForwardsSignalsAndPassesOnTheExitCode(t *testing.T) {
	dir := t.TempDir()
	ready := filepath.Join(dir, "ready")
	script := fmt.Sprintf(`trap 'echo got USR1' USR1; trap 'echo got TERM; exit 7' TERM; touch %s; while :; do sleep 0.05; done`, ready)
	var out bytes.Buffer
	cmd := supervisorProcess(t, processConfig{Command: sh(script), Attempts: 5, RetryOn: []int{7}, Grace: 5 * time.Second, Group: true,
		Backoff: 10 * time.Millisecond}, os.Environ(), &out)
	waitFor(t, "the command to start", func() bool { _, err := os.Stat(ready); return err == nil })
	_ = cmd.Process.Signal(syscall.SIGUSR1)
	time.Sleep(200 * time.Millisecond)
	_ = cmd.Process.Signal(syscall.SIGTERM)
	if code := exitCode(t, cmd.Wait()); code != 7 {
		t.Fatalf("exit %d, want the command's 7\n%s", code, out.String())
	}
	for _, want := range []string{"got USR1", "got TERM", `"action":"signal","status":"forwarded","reason":"terminated"`} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("want %q in:\n%s", want, out.String())
		}
	}
	if n := strings.Count(out.String(), `"action":"attempt","attempt":`+"2"); n != 0 {
		t.Errorf("an attempt followed SIGTERM:\n%s", out.String())
	}
}

// TestReapsOrphans: as PID 1 (here a subreaper) charter collects orphaned grandchildren
// so that no zombie is left behind.
func TestReapsOrphans(t *testing.T) {
	dir := t.TempDir()
	ready := filepath.Join(dir, "ready")
	// Each subshell starts a short sleep and exits: the sleeps are orphans, re-parented
	// to the supervisor, and become zombies when they end unless it reaps them.
	script := fmt.Sprintf(`for i in 1 2 3 4 5; do (sleep 0.4 &); done; touch %s; sleep 1.5`, ready)
	var out bytes.Buffer
	cmd := supervisorProcess(t, processConfig{Command: sh(script), Reap: true, Group: true}, os.Environ(), &out)
	waitFor(t, "the command to start", func() bool { _, err := os.Stat(ready); return err == nil })
	if n := len(childrenOf(cmd.Process.Pid)); n < 2 {
		t.Fatalf("%d children: the orphans were not re-parented to the supervisor", n)
	}
	time.Sleep(700 * time.Millisecond) // the orphans have ended
	zombies := 0
	for _, c := range childrenOf(cmd.Process.Pid) {
		if !running(c) {
			zombies++
		}
	}
	if len(childrenOf(cmd.Process.Pid)) == 0 {
		t.Fatal("the command is not the supervisor's child")
	}
	if zombies > 0 {
		t.Fatalf("%d zombies under the supervisor", zombies)
	}
	if code := exitCode(t, cmd.Wait()); code != 0 {
		t.Fatalf("exit %d\n%s", code, out.String())
	}
}
