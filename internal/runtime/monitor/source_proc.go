package monitor

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// procSource is the fallback: the kernel's proc connector announces each exec over
// netlink, and the details are read from /proc while the process still runs. It sees
// no connects and no opens, and a process that exits before /proc is read is counted
// with what little is left.
type procSource struct {
	fd   int
	v1   bool
	lost uint64 // datagrams the socket had no room for (ENOBUFS)
}

// The proc connector's constants (linux/connector.h, linux/cn_proc.h).
const (
	cnIdxProc         = 1
	cnValProc         = 1
	procCnMcastListen = 1
	procEventExec     = 0x00000002
	nlmsgHdrLen       = 16
	cnMsgLen          = 20
)

func openProcConnector() (*procSource, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, unix.NETLINK_CONNECTOR)
	if err != nil {
		return nil, fmt.Errorf("netlink socket: %w", err)
	}
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK, Groups: cnIdxProc, Pid: uint32(os.Getpid())}); err != nil { //nolint:gosec // pids fit in 32 bits
		_ = unix.Close(fd)
		return nil, fmt.Errorf("netlink bind: %w", err)
	}
	// A larger receive buffer rides out bursts of execs.
	_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, 8<<20)
	msg := make([]byte, nlmsgHdrLen+cnMsgLen+4)
	le := binary.LittleEndian
	le.PutUint32(msg[0:], nlmsgHdrLen+cnMsgLen+4)
	le.PutUint16(msg[4:], unix.NLMSG_DONE)
	le.PutUint32(msg[12:], uint32(os.Getpid())) //nolint:gosec // pids fit in 32 bits
	le.PutUint32(msg[16:], cnIdxProc)
	le.PutUint32(msg[20:], cnValProc)
	le.PutUint16(msg[32:], 4)
	le.PutUint32(msg[36:], procCnMcastListen)
	if err := unix.Sendto(fd, msg, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		_ = unix.Close(fd)
		return nil, fmt.Errorf("proc connector listen: %w", err)
	}
	return &procSource{fd: fd, v1: cgroupV1()}, nil
}

func (s *procSource) run(ctx context.Context, out chan<- []Event) error {
	stop := context.AfterFunc(ctx, func() { _ = unix.Shutdown(s.fd, unix.SHUT_RDWR) })
	defer stop()
	buf := make([]byte, 64<<10)
	for {
		n, _, err := unix.Recvfrom(s.fd, buf, 0)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			if errors.Is(err, unix.EINTR) {
				continue
			}
			if errors.Is(err, unix.ENOBUFS) {
				s.lost++
				continue
			}
			return fmt.Errorf("proc connector: %w", err)
		}
		pids := execPIDs(buf[:n])
		if len(pids) == 0 {
			continue
		}
		batch := make([]Event, 0, len(pids))
		for _, pid := range pids {
			batch = append(batch, readProc(pid, s.v1))
		}
		select {
		case out <- batch:
		case <-ctx.Done():
			return nil
		}
	}
}

// execPIDs reads the exec notifications out of one netlink datagram.
func execPIDs(b []byte) []uint32 {
	var pids []uint32
	le := binary.LittleEndian
	for len(b) >= nlmsgHdrLen {
		l := int(le.Uint32(b))
		if l < nlmsgHdrLen || l > len(b) {
			break
		}
		m := b[nlmsgHdrLen:l]
		if len(m) >= cnMsgLen+16+8 && le.Uint32(m[cnMsgLen:]) == procEventExec {
			pids = append(pids, le.Uint32(m[cnMsgLen+20:])) // process_tgid
		}
		next := (l + 3) &^ 3 // messages are 4-byte aligned; the last may not be padded
		if next > len(b) {
			break
		}
		b = b[next:]
	}
	return pids
}

// readProc fills an exec event from /proc/PID.
func readProc(pid uint32, v1 bool) Event {
	dir := "/proc/" + strconv.FormatUint(uint64(pid), 10) + "/"
	e := Event{Kind: KindExec, Time: nowFunc(), PID: pid, TID: pid}
	if b, err := os.ReadFile(dir + "comm"); err == nil {
		e.Comm = strings.TrimSpace(string(b))
	}
	if b, err := os.ReadFile(dir + "cmdline"); err == nil {
		e.Args = splitArgs(b[:min(len(b), 4096)])
	}
	e.Path = exePath(dir)
	if e.Path == "" && len(e.Args) > 0 {
		e.Path = e.Args[0]
	}
	if b, err := os.ReadFile(dir + "status"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			k, v, _ := strings.Cut(line, ":")
			f := strings.Fields(v)
			if len(f) == 0 {
				continue
			}
			switch k {
			case "PPid":
				e.PPID = parseU32(f[0])
			case "Uid":
				e.UID = parseU32(f[0])
			case "Gid":
				e.GID = parseU32(f[0])
			case "NSpid":
				e.PIDNSLevel = uint32(min(len(f)-1, 32)) //nolint:gosec // bounded just before
				e.VPID = parseU32(f[len(f)-1])
			}
		}
	}
	if b, err := os.ReadFile(dir + "cgroup"); err == nil {
		e.CgroupParent, e.CgroupLeaf = cgroupNames(string(b), v1)
	}
	return e
}

// cgroupNames picks the memory controller's path (v1) or the unified one (v2) from
// /proc/PID/cgroup and returns its last two elements.
func cgroupNames(text string, v1 bool) (parent, leaf string) {
	for _, line := range strings.Split(text, "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 {
			continue
		}
		if v1 && !strings.Contains(","+parts[1]+",", ",memory,") || !v1 && parts[0] != "0" {
			continue
		}
		elems := strings.Split(strings.Trim(parts[2], "/"), "/")
		leaf = elems[len(elems)-1]
		if len(elems) > 1 {
			parent = elems[len(elems)-2]
		}
		if leaf == "" {
			leaf = "/"
		}
		return parent, leaf
	}
	return "", "/"
}

// exePath is /proc/PID/exe as the process's own root sees it.
func exePath(dir string) string {
	exe, err := os.Readlink(dir + "exe")
	if err != nil {
		return ""
	}
	if root, err := os.Readlink(dir + "root"); err == nil && root != "/" {
		if rel, ok := strings.CutPrefix(exe, root); ok && strings.HasPrefix(rel, "/") {
			return rel
		}
	}
	return exe
}

func parseU32(s string) uint32 {
	n, _ := strconv.ParseUint(s, 10, 32)
	return uint32(n)
}

func (s *procSource) dropped() uint64 { return s.lost }

func (s *procSource) close() error { return unix.Close(s.fd) }
