package monitor

import (
	"bytes"
	"encoding/binary"
	"errors"
	"net/netip"
	"strings"
	"time"
)

// Kind is what an event records.
type Kind uint32

// The event kinds the kernel side sends.
const (
	KindExec    Kind = 1
	KindConnect Kind = 2
	KindOpen    Kind = 3
)

func (k Kind) String() string {
	switch k {
	case KindExec:
		return "exec"
	case KindConnect:
		return "connect"
	case KindOpen:
		return "open"
	}
	return "unknown"
}

// Event is one thing a process did, as the kernel saw it.
type Event struct {
	Kind Kind
	// Time is when the monitor received the event.
	Time time.Time
	PID  uint32 // thread group ID (the process)
	TID  uint32
	PPID uint32
	// VPID is the process's ID inside its own pid namespace (1: the container's
	// entrypoint); PIDNSLevel is 0 in the host's namespace.
	VPID       uint32
	PIDNSLevel uint32
	UID, GID   uint32
	Comm       string
	// Cgroup names the task's cgroup: its kernfs ID, the last path element and its
	// parent's (enough to tell the container runtimes apart).
	CgroupID     uint64
	CgroupLeaf   string
	CgroupParent string
	// Path is the executed file (exec) or the opened path (open), as the process passed it.
	Path string
	// Args is the command line (exec), NUL-separated arguments joined by spaces; it may be
	// cut short.
	Args []string
	// Cwd is the working directory the kernel saw for an open by relative path, as a path
	// within the process's root filesystem; "" when it could not tell (too deep, a name
	// cut at 31 bytes, or the directory is on another mount).
	Cwd string
	// Flags are open(2)'s flags.
	Flags uint32
	// Dest is the connection's destination (connect).
	Dest netip.AddrPort
}

// Write reports whether an open asked for write access (or to create or truncate).
func (e *Event) Write() bool {
	const wr = 0o1 | 0o2 | 0o100 | 0o1000 // O_WRONLY O_RDWR O_CREAT O_TRUNC
	return e.Flags&wr != 0
}

// The kernel's record layout (struct event in bpf/monitor.c).
const (
	pathLen   = 256
	argsLen   = 256
	cgLen     = 128
	offKind   = 16
	offFamily = 52
	offAddr   = 56
	offArgsN  = 72
	offComm   = 80
	offLeaf   = offComm + 16
	offParent = offLeaf + cgLen
	offPath   = offParent + cgLen
	offArgs   = offPath + pathLen
	// recordSize is sizeof(struct event).
	recordSize = offArgs + argsLen
)

var errShortRecord = errors.New("record shorter than an event")

// decode reads one ring buffer record. The record comes from the kernel side charter
// loaded, but it is still bounded and checked: a wrong layout must fail, not misread.
func decode(b []byte, now time.Time) (Event, error) {
	if len(b) < recordSize {
		return Event{}, errShortRecord
	}
	le := binary.LittleEndian
	e := Event{
		Time:         now,
		CgroupID:     le.Uint64(b[8:]),
		Kind:         Kind(le.Uint32(b[offKind:])),
		PID:          le.Uint32(b[20:]),
		TID:          le.Uint32(b[24:]),
		PPID:         le.Uint32(b[28:]),
		UID:          le.Uint32(b[32:]),
		GID:          le.Uint32(b[36:]),
		VPID:         le.Uint32(b[40:]),
		PIDNSLevel:   le.Uint32(b[44:]),
		Flags:        le.Uint32(b[48:]),
		Comm:         cstring(b[offComm : offComm+16]),
		CgroupLeaf:   cstring(b[offLeaf : offLeaf+cgLen]),
		CgroupParent: cstring(b[offParent : offParent+cgLen]),
		Path:         cstring(b[offPath : offPath+pathLen]),
	}
	switch e.Kind {
	case KindExec:
		n := min(int(le.Uint32(b[offArgsN:])), argsLen)
		e.Args = splitArgs(b[offArgs : offArgs+n])
	case KindConnect:
		port := binary.BigEndian.Uint16(b[offFamily+2:])
		switch le.Uint16(b[offFamily:]) {
		case 2: // AF_INET
			e.Dest = netip.AddrPortFrom(netip.AddrFrom4([4]byte(b[offAddr:offAddr+4])), port)
		case 10: // AF_INET6
			e.Dest = netip.AddrPortFrom(netip.AddrFrom16([16]byte(b[offAddr:offAddr+16])).Unmap(), port)
		}
	case KindOpen:
		if n := int(le.Uint32(b[offArgsN:])); n > 0 && n <= cwdDepth+1 && !strings.HasPrefix(e.Path, "/") {
			e.Cwd = cwdPath(b[offArgs:offArgs+argsLen], n-1)
		}
	default:
		return Event{}, errors.New("record of an unknown kind")
	}
	return e, nil
}

// The working directory's names, innermost first (fill_cwd in bpf/monitor.c).
const (
	cwdDepth = 8
	cwdName  = 32
)

// cwdPath joins n names from the args area outermost first. A name that filled its slot
// may have been cut: the path is then unknown.
func cwdPath(b []byte, n int) string {
	parts := make([]string, n)
	for i := 0; i < n; i++ {
		slot := b[i*cwdName : (i+1)*cwdName]
		name := cstring(slot)
		if len(name) >= cwdName-1 || name == "" || strings.Contains(name, "/") {
			return ""
		}
		parts[n-1-i] = name
	}
	return "/" + strings.Join(parts, "/")
}

// cstring reads a NUL-terminated string from a fixed-size field.
func cstring(b []byte) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return strings.ToValidUTF8(string(b), "\uFFFD")
}

// splitArgs splits the process's argument area (NUL-separated, maybe cut mid-argument).
func splitArgs(b []byte) []string {
	b = bytes.TrimRight(b, "\x00")
	if len(b) == 0 {
		return nil
	}
	parts := bytes.Split(b, []byte{0})
	out := make([]string, len(parts))
	for i, p := range parts {
		out[i] = strings.ToValidUTF8(string(p), "\uFFFD")
	}
	return out
}
