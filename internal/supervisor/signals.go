package supervisor

import (
	"math/rand/v2"
	"os"
	"os/signal"
	"slices"
	"syscall"
	"time"
)

// forwarded are the signals passed on to the command, as tini does; the ones a runtime
// uses to stop a container also end the run (no attempt follows).
var (
	forwarded   = []os.Signal{syscall.SIGHUP, syscall.SIGINT, syscall.SIGQUIT, syscall.SIGTERM, syscall.SIGUSR1, syscall.SIGUSR2, syscall.SIGWINCH, syscall.SIGALRM, syscall.SIGCONT}
	terminating = []os.Signal{syscall.SIGHUP, syscall.SIGINT, syscall.SIGQUIT, syscall.SIGTERM}
)

func (s *supervisor) forwardSignals() {
	s.sigs = make(chan os.Signal, 16)
	signal.Notify(s.sigs, forwarded...)
	go func() {
		for sig := range s.sigs {
			// A terminating signal marks the run as stopping before the command hears of
			// it, so that however fast the command exits, its exit is not taken for a
			// failure to retry.
			stopping := slices.Contains(terminating, sig)
			if stopping {
				s.mu.Lock()
				s.stopSig = sig
				s.mu.Unlock()
				s.stop()
			}
			s.mu.Lock()
			c := s.cur
			s.mu.Unlock()
			if c != nil {
				c.signal(sig)
				s.ev.emit(Event{Action: ActionSignal, Status: "forwarded", Reason: sig.String()})
			}
		}
	}()
}

func (s *supervisor) stopForwarding() {
	signal.Stop(s.sigs)
	close(s.sigs)
}

// backoff returns the wait after attempt failed: exponential from Backoff up to
// MaxBackoff, randomised by the jitter mode so that many jobs do not retry in step.
func (s *supervisor) backoff(attempt int, prev time.Duration) time.Duration {
	base, capd := s.cfg.Backoff, s.cfg.MaxBackoff
	exp := base
	for i := 1; i < attempt && exp < capd; i++ {
		exp *= 2
	}
	exp = min(exp, capd)
	between := func(lo, hi time.Duration) time.Duration {
		if hi <= lo {
			return lo
		}
		return lo + time.Duration(rand.Int64N(int64(hi-lo)+1)) //nolint:gosec // G404: jitter, not security
	}
	switch s.cfg.Jitter {
	case "none":
		return exp
	case "equal":
		return between(exp/2, exp)
	case "decorrelated":
		if prev < base {
			prev = base
		}
		return min(capd, between(base, 3*prev))
	}
	return between(0, exp) // full
}
