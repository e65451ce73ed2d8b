package policy

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// MaxFileSize caps a policy file. Real ones are a few kilobytes; the cap bounds the
// parser's work on a hostile or accidental input (a log file passed as --charter).
const MaxFileSize = 1 << 20

// maxNodes caps the YAML nodes in one file, for the same reason: without aliases the
// count is bounded by the size, but a flow sequence of one-character items is dense.
const maxNodes = 100_000

// readCapped reads a policy file, refusing one larger than MaxFileSize.
func readCapped(name string) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close() //nolint:errcheck // read-only: a close error loses nothing
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, &Error{Path: name, Msg: "not a regular file"}
	}
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > MaxFileSize {
		return nil, tooLarge(name)
	}
	return data, nil
}

func tooLarge(name string) *Error {
	return &Error{Path: name, Msg: fmt.Sprintf("file is larger than %d bytes; is it the right file?", MaxFileSize)}
}

var yamlLineMsg = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// parseDocument decodes exactly one YAML document into a node tree and checks it is safe
// to walk: no aliases (billion-laughs expansions), bounded node count. It returns the
// top-level node, or nil for an empty document.
func parseDocument(name string, data []byte) (root *yaml.Node, err error) {
	if len(data) > MaxFileSize {
		return nil, tooLarge(name)
	}
	defer func() {
		// The YAML library recovers its own errors; anything else is a bug it has on
		// hostile input, and the caller still deserves an error rather than a crash.
		if r := recover(); r != nil {
			root, err = nil, &Error{Path: name, Msg: fmt.Sprintf("malformed YAML (%v)", r)}
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil
		}
		return nil, syntaxError(name, err)
	}
	var next yaml.Node
	switch err := dec.Decode(&next); {
	case err == nil:
		return nil, &Error{Path: name, Line: next.Line, Column: next.Column,
			Msg: "a second YAML document starts here; the file must hold exactly one"}
	case !errors.Is(err, io.EOF):
		return nil, syntaxError(name, err)
	}
	if err := checkTree(name, &doc); err != nil {
		return nil, err
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return nil, nil
	}
	return doc.Content[0], nil
}

func syntaxError(name string, err error) *Error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	line := 0
	if m := yamlLineMsg.FindStringSubmatch(err.Error()); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = m[2]
	}
	switch {
	case parserProblems[msg]:
		// The YAML library reports a parser error's line 0-based (and leaves out line 0);
		// its scanner errors are 1-based, like every other line charter prints.
		line++
	case strings.HasPrefix(msg, "unknown anchor"):
		return &Error{Path: name, Msg: "YAML aliases (*name) are not allowed; write the value out"}
	case line == 0 && scannerProblem(msg):
		line = 1
	}
	return &Error{Path: name, Line: line, Msg: "invalid YAML: " + msg}
}

// parserProblems are the YAML parser's messages (as opposed to its scanner's).
var parserProblems = map[string]bool{
	"did not find expected ',' or ']'":       true,
	"did not find expected ',' or '}'":       true,
	"did not find expected '-' indicator":    true,
	"did not find expected <document start>": true,
	"did not find expected <stream-start>":   true,
	"did not find expected key":              true,
	"did not find expected node content":     true,
	"found duplicate %TAG directive":         true,
	"found duplicate %YAML directive":        true,
	"found incompatible YAML document":       true,
	"found undefined tag handle":             true,
}

// scannerProblem reports whether msg comes from the YAML scanner, which leaves out the
// line only for problems on the first one.
func scannerProblem(msg string) bool {
	for _, p := range []string{"found ", "did not find ", "could not find ", "mapping values ",
		"block sequence ", "control characters ", "invalid ", "incomplete ", "while "} {
		if strings.HasPrefix(msg, p) {
			return true
		}
	}
	return false
}

// checkTree rejects aliases and oversized trees, iteratively so that deep nesting cannot
// exhaust the stack.
func checkTree(name string, doc *yaml.Node) error {
	stack := []*yaml.Node{doc}
	count := 0
	for len(stack) > 0 {
		n := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		count++
		if count > maxNodes {
			return &Error{Path: name, Line: n.Line, Column: n.Column,
				Msg: fmt.Sprintf("more than %d YAML nodes; is it the right file?", maxNodes)}
		}
		if n.Kind == yaml.AliasNode {
			return &Error{Path: name, Line: n.Line, Column: n.Column,
				Msg: "YAML aliases (*name) are not allowed; write the value out"}
		}
		// Children go on in reverse so that the first problem in the file is found first.
		for i := len(n.Content) - 1; i >= 0; i-- {
			stack = append(stack, n.Content[i])
		}
	}
	return nil
}

// decoder walks a node tree, failing on the first problem with its position.
type decoder struct{ name string }

func (d *decoder) errf(n *yaml.Node, format string, args ...any) *Error {
	e := &Error{Path: d.name, Msg: fmt.Sprintf(format, args...)}
	if n != nil {
		e.Line, e.Column = n.Line, n.Column
	}
	return e
}

func isNull(n *yaml.Node) bool {
	return n == nil || n.Kind == yaml.ScalarNode && n.Tag == "!!null"
}

// describe names a node's type the way a user thinks of it.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	case yaml.DocumentNode:
		return "a document"
	}
	switch n.Tag {
	case "!!str":
		return fmt.Sprintf("the string %q", clip(n.Value))
	case "!!int", "!!float":
		return "the number " + clip(n.Value)
	case "!!bool":
		return "the boolean " + n.Value
	case "!!timestamp":
		return "the date " + clip(n.Value)
	case "!!null":
		return "nothing"
	}
	return "a value tagged " + clip(n.Tag)
}

// clip shortens a value quoted in a message to 40 bytes, on a character boundary: a
// message is one line, whatever a hostile file holds.
func clip(s string) string {
	if len(s) <= 40 {
		return s
	}
	cut := 0
	for i := range s {
		if i > 40 {
			break
		}
		cut = i
	}
	return s[:cut] + "…"
}

// fieldFunc handles one key of a mapping. It is not called for null values: a key
// written with nothing after it counts as absent.
type fieldFunc func(key string, k, v *yaml.Node) error

// mapping checks that n is a mapping whose keys are all in keys, each at most once, and
// calls set for each. A null n is an empty mapping. where names the mapping in messages
// ("" for the top level).
func (d *decoder) mapping(n *yaml.Node, where string, keys []string, set fieldFunc) error {
	if isNull(n) {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		return d.errf(n, "%s: want a mapping, got %s", where, describe(n))
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			return d.errf(k, "%skeys must be plain words, got %s", in(where), describe(k))
		}
		key := k.Value
		if first, dup := seen[key]; dup {
			return d.errf(k, "duplicate key %q%s (first at line %d)", clip(key), inWhere(where), first)
		}
		seen[key] = k.Line
		if keys != nil && !slices.Contains(keys, key) {
			return d.errf(k, "unknown key %q%s%s", clip(key), inWhere(where), suggest(key, keys))
		}
		if isNull(v) {
			continue
		}
		if err := set(key, k, v); err != nil {
			return err
		}
	}
	return nil
}

func in(where string) string {
	if where == "" {
		return ""
	}
	return where + ": "
}

func inWhere(where string) string {
	if where == "" {
		return ""
	}
	return " in " + where
}

// str reads a string scalar. Numbers, booleans and dates are refused: a policy value that
// YAML reads as something else is usually a mistake worth quoting.
func (d *decoder) str(n *yaml.Node, where string) (string, error) {
	if n.Kind != yaml.ScalarNode || n.Tag != "!!str" {
		return "", d.errf(n, "%s: want a string, got %s", where, describe(n))
	}
	return n.Value, nil
}

// word reads a scalar written as a string or a number (a user ID, a CPU count): both
// spellings mean the same to the reader.
func (d *decoder) word(n *yaml.Node, where string) (string, error) {
	if n.Kind != yaml.ScalarNode || (n.Tag != "!!str" && n.Tag != "!!int" && n.Tag != "!!float") {
		return "", d.errf(n, "%s: want a string or a number, got %s", where, describe(n))
	}
	return n.Value, nil
}

func (d *decoder) boolean(n *yaml.Node, where string) (bool, error) {
	var b bool
	if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" || n.Decode(&b) != nil {
		return false, d.errf(n, "%s: want true or false, got %s", where, describe(n))
	}
	return b, nil
}

// integer reads an integer in [lo, hi].
func (d *decoder) integer(n *yaml.Node, where string, lo, hi int) (int, error) {
	var v int64
	if n.Kind != yaml.ScalarNode || n.Tag != "!!int" || n.Decode(&v) != nil {
		return 0, d.errf(n, "%s: want a whole number, got %s", where, describe(n))
	}
	if v < int64(lo) || v > int64(hi) {
		return 0, d.errf(n, "%s: %d is out of range (want %d to %d)", where, v, lo, hi)
	}
	return int(v), nil
}

// list calls each for every item of a sequence. A null n is an empty list.
func (d *decoder) list(n *yaml.Node, where string, each func(i int, item *yaml.Node) error) error {
	if isNull(n) {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		return d.errf(n, "%s: want a list, got %s", where, describe(n))
	}
	for i, item := range n.Content {
		if err := each(i, item); err != nil {
			return err
		}
	}
	return nil
}

// strings reads a list of strings, each checked by valid (which may be nil) and returned
// as written. An empty list gives an empty, non-nil slice.
func (d *decoder) strings(n *yaml.Node, where string, valid func(string) error) ([]string, error) {
	out := []string{}
	err := d.list(n, where, func(i int, item *yaml.Node) error {
		at := fmt.Sprintf("%s[%d]", where, i)
		s, err := d.str(item, at)
		if err != nil {
			return err
		}
		if valid != nil {
			if err := valid(s); err != nil {
				return d.errf(item, "%s: %v", at, err)
			}
		}
		out = append(out, s)
		return nil
	})
	return out, err
}

// check runs a validation on a value read from n, positioning its error at n.
func (d *decoder) check(n *yaml.Node, where string, err error) error {
	if err != nil {
		return d.errf(n, "%s: %v", where, err)
	}
	return nil
}

// duration reads a Go duration ("15m", "2s", "1h30m").
func (d *decoder) duration(n *yaml.Node, where string) (Duration, error) {
	s, err := d.str(n, where)
	if err != nil {
		return 0, err
	}
	v, perr := time.ParseDuration(s)
	if perr != nil {
		return 0, d.errf(n, "%s: %q is not a duration (write it like 90s, 15m or 1h30m)", where, clip(s))
	}
	if v < 0 {
		return 0, d.errf(n, "%s: %s is negative", where, s)
	}
	return Duration(v), nil
}

// date reads a calendar date written YYYY-MM-DD, quoted or not.
func (d *decoder) date(n *yaml.Node, where string) (string, error) {
	if n.Kind != yaml.ScalarNode || (n.Tag != "!!str" && n.Tag != "!!timestamp") {
		return "", d.errf(n, "%s: want a date (YYYY-MM-DD), got %s", where, describe(n))
	}
	if _, err := time.Parse(time.DateOnly, n.Value); err != nil {
		return "", d.errf(n, "%s: %q is not a date (want YYYY-MM-DD, e.g. 2027-01-31)", where, clip(n.Value))
	}
	return n.Value, nil
}

// validGlob reports whether pattern is a well-formed path.Match pattern.
func validGlob(pattern string) error {
	if pattern == "" {
		return errors.New("empty pattern")
	}
	if _, err := path.Match(pattern, ""); err != nil {
		return fmt.Errorf("%q is not a valid pattern (check its [ ] and \\)", clip(pattern))
	}
	return nil
}
