package profile

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// DefaultUserNSSize is how many IDs a user namespace maps when the mapping names only
// its first host ID: 65536, the range /etc/subuid hands out per user.
const DefaultUserNSSize = 65536

// IDMap maps the container's user and group IDs 0 to Size-1 onto the host's HostID to
// HostID+Size-1. The container's root is then an unprivileged host user: a process that
// breaks out of every other layer holds no host privilege, and files it creates on the
// host belong to an ID nobody else uses.
type IDMap struct {
	HostID uint32
	Size   uint32
}

// ParseIDMap reads HOSTID or HOSTID:SIZE ("100000", "100000:65536").
func ParseIDMap(s string) (*IDMap, error) {
	host, size, hasSize := strings.Cut(s, ":")
	h, err := strconv.ParseUint(host, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("%q: want HOSTID or HOSTID:SIZE, such as 100000:65536", s)
	}
	m := &IDMap{HostID: uint32(h), Size: DefaultUserNSSize}
	if hasSize {
		n, err := strconv.ParseUint(size, 10, 32)
		if err != nil {
			return nil, fmt.Errorf("%q: the size %q is not a number of IDs", s, size)
		}
		m.Size = uint32(n)
	}
	return m, m.check()
}

func (m *IDMap) check() error {
	switch {
	case m.Size == 0:
		return errors.New("a user namespace needs at least one ID")
	case m.HostID == 0:
		return errors.New("host ID 0 would map the container's root to the host's: pick an unused range (see /etc/subuid)")
	case uint64(m.HostID)+uint64(m.Size) > math.MaxUint32:
		return fmt.Errorf("host IDs %d to %d run past the largest ID", m.HostID, uint64(m.HostID)+uint64(m.Size)-1)
	}
	return nil
}

// String is the mapping as ParseIDMap reads it.
func (m *IDMap) String() string { return fmt.Sprintf("%d:%d", m.HostID, m.Size) }

// KubeletUserNSSize is how many IDs the kubelet maps into a pod's user namespace.
const KubeletUserNSSize = 65536

// setPodUserNS asks for a user namespace per pod (hostUsers: false). The kubelet maps
// 65536 IDs, so the process's user and group must be below that.
func (p *Profile) setPodUserNS(on bool) error {
	if !on {
		return nil
	}
	for _, id := range []struct {
		what string
		v    int
	}{{"user", p.User.UID}, {"group", p.User.GID}} {
		if id.v < 0 || id.v >= KubeletUserNSSize {
			return fmt.Errorf("hostUsers: false maps container IDs 0 to %d, but the process's %s is %d", KubeletUserNSSize-1, id.what, id.v)
		}
	}
	p.PodUserNS = true
	p.note("hostUsers: false gives each pod a user namespace of its own (Kubernetes 1.33+, or 1.30+ with the UserNamespacesSupport feature gate; a runtime and kernel with idmapped mounts): its IDs are not the node's")
	return nil
}

// setUserNS checks that the process's user and group are inside the mapping: an ID
// outside it cannot be set in the namespace, and the runtime would refuse to start.
func (p *Profile) setUserNS(m *IDMap) error {
	if m == nil {
		return nil
	}
	if err := m.check(); err != nil {
		return fmt.Errorf("user namespace: %w", err)
	}
	var host [2]uint64 // the process's user and group as the host sees them
	for i, id := range []struct {
		what string
		v    int
	}{{"user", p.User.UID}, {"group", p.User.GID}} {
		if id.v < 0 || int64(id.v) >= int64(m.Size) {
			return fmt.Errorf("user namespace %s maps container IDs 0 to %d, but the process's %s is %d: map more IDs", m, m.Size-1, id.what, id.v)
		}
		host[i] = uint64(m.HostID) + uint64(id.v) //nolint:gosec // G115: 0 <= id.v < m.Size, checked above
	}
	p.UserNS = m
	p.note("user namespace: container IDs 0-%d are host IDs %d-%d; files of the root filesystem owned by IDs outside the mapping appear as nobody (65534) inside, so what the process must own needs chown to its mapped ID (%d:%d on the host)",
		m.Size-1, m.HostID, uint64(m.HostID)+uint64(m.Size)-1, host[0], host[1])
	return nil
}
