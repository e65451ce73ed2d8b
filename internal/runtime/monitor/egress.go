package monitor

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// Egress is the allowlist RT003 checks connections against: charter.yaml's
// runtime.egress, with host names resolved once at start. The monitor sees addresses,
// not names: a host whose addresses change later, and a "*.example.com" pattern, cannot be
// matched by address; Warnings says so for each.
type Egress struct {
	// Declared is false when the charter has no runtime.egress: RT003 then has nothing to
	// compare against and stays quiet. An empty list declares that nothing may connect out.
	Declared bool
	entries  []egressEntry
	Warnings []string
}

type egressEntry struct {
	prefix netip.Prefix
	port   uint16
	text   string
}

// Resolver looks host names up; net.DefaultResolver is one.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// NewEgress reads "host:port", "ip:port", "cidr:port" and "[ipv6]:port" entries (the
// forms charter.yaml validates) and resolves the host names.
func NewEgress(ctx context.Context, list []string, declared bool, r Resolver) (*Egress, error) {
	eg := &Egress{Declared: declared}
	for _, s := range list {
		host, portText, err := net.SplitHostPort(s)
		if err != nil {
			return nil, fmt.Errorf("runtime.egress: %q: want host:port or cidr:port", s)
		}
		port, err := strconv.ParseUint(portText, 10, 16)
		if err != nil || port == 0 {
			return nil, fmt.Errorf("runtime.egress: %q: port %q is not a number from 1 to 65535", s, portText)
		}
		add := func(p netip.Prefix) {
			eg.entries = append(eg.entries, egressEntry{prefix: p.Masked(), port: uint16(port), text: s}) //nolint:gosec // ParseUint(…, 16) bounds it
		}
		switch {
		case strings.Contains(host, "/"):
			p, err := netip.ParsePrefix(host)
			if err != nil {
				return nil, fmt.Errorf("runtime.egress: %q: %q is not a CIDR range", s, host)
			}
			add(netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-unmapBits(p.Addr())))
		case strings.HasPrefix(host, "*."):
			eg.Warnings = append(eg.Warnings, fmt.Sprintf(
				"runtime.egress %q: the monitor sees addresses, not names; connections to %s are reported by RT003", s, host))
		default:
			if a, err := netip.ParseAddr(host); err == nil {
				add(netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
				continue
			}
			lctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			addrs, err := r.LookupNetIP(lctx, "ip", host)
			cancel()
			if err != nil || len(addrs) == 0 {
				eg.Warnings = append(eg.Warnings, fmt.Sprintf(
					"runtime.egress %q: %s does not resolve (%v); connections to it are reported by RT003", s, host, err))
				continue
			}
			for _, a := range addrs {
				add(netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
			}
		}
	}
	return eg, nil
}

func unmapBits(a netip.Addr) int {
	if a.Is4In6() {
		return 96
	}
	return 0
}

// Allows reports whether a connection to dest is allowed, and by which entry.
func (eg *Egress) Allows(dest netip.AddrPort) (bool, string) {
	if !eg.Declared {
		return true, ""
	}
	a := dest.Addr().Unmap()
	for _, e := range eg.entries {
		if e.port == dest.Port() && e.prefix.Contains(a) {
			return true, e.text
		}
	}
	return false, ""
}
