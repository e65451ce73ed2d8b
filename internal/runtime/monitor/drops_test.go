package monitor

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// lossySource is a kernel side that delivers a few events and reports drops.
type lossySource struct {
	events []Event
	drops  atomic.Uint64
}

func (s *lossySource) run(ctx context.Context, out chan<- []Event) error {
	for _, e := range s.events {
		out <- []Event{e}
	}
	s.drops.Store(7)
	<-ctx.Done()
	return nil
}

func (s *lossySource) dropped() uint64 { return s.drops.Load() }
func (s *lossySource) close() error    { return nil }

// TestDropsAreReported: drops show up as a warning while the monitor runs and in the
// counts at the end.
func TestDropsAreReported(t *testing.T) {
	old := dropCheckInterval
	dropCheckInterval = 10 * time.Millisecond
	defer func() { dropCheckInterval = old }()
	m := benchMonitor()
	m.src = &lossySource{events: []Event{{Kind: KindExec, Comm: "true"}, {Kind: KindOpen, Path: "/etc/x"}}}
	m.sourceName = "test"
	var mu sync.Mutex
	var warnings []string
	warned := make(chan struct{}, 1)
	m.opts.Warn = func(s string) {
		mu.Lock()
		warnings = append(warnings, s)
		mu.Unlock()
		select {
		case warned <- struct{}{}:
		default:
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan Counts)
	go func() {
		c, _ := m.Run(ctx)
		done <- c
	}()
	select {
	case <-warned:
	case <-time.After(10 * time.Second):
		t.Fatal("no warning about drops")
	}
	cancel()
	c := <-done
	mu.Lock()
	defer mu.Unlock()
	if !strings.HasPrefix(warnings[0], "7 events dropped in the last") {
		t.Errorf("warning %q", warnings[0])
	}
	if c.Dropped != 7 || c.Events != 2 || !strings.Contains(c.String(), "7 dropped") {
		t.Errorf("counts %s", c)
	}
}

// TestUnresolvedIsCounted: a relative path whose process is gone cannot be judged, and
// the counts say so rather than dropping it silently.
func TestUnresolvedIsCounted(t *testing.T) {
	m := benchMonitor()
	id := strings.Repeat("cd", 32)
	e := Event{Kind: KindOpen, PID: 1 << 30, CgroupLeaf: id, CgroupParent: "docker", Path: "shadow", Flags: 0}
	m.handle(context.Background(), &e)
	if m.counts.Unresolved != 1 || !strings.Contains(m.counts.String(), "1 unresolved") {
		t.Errorf("counts %s", m.counts)
	}
}
