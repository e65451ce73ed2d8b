package monitor

import (
	"context"
	"time"

	"golang.org/x/sys/unix"
)

// source delivers the kernel's events. The eBPF source sees everything the rules need;
// the proc connector fallback sees process starts only.
type source interface {
	// run sends events to out, in batches of what was waiting, until ctx ends or the
	// source fails. A batch belongs to the receiver once sent.
	run(ctx context.Context, out chan<- []Event) error
	// dropped is how many events the kernel could not hand over (the reader fell behind).
	dropped() uint64
	close() error
}

// Lost names what the fallback source cannot see, for the warning printed when it is used.
const Lost = "no connect events (RT003 off), no file opens (RT004, RT005 off); exec events " +
	"are read from /proc after the fact, so a process that exits at once may be missed or " +
	"carry no command line"

var nowFunc = time.Now

// cgroupV1 reports whether containers' cgroups are to be read from the v1 memory
// hierarchy: on a v1 or hybrid host the runtimes place containers there, and the v2
// hierarchy (if mounted at all) holds every process at its root.
func cgroupV1() bool {
	var st unix.Statfs_t
	if err := unix.Statfs("/sys/fs/cgroup", &st); err == nil && st.Type == unix.CGROUP2_SUPER_MAGIC {
		return false
	}
	return true
}
