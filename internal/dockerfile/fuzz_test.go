package dockerfile

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzLint feeds arbitrary bytes through the whole Dockerfile front end: parse, stage
// resolution, shell parsing of RUN bodies and every rule. Invariants: no panic; a failure
// is a *ParseError with a line inside the input; every finding points at a line of the
// file and names a known rule.
func FuzzLint(f *testing.F) {
	seeds, _ := filepath.Glob("../../examples/*/Dockerfile")
	corpus, _ := filepath.Glob("../../../shared/corpora/dockerfiles/files/*")
	if len(corpus) > 40 {
		corpus = corpus[:40]
	}
	for _, p := range append(seeds, corpus...) {
		if data, err := os.ReadFile(p); err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte("FROM scratch\nRUN <<EOF\nset -eux; curl -fsSL x | sh\nEOF\n"))
	f.Add([]byte("# escape=`\nFROM a AS b\nONBUILD RUN sudo apt-get install -y x\nCOPY --from=b / /\n"))
	f.Add([]byte("ARG X=1\nFROM ${X:-y}\nUSER root\nEXPOSE 22/tcp 1-100\nHEALTHCHECK NONE\n"))
	known := map[string]bool{}
	for _, r := range Rules() {
		known[r.ID] = true
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := ParseBytes("Dockerfile", data)
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error is %T, not *ParseError: %v", err, err)
			}
			if lines := strings.Count(string(data), "\n") + 1; pe.Line < 0 || pe.Line > lines {
				t.Fatalf("error line %d outside the input's %d lines", pe.Line, lines)
			}
			return
		}
		lines := len(file.Lines)
		for _, fd := range Lint(file, &Config{}) {
			if !known[fd.Rule] {
				t.Fatalf("finding of unknown rule %q", fd.Rule)
			}
			if fd.Location.Line < 0 || fd.Location.Line > lines+1 {
				t.Fatalf("%s at line %d of a %d-line file", fd.Rule, fd.Location.Line, lines)
			}
		}
	})
}
