package imagecheck

import (
	"strings"
	"testing"
)

// FuzzHistoryParsers feeds hostile created_by strings to the history parsers: build
// arguments must be at most the declared count, with valid names, and every value must
// come from the input; assignments must not invent text either.
func FuzzHistoryParsers(f *testing.F) {
	for _, s := range []string{
		"|2 A=1 B=2 /bin/sh -c make",
		"RUN |1 NPM_TOKEN=npm_x /bin/sh -c npm ci # buildkit",
		"|3 MSG=hello world X= Y=z",
		"/bin/sh -c #(nop)  ENV A=1 B=\"two words\" C='x y' D=a\\ b",
		"LABEL a=b \"c d\"=e",
		"|99999999999999999999 A=1",
		"|-1 A=1",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		args := buildArgs(s)
		for _, kv := range args {
			if !isArgName(kv[0]) || !strings.Contains(s, kv[0]+"=") {
				t.Fatalf("buildArgs(%q): bad name %q", s, kv[0])
			}
			for _, w := range strings.Split(kv[1], " ") {
				if !strings.Contains(s, w) {
					t.Fatalf("buildArgs(%q): value %q not from the input", s, kv[1])
				}
			}
		}
		if len(args) > strings.Count(s, "=") {
			t.Fatalf("buildArgs(%q): %d pairs from %d '='", s, len(args), strings.Count(s, "="))
		}
		for _, kv := range assignments(s) {
			if kv[0] == "" {
				t.Fatalf("assignments(%q): empty key", s)
			}
		}
		_ = instructionOf(s)
		_ = setsKey(s, "A")
	})
}

// FuzzFileParsers feeds hostile /etc/passwd and /etc/shadow contents to their parsers:
// every hash reported must be in the input, and no line number can exceed the lines.
func FuzzFileParsers(f *testing.F) {
	f.Add([]byte("root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/:/bin/false\n"))
	f.Add([]byte("root:$6$salt$hash:19000:0:99999:7:::\nbin:*:19000::::::\nx:!:1:\n"))
	f.Add([]byte(":::\n\n::\nroot::0:0\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		lines := strings.Count(string(b), "\n") + 1
		for _, m := range shadowHashes(b) {
			if m.Value == "" || !strings.Contains(string(b), m.Value) || m.Line < 1 || m.Line > lines {
				t.Fatalf("shadowHashes: bad match %+v", m)
			}
		}
		for name := range parsePasswd(b) {
			if name == "" || !strings.Contains(string(b), name) {
				t.Fatalf("parsePasswd: bad name %q", name)
			}
		}
	})
}
