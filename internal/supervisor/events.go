package supervisor

import (
	"encoding/json"
	"io"
	"sync"
	"time"
)

// Event is one JSON line of the run's event log: what happened, never a payload.
type Event struct {
	Time     time.Time `json:"time"`
	Level    string    `json:"level"`
	JobID    string    `json:"job_id"`
	RunID    string    `json:"run_id"`
	Action   string    `json:"action"`
	Attempt  int       `json:"attempt,omitempty"`
	Status   string    `json:"status"`
	ExitCode *int      `json:"exit_code,omitempty"`
	Duration *int64    `json:"duration_ms,omitempty"`
	Reason   string    `json:"reason,omitempty"`
}

// Actions and statuses of events.
const (
	ActionRun        = "run"        // started | ok | failed | skipped | stopped | deadline | signalled
	ActionAttempt    = "attempt"    // started | ok | failed | timeout | killed
	ActionBackoff    = "backoff"    // waiting
	ActionKillSwitch = "killswitch" // skipped | stopped | unreachable
	ActionSignal     = "signal"     // forwarded
	ActionState      = "state"      // opened | ephemeral
)

// eventLog writes events as JSON lines, redacted, one Write per line.
type eventLog struct {
	mu    sync.Mutex
	w     io.Writer
	red   *Redaction
	now   func() time.Time
	job   string
	runID string
}

func (l *eventLog) emit(e Event) {
	e.Time, e.JobID, e.RunID = l.now().UTC(), l.red.String(l.job), l.runID
	e.Reason = l.red.String(e.Reason)
	if e.Level == "" {
		e.Level = "INFO"
	}
	b, err := json.Marshal(e)
	if err != nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	_, _ = l.w.Write(append(b, '\n'))
}

func intp(v int) *int { return &v }

func msp(d time.Duration) *int64 {
	v := d.Milliseconds()
	return &v
}
