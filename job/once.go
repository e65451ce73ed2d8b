package job

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"

	"github.com/charterhq/charter/internal/state"
)

// store is the job's state: the API client under `charter run`, or a file of its own.
type store interface {
	Checkpoint(ctx context.Context, key string) ([]byte, bool, error)
	SetCheckpoint(ctx context.Context, key string, value []byte) error
	Claim(ctx context.Context, key string) (state.Record, state.Outcome, error)
	Finish(ctx context.Context, key string, st state.Status, result string) error
	Release(ctx context.Context, key string) error
	Abandon(ctx context.Context, key string) error
	Close() error
}

// localStore is a state file opened by the job itself, with one owner for the process.
type localStore struct {
	st    *state.Store
	owner string
}

func (l *localStore) Checkpoint(_ context.Context, key string) ([]byte, bool, error) {
	return l.st.Checkpoint(key)
}

func (l *localStore) SetCheckpoint(_ context.Context, key string, v []byte) error {
	return l.st.SetCheckpoint(key, v)
}

func (l *localStore) Claim(_ context.Context, key string) (state.Record, state.Outcome, error) {
	return l.st.Claim(key, l.owner)
}

func (l *localStore) Finish(_ context.Context, key string, st state.Status, result string) error {
	return l.st.Finish(key, l.owner, st, result)
}

func (l *localStore) Release(_ context.Context, key string) error { return l.st.Release(key, l.owner) }
func (l *localStore) Abandon(_ context.Context, key string) error { return l.st.Abandon(key, l.owner) }
func (l *localStore) Close() error                                { return l.st.Close() }

// ErrBusy is returned by Once when the same step is running right now in this attempt.
var ErrBusy = errors.New("job: the step is already running in this attempt")

// StepError is returned by Once for a step recorded as failed, by this call or an
// earlier one. It is permanent: Once never runs the step again.
type StepError struct {
	Key    string
	Reason string // redacted
	err    error  // the step's own error, when it failed in this call
}

func (e *StepError) Error() string { return fmt.Sprintf("job: step %q failed: %s", e.Key, e.Reason) }

// Unwrap returns the step's own error when it failed in this call.
func (e *StepError) Unwrap() error { return e.err }

// Permanent marks err as a failure that retrying cannot fix (a rejected post, a 4xx):
// Once records the step as failed, and ExitCode maps it to 1.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &markedError{err: err, permanent: true}
}

// NoEffect marks err as a failure that left no trace (a 429, a refused connection, a
// validation error before anything was sent): Once forgets the claim, so a later call
// runs the step again.
func NoEffect(err error) error {
	if err == nil {
		return nil
	}
	return &markedError{err: err}
}

// IsPermanent reports whether err is, or wraps, a Permanent error or a StepError.
func IsPermanent(err error) bool {
	var m *markedError
	var s *StepError
	return errors.As(err, &m) && m.permanent || errors.As(err, &s)
}

func isNoEffect(err error) bool {
	var m *markedError
	return errors.As(err, &m) && !m.permanent
}

type markedError struct {
	err       error
	permanent bool
}

func (e *markedError) Error() string { return e.err.Error() }
func (e *markedError) Unwrap() error { return e.err }

// StepOption configures one Once call.
type StepOption[T any] func(*stepConfig[T])

type stepConfig[T any] struct {
	reconcile func(context.Context) (T, bool, error)
}

// Reconcile sets the hook Once calls for a step found in flight: the attempt that ran it
// stopped (killed, crashed, timed out) before recording the outcome. The hook asks the
// other side whether the step took effect: it returns the step's result and true when it
// did (Once records it done), false when it did not (Once runs the step). An error leaves
// the step in flight for the next attempt to reconcile.
//
// Without a hook, a step found in flight is recorded as failed and not run again: at most
// once.
func Reconcile[T any](hook func(ctx context.Context) (T, bool, error)) StepOption[T] {
	return func(c *stepConfig[T]) { c.reconcile = hook }
}

// Once runs fn for the step named key unless it already ran. A step that is done returns
// its recorded result without calling fn; one that failed returns a *StepError. fn's
// outcome is recorded as its error says:
//
//   - nil: done, with fn's result (JSON-encoded);
//   - Permanent(err): failed; never run again;
//   - NoEffect(err): forgotten; the next call runs fn again;
//   - any other error: unknown, since fn may have acted before failing (a timeout, a 5xx
//     after the request was sent); the next call reconciles it like a crash.
//
// The claim is on disk before fn runs, so a kill at any moment leaves the step either
// done, or in flight for the next attempt to reconcile (see Reconcile).
func Once[T any](ctx context.Context, key string, fn func(ctx context.Context) (T, error), opts ...StepOption[T]) (T, error) {
	var zero T
	rt := from(ctx)
	if rt == nil || rt.store == nil {
		return zero, ErrNoState
	}
	var cfg stepConfig[T]
	for _, o := range opts {
		o(&cfg)
	}
	rec, out, err := rt.store.Claim(ctx, key)
	if err != nil {
		return zero, fmt.Errorf("job: claiming step %q: %w", key, err)
	}
	switch out {
	case state.Finished:
		return finished[T](rec)
	case state.Busy:
		return zero, fmt.Errorf("step %q: %w", key, ErrBusy)
	case state.Reconcile:
		if v, done, err := reconcileStep(ctx, rt, key, cfg.reconcile); err != nil || done {
			return v, err
		}
	}
	v, err := fn(ctx)
	return v, rt.record(ctx, key, v, err)
}

// finished returns what a done or failed record says.
func finished[T any](rec state.Record) (T, error) {
	var v T
	if rec.Status == state.Failed {
		return v, &StepError{Key: rec.Key, Reason: rec.Result}
	}
	if rec.Result != "" {
		if err := json.Unmarshal([]byte(rec.Result), &v); err != nil {
			return v, fmt.Errorf("job: step %q: decoding its recorded result: %w", rec.Key, err)
		}
	}
	return v, nil
}

// atMostOnce is the reason recorded for a step found in flight with no reconcile hook.
const atMostOnce = "in flight when an earlier attempt stopped, and no reconcile hook can tell whether it took effect: not run again (at most once)"

// reconcileStep settles a step found in flight; done reports that Once must not run it.
func reconcileStep[T any](ctx context.Context, rt *runtime, key string, hook func(context.Context) (T, bool, error)) (v T, done bool, err error) {
	sctx := context.WithoutCancel(ctx) // recording outlives a SIGTERM
	if hook == nil {
		rt.logger.Warn("step found in flight; not run again", slog.String("step", key))
		if err := rt.store.Finish(sctx, key, state.Failed, atMostOnce); err != nil {
			return v, true, fmt.Errorf("job: recording step %q: %w", key, err)
		}
		return v, true, &StepError{Key: key, Reason: atMostOnce}
	}
	v, took, err := hook(ctx)
	if err != nil {
		// Still unknown: leave it for the next call to reconcile.
		_ = rt.store.Abandon(sctx, key)
		return v, true, fmt.Errorf("job: reconciling step %q: %w", key, err)
	}
	rt.logger.Info("step found in flight reconciled", slog.String("step", key), slog.Bool("took_effect", took))
	if !took {
		return v, false, nil
	}
	return v, true, rt.record(sctx, key, v, nil)
}

// record stores fn's outcome and returns the error Once returns.
func (rt *runtime) record(ctx context.Context, key string, v any, ferr error) error {
	// The outcome is recorded even when ctx has ended (SIGTERM during the step): the step
	// happened, and forgetting that would repeat it.
	ctx = context.WithoutCancel(ctx)
	switch {
	case ferr == nil:
		b, err := json.Marshal(v)
		if err != nil {
			_ = rt.store.Abandon(ctx, key)
			return fmt.Errorf("job: step %q: encoding its result: %w", key, err)
		}
		if err := rt.store.Finish(ctx, key, state.Done, string(b)); err != nil {
			return fmt.Errorf("job: step %q ran but could not be recorded (it will be reconciled): %w", key, err)
		}
		return nil
	case IsPermanent(ferr):
		reason := rt.redactor.String(ferr.Error())
		if err := rt.store.Finish(ctx, key, state.Failed, clip(reason)); err != nil {
			return errors.Join(ferr, fmt.Errorf("job: recording step %q failed: %w", key, err))
		}
		return &StepError{Key: key, Reason: reason, err: ferr}
	case isNoEffect(ferr):
		if err := rt.store.Release(ctx, key); err != nil {
			return errors.Join(ferr, fmt.Errorf("job: releasing step %q: %w", key, err))
		}
		return ferr
	}
	if err := rt.store.Abandon(ctx, key); err != nil {
		return errors.Join(ferr, fmt.Errorf("job: step %q: %w", key, err))
	}
	return ferr
}

func clip(s string) string {
	if len(s) > 4096 {
		return s[:4096]
	}
	return s
}
