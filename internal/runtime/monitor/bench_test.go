package monitor

import (
	"context"
	"encoding/binary"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/charterhq/charter/internal/report"
	"github.com/charterhq/charter/internal/secrets"
)

func benchRedactor() *secrets.Redactor { return secrets.NewRedactor(nil, secrets.WithScan()) }

// benchMonitor is a Monitor with no kernel side, for measuring the user-space work per
// event.
func benchMonitor() *Monitor {
	m := &Monitor{
		opts:       Options{Logger: slog.New(slog.DiscardHandler), Warn: func(string) {}},
		rules:      map[string]report.Rule{},
		containers: map[string]*tracked{}, indexes: map[string]*imageIndex{},
		loaded: make(chan indexResult, 1),
		counts: Counts{ByKind: map[string]uint64{}, Alerts: map[string]uint64{}},
	}
	for _, r := range Rules() {
		m.rules[r.ID] = r
	}
	return m
}

// BenchmarkHandleHostExec is the monitor's cost for the most common event on a busy
// host: a process started outside any container (decode, cgroup lookup, count).
func BenchmarkHandleHostExec(b *testing.B) {
	m := benchMonitor()
	rec := record(KindExec, func(r []byte) {
		copy(r[offLeaf:], "a153e19cdd292ce79efa2a90c917daf9\x00")
		copy(r[offParent:], "\x00")
		binary.LittleEndian.PutUint32(r[44:], 0)
		copy(r[offPath:], "/bin/true\x00")
		binary.LittleEndian.PutUint32(r[offArgsN:], 5)
		copy(r[offArgs:], "true\x00")
	})
	ctx := context.Background()
	now := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		e, err := decode(rec, now)
		if err != nil {
			b.Fatal(err)
		}
		m.handle(ctx, &e)
	}
}

// BenchmarkHandleContainerShell is an event that raises RT001 and is written as JSON.
func BenchmarkHandleContainerShell(b *testing.B) {
	m := benchMonitor()
	m.opts.Sinks = []Sink{NewJSONLines(io.Discard)}
	m.redact = benchRedactor()
	rec := record(KindExec, func(r []byte) {
		copy(r[offPath:], "/bin/sh\x00")
		binary.LittleEndian.PutUint32(r[offArgsN:], 8)
		copy(r[offArgs:], "sh\x00-c\x00id\x00")
	})
	// A docker container whose engine is not reachable: IDs only.
	id := "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	copy(rec[offLeaf:], id+"\x00")
	copy(rec[offParent:], "docker\x00")
	ctx := context.Background()
	now := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		e, err := decode(rec, now)
		if err != nil {
			b.Fatal(err)
		}
		m.handle(ctx, &e)
	}
}
