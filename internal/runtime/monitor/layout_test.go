//go:build amd64

package monitor

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cilium/ebpf/btf"
)

// TestRecordLayout checks the offsets decode reads against struct event as the compiled
// object describes it: a field added to the C side without updating event.go fails here.
func TestRecordLayout(t *testing.T) {
	spec, err := loadMonitorBPF()
	if err != nil {
		t.Fatal(err)
	}
	var ev *btf.Struct
	if err := spec.Types.TypeByName("event", &ev); err != nil {
		t.Fatal(err)
	}
	if ev.Size != recordSize {
		t.Errorf("sizeof(struct event) = %d, decode expects %d", ev.Size, recordSize)
	}
	want := map[string]int{"cgroup_id": 8, "kind": offKind, "pid": 20, "tid": 24, "ppid": 28, "uid": 32, "gid": 36,
		"vpid": 40, "pidns_level": 44, "flags": 48, "family": offFamily, "port": offFamily + 2, "addr": offAddr,
		"args_len": offArgsN, "comm": offComm, "cg_leaf": offLeaf, "cg_parent": offParent, "path": offPath, "args": offArgs}
	for _, m := range ev.Members {
		if off, ok := want[m.Name]; ok && int(m.Offset.Bytes()) != off {
			t.Errorf("%s at %d, decode reads it at %d", m.Name, m.Offset.Bytes(), off)
		}
		delete(want, m.Name)
	}
	for name := range want {
		t.Errorf("struct event has no %s", name)
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
	got, err := os.ReadFile(filepath.Join(dir, "monitorbpf_x86_bpfel.o"))
	if err != nil {
		t.Fatal(err)
	}
	have, err := os.ReadFile("monitorbpf_x86_bpfel.o")
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(have) {
		t.Fatal("monitorbpf_x86_bpfel.o is stale: run go generate ./internal/runtime/monitor/ and commit the result")
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
