//go:build linux

package profile

import (
	"encoding/json"
	"reflect"
	"testing"

	mobyseccomp "github.com/moby/profiles/seccomp"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// TestDefaultSeccompMatchesMoby: the embedded profile is Docker's default, as moby
// defines it in Go, field for field.
func TestDefaultSeccompMatchesMoby(t *testing.T) {
	want, err := json.Marshal(mobyseccomp.DefaultProfile())
	if err != nil {
		t.Fatal(err)
	}
	var a, b any
	if err := json.Unmarshal(want, &a); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(seccompDefault, &b); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(a, b) {
		t.Error("seccomp_default.json differs from moby's DefaultProfile(); copy the module's default.json again")
	}
}

// TestResolveMatchesMoby: Resolve gives the filter Docker would apply, for several
// capability sets (moby evaluates the kernel condition on this host's kernel, which is
// newer than the profile's one minKernel).
func TestResolveMatchesMoby(t *testing.T) {
	for _, caps := range [][]string{nil, {"CAP_SYS_ADMIN"}, {"CAP_SYS_PTRACE", "CAP_NET_ADMIN", "CAP_SYSLOG"}, {"CAP_BPF", "CAP_PERFMON", "CAP_SYS_BOOT"}} {
		spec := &specs.Spec{Process: &specs.Process{Capabilities: &specs.LinuxCapabilities{Bounding: caps}}}
		want, err := mobyseccomp.LoadProfile(string(seccompDefault), spec)
		if err != nil {
			t.Fatal(err)
		}
		got, err := DefaultSeccomp().Resolve(goArch(), caps)
		if err != nil {
			t.Fatal(err)
		}
		wj, _ := json.Marshal(want)
		gj, _ := json.Marshal(got)
		if string(wj) != string(gj) {
			t.Errorf("caps %v: Resolve differs from moby's LoadProfile:\n got %s\nwant %s", caps, gj, wj)
		}
	}
}
