package policy

import (
	"strings"
	"testing"
)

func TestParseMonitor(t *testing.T) {
	src := `version: 1
monitor:
  exceptions:
    - rule: RT001
      container: "debug-*"
      reason: the debug sidecar is for shells
    - rule: Read sensitive file untrusted
      image: "registry.example.com/vault-agent:*"
      process: vault
      path: /var/run/secrets/kubernetes.io/serviceaccount/token
      reason: vault-agent logs in with the pod's token
      expires: 2027-01-31
`
	f, err := Parse("charter.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	ex := f.Monitor.Exceptions
	if len(ex) != 2 {
		t.Fatalf("%d exceptions", len(ex))
	}
	if ex[0].Rule != "RT001" || ex[0].Container != "debug-*" || ex[0].Line() != 4 {
		t.Errorf("first: %+v", ex[0])
	}
	if ex[1].Rule != "Read sensitive file untrusted" || ex[1].Process != "vault" || ex[1].Expires != "2027-01-31" ||
		ex[1].Image != "registry.example.com/vault-agent:*" || !strings.HasPrefix(ex[1].Path, "/var/run/") {
		t.Errorf("second: %+v", ex[1])
	}
}

func TestParseMonitorErrors(t *testing.T) {
	cases := []struct{ name, src, want string }{
		{"no reason", "version: 1\nmonitor:\n  exceptions:\n    - rule: RT001\n",
			`charter.yaml:4: monitor.exceptions[0]: exception has no reason; say why these events are accepted`},
		{"nothing matched", "version: 1\nmonitor:\n  exceptions:\n    - reason: why not\n",
			`charter.yaml:4: monitor.exceptions[0]: an exception needs at least one of rule, container, image, process or path`},
		{"unknown key", "version: 1\nmonitor:\n  exceptions:\n    - {rule: RT001, proc: sh, reason: x}\n",
			`charter.yaml:4: unknown key "proc" in monitor.exceptions[0]`},
		{"bad glob", "version: 1\nmonitor:\n  exceptions:\n    - {container: \"[\", reason: x}\n",
			`charter.yaml:4: monitor.exceptions[0].container: "[" is not a valid pattern`},
		{"bad date", "version: 1\nmonitor:\n  exceptions:\n    - {rule: RT001, reason: x, expires: soon}\n",
			`charter.yaml:4: monitor.exceptions[0].expires: "soon" is not a date`},
		{"not a list", "version: 1\nmonitor:\n  exceptions: RT001\n",
			`charter.yaml:3: monitor.exceptions: want a list, got the string "RT001"`},
		{"unknown section key", "version: 1\nmonitor:\n  exception: []\n",
			`charter.yaml:3: unknown key "exception" in monitor (did you mean "exceptions"?)`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse("charter.yaml", []byte(c.src))
			if err == nil || !strings.HasPrefix(err.Error(), c.want) {
				t.Fatalf("got %v\nwant %s", err, c.want)
			}
		})
	}
}
