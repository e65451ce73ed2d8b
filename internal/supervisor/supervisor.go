// Package supervisor is `charter run`: the entrypoint of an automation container. It
// runs the job's command as PID 1 should (forwarding signals, reaping zombies, passing on
// the exit code), masks secrets in everything the command writes, retries it within a
// bounded number of attempts and an overall deadline, obeys a kill switch, logs one JSON
// line per event, and serves the job's durable state (internal/state) on a unix socket.
package supervisor

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/charterhq/charter/internal/state"
)

// Exit codes of a run, besides the command's own (passed on as is, 128+N for a death by
// signal N).
const (
	ExitStopped    = 1   // the kill switch stopped the job
	ExitCannotRun  = 2   // charter could not set the run up (state, socket)
	ExitDeadline   = 124 // the deadline or the last attempt's timeout ended the run
	ExitNoExec     = 126 // the command exists but cannot be executed
	ExitNotFound   = 127 // the command does not exist
	ExitTempFail   = 75  // EX_TEMPFAIL, the default code worth retrying
	defaultGrace   = 10 * time.Second
	defaultBackoff = time.Second
)

// Config is one run. Zero values mean: one attempt, no deadline, no attempt timeout,
// retry on 75, 10s grace, no kill switch, state for this run only.
type Config struct {
	JobID   string
	Command []string
	// Env is the command's environment; CHARTER_* variables are added.
	Env    []string
	Stdin  io.Reader // a *os.File is passed on; anything else gives the child /dev/null
	Stdout io.Writer
	Stderr io.Writer
	// Events receives the JSON event lines; nil means Stderr.
	Events io.Writer

	// Deadline bounds the run, retries and waits included.
	Deadline time.Duration
	// Attempts is the number of attempts in total, the first included.
	Attempts int
	// Backoff is the cap of the first wait; waits double up to MaxBackoff.
	Backoff, MaxBackoff time.Duration
	// Jitter is full (default), equal, decorrelated or none.
	Jitter string
	// RetryOn lists the exit codes worth another attempt; nil means [75]. A death by
	// signal N has code 128+N, so 137 retries a SIGKILLed attempt.
	RetryOn []int
	// AttemptTimeout bounds one attempt; a timed-out attempt is retried.
	AttemptTimeout time.Duration
	// Grace is how long a command asked to stop (SIGTERM) has before SIGKILL.
	Grace time.Duration

	KillSwitch KillSwitch
	// StatePath is the bbolt file of the job's state; "" keeps state for this run only.
	StatePath string
	Redaction *Redaction
	// Reap makes charter reap every child, as PID 1 must (automatic when it is PID 1);
	// off, it waits for its own child only.
	Reap bool
	// Group puts the command in its own process group, so that what is left of an
	// attempt is killed before the next starts. Off when the command needs the terminal.
	Group bool

	Getenv func(string) string
	Now    func() time.Time
}

// Run runs the job and returns the exit code for charter's process. The error explains
// a code of ExitCannotRun; every other outcome is in the event log.
func Run(ctx context.Context, cfg Config) (int, error) {
	if len(cfg.Command) == 0 {
		return ExitCannotRun, errors.New("no command to run")
	}
	s, err := newSupervisor(cfg)
	if err != nil {
		return ExitCannotRun, err
	}
	defer s.close()
	return s.run(ctx), nil
}

type supervisor struct {
	cfg   Config
	ev    *eventLog
	runID string
	dir   string
	srv   *state.Server

	storeMu  sync.Mutex
	store    *state.Store
	storeErr error
	closeS   func()
	reaper   *reaper
	sigs     chan os.Signal

	mu       sync.Mutex
	cur      *child
	stopSig  os.Signal // a termination signal charter received
	stopOnce sync.Once
	stopCh   chan struct{}
}

func newSupervisor(cfg Config) (_ *supervisor, err error) {
	if cfg.Attempts < 1 {
		cfg.Attempts = 1
	}
	if cfg.RetryOn == nil {
		cfg.RetryOn = []int{ExitTempFail}
	}
	if cfg.Grace <= 0 {
		cfg.Grace = defaultGrace
	}
	if cfg.Backoff <= 0 {
		cfg.Backoff = defaultBackoff
	}
	if cfg.MaxBackoff < cfg.Backoff {
		cfg.MaxBackoff = max(cfg.Backoff, 30*cfg.Backoff)
	}
	if cfg.Stdout == nil {
		cfg.Stdout = io.Discard
	}
	if cfg.Stderr == nil {
		cfg.Stderr = io.Discard
	}
	if cfg.Getenv == nil {
		cfg.Getenv = os.Getenv
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Redaction == nil {
		if cfg.Redaction, err = NewRedaction(RedactionSources{Env: cfg.Env, Files: DefaultSecretFiles}); err != nil {
			return nil, err
		}
	}
	if cfg.JobID == "" {
		cfg.JobID = filepath.Base(cfg.Command[0])
	}
	// charter's stderr is shared by the command's stderr and the events: one lock, so
	// that lines never interleave mid-write.
	lw := &lockedWriter{w: cfg.Stderr}
	cfg.Stderr = lw
	if cfg.Events == nil {
		cfg.Events = lw
	}
	s := &supervisor{cfg: cfg, runID: newID(), stopCh: make(chan struct{})}
	s.ev = &eventLog{w: cfg.Events, red: cfg.Redaction, now: cfg.Now, job: cfg.JobID, runID: s.runID}
	if s.dir, err = os.MkdirTemp("", "charter-run-"); err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			s.close()
		}
	}()
	if err := s.openState(); err != nil {
		return nil, err
	}
	if cfg.Reap || os.Getpid() == 1 {
		if s.reaper, err = startReaper(); err != nil {
			return nil, fmt.Errorf("cannot reap orphaned processes: %w", err)
		}
	}
	return s, nil
}

// openState serves the job's state on a socket in the run's directory. A durable state
// file is opened now, so that a run that cannot have it (another run holds it) fails
// before starting anything; a run-only store is opened when the job first asks.
func (s *supervisor) openState() error {
	if strings.Contains(s.cfg.StatePath, "://") {
		return fmt.Errorf("job.state: %q: charter run keeps state in a file; URLs are not supported yet", s.cfg.StatePath)
	}
	if s.cfg.StatePath != "" {
		st, err := state.Open(s.cfg.StatePath)
		if err != nil {
			return err
		}
		s.store = st
		s.srv = state.NewServer(st)
	} else {
		s.srv = state.NewLazyServer(s.ephemeralStore)
	}
	sock := filepath.Join(s.dir, "state.sock")
	l, err := state.Listen(sock)
	if err != nil {
		return err
	}
	hs := state.NewHTTPServer(s.srv)
	done := make(chan struct{})
	go func() { _ = hs.Serve(l); close(done) }()
	s.closeS = func() { _ = hs.Close(); <-done }
	s.cfg.Env = withEnv(s.cfg.Env, "CHARTER_STATE_SOCKET", sock)
	if s.store != nil {
		s.ev.emit(Event{Action: ActionState, Status: "opened"})
	} else {
		s.ev.emit(Event{Action: ActionState, Status: "ephemeral", Reason: "job.state is not set: state lasts for this run only"})
	}
	return nil
}

// ephemeralStore opens the run-only store on first use.
func (s *supervisor) ephemeralStore() (*state.Store, error) {
	s.storeMu.Lock()
	defer s.storeMu.Unlock()
	if s.store == nil && s.storeErr == nil {
		s.store, s.storeErr = state.OpenEphemeral(filepath.Join(s.dir, "state.db"))
	}
	return s.store, s.storeErr
}

func (s *supervisor) close() {
	if s.closeS != nil {
		s.closeS()
	}
	s.storeMu.Lock()
	if s.store != nil {
		_ = s.store.Close()
	}
	s.storeMu.Unlock()
	if s.reaper != nil {
		s.reaper.close()
	}
	if s.dir != "" {
		_ = os.RemoveAll(s.dir)
	}
}

// stop is called for a termination signal or the caller's context: no attempt follows.
func (s *supervisor) stop() { s.stopOnce.Do(func() { close(s.stopCh) }) }

// stopCode is the exit code of a run stopped between attempts: 128+N for the signal
// charter received, as if the command had died of it.
func (s *supervisor) stopCode() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sig, ok := s.stopSig.(syscall.Signal); ok {
		return 128 + int(sig)
	}
	return 128 + int(syscall.SIGTERM)
}

func (s *supervisor) stopping() bool {
	select {
	case <-s.stopCh:
		return true
	default:
		return false
	}
}

func (s *supervisor) run(ctx context.Context) int {
	start := s.cfg.Now()
	s.forwardSignals()
	defer s.stopForwarding()
	// The caller's cancellation reaches the attempts through stop (like SIGTERM); runCtx
	// ends only at the deadline, so the two are told apart.
	runCtx := context.WithoutCancel(ctx)
	if s.cfg.Deadline > 0 {
		var cancel context.CancelFunc
		runCtx, cancel = context.WithTimeout(runCtx, s.cfg.Deadline)
		defer cancel()
	}
	go func() {
		select {
		case <-ctx.Done():
			s.stop()
		case <-s.stopCh:
		}
	}()
	s.ev.emit(Event{Action: ActionRun, Status: "started", Reason: fmt.Sprintf("%d attempt(s) at most, %d secret value(s) masked",
		s.cfg.Attempts, s.cfg.Redaction.Values())})
	code, status, reason := s.attempts(runCtx)
	level := "INFO"
	if code != 0 {
		level = "ERROR"
	}
	s.ev.emit(Event{Level: level, Action: ActionRun, Status: status, ExitCode: intp(code),
		Duration: msp(s.cfg.Now().Sub(start)), Reason: reason})
	return code
}

// attempts runs attempts until one settles the run; it returns the exit code, the run's
// status and why.
func (s *supervisor) attempts(ctx context.Context) (code int, status, reason string) {
	var prevWait time.Duration
	for attempt := 1; ; attempt++ {
		res := s.gateAndRun(ctx, attempt)
		if res.final {
			return res.code, res.status, res.reason
		}
		if attempt >= s.cfg.Attempts {
			return res.code, "failed", fmt.Sprintf("%s; no attempts left (%d)", res.reason, s.cfg.Attempts)
		}
		wait := s.backoff(attempt, prevWait)
		prevWait = wait
		if dl, ok := ctx.Deadline(); ok && s.cfg.Now().Add(wait).After(dl) {
			return res.code, "failed", res.reason + "; the deadline would pass before the next attempt"
		}
		s.ev.emit(Event{Action: ActionBackoff, Attempt: attempt, Status: "waiting", Duration: msp(wait), Reason: res.reason})
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-s.stopCh:
			t.Stop()
			return s.stopCode(), "signalled", "stopped while waiting to retry"
		case <-ctx.Done():
			t.Stop()
			return ExitDeadline, "deadline", "the deadline passed while waiting to retry"
		}
	}
}

// outcome is how an attempt ended: final settles the run, otherwise it may be retried.
type outcome struct {
	final  bool
	code   int
	status string
	reason string
}

// gateAndRun checks the kill switch, then runs one attempt.
func (s *supervisor) gateAndRun(ctx context.Context, attempt int) outcome {
	if ctx.Err() != nil {
		return outcome{true, ExitDeadline, "deadline", "the deadline passed"}
	}
	if s.stopping() {
		return outcome{true, s.stopCode(), "signalled", "stopped before the attempt"}
	}
	if s.cfg.KillSwitch.configured() {
		on, mode, why, err := s.cfg.KillSwitch.check(ctx, s.cfg.Getenv, true)
		if err != nil {
			// Fail closed: a switch that cannot be read might be on.
			s.ev.emit(Event{Level: "WARN", Action: ActionKillSwitch, Attempt: attempt, Status: "unreachable", Reason: err.Error()})
			return outcome{false, ExitTempFail, "failed", "the kill switch could not be read, so the action was not run"}
		}
		if on {
			return s.switched(attempt, mode, why+"; the action was not run")
		}
	}
	return s.runAttempt(ctx, attempt)
}

// switched ends the run for the kill switch.
func (s *supervisor) switched(attempt int, mode, why string) outcome {
	if mode == ModeSkip {
		s.ev.emit(Event{Level: "WARN", Action: ActionKillSwitch, Attempt: attempt, Status: "skipped", Reason: why})
		return outcome{true, 0, "skipped", why}
	}
	s.ev.emit(Event{Level: "ERROR", Action: ActionKillSwitch, Attempt: attempt, Status: "stopped", Reason: why})
	return outcome{true, ExitStopped, "stopped", why}
}

func (s *supervisor) retryable(code int) bool { return slices.Contains(s.cfg.RetryOn, code) }

// runAttempt runs the command once and classifies how it ended.
func (s *supervisor) runAttempt(ctx context.Context, attempt int) outcome {
	start := s.cfg.Now()
	owner := s.runID + "/" + strconv.Itoa(attempt)
	s.srv.SetOwner(owner)
	defer s.srv.SetOwner("")
	env := withEnv(s.cfg.Env, "CHARTER_JOB_ID", s.cfg.JobID)
	env = withEnv(env, "CHARTER_RUN_ID", s.runID)
	env = withEnv(env, "CHARTER_ATTEMPT", strconv.Itoa(attempt))
	if dl, ok := ctx.Deadline(); ok {
		env = withEnv(env, "CHARTER_DEADLINE", dl.UTC().Format(time.RFC3339Nano))
	}
	stdout := s.cfg.Redaction.Writer(s.cfg.Stdout)
	stderr := s.cfg.Redaction.Writer(s.cfg.Stderr)
	s.ev.emit(Event{Action: ActionAttempt, Attempt: attempt, Status: "started"})
	c, err := startChild(s.cfg.Command, env, s.cfg.Stdin, stdout, stderr, s.cfg.Group, s.reaper)
	if err != nil {
		_, _ = stdout.Close(), stderr.Close()
		code := ExitNoExec
		if errors.Is(err, exec.ErrNotFound) || errors.Is(err, os.ErrNotExist) {
			code = ExitNotFound
		}
		s.ev.emit(Event{Level: "ERROR", Action: ActionAttempt, Attempt: attempt, Status: "failed", ExitCode: intp(code),
			Duration: msp(s.cfg.Now().Sub(start)), Reason: err.Error()})
		return outcome{!s.retryable(code), code, "failed", "the command could not be started"}
	}
	s.mu.Lock()
	s.cur = c
	s.mu.Unlock()
	end := s.watch(ctx, c, attempt)
	s.mu.Lock()
	s.cur = nil
	s.mu.Unlock()
	c.finish()
	_, _ = stdout.Close(), stderr.Close()
	return s.classify(attempt, start, c.exitCode(), end)
}

// ending says why an attempt was asked to end.
type ending struct {
	timeout, deadline, signalled bool
	ksMode, ksWhy                string
}

// watch waits for the child, ending it (SIGTERM, then SIGKILL after the grace period)
// on timeout, deadline, termination signal or kill switch.
func (s *supervisor) watch(ctx context.Context, c *child, attempt int) ending {
	var end ending
	var timeoutC, graceC <-chan time.Time
	if s.cfg.AttemptTimeout > 0 {
		t := time.NewTimer(s.cfg.AttemptTimeout)
		defer t.Stop()
		timeoutC = t.C
	}
	deadlineC, stopC := ctx.Done(), s.stopCh
	var pollC <-chan time.Time
	if s.cfg.KillSwitch.configured() {
		poll := s.cfg.KillSwitch.Poll
		if poll <= 0 {
			poll = time.Second
		}
		tk := time.NewTicker(poll)
		defer tk.Stop()
		pollC = tk.C
	}
	lastURL := s.cfg.Now()
	terminate := func() {
		timeoutC, deadlineC, stopC, pollC = nil, nil, nil, nil
		c.signal(syscall.SIGTERM)
		graceC = time.After(s.cfg.Grace)
	}
	for {
		select {
		case <-c.done:
			if s.stopping() {
				end.signalled = true
			}
			return end
		case <-timeoutC:
			end.timeout = true
			terminate()
		case <-deadlineC:
			end.deadline = true
			terminate()
		case <-stopC:
			// A signal charter received was forwarded already; a cancelled context
			// (no signal) asks the command to stop here. The grace period starts now.
			end.signalled = true
			s.mu.Lock()
			forwarded := s.stopSig != nil
			s.mu.Unlock()
			if !forwarded {
				c.signal(syscall.SIGTERM)
			}
			timeoutC, deadlineC, stopC, pollC = nil, nil, nil, nil
			graceC = time.After(s.cfg.Grace)
		case <-pollC:
			askURL := s.cfg.Now().Sub(lastURL) >= max(5*time.Second, s.cfg.KillSwitch.Poll)
			if askURL {
				lastURL = s.cfg.Now()
			}
			if on, mode, why, err := s.cfg.KillSwitch.check(ctx, s.cfg.Getenv, askURL); err == nil && on {
				end.ksMode, end.ksWhy = mode, why+" during the attempt"
				terminate()
			}
		case <-graceC:
			graceC = nil
			c.kill()
		}
	}
}

// classify turns an ended attempt into an outcome and logs it.
func (s *supervisor) classify(attempt int, start time.Time, code int, end ending) outcome {
	ev := Event{Action: ActionAttempt, Attempt: attempt, ExitCode: intp(code), Duration: msp(s.cfg.Now().Sub(start))}
	var out outcome
	switch {
	case end.ksMode != "":
		ev.Status, ev.Reason, ev.Level = "killed", end.ksWhy, "WARN"
		s.ev.emit(ev)
		return s.switched(attempt, end.ksMode, end.ksWhy)
	case end.deadline:
		ev.Status, ev.Reason, ev.Level = "timeout", "the run's deadline passed", "ERROR"
		out = outcome{true, ExitDeadline, "deadline", ev.Reason}
	case end.signalled:
		ev.Status, ev.Reason, ev.Level = "failed", "charter was asked to stop", "WARN"
		out = outcome{true, code, "signalled", ev.Reason}
	case end.timeout:
		ev.Status, ev.Reason, ev.Level = "timeout", fmt.Sprintf("the attempt ran longer than %s", s.cfg.AttemptTimeout), "WARN"
		out = outcome{false, ExitDeadline, "deadline", ev.Reason}
	case code == 0:
		ev.Status = "ok"
		out = outcome{true, 0, "ok", ""}
	case s.retryable(code):
		ev.Status, ev.Reason, ev.Level = "failed", fmt.Sprintf("exit code %d is retried", code), "WARN"
		out = outcome{false, code, "failed", ev.Reason}
	default:
		ev.Status, ev.Reason, ev.Level = "failed", fmt.Sprintf("exit code %d is not retried", code), "ERROR"
		out = outcome{true, code, "failed", ev.Reason}
	}
	s.ev.emit(ev)
	return out
}

// lockedWriter makes each Write atomic with respect to the others.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// withEnv sets name=value in env, replacing an earlier setting.
func withEnv(env []string, name, value string) []string {
	out := make([]string, 0, len(env)+1)
	for _, kv := range env {
		if !strings.HasPrefix(kv, name+"=") {
			out = append(out, kv)
		}
	}
	return append(out, name+"="+value)
}

func newID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
