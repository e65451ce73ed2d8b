package monitor

import (
	"context"
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/charterhq/charter/internal/policy"
)

func TestSensitiveAndSystemDirs(t *testing.T) {
	for p, want := range map[string]bool{
		"/etc/shadow": true, "/etc/gshadow": true, "/etc/sudoers.d/admins": true, "/root/.ssh/id_ed25519": true,
		"/home/ann/.ssh/id_rsa": true, "/etc/ssh/ssh_host_ed25519_key": true,
		"/var/run/secrets/kubernetes.io/serviceaccount/token": true,
		"/etc/ssh/ssh_host_ed25519_key.pub":                   false, "/etc/passwd": false, "/home/ann/notes": false,
		"/home/.ssh": false, "/etc/shadowx": false,
	} {
		if got := sensitive(p); got != want {
			t.Errorf("sensitive(%q) = %v", p, got)
		}
	}
	for p, want := range map[string]bool{
		"/etc/passwd": true, "/usr/bin/x": true, "/lib64/ld.so": true, "/bin/sh": true,
		"/etc": false, "/tmp/etc/x": false, "/library/x": false, "/var/lib/x": false,
	} {
		if got := belowSystemDir(p); got != want {
			t.Errorf("belowSystemDir(%q) = %v", p, got)
		}
	}
}

type fakeResolver map[string][]netip.Addr

func (r fakeResolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	if a, ok := r[host]; ok {
		return a, nil
	}
	return nil, context.DeadlineExceeded
}

func TestEgress(t *testing.T) {
	r := fakeResolver{"api.example.com": {netip.MustParseAddr("203.0.113.7"), netip.MustParseAddr("2001:db8::7")}}
	eg, err := NewEgress(context.Background(), []string{
		"api.example.com:443", "10.0.0.0/8:5432", "[fd00::/8]:53", "192.0.2.1:80", "*.example.org:443", "gone.example.com:443",
	}, true, r)
	if err != nil {
		t.Fatal(err)
	}
	if len(eg.Warnings) != 2 {
		t.Errorf("warnings %q", eg.Warnings)
	}
	for dest, want := range map[string]bool{
		"203.0.113.7:443": true, "[2001:db8::7]:443": true, "203.0.113.7:80": false, "10.1.2.3:5432": true,
		"11.1.2.3:5432": false, "[fd12::1]:53": true, "192.0.2.1:80": true, "192.0.2.2:80": false,
		"[::ffff:10.9.9.9]:5432": true,
	} {
		if ok, _ := eg.Allows(netip.MustParseAddrPort(dest)); ok != want {
			t.Errorf("Allows(%s) = %v", dest, ok)
		}
	}
	undeclared, _ := NewEgress(context.Background(), nil, false, r)
	if ok, _ := undeclared.Allows(netip.MustParseAddrPort("1.2.3.4:1")); !ok {
		t.Error("an undeclared allowlist refuses")
	}
	empty, _ := NewEgress(context.Background(), []string{}, true, r)
	if ok, _ := empty.Allows(netip.MustParseAddrPort("1.2.3.4:1")); ok {
		t.Error("an empty allowlist allows")
	}
}

func TestExceptions(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	exs, warnings, err := compileExceptions([]policy.MonitorException{
		{Rule: "terminal shell in container", Container: "debug-*", Reason: "r"},
		{Rule: "Write below binary dir", Image: "registry.example.com/*", Reason: "r"},
		{Process: "vault", Path: "/var/run/secrets/*", Reason: "r"},
		{Rule: "RT003", Path: "10.0.0.*:5432", Reason: "r"},
		{Rule: "RT001", Reason: "r", Expires: "2026-11-24"},
	}, now)
	if err != nil {
		t.Fatal(err)
	}
	if len(exs) != 4 || len(warnings) != 1 {
		t.Fatalf("%d exceptions, warnings %q", len(exs), warnings)
	}
	debug := &Container{ID: "abc", Name: "debug-1"}
	app := &Container{ID: "def", Name: "app", Image: "registry.example.com/team/app:1"}
	shell := &Event{Kind: KindExec, Comm: "sh", Path: "/bin/sh"}
	write := &Event{Kind: KindOpen, Comm: "apt", Path: "/usr/bin/x"}
	token := &Event{Kind: KindOpen, Comm: "vault", Path: "/var/run/secrets/kubernetes.io/serviceaccount/token"}
	conn := &Event{Kind: KindConnect, Comm: "psql", Dest: netip.MustParseAddrPort("10.0.0.5:5432")}
	matches := func(rule string, e *Event, c *Container) bool {
		for i := range exs {
			if exs[i].matches(rule, e, c) {
				return true
			}
		}
		return false
	}
	for _, c := range []struct {
		rule string
		e    *Event
		c    *Container
		want bool
	}{
		{RT001, shell, debug, true}, {RT001, shell, app, false}, {RT004, write, app, true}, {RT004, write, debug, false},
		{RT005, token, app, true}, {RT005, shell, app, false}, {RT003, conn, app, true},
		{RT003, &Event{Kind: KindConnect, Dest: netip.MustParseAddrPort("10.0.1.5:5432")}, app, false},
	} {
		if got := matches(c.rule, c.e, c.c); got != c.want {
			t.Errorf("%s %+v in %s: excepted %v", c.rule, c.e, c.c.Name, got)
		}
	}
	if _, _, err := compileExceptions([]policy.MonitorException{{Rule: "Write below heaven", Reason: "r"}}, now); err == nil {
		t.Error("an unknown rule name was accepted")
	}
}

// TestEgressLPMKeys checks the allowlist as the kernel receives it: IPv4 mapped into
// IPv6, the port first, prefix lengths counted over both; an IPv6 range holding the
// mapped IPv4 range stays in user space.
func TestEgressLPMKeys(t *testing.T) {
	eg, err := NewEgress(context.Background(), []string{"10.1.0.0/16:5432", "[2001:db8::/32]:443", "[::/0]:53", "127.0.0.1:8080"}, true, nil)
	if err != nil {
		t.Fatal(err)
	}
	keys := eg.lpmKeys()
	if len(keys) != 3 {
		t.Fatalf("%d keys: %+v", len(keys), keys)
	}
	want := []struct {
		bits uint32
		data string
	}{
		{16 + 96 + 16, "1538" + "00000000000000000000ffff0a010000" + "0000"},
		{16 + 32, "01bb" + "20010db8000000000000000000000000" + "0000"},
		{16 + 128, "1f90" + "00000000000000000000ffff7f000001" + "0000"},
	}
	for i, w := range want {
		if keys[i].Prefixlen != w.bits || fmt.Sprintf("%x", keys[i].Data) != w.data {
			t.Errorf("key %d = %d %x, want %d %s", i, keys[i].Prefixlen, keys[i].Data, w.bits, w.data)
		}
	}
}
