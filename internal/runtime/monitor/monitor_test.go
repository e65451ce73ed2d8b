//go:build amd64 || arm64

package monitor

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/charterhq/charter/internal/image"
	"github.com/charterhq/charter/internal/policy"
)

// chanSink hands alerts to the test.
type chanSink struct{ ch chan *Alert }

func (s chanSink) Write(a *Alert) error { s.ch <- a; return nil }
func (s chanSink) Close() error         { return nil }

// fakeContainer is a process in a pid namespace and a cgroup of its own: what runc makes
// of a container, without runc, an image or a network namespace. It shares the host's
// filesystem, so the "image" RT002 compares with is a directory listing a few programs.
type fakeContainer struct {
	name, cgroup string
}

func newFakeContainer(t *testing.T, name string) *fakeContainer {
	t.Helper()
	base := "/sys/fs/cgroup"
	if cgroupV1() {
		base = "/sys/fs/cgroup/memory"
	}
	dir := filepath.Join(base, name)
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatalf("creating a cgroup for the test container: %v", err)
	}
	t.Cleanup(func() {
		for i := 0; i < 50; i++ {
			if os.Remove(dir) == nil {
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
	})
	return &fakeContainer{name: name, cgroup: dir}
}

// run starts script as pid 1 of a new pid namespace, moved into the cgroup first.
func (c *fakeContainer) run(t *testing.T, script string, env ...string) {
	t.Helper()
	cmd := exec.Command("/bin/bash", "-c", "echo 1 > "+c.cgroup+"/cgroup.procs || exit 97\n"+script)
	cmd.Env = append(os.Environ(), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWPID}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", c.name, err, out)
	}
}

// imageDir is a root filesystem that lists the programs the test containers may run,
// each with the size and permissions of the host's own (the containers share the host's
// files, and RT002 compares them), and empty executables at the paths in extra.
func imageDir(t *testing.T, extra ...string) string {
	root := t.TempDir()
	for _, d := range []string{"bin", "usr/bin"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
		for _, p := range []string{"bash", "sh", "cat", "true", "cp", "sleep", "chmod"} {
			host, err := os.Stat(filepath.Join("/", d, p))
			if err != nil {
				t.Fatal(err)
			}
			file := filepath.Join(root, d, p)
			if err := os.WriteFile(file, nil, host.Mode().Perm()); err != nil {
				t.Fatal(err)
			}
			if err := os.Truncate(file, host.Size()); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, p := range extra {
		if err := os.MkdirAll(filepath.Join(root, filepath.Dir(p)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, p), nil, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func listen(t *testing.T) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			_ = c.Close()
		}
	}()
	return ln.Addr().(*net.TCPAddr).Port
}

// TestMonitorCatchesMisbehaviour runs the monitor for real against two containers: a
// well-behaved one that must raise nothing, and one that does each thing RT001–RT005
// are about (the write below /etc by a relative path, from a process gone before user
// space could look in /proc: the kernel side reads its working directory).
func TestMonitorCatchesMisbehaviour(t *testing.T) {
	needRoot(t)
	allowed, denied := listen(t), listen(t)
	eg, err := NewEgress(context.Background(), []string{"127.0.0.1:" + strconv.Itoa(allowed)}, true, net.DefaultResolver)
	if err != nil {
		t.Fatal(err)
	}
	suffix := strconv.Itoa(os.Getpid())
	good := newFakeContainer(t, "charter-good-"+suffix)
	bad := newFakeContainer(t, "charter-bad-"+suffix)
	alerts := make(chan *Alert, 100)
	// The image holds tmp/replaced (empty); the bad container writes it, then runs it.
	tmp := t.TempDir()
	m, err := New(Options{
		Source: "bpf", Egress: eg, Image: "dir:" + imageDir(t, tmp+"/replaced"), EngineHost: "unix:///nonexistent/docker.sock",
		ImageOptions: image.Options{NoCache: true},
		Sinks:        []Sink{chanSink{alerts}},
		Exceptions: []policy.MonitorException{
			{Rule: "Read sensitive file untrusted", Container: good.name, Reason: "the test's own exception"},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var counts Counts
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		counts, err = m.Run(ctx)
	}()
	// The index of the image loads in the background; exec events wait for it.
	good.run(t, fmt.Sprintf("/bin/true; cat /etc/shadow >/dev/null; exec 3<>/dev/tcp/127.0.0.1/%d", allowed))
	// A runtime's helper joins the cgroup before the namespaces (runc exec does): its
	// events come first and must not decide for the container's own processes.
	helper := exec.Command("/bin/bash", "-c", "echo $$ > "+bad.cgroup+"/cgroup.procs && /bin/true")
	if out, err := helper.CombinedOutput(); err != nil {
		t.Fatalf("helper: %v\n%s", err, out)
	}
	bad.run(t, fmt.Sprintf(`/bin/bash -c true
cat /etc/shadow >/dev/null
(cd /etc && exec /bin/bash -c ': > charter-monitor-test-%[1]s/x' 2>/dev/null)
exec 3<>/dev/tcp/127.0.0.1/%[2]d
cp /bin/true %[3]s/dropped && %[3]s/dropped
printf '#!/bin/true\n' > %[3]s/replaced && chmod 755 %[3]s/replaced && %[3]s/replaced
# The size check looks through a process of the container: one must still run.
sleep 2`, suffix, denied, tmp))

	// RT002 twice: a file the image does not hold, and one it holds, written since.
	want := map[string]bool{RT001: false, RT002 + " new": false, RT002 + " modified": false, RT003: false, RT004: false, RT005: false}
	deadline := time.After(15 * time.Second)
	for seen := 0; seen < len(want); {
		select {
		case a := <-alerts:
			id := a.Fields["container.id"]
			if id == good.name {
				t.Errorf("well-behaved container raised %s: %s", a.Rule, a.Output)
				continue
			}
			if id != bad.name {
				continue // another test's or another user's container
			}
			key := a.Rule
			if drift, ok := a.Fields["evt.drift"].(string); ok {
				key += " " + drift
			}
			if done, ok := want[key]; ok && !done {
				want[key] = true
				seen++
				checkAlert(t, a, denied, suffix, tmp)
			}
		case <-deadline:
			cancel()
			wg.Wait()
			t.Fatalf("alerts after 15 s: %v (counts %s)", want, counts)
		}
	}
	cancel()
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	if counts.Excepted == 0 {
		t.Errorf("the exception for the good container's read of /etc/shadow was not used: %s", counts)
	}
	// The good container's connect to the allowed port never left the kernel.
	if counts.Filtered["connect"] == 0 {
		t.Errorf("no connect filtered in the kernel: %s", counts)
	}
	if counts.Events == 0 || counts.Source != "ebpf" {
		t.Errorf("counts %s", counts)
	}
	t.Logf("counts: %s", counts)
}

func checkAlert(t *testing.T, a *Alert, denied int, suffix, tmp string) {
	t.Helper()
	f := a.Fields
	switch a.Rule {
	case RT001:
		if f["proc.exepath"] != "/bin/bash" || f["proc.cmdline"] != "bash -c true" {
			t.Errorf("RT001 fields %v", f)
		}
	case RT002:
		if f["evt.drift"] == driftNew && f["proc.exepath"] != tmp+"/dropped" ||
			f["evt.drift"] == driftModified && f["proc.exepath"] != tmp+"/replaced" {
			t.Errorf("RT002 fields %v", f)
		}
	case RT003:
		if f["fd.name"] != "127.0.0.1:"+strconv.Itoa(denied) {
			t.Errorf("RT003 fields %v", f)
		}
	case RT004:
		if f["fd.name"] != "/etc/charter-monitor-test-"+suffix+"/x" {
			t.Errorf("RT004 fields %v", f)
		}
	case RT005:
		if f["fd.name"] != "/etc/shadow" || f["proc.name"] != "cat" {
			t.Errorf("RT005 fields %v", f)
		}
	}
	if a.Priority != "Error" || a.Severity != "HIGH" || a.Source != "syscall" || len(a.Aliases) == 0 {
		t.Errorf("%s: %+v", a.Rule, a)
	}
}

// TestEventsBeforeStopCount: events still in the kernel's buffer when the monitor is
// stopped are read and judged before Run returns, not lost uncounted. The container
// makes its events and the monitor is stopped at once, well inside one drain interval.
func TestEventsBeforeStopCount(t *testing.T) {
	needRoot(t)
	c := newFakeContainer(t, "charter-stop-"+strconv.Itoa(os.Getpid()))
	m, err := New(Options{
		Source: "bpf", EngineHost: "unix:///nonexistent/docker.sock",
		Exceptions: []policy.MonitorException{{Rule: RT005, Container: c.name, Reason: "the test reads it on purpose"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var counts Counts
	done := make(chan error, 1)
	go func() {
		var err error
		counts, err = m.Run(ctx)
		done <- err
	}()
	// The first event of the container's cgroup may come before the monitor has read its
	// first drain; the reads that count are the 200 after it.
	c.run(t, "cat /etc/shadow >/dev/null; sleep 0.2; for i in $(seq 200); do read -r _ </etc/shadow; done")
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if counts.Excepted < 201 || counts.Dropped != 0 {
		t.Errorf("want the container's 201 reads judged (excepted) and none dropped: %s", counts)
	}
}
