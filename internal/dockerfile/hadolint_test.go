package dockerfile

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// hadolintCase is one expectation transcribed from hadolint's own rule specs: a Dockerfile
// fragment and whether the DL rule must fire on it.
type hadolintCase struct {
	rule   string
	fires  bool
	config Config
	body   string
	file   string
	line   int
}

// loadHadolintCases reads testdata/hadolint/DL*.txt. Each file holds cases for one DL rule:
//
//	--- fire
//	RUN apt-get install python
//	--- pass {"trustedRegistries":["docker.io"]}
//	FROM docker.io/debian:12
//
// A header may carry a JSON Config. A fragment without FROM gets "FROM scratch" prepended.
func loadHadolintCases(t testing.TB) []hadolintCase {
	t.Helper()
	files, err := filepath.Glob("testdata/hadolint/DL*.txt")
	if err != nil {
		t.Fatal(err)
	}
	var cases []hadolintCase
	for _, name := range files {
		rule := strings.TrimSuffix(filepath.Base(name), ".txt")
		fh, err := os.Open(name)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(fh)
		var cur *hadolintCase
		n := 0
		flush := func() {
			if cur != nil {
				cur.body = strings.TrimRight(cur.body, "\n") + "\n"
				cases = append(cases, *cur)
			}
		}
		for sc.Scan() {
			n++
			line := sc.Text()
			if rest, ok := strings.CutPrefix(line, "--- "); ok {
				flush()
				kind, cfg, _ := strings.Cut(rest, " ")
				if kind != "fire" && kind != "pass" {
					t.Fatalf("%s:%d: want '--- fire' or '--- pass', got %q", name, n, line)
				}
				cur = &hadolintCase{rule: rule, fires: kind == "fire", file: name, line: n}
				if cfg = strings.TrimSpace(cfg); cfg != "" {
					if err := json.Unmarshal([]byte(cfg), &cur.config); err != nil {
						t.Fatalf("%s:%d: config: %v", name, n, err)
					}
				}
				continue
			}
			if cur == nil {
				continue // file comments before the first case
			}
			cur.body += line + "\n"
		}
		flush()
		_ = fh.Close()
	}
	return cases
}

func hasFROM(body string) bool {
	for _, l := range strings.Split(body, "\n") {
		if f := strings.Fields(l); len(f) > 0 && strings.EqualFold(f[0], "FROM") {
			return true
		}
	}
	return false
}

// TestHadolintAgreement measures agreement with hadolint's published expectations. The
// goal is at least 97% of cases, and at least 90% of hadolint's DL rules aliased.
func TestHadolintAgreement(t *testing.T) {
	cases := loadHadolintCases(t)
	if len(cases) == 0 {
		t.Fatal("no hadolint cases under testdata/hadolint")
	}
	agree := 0
	perRule := map[string][2]int{}
	for _, c := range cases {
		body := c.body
		if !hasFROM(body) {
			body = "FROM scratch\n" + body
		}
		cfg := c.config
		fired := false
		f, err := ParseBytes("Dockerfile", []byte(body))
		if err == nil {
			for _, fd := range Lint(f, &cfg) {
				for _, a := range fd.Aliases {
					if a == c.rule {
						fired = true
					}
				}
			}
		}
		counts := perRule[c.rule]
		counts[1]++
		if fired == c.fires {
			agree++
			counts[0]++
		} else {
			t.Logf("%s:%d: %s should %s (parse error: %v)", c.file, c.line, c.rule, map[bool]string{true: "fire", false: "not fire"}[c.fires], err)
		}
		perRule[c.rule] = counts
	}
	ratio := float64(agree) / float64(len(cases))
	t.Logf("hadolint agreement: %d/%d cases (%.1f%%)", agree, len(cases), 100*ratio)
	var rules []string
	for r := range perRule {
		rules = append(rules, r)
	}
	sort.Strings(rules)
	for _, r := range rules {
		if c := perRule[r]; c[0] != c[1] {
			t.Logf("  %s: %d/%d", r, c[0], c[1])
		}
	}
	if ratio < 0.97 {
		t.Errorf("agreement %.1f%% is below the 97%% goal", 100*ratio)
	}
}

// TestHadolintRulesAliased checks that at least 90% of hadolint's DL rules have a charter
// rule carrying their ID. testdata/hadolint/RULES lists hadolint's rule IDs.
func TestHadolintRulesAliased(t *testing.T) {
	data, err := os.ReadFile("testdata/hadolint/RULES")
	if err != nil {
		t.Fatal(err)
	}
	aliased := map[string]bool{}
	for _, r := range Rules() {
		for _, a := range r.Aliases {
			aliased[a] = true
		}
	}
	var total, have int
	var missing []string
	for _, id := range strings.Fields(string(data)) {
		total++
		if aliased[id] {
			have++
		} else {
			missing = append(missing, id)
		}
	}
	t.Logf("%d/%d hadolint rules aliased; missing: %v", have, total, missing)
	if total == 0 || float64(have)/float64(total) < 0.90 {
		t.Errorf("only %d of %d hadolint rules aliased (goal 90%%)", have, total)
	}
}
