package cli

import (
	"os"
	"strings"
	"testing"
)

func TestMonitorFlagErrors(t *testing.T) {
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"monitor", "--format", "sarif"}, `unknown format "sarif" (want jsonl or table)`},
		{[]string{"monitor", "--all", "--container", "web"}, "--all and --container exclude each other"},
		{[]string{"monitor", "--enforce=stop"}, `--enforce "stop": the one enforcement is kill`},
		{[]string{"monitor", "--webhook", "ftp://x"}, `--webhook "ftp://x" is not an http(s) URL`},
		{[]string{"monitor", "--source", "kprobe", "--duration", "1ms"}, `unknown source "kprobe"`},
	}
	for _, c := range cases {
		code, _, stderr := run(t, t.TempDir(), "", c.args...)
		if code != ExitError || !strings.Contains(stderr, c.want) || strings.Count(stderr, "\n") > 2 {
			t.Errorf("%v: exit %d, stderr %q, want %q", c.args, code, stderr, c.want)
		}
	}
}

func TestMonitorBadCharterException(t *testing.T) {
	dir := project(t, map[string]string{"charter.yaml": "version: 1\nmonitor:\n  exceptions:\n    - {rule: RT009, reason: x}\n"})
	code, _, stderr := run(t, dir, "", "monitor", "--duration", "1ms")
	if code != ExitError || !strings.Contains(stderr, `unknown rule "RT009"`) {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
}

// TestMonitorRunsAndCounts loads the real kernel side for a moment: nothing happens in
// any container, so the verdict passes and the counts line is printed.
func TestMonitorRunsAndCounts(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("the monitor's eBPF programs need root")
	}
	dir := project(t, map[string]string{"charter.yaml": "version: 1\nruntime:\n  egress: [\"127.0.0.1:443\"]\n"})
	code, stdout, stderr := run(t, dir, "", "monitor", "--duration", "300ms", "--source", "bpf", "--container", "no-such-container")
	if code != ExitPass || stdout != "" {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	if !strings.Contains(stderr, "watching (source ebpf)") || !strings.Contains(stderr, "0 alerts, 0 excepted, 0 dropped, source ebpf") {
		t.Errorf("stderr %q", stderr)
	}
}
