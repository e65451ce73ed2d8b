//go:build linux

package supervisor

import (
	"errors"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"sync"
	"syscall"
	"time"
)

// child is one attempt's process.
type child struct {
	cmd    *exec.Cmd
	group  bool // leads its own process group
	done   chan struct{}
	status syscall.WaitStatus
	copied sync.WaitGroup
	pipes  []*os.File // read ends, closed when the copying is over
}

// startChild starts argv with its output going through stdout and stderr. With r set, r
// collects its exit status (charter reaps every child); otherwise the child is waited
// for directly.
func startChild(argv, env []string, stdin io.Reader, stdout, stderr io.Writer, group bool, r *reaper) (*child, error) {
	cmd := exec.Command(argv[0], argv[1:]...) //nolint:gosec // G204: running the user's command is charter run's job
	cmd.Env = env
	if f, ok := stdin.(*os.File); ok {
		cmd.Stdin = f
	} // else /dev/null: the child's stdin must be a file so that no goroutine of exec's waits on it
	// The child dies with charter (a SIGKILL of charter must not leave it posting), and
	// leads a process group so that what it started is stopped with it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: group, Pdeathsig: syscall.SIGKILL}
	c := &child{cmd: cmd, group: group, done: make(chan struct{})}
	var writeEnds []*os.File
	for _, w := range []io.Writer{stdout, stderr} {
		pr, pw, err := os.Pipe()
		if err != nil {
			c.closePipes()
			closeAll(writeEnds)
			return nil, err
		}
		c.pipes, writeEnds = append(c.pipes, pr), append(writeEnds, pw)
		c.copied.Add(1)
		go func(w io.Writer) {
			defer c.copied.Done()
			_, _ = io.CopyBuffer(w, pr, make([]byte, 32<<10))
		}(w)
	}
	cmd.Stdout, cmd.Stderr = writeEnds[0], writeEnds[1]
	if r != nil {
		r.mu.Lock() // the child may exit before it is registered
	}
	err := cmd.Start()
	closeAll(writeEnds)
	if err != nil {
		if r != nil {
			r.mu.Unlock()
		}
		c.closePipes()
		c.copied.Wait()
		return nil, err
	}
	if r != nil {
		r.waiters[cmd.Process.Pid] = c
		r.mu.Unlock()
	} else {
		go func() {
			ps, err := cmd.Process.Wait()
			if err == nil {
				c.status, _ = ps.Sys().(syscall.WaitStatus)
			}
			close(c.done)
		}()
	}
	return c, nil
}

func (c *child) pid() int { return c.cmd.Process.Pid }

// signal sends sig to the child alone, as tini does by default.
func (c *child) signal(sig os.Signal) { _ = c.cmd.Process.Signal(sig) }

// kill ends the child and everything in its process group.
func (c *child) kill() {
	if c.group {
		_ = syscall.Kill(-c.pid(), syscall.SIGKILL)
	}
	_ = c.cmd.Process.Signal(syscall.SIGKILL)
}

// finish is called once the child has exited: what it left in its group is killed, and
// its output is copied to the end (or for at most a second, if something outside the
// group still holds the pipes).
func (c *child) finish() {
	if c.group {
		_ = syscall.Kill(-c.pid(), syscall.SIGKILL)
	}
	copied := make(chan struct{})
	go func() { c.copied.Wait(); close(copied) }()
	select {
	case <-copied:
	case <-time.After(time.Second):
		c.closePipes()
		<-copied
	}
	c.closePipes()
	_ = c.cmd.Process.Release()
}

func (c *child) closePipes() { closeAll(c.pipes); c.pipes = nil }

// exitCode is the child's exit status the way shells and tini report it: the code, or
// 128+N for a death by signal N.
func (c *child) exitCode() int {
	if c.status.Signaled() {
		return 128 + int(c.status.Signal())
	}
	return c.status.ExitStatus()
}

func closeAll(fs []*os.File) {
	for _, f := range fs {
		_ = f.Close()
	}
}

// reaper collects the exit status of every child of the process, as PID 1 must, handing
// the attempt's to its waiter and discarding the orphans'.
type reaper struct {
	mu      sync.Mutex
	waiters map[int]*child
	sigs    chan os.Signal
	stop    chan struct{}
	stopped chan struct{}
}

// prSetChildSubreaper is prctl's PR_SET_CHILD_SUBREAPER.
const prSetChildSubreaper = 36

// startReaper starts reaping. When charter is not PID 1 it becomes a subreaper, so that
// orphans of its children are re-parented to it rather than to init.
func startReaper() (*reaper, error) {
	if os.Getpid() != 1 {
		if _, _, errno := syscall.RawSyscall(syscall.SYS_PRCTL, prSetChildSubreaper, 1, 0); errno != 0 {
			return nil, errno
		}
	}
	r := &reaper{waiters: map[int]*child{}, sigs: make(chan os.Signal, 8), stop: make(chan struct{}), stopped: make(chan struct{})}
	signal.Notify(r.sigs, syscall.SIGCHLD)
	go r.loop()
	return r, nil
}

func (r *reaper) loop() {
	defer close(r.stopped)
	tick := time.NewTicker(time.Second) // a SIGCHLD may be coalesced; look now and then anyway
	defer tick.Stop()
	for {
		r.reapAll()
		select {
		case <-r.sigs:
		case <-tick.C:
		case <-r.stop:
			r.reapAll()
			return
		}
	}
}

func (r *reaper) reapAll() {
	for {
		var ws syscall.WaitStatus
		r.mu.Lock()
		pid, err := syscall.Wait4(-1, &ws, syscall.WNOHANG, nil)
		if pid > 0 {
			if c, ok := r.waiters[pid]; ok {
				delete(r.waiters, pid)
				c.status = ws
				close(c.done)
			}
		}
		r.mu.Unlock()
		if errors.Is(err, syscall.EINTR) {
			continue
		}
		if pid <= 0 || err != nil {
			return
		}
	}
}

func (r *reaper) close() {
	signal.Stop(r.sigs)
	close(r.stop)
	<-r.stopped
}
