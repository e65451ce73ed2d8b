package imagecheck

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/charterhq/charter/internal/report"
	"github.com/charterhq/charter/internal/secrets"
)

// configSecrets is IMG002: secrets in Env, Labels, Entrypoint, Cmd and the history.
// The config comes first, so a value the config holds is reported there and not again
// for the history entry that set it.
func (c *checker) configSecrets() {
	if c.cfg == nil {
		return
	}
	seen := map[string]bool{}
	cfg := c.cfg.Config
	for _, kv := range cfg.Env {
		k, v, _ := strings.Cut(kv, "=")
		loc := c.configLoc(func(ins string) bool { return hasKeyword(ins, "ENV") && setsKey(ins, k) })
		c.secretPair(seen, loc, "Env "+k, k, v)
	}
	keys := make([]string, 0, len(cfg.Labels))
	for k := range cfg.Labels {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		loc := c.configLoc(func(ins string) bool { return hasKeyword(ins, "LABEL") && setsKey(ins, k) })
		c.secretPair(seen, loc, "label "+k, k, cfg.Labels[k])
	}
	for _, cmd := range []struct {
		name string
		args []string
	}{{"Entrypoint", cfg.Entrypoint}, {"Cmd", cfg.Cmd}} {
		loc := c.configLoc(func(ins string) bool { return hasKeyword(ins, strings.ToUpper(cmd.name)) })
		c.scanValue(seen, loc, cmd.name, strings.Join(cmd.args, " "))
	}
	for i, h := range c.cfg.History {
		c.historySecrets(seen, i, h.CreatedBy)
	}
}

// historySecrets looks at one history entry: build arguments (`|2 A=1 B=2 /bin/sh -c …`),
// ENV/ARG/LABEL assignments, and any value the scanner recognises.
func (c *checker) historySecrets(seen map[string]bool, i int, createdBy string) {
	loc := c.historyLoc(i)
	ins := instructionOf(createdBy)
	for _, kv := range buildArgs(ins) {
		c.secretPair(seen, loc, "build argument "+kv[0], kv[0], kv[1])
	}
	for _, kw := range []string{"ENV", "ARG", "LABEL"} {
		if hasKeyword(ins, kw) {
			for _, kv := range assignments(ins[len(kw):]) {
				c.secretPair(seen, loc, kw+" "+kv[0]+" in the history", kv[0], kv[1])
			}
		}
	}
	c.scanValue(seen, loc, "the history entry", createdBy)
}

// secretPair reports a name/value pair whose name says it is a secret and whose value is
// a literal, or whose value the scanner recognises.
func (c *checker) secretPair(seen map[string]bool, loc report.Location, what, key, value string) {
	if secrets.IsSecretName(key) && isLiteral(value) {
		c.values = append(c.values, value)
		if seen[value] {
			return
		}
		seen[value] = true
		c.add(ruleIMG002, loc, what+" holds a secret value, readable by anyone who can pull the image", secrets.Redact(value))
		return
	}
	c.scanValue(seen, loc, what, value)
}

// scanValue reports the first credential the scanner finds in a value not yet reported.
func (c *checker) scanValue(seen map[string]bool, loc report.Location, what, value string) {
	if value == "" {
		return
	}
	for _, m := range secrets.ScanString(value) {
		c.values = append(c.values, m.Value)
		if seen[m.Value] {
			continue
		}
		seen[m.Value] = true
		c.add(ruleIMG002, loc, fmt.Sprintf("%s holds a secret (%s), readable by anyone who can pull the image", what, m.Title),
			secrets.Redact(m.Value))
	}
}

// isLiteral reports whether a value is written out rather than taken from elsewhere
// ($VAR, ${VAR}) or left empty.
func isLiteral(v string) bool {
	v = strings.TrimSpace(v)
	return v != "" && !strings.Contains(v, "$")
}

// setsKey reports whether an ENV or LABEL instruction assigns key.
func setsKey(ins, key string) bool {
	_, rest, _ := strings.Cut(ins, " ")
	for _, kv := range assignments(rest) {
		if kv[0] == key {
			return true
		}
	}
	// The legacy form "ENV KEY value".
	f := strings.Fields(rest)
	return len(f) > 0 && f[0] == key
}

// buildArgs returns the build arguments a RUN history entry records before its command:
// "|2 A=1 B=2 /bin/sh -c …" (classic builder) or "RUN |2 A=1 B=2 /bin/sh -c …"
// (BuildKit). Values are recorded unquoted, so a word without "=" continues the value
// before it while arguments are still expected.
func buildArgs(ins string) [][2]string {
	s := strings.TrimSpace(ins)
	if hasKeyword(s, "RUN") {
		s = strings.TrimSpace(s[3:])
	}
	if !strings.HasPrefix(s, "|") {
		return nil
	}
	countWord, rest, _ := strings.Cut(s[1:], " ")
	n, err := strconv.Atoi(countWord)
	if err != nil || n <= 0 {
		return nil
	}
	var out [][2]string
	for _, w := range strings.Split(rest, " ") {
		if len(out) == n {
			break
		}
		k, v, ok := strings.Cut(w, "=")
		switch {
		case ok && isArgName(k):
			out = append(out, [2]string{k, v})
		case len(out) > 0:
			out[len(out)-1][1] += " " + w
		default:
			return nil
		}
	}
	return out
}

func isArgName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		b := s[i]
		if b != '_' && (b < 'a' || b > 'z') && (b < 'A' || b > 'Z') && (i == 0 || b < '0' || b > '9') {
			return false
		}
	}
	return true
}

// assignments splits "A=1 B='two words' C=\"x\"" into pairs, honouring quotes and
// backslash escapes as the Dockerfile front end writes them into the history.
func assignments(s string) [][2]string {
	var out [][2]string
	for _, w := range shellWords(s) {
		if k, v, ok := strings.Cut(w, "="); ok && k != "" {
			out = append(out, [2]string{k, v})
		}
	}
	return out
}

// shellWords splits on unquoted blanks and removes quotes; enough for ENV/ARG/LABEL
// lines, which are not full shell.
func shellWords(s string) []string {
	var words []string
	var b strings.Builder
	in := false
	var quote byte
	for i := 0; i < len(s); i++ {
		ch := s[i]
		switch {
		case quote != 0:
			if ch == quote {
				quote = 0
			} else if ch == '\\' && quote == '"' && i+1 < len(s) {
				i++
				b.WriteByte(s[i])
			} else {
				b.WriteByte(ch)
			}
		case ch == '"' || ch == '\'':
			quote, in = ch, true
		case ch == '\\' && i+1 < len(s):
			i++
			b.WriteByte(s[i])
			in = true
		case ch == ' ' || ch == '\t' || ch == '\n':
			if in {
				words = append(words, b.String())
				b.Reset()
				in = false
			}
		default:
			b.WriteByte(ch)
			in = true
		}
	}
	if in {
		words = append(words, b.String())
	}
	return words
}
