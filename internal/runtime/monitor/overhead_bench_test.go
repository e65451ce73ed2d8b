//go:build amd64 || arm64

package monitor

import (
	"context"
	"net"
	"os"
	"syscall"
	"testing"
)

// BenchmarkTracedSyscalls measures what the kernel side adds to the system calls it
// watches, with and without the programs attached (the reader drains the ring buffer
// meanwhile). Run as root, alternating, with -count: on a shared machine the load moves
// more than the tracing does.
//
//	go test ./internal/runtime/monitor/ -run '^$' -bench TracedSyscalls -count 5
func BenchmarkTracedSyscalls(b *testing.B) {
	if os.Geteuid() != 0 {
		b.Skip("needs root")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = ln.Close() }()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			_ = c.Close()
		}
	}()
	addr := ln.Addr().String()
	// The allowlist names the listener: with it, each connect is looked up and left out
	// in the kernel (what a watched service connecting where it should costs).
	allow, err := NewEgress(context.Background(), []string{addr}, true, nil)
	if err != nil {
		b.Fatal(err)
	}
	ops := []struct {
		name string
		op   func(b *testing.B)
	}{
		{"open-other", func(b *testing.B) { openClose(b, "/etc/hostname") }}, // filtered out in the kernel
		{"open-shadow", func(b *testing.B) { openClose(b, "/etc/shadow") }},  // an event each
		{"connect", func(b *testing.B) { dialClose(b, addr) }},               // an event each
		{"exec", func(b *testing.B) { forkExec(b) }},                         // an event each
		{"getpid", func(*testing.B) { _ = syscall.Getpid() }},                // not watched: the sys_enter filter alone
	}
	for _, o := range ops {
		for _, mode := range []string{"off", "on", "allowed"} {
			if mode == "allowed" && o.name != "connect" {
				continue
			}
			b.Run(o.name+"/"+mode, func(b *testing.B) {
				switch mode {
				case "on":
					defer attach(b, nil)()
				case "allowed":
					defer attach(b, allow)()
				}
				for b.Loop() {
					o.op(b)
				}
			})
		}
	}
}

// attach loads the kernel side and drains its events until stopped. The benchmark's own
// process is filtered out in the kernel, so its children (exec) and threads count only
// when they are another process: opens and connects are made by this process, which
// own_tgid would hide, so the filter is switched off here.
func attach(b *testing.B, eg *Egress) func() {
	src, err := openBPFFor(0, eg)
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	events := make(chan []Event, 64)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = src.run(ctx, events)
	}()
	go func() {
		for {
			select {
			case <-events:
			case <-ctx.Done():
				return
			}
		}
	}()
	return func() {
		cancel()
		<-done
		if d := src.dropped(); d > 0 {
			b.Logf("%d events dropped", d)
		}
		if eg != nil && src.filtered()[KindConnect] == 0 {
			b.Error("no connect was filtered in the kernel")
		}
		_ = src.close()
	}
}

func openClose(b *testing.B, p string) {
	fd, err := syscall.Open(p, syscall.O_RDONLY, 0)
	if err != nil {
		b.Fatal(err)
	}
	_ = syscall.Close(fd)
}

func dialClose(b *testing.B, addr string) {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		b.Fatal(err)
	}
	_ = c.Close()
}

func forkExec(b *testing.B) {
	pid, err := syscall.ForkExec("/bin/true", []string{"true"}, &syscall.ProcAttr{})
	if err != nil {
		b.Fatal(err)
	}
	var ws syscall.WaitStatus
	if _, err := syscall.Wait4(pid, &ws, 0, nil); err != nil {
		b.Fatal(err)
	}
}
