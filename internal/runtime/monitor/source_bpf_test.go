//go:build amd64 || arm64

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
	src, events, done, cancel := startSource(t, nil)

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

// TestBPFKernelFilter checks the two filters in the kernel: a connect the egress
// allowlist allows is counted and not handed over, one it does not allow is; and once
// user space quiets a cgroup's opens, they stop coming while its connects still come.
// Events leave the ring buffer in the order they were made, so an event seen after
// another one's would-be position proves that one was left out.
func TestBPFKernelFilter(t *testing.T) {
	needRoot(t)
	allowed, other := listen(t), listen(t)
	eg, err := NewEgress(context.Background(), []string{"127.0.0.1:" + strconv.Itoa(allowed)}, true, nil)
	if err != nil {
		t.Fatal(err)
	}
	src, events, _, _ := startSource(t, eg)

	connect := func(port int) int {
		cmd := exec.Command("/bin/bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/"+strconv.Itoa(port))
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("connect to %d: %v\n%s", port, err, out)
		}
		return cmd.Process.Pid
	}
	readShadow := func() int {
		cmd := exec.Command("/bin/cat", "/etc/shadow")
		if err := cmd.Run(); err != nil {
			t.Fatal(err)
		}
		return cmd.Process.Pid
	}
	// until reads events until one matches, returning it and the events before it.
	until := func(match func(Event) bool) (Event, []Event) {
		var before []Event
		deadline := time.After(5 * time.Second)
		for {
			select {
			case e := <-events:
				if match(e) {
					return e, before
				}
				before = append(before, e)
			case <-deadline:
				t.Fatal("the expected event did not come")
			}
		}
	}
	byPID := func(kind Kind, pid int) func(Event) bool {
		return func(e Event) bool { return e.Kind == kind && e.PID == uint32(pid) } //nolint:gosec // a pid
	}

	allowedPID := connect(allowed)
	otherPID := connect(other)
	_, before := until(byPID(KindConnect, otherPID))
	for _, e := range before {
		if e.Kind == KindConnect && e.PID == uint32(allowedPID) { //nolint:gosec // a pid
			t.Errorf("an allowed connect was handed over: %+v", e)
		}
	}
	if n := src.filtered()[KindConnect]; n == 0 {
		t.Error("the allowed connect was not counted as filtered")
	}

	first, _ := until(byPID(KindOpen, readShadow()))
	if err := src.quiet(first.CgroupID, first.PIDNSLevel > 0, 1<<KindOpen); err != nil {
		t.Fatal(err)
	}
	quietPID := readShadow()
	lastPID := connect(other)
	_, before = until(byPID(KindConnect, lastPID))
	for _, e := range before {
		if e.Kind == KindOpen && e.PID == uint32(quietPID) { //nolint:gosec // a pid
			t.Errorf("an open from a quieted cgroup was handed over: %+v", e)
		}
	}
	if n := src.filtered()[KindOpen]; n == 0 {
		t.Error("the quieted open was not counted as filtered")
	}
}

// startSource loads the kernel side with eg and runs it until the test ends (or cancel):
// events is what it hands over, one event at a time, and done receives run's result.
func startSource(t *testing.T, eg *Egress) (src *bpfSource, events <-chan Event, done <-chan error, cancel func()) {
	t.Helper()
	src, err := openBPF(eg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	batches := make(chan []Event, 64)
	result := make(chan error, 1)
	stopped := make(chan struct{})
	go func() {
		result <- src.run(ctx, batches)
		close(stopped)
	}()
	out := make(chan Event, 4096)
	go func() {
		// Until run returns (it hands over a last drain after cancel): forward until the
		// test cancels, then discard.
		for {
			select {
			case batch := <-batches:
				for _, e := range batch {
					select {
					case out <- e:
					case <-ctx.Done():
					}
				}
			case <-stopped:
				return
			}
		}
	}()
	t.Cleanup(func() {
		cancel()
		_ = src.close()
	})
	return src, out, result, cancel
}
