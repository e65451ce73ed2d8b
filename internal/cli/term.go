package cli

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"golang.org/x/term"
)

func isTerminal(v any) bool {
	f, ok := v.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// colorEnabled says whether output to w may carry ANSI colours: only on a terminal, and
// never with NO_COLOR set (https://no-color.org).
func colorEnabled(env Env, w any) bool {
	return env.IsTerminal(w) && env.Getenv("NO_COLOR") == "" && env.Getenv("TERM") != "dumb"
}

// progress draws a one-line status on stderr when it is a terminal; otherwise it is silent.
// Updates are throttled so that fast work does not spend its time redrawing.
type progress struct {
	mu      sync.Mutex
	w       io.Writer
	enabled bool
	last    time.Time
	drawn   bool
}

func newProgress(env Env, disabled bool) *progress {
	return &progress{w: env.Stderr, enabled: !disabled && env.IsTerminal(env.Stderr)}
}

func (p *progress) update(format string, args ...any) {
	if p == nil || !p.enabled {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if now := time.Now(); now.Sub(p.last) >= 80*time.Millisecond {
		p.last = now
		line := fmt.Sprintf(format, args...)
		if len(line) > 78 {
			line = line[:77] + "…"
		}
		fmt.Fprintf(p.w, "\r\x1b[2K%s", line)
		p.drawn = true
	}
}

// done clears the status line.
func (p *progress) done() {
	if p == nil || !p.enabled {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.drawn {
		fmt.Fprint(p.w, "\r\x1b[2K")
		p.drawn = false
	}
}
