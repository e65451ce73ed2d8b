package monitor

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// JSONLines writes one alert per line, flushed as it comes (a log shipper tails it).
type JSONLines struct {
	w   *bufio.Writer
	enc *json.Encoder
}

// NewJSONLines writes alerts to w.
func NewJSONLines(w io.Writer) *JSONLines {
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false) // command lines keep their > and & readable
	return &JSONLines{w: bw, enc: enc}
}

// Write implements Sink.
func (j *JSONLines) Write(a *Alert) error {
	if err := j.enc.Encode(a); err != nil {
		return err
	}
	return j.w.Flush()
}

// Close implements Sink.
func (j *JSONLines) Close() error { return j.w.Flush() }

// Table writes one aligned line per alert for a person watching a terminal.
type Table struct {
	w      io.Writer
	header bool
}

// NewTable writes alerts to w.
func NewTable(w io.Writer) *Table { return &Table{w: w} }

// Write implements Sink.
func (t *Table) Write(a *Alert) error {
	if !t.header {
		t.header = true
		if _, err := fmt.Fprintf(t.w, "%-8s  %-5s  %-8s  %-14s  %-16s  %s\n", "TIME", "RULE", "SEVERITY", "CONTAINER", "PROCESS", "DETAIL"); err != nil {
			return err
		}
	}
	ctr, _ := a.Fields["container.name"].(string)
	if pod, ok := a.Fields["k8s.pod.name"].(string); ok {
		ctr = pod + "/" + ctr
	}
	if ctr == "" {
		ctr, _ = a.Fields["container.id"].(string)
	}
	proc, _ := a.Fields["proc.name"].(string)
	detail := a.Title
	if drift, ok := a.Fields["evt.drift"].(string); ok {
		detail += " (" + drift + ")"
	}
	if fd, ok := a.Fields["fd.name"].(string); ok {
		detail += ": " + fd
	} else if cmd, ok := a.Fields["proc.cmdline"].(string); ok {
		detail += ": " + cmd
	}
	if a.Enforced != "" {
		detail += " [" + a.Enforced + "]"
	}
	_, err := fmt.Fprintf(t.w, "%-8s  %-5s  %-8s  %-14s  %-16s  %s\n", a.Time.Local().Format("15:04:05"), a.Rule,
		a.Severity, clipTo(ctr, 14), clipTo(proc, 16), strings.ReplaceAll(detail, "\n", " "))
	return err
}

// Close implements Sink.
func (t *Table) Close() error { return nil }

func clipTo(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n-1] + "…"
}

// Webhook POSTs each alert as JSON to a URL. Alerts wait in a bounded queue served by
// one goroutine, so a slow or dead endpoint never holds up the event loop: when the
// queue is full the alert is counted as failed instead. Each POST is tried up to
// Attempts times (5xx, 429 and network errors), with a doubling wait.
type Webhook struct {
	url      string
	client   *http.Client
	queue    chan []byte
	attempts int
	backoff  time.Duration
	// queueDrainWait bounds how long Close waits for queued alerts.
	queueDrainWait time.Duration
	failed         atomic.Uint64
	done           chan struct{}
	once           sync.Once
	ctx            context.Context
	cancel         context.CancelFunc
}

// NewWebhook starts the sender. Close stops it after the queue drains (bounded by a
// few seconds).
func NewWebhook(url string, client *http.Client) *Webhook {
	if client == nil {
		client = &http.Client{Timeout: 5 * time.Second}
	}
	ctx, cancel := context.WithCancel(context.Background())
	w := &Webhook{url: url, client: client, queue: make(chan []byte, 1024), attempts: 3,
		backoff: 500 * time.Millisecond, queueDrainWait: 5 * time.Second, done: make(chan struct{}), ctx: ctx, cancel: cancel}
	go w.send()
	return w
}

// Write implements Sink: it queues and returns at once.
func (w *Webhook) Write(a *Alert) error {
	b, err := json.Marshal(a)
	if err != nil {
		return err
	}
	select {
	case w.queue <- b:
		return nil
	default:
		w.failed.Add(1)
		return nil
	}
}

// Failed is how many alerts were not delivered (queue full, or every attempt failed).
func (w *Webhook) Failed() uint64 { return w.failed.Load() }

func (w *Webhook) send() {
	defer close(w.done)
	for b := range w.queue {
		if !w.post(b) {
			w.failed.Add(1)
		}
	}
}

func (w *Webhook) post(b []byte) bool {
	wait := w.backoff
	for i := 0; i < w.attempts; i++ {
		if i > 0 {
			select {
			case <-time.After(wait):
			case <-w.ctx.Done():
				return false
			}
			wait *= 2
		}
		req, err := http.NewRequestWithContext(w.ctx, http.MethodPost, w.url, bytes.NewReader(b))
		if err != nil {
			return false
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := w.client.Do(req)
		if err != nil {
			continue
		}
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		_ = resp.Body.Close()
		switch {
		case resp.StatusCode < 300:
			return true
		case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
			continue
		default:
			return false
		}
	}
	return false
}

// Close implements Sink: it waits up to 5 s for queued alerts, then gives up on the rest.
func (w *Webhook) Close() error {
	w.once.Do(func() { close(w.queue) })
	select {
	case <-w.done:
	case <-time.After(w.queueDrainWait):
		w.cancel()
		<-w.done
	}
	w.cancel()
	return nil
}
