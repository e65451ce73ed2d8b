//go:build amd64 || arm64

package monitor

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/btf"
)

// objects are the committed BPF objects, one per architecture.
var objects = []string{"monitorbpf_x86_bpfel.o", "monitorbpf_arm64_bpfel.o"}

// TestRecordLayout checks the offsets decode reads against struct event as each compiled
// object describes it: a field added to the C side without updating event.go fails here,
// and so does an architecture whose object lays the record out differently. Both objects
// must also carry the three programs and the maps the loader fills.
func TestRecordLayout(t *testing.T) {
	for _, obj := range objects {
		spec, err := ebpf.LoadCollectionSpec(obj)
		if err != nil {
			t.Fatal(err)
		}
		var ev *btf.Struct
		if err := spec.Types.TypeByName("event", &ev); err != nil {
			t.Fatal(err)
		}
		if ev.Size != recordSize {
			t.Errorf("%s: sizeof(struct event) = %d, decode expects %d", obj, ev.Size, recordSize)
		}
		want := map[string]int{"cgroup_id": 8, "kind": offKind, "pid": 20, "tid": 24, "ppid": 28, "uid": 32, "gid": 36,
			"vpid": 40, "pidns_level": 44, "flags": 48, "family": offFamily, "port": offFamily + 2, "addr": offAddr,
			"args_len": offArgsN, "comm": offComm, "cg_leaf": offLeaf, "cg_parent": offParent, "path": offPath, "args": offArgs}
		for _, m := range ev.Members {
			if off, ok := want[m.Name]; ok && int(m.Offset.Bytes()) != off {
				t.Errorf("%s: %s at %d, decode reads it at %d", obj, m.Name, m.Offset.Bytes(), off)
			}
			delete(want, m.Name)
		}
		for name := range want {
			t.Errorf("%s: struct event has no %s", obj, name)
		}
		for _, prog := range []string{"on_exec", "on_sys_enter"} {
			if spec.Programs[prog] == nil {
				t.Errorf("%s: no program %s", obj, prog)
			}
		}
		for _, m := range []string{"events", "drops", "quiet", "egress", "filtered"} {
			if spec.Maps[m] == nil {
				t.Errorf("%s: no map %s", obj, m)
			}
		}
	}
}

// TestObjectUpToDate rebuilds the BPF object when clang is installed and compares it
// with the committed one, so a change to bpf/monitor.c cannot ship without its object.
func TestObjectUpToDate(t *testing.T) {
	if _, err := exec.LookPath("clang"); err != nil {
		t.Skip("clang not installed: the committed object cannot be rebuilt here")
	}
	if _, err := os.Stat("/usr/include/bpf/bpf_helpers.h"); err != nil {
		t.Skip("libbpf-dev not installed: the committed object cannot be rebuilt here")
	}
	// The same command as gen.go's go:generate line, written to a scratch directory.
	dir := t.TempDir()
	args := append([]string{"run", "github.com/cilium/ebpf/cmd/bpf2go", "-output-dir", dir}, generateArgs...)
	cmd := exec.Command("go", args...)
	cmd.Env = append(os.Environ(), "GOPACKAGE=monitor")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("bpf2go: %v\n%s", err, out)
	}
	for _, obj := range objects {
		got, err := os.ReadFile(filepath.Join(dir, obj))
		if err != nil {
			t.Fatal(err)
		}
		have, err := os.ReadFile(obj)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(have) {
			t.Errorf("%s is stale: run go generate ./internal/runtime/monitor/ and commit the result", obj)
		}
	}
}

// generateArgs are bpf2go's arguments in gen.go's go:generate line.
var generateArgs = func() []string {
	b, err := os.ReadFile("gen.go")
	if err != nil {
		return nil
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "//go:generate go run github.com/cilium/ebpf/cmd/bpf2go "); ok {
			return splitQuoted(rest)
		}
	}
	return nil
}()

// splitQuoted splits a go:generate line into words, keeping "quoted phrases" whole.
func splitQuoted(s string) []string {
	var out []string
	var cur strings.Builder
	quoted := false
	for _, r := range s {
		switch {
		case r == '"':
			quoted = !quoted
		case r == ' ' && !quoted:
			if cur.Len() > 0 {
				out = append(out, cur.String())
				cur.Reset()
			}
		default:
			cur.WriteRune(r)
		}
	}
	if cur.Len() > 0 {
		out = append(out, cur.String())
	}
	return out
}
