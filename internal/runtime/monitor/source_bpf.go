//go:build amd64 || arm64

package monitor

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"github.com/cilium/ebpf/ringbuf"
	"github.com/cilium/ebpf/rlimit"
)

// bpfSource is the eBPF kernel side: a BTF tracepoint on sched_process_exec and a raw
// tracepoint on sys_enter (connect, open, openat, openat2), one ring buffer.
type bpfSource struct {
	objs   monitorBPFObjects
	links  []link.Link
	reader *ringbuf.Reader
}

// pollInterval is how often the ring buffer is drained, and so how late an alert can be
// on a quiet host. Each drain wakes the monitor's threads, which costs the machine more
// than judging the events (20 ms cost twice the CPU of 50 ms at a few thousand events a
// second); the 8 MiB buffer holds about 9,700 records, 50 ms of 190,000 events a second.
const pollInterval = 50 * time.Millisecond

func openBPF(eg *Egress) (*bpfSource, error) { return openBPFFor(uint32(os.Getpid()), eg) } //nolint:gosec // pids fit in 32 bits

// openBPFFor loads the kernel side, leaving out the events of process self (0: none) and
// the connects eg allows (nil: none).
func openBPFFor(self uint32, eg *Egress) (_ *bpfSource, err error) {
	if err := rlimit.RemoveMemlock(); err != nil {
		return nil, fmt.Errorf("lifting the locked-memory limit: %w", err)
	}
	spec, err := loadMonitorBPF()
	if err != nil {
		return nil, err
	}
	v1 := uint32(0)
	if cgroupV1() {
		v1 = 1
	}
	if err := spec.Variables[monitorBPFVarOwnTgid].Set(self); err != nil {
		return nil, err
	}
	if err := spec.Variables[monitorBPFVarCgroupV1].Set(v1); err != nil {
		return nil, err
	}
	declared := uint32(0)
	if eg != nil && eg.Declared {
		declared = 1
	}
	if err := spec.Variables[monitorBPFVarEgressDeclared].Set(declared); err != nil {
		return nil, err
	}
	s := &bpfSource{}
	if err := spec.LoadAndAssign(&s.objs, nil); err != nil {
		var ve *ebpf.VerifierError
		if errors.As(err, &ve) {
			return nil, fmt.Errorf("the kernel's verifier refused the monitor's program: %w", ve)
		}
		return nil, fmt.Errorf("loading the monitor's BPF programs: %w", err)
	}
	defer func() {
		if err != nil {
			_ = s.close()
		}
	}()
	if declared == 1 {
		for _, k := range eg.lpmKeys() {
			if err := s.objs.Egress.Put(k, uint8(1)); err != nil {
				return nil, fmt.Errorf("loading runtime.egress into the kernel: %w", err)
			}
		}
	}
	exec, err := link.AttachTracing(link.TracingOptions{Program: s.objs.OnExec, AttachType: ebpf.AttachTraceRawTp})
	if err != nil {
		return nil, fmt.Errorf("attaching to sched_process_exec: %w", err)
	}
	s.links = append(s.links, exec)
	sys, err := link.AttachRawTracepoint(link.RawTracepointOptions{Name: "sys_enter", Program: s.objs.OnSysEnter})
	if err != nil {
		return nil, fmt.Errorf("attaching to sys_enter: %w", err)
	}
	s.links = append(s.links, sys)
	if s.reader, err = ringbuf.NewReader(s.objs.Events); err != nil {
		return nil, fmt.Errorf("opening the ring buffer: %w", err)
	}
	return s, nil
}

// maxBatch bounds the events handed over at once, so a burst is judged while it lasts.
const maxBatch = 256

// busyDrain is a drain large enough to read again at once instead of waiting for the
// next poll: the ring buffer is filling faster than one poll interval empties it.
const busyDrain = 1024

// run drains the ring buffer every pollInterval and hands over what it held in batches.
// The drain never waits in the kernel: a thread blocked in epoll_wait holding the Go
// scheduler's P made the runtime's monitor thread wake every few microseconds to take it
// back, which cost more CPU than judging the events. Between drains the goroutine
// sleeps on a Go timer. A burst (busyDrain records in one drain) is read again at once.
//
// When ctx ends, what the buffer still holds is drained and handed over once more (the
// receiver keeps reading until run returns), so events made just before a stop count.
func (s *bpfSource) run(ctx context.Context, out chan<- []Event) error {
	var rec ringbuf.Record
	var batch []Event
	send := func() bool {
		if len(batch) == 0 {
			return true
		}
		select {
		case out <- batch:
			batch = nil
			return true
		case <-ctx.Done():
		}
		// Stopping: the receiver reads until run returns. One that does not (a caller
		// that stopped listening) loses the rest after a second.
		select {
		case out <- batch:
			batch = nil
			return true
		case <-time.After(time.Second):
			return false
		}
	}
	tick := time.NewTicker(pollInterval)
	defer tick.Stop()
	for last := false; ; {
		s.reader.SetDeadline(time.Now()) // read what is there, wait for nothing
		n := 0
		for {
			err := s.reader.ReadInto(&rec)
			if errors.Is(err, os.ErrDeadlineExceeded) {
				break // drained
			}
			if err != nil {
				if errors.Is(err, os.ErrClosed) || errors.Is(err, ringbuf.ErrClosed) || ctx.Err() != nil {
					return nil
				}
				return fmt.Errorf("reading the ring buffer: %w", err)
			}
			n++
			e, err := decode(rec.RawSample, nowFunc())
			if err != nil {
				continue
			}
			if batch == nil {
				batch = make([]Event, 0, 32)
			}
			batch = append(batch, e)
			if len(batch) >= maxBatch && !send() {
				return nil
			}
		}
		if !send() || last {
			return nil
		}
		if n >= busyDrain {
			continue
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			last = true // one more drain
		}
	}
}

func (s *bpfSource) dropped() uint64 {
	var perCPU []uint64
	if err := s.objs.Drops.Lookup(uint32(0), &perCPU); err != nil {
		return 0
	}
	var n uint64
	for _, v := range perCPU {
		n += v
	}
	return n
}

// quiet tells the kernel side to keep the given kinds of event from a cgroup to itself.
func (s *bpfSource) quiet(cgroupID uint64, inPIDNS bool, kinds uint32) error {
	k := quietKey{CgroupID: cgroupID}
	if inPIDNS {
		k.InPIDNS = 1
	}
	return s.objs.Quiet.Put(k, kinds)
}

// filtered is how many events of each kind the kernel side left out.
func (s *bpfSource) filtered() map[Kind]uint64 {
	out := map[Kind]uint64{}
	for _, kind := range []Kind{KindExec, KindConnect, KindOpen} {
		var perCPU []uint64
		if err := s.objs.Filtered.Lookup(uint32(kind), &perCPU); err != nil {
			continue
		}
		for _, v := range perCPU {
			out[kind] += v
		}
	}
	return out
}

func (s *bpfSource) close() error {
	for _, l := range s.links {
		_ = l.Close()
	}
	if s.reader != nil {
		_ = s.reader.Close()
	}
	return s.objs.Close()
}
