//go:build amd64

package monitor

import (
	"context"
	"net"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"syscall"
	"testing"
	"time"
)

func needRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("loading BPF programs needs root (CAP_BPF, CAP_PERFMON)")
	}
}

// TestBPFSourceSeesEachKind runs the real kernel side: an exec, a connect and two opens
// by this test's children must come back as events with their details.
func TestBPFSourceSeesEachKind(t *testing.T) {
	needRoot(t)
	src, err := openBPF()
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = src.close() }()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	events := make(chan Event, 4096)
	done := make(chan error, 1)
	go func() { done <- src.run(ctx, events) }()

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = ln.Close() }()
	port := ln.Addr().(*net.TCPAddr).Port
	marker := "charter-monitor-test-" + strconv.Itoa(os.Getpid())
	// The test's own process is the monitor's (its events are filtered out), so a child
	// does everything.
	script := "exec 3<>/dev/tcp/127.0.0.1/" + strconv.Itoa(port) + " 2>/dev/null || true; " +
		"cat /etc/shadow >/dev/null; : > /etc/" + marker + "-nonexistent-dir/x 2>/dev/null; true"
	cmd := exec.Command("/bin/bash", "-c", script, marker)
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	var sawExec, sawConnect, sawRead, sawWrite bool
	deadline := time.After(5 * time.Second)
	for !sawExec || !sawConnect || !sawRead || !sawWrite {
		select {
		case e := <-events:
			switch {
			case e.Kind == KindExec && slices.Contains(e.Args, marker):
				sawExec = e.Path == "/bin/bash" && e.PID == uint32(cmd.Process.Pid) && e.PPID == uint32(os.Getpid())
				if !sawExec {
					t.Errorf("exec event %+v", e)
				}
			case e.Kind == KindConnect && e.Dest.Port() == uint16(port):
				sawConnect = e.Dest.Addr().String() == "127.0.0.1"
			case e.Kind == KindOpen && e.Path == "/etc/shadow":
				sawRead = !e.Write()
			case e.Kind == KindOpen && e.Path == "/etc/"+marker+"-nonexistent-dir/x":
				sawWrite = e.Write() && e.Flags&syscall.O_CREAT != 0
			}
		case err := <-done:
			t.Fatalf("source stopped: %v", err)
		case <-deadline:
			t.Fatalf("missing events: exec %v connect %v read %v write %v", sawExec, sawConnect, sawRead, sawWrite)
		}
	}
	if n := src.dropped(); n != 0 {
		t.Errorf("%d events dropped on an idle test", n)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
