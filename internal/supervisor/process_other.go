//go:build !linux

package supervisor

import (
	"errors"
	"io"
	"os"
)

// errUnsupported: charter run supervises Linux processes (containers); elsewhere it
// says so instead of half-working.
var errUnsupported = errors.New("charter run supports Linux only")

type child struct{ done chan struct{} }

func startChild(_, _ []string, _ io.Reader, _, _ io.Writer, _ bool, _ *reaper) (*child, error) {
	return nil, errUnsupported
}

func (c *child) signal(os.Signal) {}
func (c *child) kill()            {}
func (c *child) finish()          {}
func (c *child) exitCode() int    { return ExitNoExec }

type reaper struct{}

func startReaper() (*reaper, error) { return nil, errUnsupported }
func (r *reaper) close()            {}
