package monitor

import (
	"encoding/binary"
	"net/netip"
	"slices"
	"testing"
	"time"
)

// record builds a kernel record the way bpf/monitor.c lays it out.
func record(kind Kind, fill func(b []byte)) []byte {
	b := make([]byte, recordSize)
	le := binary.LittleEndian
	le.PutUint64(b[8:], 77)
	le.PutUint32(b[offKind:], uint32(kind))
	le.PutUint32(b[20:], 1234)
	le.PutUint32(b[28:], 1000)
	le.PutUint32(b[40:], 7)
	le.PutUint32(b[44:], 1)
	copy(b[offComm:], "sh\x00")
	copy(b[offLeaf:], "abc\x00")
	copy(b[offParent:], "docker\x00")
	fill(b)
	return b
}

func TestDecode(t *testing.T) {
	now := time.Unix(1, 0)
	e, err := decode(record(KindExec, func(b []byte) {
		copy(b[offPath:], "/bin/sh\x00")
		args := "sh\x00-c\x00id\x00"
		copy(b[offArgs:], args)
		binary.LittleEndian.PutUint32(b[offArgsN:], uint32(len(args)))
	}), now)
	if err != nil {
		t.Fatal(err)
	}
	if e.Kind != KindExec || e.PID != 1234 || e.PPID != 1000 || e.VPID != 7 || e.PIDNSLevel != 1 || e.Comm != "sh" ||
		e.CgroupID != 77 || e.CgroupLeaf != "abc" || e.CgroupParent != "docker" || e.Path != "/bin/sh" ||
		!slices.Equal(e.Args, []string{"sh", "-c", "id"}) || !e.Time.Equal(now) {
		t.Errorf("exec: %+v", e)
	}
	e, err = decode(record(KindConnect, func(b []byte) {
		binary.LittleEndian.PutUint16(b[offFamily:], 10)
		binary.BigEndian.PutUint16(b[offFamily+2:], 443)
		a := netip.MustParseAddr("2001:db8::1").As16()
		copy(b[offAddr:], a[:])
	}), now)
	if err != nil || e.Dest.String() != "[2001:db8::1]:443" {
		t.Errorf("connect v6: %v %v", e.Dest, err)
	}
	e, err = decode(record(KindConnect, func(b []byte) {
		binary.LittleEndian.PutUint16(b[offFamily:], 2)
		binary.BigEndian.PutUint16(b[offFamily+2:], 5432)
		copy(b[offAddr:], []byte{10, 0, 0, 5})
	}), now)
	if err != nil || e.Dest.String() != "10.0.0.5:5432" {
		t.Errorf("connect v4: %v %v", e.Dest, err)
	}
	e, err = decode(record(KindOpen, func(b []byte) {
		binary.LittleEndian.PutUint32(b[48:], 0o1101) // O_WRONLY|O_CREAT|O_TRUNC
		copy(b[offPath:], "/etc/x\x00")
	}), now)
	if err != nil || !e.Write() || e.Path != "/etc/x" || openFlags(e.Flags) != "O_WRONLY|O_CREAT|O_TRUNC" {
		t.Errorf("open: %+v %v", e, err)
	}
	if _, err := decode(make([]byte, recordSize-1), now); err == nil {
		t.Error("a short record decoded")
	}
	if _, err := decode(record(9, func([]byte) {}), now); err == nil {
		t.Error("an unknown kind decoded")
	}
}

func FuzzDecode(f *testing.F) {
	f.Add(record(KindExec, func(b []byte) { binary.LittleEndian.PutUint32(b[offArgsN:], 1<<31) }))
	f.Add(record(KindConnect, func(b []byte) { binary.LittleEndian.PutUint16(b[offFamily:], 2) }))
	f.Add([]byte{1, 2, 3})
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := decode(b, time.Time{})
		if err != nil {
			return
		}
		if len(e.Path) > 3*pathLen || len(e.Comm) > 3*16 {
			t.Fatalf("field longer than its slot: %d %d", len(e.Path), len(e.Comm))
		}
	})
}

func FuzzExecPIDs(f *testing.F) {
	msg := make([]byte, nlmsgHdrLen+cnMsgLen+24)
	binary.LittleEndian.PutUint32(msg, uint32(len(msg)))
	binary.LittleEndian.PutUint32(msg[nlmsgHdrLen+cnMsgLen:], procEventExec)
	binary.LittleEndian.PutUint32(msg[nlmsgHdrLen+cnMsgLen+20:], 4242)
	f.Add(msg)
	f.Add([]byte{255, 255, 255, 255})
	f.Fuzz(func(t *testing.T, b []byte) {
		if pids := execPIDs(b); len(pids) > len(b)/nlmsgHdrLen {
			t.Fatalf("%d pids from %d bytes", len(pids), len(b))
		}
	})
}

func TestExecPIDs(t *testing.T) {
	msg := make([]byte, nlmsgHdrLen+cnMsgLen+24)
	binary.LittleEndian.PutUint32(msg, uint32(len(msg)))
	binary.LittleEndian.PutUint32(msg[nlmsgHdrLen+cnMsgLen:], procEventExec)
	binary.LittleEndian.PutUint32(msg[nlmsgHdrLen+cnMsgLen+20:], 4242)
	if got := execPIDs(append(msg, msg...)); !slices.Equal(got, []uint32{4242, 4242}) {
		t.Errorf("execPIDs = %v", got)
	}
}

func TestCgroupNames(t *testing.T) {
	text := "12:memory:/docker/abc\n11:pids:/docker/abc\n0::/system.slice/docker-def.scope\n"
	if p, l := cgroupNames(text, true); p != "docker" || l != "abc" {
		t.Errorf("v1: %q %q", p, l)
	}
	if p, l := cgroupNames(text, false); p != "system.slice" || l != "docker-def.scope" {
		t.Errorf("v2: %q %q", p, l)
	}
	if p, l := cgroupNames("0::/\n", false); p != "" || l != "/" {
		t.Errorf("root: %q %q", p, l)
	}
}

func TestDecodeOpenCwd(t *testing.T) {
	rec := func(path string, names []string, n uint32) []byte {
		return record(KindOpen, func(b []byte) {
			copy(b[offPath:], path+"\x00")
			for i, name := range names {
				copy(b[offArgs+i*cwdName:], name+"\x00")
			}
			binary.LittleEndian.PutUint32(b[offArgsN:], n)
		})
	}
	for _, c := range []struct {
		path  string
		names []string
		n     uint32
		want  string
	}{
		{"passwd", []string{"etc"}, 2, "/etc"},
		{"x", []string{"lib", "app", "var"}, 4, "/var/app/lib"},
		{"x", nil, 1, "/"},
		{"x", []string{"etc"}, 0, ""},                             // the kernel could not tell
		{"/etc/x", []string{"etc"}, 2, ""},                        // absolute: no cwd needed
		{"x", []string{"a-name-of-thirty-one-characters"}, 2, ""}, // maybe cut
		{"x", []string{"etc"}, cwdDepth + 2, ""},                  // out of range
	} {
		e, err := decode(rec(c.path, c.names, c.n), time.Time{})
		if err != nil || e.Cwd != c.want {
			t.Errorf("%q in %v (%d): cwd %q, want %q (%v)", c.path, c.names, c.n, e.Cwd, c.want, err)
		}
	}
}
