package monitor

import (
	"encoding/binary"
	"net/netip"
)

// Filtering in the kernel. Most of what the kernel side sees can never raise an alert: a
// process on the host, a container --container did not pick, a connect in a container
// with no egress allowlist, a connect the allowlist allows. Handing each one to user space
// costs the traced process (the record) and the monitor (decoding, classifying): on a
// connect-heavy service that is most of the monitor's overhead. So user space tells the
// kernel side, per cgroup, which kinds it has no use for (after the first event it
// classifies), and the allowlist is loaded into the kernel at start. What the kernel
// leaves out is counted per kind and shown in the summary.

// kernelFilter is implemented by a source that can leave events out in the kernel.
type kernelFilter interface {
	quiet(cgroupID uint64, inPIDNS bool, kinds uint32) error
	filtered() map[Kind]uint64
}

// quietKey is the kernel's struct quiet_key.
type quietKey struct {
	CgroupID uint64
	InPIDNS  uint32
	Pad      uint32
}

// lpmKey is the kernel's struct egress_key: a prefix length in bits, then the port in
// network order and the address as IPv6, IPv4 mapped into ::ffff:0:0/96.
type lpmKey struct {
	Prefixlen uint32
	Data      [20]byte
}

const allKinds = 1<<KindExec | 1<<KindConnect | 1<<KindOpen

// mapped4 is the IPv4-mapped range of IPv6.
var mapped4 = netip.MustParsePrefix("::ffff:0:0/96")

// lpmKeys are the allowlist's entries as the kernel's longest-prefix keys. An IPv6 range
// wide enough to hold the IPv4-mapped range is left to user space: there the two address
// families never match each other, and the kernel must not allow more than user space
// would.
func (eg *Egress) lpmKeys() []lpmKey {
	keys := make([]lpmKey, 0, len(eg.entries))
	for _, e := range eg.entries {
		a, bits := e.prefix.Addr(), e.prefix.Bits()
		if a.Is4() {
			bits += 96
		} else if e.prefix.Overlaps(mapped4) {
			continue
		}
		k := lpmKey{Prefixlen: uint32(16 + bits)} //nolint:gosec // at most 144
		binary.BigEndian.PutUint16(k.Data[0:2], e.port)
		a16 := a.As16() // an IPv4 address comes out mapped
		copy(k.Data[2:18], a16[:])
		keys = append(keys, k)
	}
	return keys
}

// quietKinds is the set of kinds user space has no use for from t's cgroup.
func (m *Monitor) quietKinds(t *tracked) uint32 {
	switch {
	case !t.inContainer || !t.watched:
		return allKinds
	case m.opts.Egress == nil || !m.opts.Egress.Declared:
		return 1 << KindConnect
	}
	return 0
}

// filterInKernel passes the classification of e's cgroup to the kernel side.
func (m *Monitor) filterInKernel(e *Event, t *tracked) {
	kf, ok := m.src.(kernelFilter)
	if !ok || e.CgroupID == 0 {
		return
	}
	kinds := m.quietKinds(t)
	if kinds == 0 {
		return
	}
	if err := kf.quiet(e.CgroupID, e.PIDNSLevel > 0, kinds); err != nil {
		m.opts.Logger.Debug("kernel filter", "cgroup", e.CgroupID, "err", err)
	}
}
