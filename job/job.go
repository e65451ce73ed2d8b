// Package job is charter's runtime for automation jobs written in Go: programs that post
// to social platforms, pull analytics or sync ad managers, and must fail loudly, retry
// safely, never do a thing twice, never leak a token and never loop forever.
//
// A job's main hands its work to Run, which gives it a context that ends on SIGTERM, a
// logger that masks secrets, and the job's durable state: under `charter run` the state
// API on CHARTER_STATE_SOCKET, or a state file of its own (WithStateFile). Inside,
//
//   - Once runs a step (one post, one upload) at most once across attempts and crashes,
//     returning the recorded result when the step already ran, and asking a reconcile
//     hook what happened to a step that was in flight when an attempt died;
//   - Checkpoint and SetCheckpoint keep a cursor or a page token between runs;
//   - Transport retries rate-limited (429) and failed (5xx) HTTP requests with
//     exponential backoff and full jitter, honours Retry-After, and stops at a budget;
//   - NewRedactingHandler keeps secret values out of every log line.
//
// ExitCode maps Run's error to the exit code `charter run` expects: 0, 75 (EX_TEMPFAIL,
// retried by default) or 1 for a failure marked Permanent.
//
// Crash safety rests on the order of things: a step is claimed on disk before it runs and
// marked done after, so a kill between the two leaves it in flight. With a reconcile hook
// that can ask the other side whether the step took effect, every step takes effect
// exactly once; without one, at most once (a step found in flight is marked failed, not
// repeated).
package job

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/charterhq/charter/internal/secrets"
	"github.com/charterhq/charter/internal/state"
)

// Environment variables `charter run` sets for its child.
const (
	EnvStateSocket = "CHARTER_STATE_SOCKET" // the state API's unix socket
	EnvJobID       = "CHARTER_JOB_ID"
	EnvRunID       = "CHARTER_RUN_ID"
	EnvAttempt     = "CHARTER_ATTEMPT" // 1 for the first attempt
)

// Exit codes for a job's main; see ExitCode.
const (
	ExitOK        = 0
	ExitPermanent = 1
	ExitTempFail  = 75 // EX_TEMPFAIL: `charter run` retries it by default
)

// ErrNoState is returned by Once and the checkpoint functions when the job has no state:
// it runs neither under `charter run` nor with WithStateFile.
var ErrNoState = errors.New("job: no state: run under `charter run` (it serves " + EnvStateSocket + ") or use job.WithStateFile")

// Option configures Run.
type Option func(*config)

type config struct {
	stateFile string
	logger    *slog.Logger
	jobID     string
	signals   bool
}

// WithStateFile keeps the job's state in a file of its own when it does not run under
// `charter run`. The file is locked while the job runs, so two runs never share it.
func WithStateFile(path string) Option { return func(c *config) { c.stateFile = path } }

// WithLogger sets the logger behind Logger; its handler is wrapped so that secrets are
// masked. The default writes JSON lines to stderr.
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.logger = l } }

// WithJobID names the job in log lines when CHARTER_JOB_ID does not (the default is the
// program's name).
func WithJobID(id string) Option { return func(c *config) { c.jobID = id } }

// WithoutSignals leaves SIGINT and SIGTERM alone (for jobs that handle them already).
func WithoutSignals() Option { return func(c *config) { c.signals = false } }

// runtime is what Run puts in the context.
type runtime struct {
	store    store
	logger   *slog.Logger
	redactor *secrets.Redactor
}

type ctxKey struct{}

func from(ctx context.Context) *runtime {
	rt, _ := ctx.Value(ctxKey{}).(*runtime)
	return rt
}

// Run runs fn as the job: ctx ends on SIGINT or SIGTERM (so fn can stop between steps),
// and carries the job's state and logger for Once, Checkpoint and Logger. It returns
// fn's error, or why the state could not be opened.
func Run(ctx context.Context, fn func(ctx context.Context) error, opts ...Option) (err error) {
	cfg := config{signals: true}
	for _, o := range opts {
		o(&cfg)
	}
	if id := os.Getenv(EnvJobID); id != "" {
		cfg.jobID = id // charter run's name for the job wins, so its events and the job's logs agree
	}
	if cfg.jobID == "" {
		cfg.jobID = filepath.Base(os.Args[0])
	}
	if cfg.signals {
		var stop context.CancelFunc
		ctx, stop = signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
		defer stop()
	}
	runID := os.Getenv(EnvRunID)
	if runID == "" {
		runID = newID()
	}
	rt := &runtime{redactor: secrets.NewRedactor(SecretEnvValues(), secrets.WithScan())}
	base := cfg.logger
	if base == nil {
		base = slog.New(slog.NewJSONHandler(os.Stderr, nil))
	}
	rt.logger = slog.New(&redactHandler{next: base.Handler(), r: rt.redactor}).With(
		slog.String("job_id", cfg.jobID), slog.String("run_id", runID))
	if a := os.Getenv(EnvAttempt); a != "" {
		rt.logger = rt.logger.With(slog.String("attempt", a))
	}
	switch sock := os.Getenv(EnvStateSocket); {
	case sock != "":
		rt.store = state.NewClient(sock)
	case cfg.stateFile != "":
		st, err := state.Open(cfg.stateFile)
		if err != nil {
			return fmt.Errorf("job: %w", err)
		}
		// The owner is this process: the file lock guarantees no other one is alive.
		rt.store = &localStore{st: st, owner: runID + "/" + newID()}
	}
	if rt.store != nil {
		defer func() {
			if cerr := rt.store.Close(); cerr != nil && err == nil {
				err = fmt.Errorf("job: closing state: %w", cerr)
			}
		}()
	}
	return fn(context.WithValue(ctx, ctxKey{}, rt))
}

// Logger returns the job's logger: JSON lines on stderr with job_id and run_id, secrets
// masked. Outside Run it masks secrets on slog's default handler.
func Logger(ctx context.Context) *slog.Logger {
	if rt := from(ctx); rt != nil {
		return rt.logger
	}
	return slog.New(NewRedactingHandler(slog.Default().Handler(), SecretEnvValues()))
}

// ExitCode maps Run's error to a process exit code: 0 for nil, 1 for a failure marked
// Permanent (retrying cannot help), 75 (EX_TEMPFAIL) for anything else, which
// `charter run` retries within its attempt budget and deadline.
func ExitCode(err error) int {
	switch {
	case err == nil:
		return ExitOK
	case IsPermanent(err):
		return ExitPermanent
	}
	return ExitTempFail
}

func newID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
