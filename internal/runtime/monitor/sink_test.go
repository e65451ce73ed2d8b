package monitor

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func sampleAlert() *Alert {
	e := &Event{Kind: KindExec, PID: 42, PPID: 1, VPID: 3, Comm: "sh", Path: "/bin/sh", Args: []string{"sh", "-c", "a > b && c"}}
	c := &Container{Runtime: "docker", ID: strings.Repeat("ab", 32), Name: "web", Image: "registry.example.com:5000/team/web:1.2"}
	return &Alert{Time: time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC), Rule: RT001, Severity: "HIGH", Priority: "Error",
		Title: "Shell spawned in a container", Output: describe(RT001, e, c, ""), Source: "syscall", Fields: fields(e, c)}
}

func TestJSONLines(t *testing.T) {
	var buf bytes.Buffer
	j := NewJSONLines(&buf)
	if err := j.Write(sampleAlert()); err != nil {
		t.Fatal(err)
	}
	line := buf.String()
	if strings.Count(line, "\n") != 1 || !strings.Contains(line, `"proc.cmdline":"sh -c a > b && c"`) {
		t.Fatalf("line %q", line)
	}
	var back map[string]any
	if err := json.Unmarshal(buf.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	f := back["output_fields"].(map[string]any)
	if f["container.image.repository"] != "registry.example.com:5000/team/web" || f["container.image.tag"] != "1.2" ||
		f["container.id"] != strings.Repeat("ab", 6) || f["container.name"] != "web" || back["priority"] != "Error" {
		t.Errorf("fields %v", back)
	}
}

func TestTable(t *testing.T) {
	var buf bytes.Buffer
	tb := NewTable(&buf)
	for i := 0; i < 2; i++ {
		if err := tb.Write(sampleAlert()); err != nil {
			t.Fatal(err)
		}
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "TIME") || !strings.Contains(lines[1], "RT001") ||
		!strings.Contains(lines[1], "web") || !strings.Contains(lines[1], "sh -c a > b && c") {
		t.Errorf("table:\n%s", buf.String())
	}
	// A container in a pod is shown as pod/container; RT002 says which drift.
	buf.Reset()
	e := &Event{Kind: KindExec, PID: 7, Comm: "greet", Path: "/usr/local/bin/greet"}
	c := &Container{Runtime: "containerd", ID: strings.Repeat("cd", 32), Name: "app", PodName: "web"}
	a := &Alert{Rule: RT002, Severity: "HIGH", Title: "Executable that was not in the image ran (drift)", Fields: fields(e, c)}
	a.Fields["evt.drift"] = driftModified
	if err := tb.Write(a); err != nil {
		t.Fatal(err)
	}
	if out := buf.String(); !strings.Contains(out, "web/app") || !strings.Contains(out, "(drift) (modified): greet") {
		t.Errorf("table:\n%s", out)
	}
}

func TestWebhookRetriesAndNeverBlocks(t *testing.T) {
	var calls, delivered atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := calls.Add(1)
		b, _ := io.ReadAll(r.Body)
		if r.Header.Get("Content-Type") != "application/json" || !json.Valid(b) {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		if n == 1 { // the first attempt fails; the retry gets through
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		delivered.Add(1)
	}))
	defer srv.Close()
	w := NewWebhook(srv.URL, nil)
	w.backoff = time.Millisecond
	if err := w.Write(sampleAlert()); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if delivered.Load() != 1 || calls.Load() != 2 || w.Failed() != 0 {
		t.Errorf("delivered %d in %d calls, %d failed", delivered.Load(), calls.Load(), w.Failed())
	}

	// A dead endpoint: writes return at once, and what cannot be queued or delivered is counted.
	block := make(chan struct{})
	dead := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { <-block }))
	defer dead.Close()
	defer close(block)
	w = NewWebhook(dead.URL, &http.Client{Timeout: 50 * time.Millisecond})
	w.backoff = time.Millisecond
	for i := 0; i < 2000; i++ {
		if err := w.Write(sampleAlert()); err != nil {
			t.Fatal(err)
		}
	}
	if w.Failed() == 0 {
		t.Error("a full queue counted nothing as failed")
	}
	w.queueDrainWait = 100 * time.Millisecond
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if w.Failed() != 2000 {
		t.Errorf("%d of 2000 alerts counted as failed", w.Failed())
	}
}
