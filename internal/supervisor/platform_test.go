package supervisor

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
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
)

// secretToken is the platform token; no output may ever show it.
const secretToken = "pt_4hW9qLz2Xv7Kc1Rm8Tb3Ny6Gd5Js0Fa"

func needCurl(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("curl"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("curl is needed for the state API tests (apt-get install curl)")
		}
		t.Skip("curl is not installed; the shell job talks to the state API with it")
	}
}

// hostilePlatform rate-limits (a shell job makes about five posts a second under no limit), and fails
// one post in ten, half of them after posting.
func hostilePlatform(seed uint64) *fakeplatform.Server {
	return fakeplatform.Start(fakeplatform.Config{Token: secretToken, RateLimit: 2, Window: 300 * time.Millisecond,
		RetryAfter: "0", FailBefore: 0.05, FailAfter: 0.05, Latency: 3 * time.Millisecond, Seed: seed})
}

func posterEnv(plat *fakeplatform.Server, items int, reconcile bool) []string {
	return append(os.Environ(), "PLATFORM_URL="+plat.URL(), "PLATFORM_TOKEN="+secretToken,
		"ITEMS="+strconv.Itoa(items), "RECONCILE="+map[bool]string{true: "1", false: "0"}[reconcile])
}

func posterScript(t *testing.T) string {
	t.Helper()
	p, err := filepath.Abs("testdata/poster.sh")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func checkCounts(t *testing.T, plat *fakeplatform.Server, items int, exactlyOnce bool) {
	t.Helper()
	for _, p := range plat.CheckPosts(items, exactlyOnce) {
		t.Error(p)
	}
}

// TestShellJobWithStateAPI runs the shell poster under the supervisor, with retries,
// against a platform that rate-limits and fails; reruns share the state file.
func TestShellJobWithStateAPI(t *testing.T) {
	needCurl(t)
	for _, reconcile := range []bool{true, false} {
		t.Run(fmt.Sprintf("reconcile=%v", reconcile), func(t *testing.T) {
			plat := hostilePlatform(uint64(time.Now().UnixNano()))
			defer plat.Close()
			const items = 8
			cfg := Config{Command: []string{"/bin/sh", posterScript(t)}, Env: posterEnv(plat, items, reconcile),
				Attempts: 10, Backoff: 20 * time.Millisecond, MaxBackoff: 100 * time.Millisecond,
				StatePath: filepath.Join(t.TempDir(), "state.db")}
			var out strings.Builder
			runs := 0
			for ; runs < 20; runs++ {
				r := run(t, cfg)
				out.WriteString(r.stdout + r.stderr)
				if r.code == 0 {
					break
				}
			}
			if runs == 20 {
				t.Fatalf("not done after 20 runs:\n%s", out.String())
			}
			checkCounts(t, plat, items, reconcile)
			if strings.Contains(out.String(), secretToken) {
				t.Fatalf("the token leaked:\n%s", out.String())
			}
			if !strings.Contains(out.String(), "auth=Bearer [REDACTED]") {
				t.Errorf("no masked token in the output:\n%s", out.String())
			}
			t.Logf("%d runs; platform %+v", runs+1, plat.Stats())
		})
	}
}

// supervisorProcess starts a supervisor in its own process: the test binary itself, or
// with CHARTER_BIN set, the charter binary's `charter run`.
func supervisorProcess(t *testing.T, cfg processConfig, env []string, out *bytes.Buffer) *exec.Cmd {
	t.Helper()
	var cmd *exec.Cmd
	if bin := os.Getenv("CHARTER_BIN"); bin != "" {
		charter := filepath.Join(filepath.Dir(cfg.StatePath), "charter.yaml")
		y := fmt.Sprintf("version: 1\njob:\n  deadline: 2m\n  retries: { max: %d, backoff: 20ms, maxBackoff: 200ms, jitter: full, on: [75] }\n  state: %s\n",
			cfg.Attempts, cfg.StatePath)
		if err := os.WriteFile(charter, []byte(y), 0o600); err != nil {
			t.Fatal(err)
		}
		cmd = exec.Command(bin, append([]string{"run", "--charter", charter, "--grace-period", "1s", "--"}, cfg.Command...)...)
		cmd.Env = env
	} else {
		js, err := json.Marshal(cfg)
		if err != nil {
			t.Fatal(err)
		}
		cmd = exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(env, "SUPERVISOR_TEST_CONFIG="+string(js))
	}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd
}

// processConfig is the part of Config a supervisor process is given as JSON.
type processConfig struct {
	Command        []string
	Attempts       int
	Backoff, Grace time.Duration
	MaxBackoff     time.Duration
	StatePath      string
	Reap, Group    bool
	Deadline       time.Duration
	AttemptTimeout time.Duration
	RetryOn        []int
}

// killAll stops the supervisor (it starts nothing new), kills its child's process group,
// then the supervisor: everything dies as in a container whose PID 1 is killed.
func killAll(pid int) {
	_ = syscall.Kill(pid, syscall.SIGSTOP)
	for _, c := range childrenOf(pid) {
		_ = syscall.Kill(-c, syscall.SIGKILL)
		_ = syscall.Kill(c, syscall.SIGKILL)
	}
	_ = syscall.Kill(pid, syscall.SIGKILL)
}

// running reports whether pid is alive and not a zombie.
func running(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	i := bytes.LastIndexByte(b, ')')
	return i > 0 && i+2 < len(b) && b[i+2] != 'Z'
}

func childrenOf(pid int) []int {
	var out []int
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", pid))
	for _, f := range tasks {
		b, _ := os.ReadFile(f)
		for _, s := range strings.Fields(string(b)) {
			if n, err := strconv.Atoi(s); err == nil {
				out = append(out, n)
			}
		}
	}
	return out
}

// TestKillNine kills the supervised shell job with SIGKILL at random moments (all of
// it, as when a container is killed), reruns it each time, then lets it finish: every
// item is posted exactly once with reconciling, at most once without, and the token
// never shows. CHARTER_KILLS sets the number of kills (default 3 per mode).
func TestKillNine(t *testing.T) {
	needCurl(t)
	kills := 3
	if s := os.Getenv("CHARTER_KILLS"); s != "" {
		kills, _ = strconv.Atoi(s)
	}
	for _, reconcile := range []bool{true, false} {
		t.Run(fmt.Sprintf("reconcile=%v", reconcile), func(t *testing.T) {
			seed := uint64(time.Now().UnixNano())
			t.Logf("seed %d", seed)
			rng := rand.New(rand.NewPCG(seed, 9))
			plat := hostilePlatform(seed)
			defer plat.Close()
			items := 8 + kills/4
			cfg := processConfig{Command: []string{"/bin/sh", posterScript(t)}, Attempts: 10, Backoff: 20 * time.Millisecond,
				MaxBackoff: 200 * time.Millisecond, Grace: time.Second, Group: true, StatePath: filepath.Join(t.TempDir(), "state.db")}
			env := posterEnv(plat, items, reconcile)
			var out bytes.Buffer
			killed := 0
			for killed < kills {
				cmd := supervisorProcess(t, cfg, env, &out)
				time.Sleep(time.Duration(rng.Int64N(int64(400 * time.Millisecond))))
				if running(cmd.Process.Pid) {
					killAll(cmd.Process.Pid)
					killed++
				}
				_ = cmd.Wait()
				if !plat.WaitIdle(10 * time.Second) {
					t.Fatal("the platform is still busy 10s after a kill")
				}
			}
			done := false
			for range 30 {
				err := supervisorProcess(t, cfg, env, &out).Wait()
				var ee *exec.ExitError
				if err == nil {
					done = true
					break
				}
				if !errors.As(err, &ee) {
					t.Fatal(err)
				}
			}
			if !done {
				t.Fatalf("the job did not finish in 30 runs after the kills\n%s", tail(out.String()))
			}
			checkCounts(t, plat, items, reconcile)
			if strings.Contains(out.String(), secretToken) {
				t.Fatalf("the token leaked:\n%s", tail(out.String()))
			}
			t.Logf("%d kills, %d items; platform %+v", killed, items, plat.Stats())
		})
	}
}

func tail(s string) string {
	if len(s) > 4000 {
		return "…" + s[len(s)-4000:]
	}
	return s
}
