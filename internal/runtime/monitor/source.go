package monitor

import (
	"context"
	"time"
)

// source delivers the kernel's events. The eBPF source sees everything the rules need;
// the proc connector fallback sees process starts only.
type source interface {
	// run sends events to out until ctx ends or the source fails.
	run(ctx context.Context, out chan<- Event) error
	// dropped is how many events the kernel could not hand over (the reader fell behind).
	dropped() uint64
	close() error
}

// Lost names what the fallback source cannot see, for the warning printed when it is used.
const Lost = "no connect events (RT003 off), no file opens (RT004, RT005 off); exec events " +
	"are read from /proc after the fact, so a process that exits at once may be missed or " +
	"carry no command line"

var nowFunc = time.Now
