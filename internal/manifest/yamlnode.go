package manifest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Limits on untrusted input, kept in one place.
const (
	// MaxFileBytes caps one manifest, compose or CI file (and standard input).
	MaxFileBytes = 32 << 20
	// maxDocuments caps the YAML documents of one stream.
	maxDocuments = 100_000
)

// ParseError is a file that could not be read as what it claims to be: broken YAML or
// JSON, or a field of the wrong type. Line is 1-based, 0 when unknown.
type ParseError struct {
	Line int
	Err  error
}

func (e *ParseError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("line %d: %v", e.Line, e.Err)
	}
	return e.Err.Error()
}

func (e *ParseError) Unwrap() error { return e.Err }

var (
	reYAMLLine = regexp.MustCompile(`^yaml: (?:line (\d+): )?(.*)$`)
	// reParserError matches the parser's (not the scanner's) messages: yaml.v3 gives
	// those a 0-based line.
	reParserError = regexp.MustCompile(`^did not find expected (?:key|node content|'-' indicator|',' or|<document start>)`)
)

// yamlError turns a yaml.v3 error into a ParseError with its line.
func yamlError(err error) error {
	var te *yaml.TypeError
	if errors.As(err, &te) && len(te.Errors) > 0 {
		err = errors.New("yaml: " + te.Errors[0])
	}
	m := reYAMLLine.FindStringSubmatch(err.Error())
	if m == nil {
		return &ParseError{Err: err}
	}
	line, _ := strconv.Atoi(m[1])
	if m[1] != "" && reParserError.MatchString(m[2]) {
		line++
	}
	return &ParseError{Line: line, Err: errors.New(m[2])}
}

// decodeDocuments splits a YAML (or JSON) stream into its documents' root nodes, skipping
// empty documents.
func decodeDocuments(data []byte) ([]*yaml.Node, error) {
	if len(data) > MaxFileBytes {
		return nil, &ParseError{Err: fmt.Errorf("file is larger than %d MiB", MaxFileBytes>>20)}
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var docs []*yaml.Node
	for {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		if err != nil {
			return nil, yamlError(err)
		}
		if len(docs) >= maxDocuments {
			return nil, &ParseError{Line: doc.Line, Err: fmt.Errorf("more than %d documents", maxDocuments)}
		}
		if len(doc.Content) == 0 {
			continue
		}
		root := doc.Content[0]
		if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
			continue
		}
		docs = append(docs, root)
	}
}

// resolve follows an alias to the node it names.
func resolve(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

// child returns the value and key of a mapping's entry, or nils.
func child(n *yaml.Node, key string) (val, k *yaml.Node) {
	n = resolve(n)
	if n == nil || n.Kind != yaml.MappingNode {
		return nil, nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return resolve(n.Content[i+1]), n.Content[i]
		}
	}
	return nil, nil
}

// scalar returns a mapping entry's string value, or "".
func scalar(n *yaml.Node, key string) string {
	v, _ := child(n, key)
	if v == nil || v.Kind != yaml.ScalarNode {
		return ""
	}
	return v.Value
}

// lineOf returns the line of the field a path names inside n: the key's line for a
// mapping entry, the item's line for a sequence index. When the path goes further than
// the document (a missing field), the deepest existing field's line is returned.
func lineOf(n *yaml.Node, path []string) int {
	n = resolve(n)
	if n == nil {
		return 0
	}
	line := n.Line
	for _, p := range path {
		switch n.Kind {
		case yaml.MappingNode:
			v, k := child(n, p)
			if v == nil {
				return line
			}
			n, line = v, k.Line
		case yaml.SequenceNode:
			i, err := strconv.Atoi(p)
			if err != nil || i < 0 || i >= len(n.Content) {
				return line
			}
			n = resolve(n.Content[i])
			line = n.Line
		default:
			return line
		}
	}
	return line
}

// findField returns the line of the first field along a path of mapping keys that
// satisfies leaf, trying every item where the path crosses a list (the path of a JSON
// type error has no list indices).
func findField(n *yaml.Node, keys []string, leaf func(*yaml.Node) bool) (int, bool) {
	n = resolve(n)
	if n == nil {
		return 0, false
	}
	if n.Kind == yaml.SequenceNode {
		for _, it := range n.Content {
			if line, ok := findField(it, keys, leaf); ok {
				return line, true
			}
		}
		return 0, false
	}
	if len(keys) == 0 {
		return n.Line, leaf(n)
	}
	v, k := child(n, keys[0])
	if v == nil {
		return 0, false
	}
	if len(keys) == 1 && v.Kind != yaml.SequenceNode {
		return k.Line, leaf(v)
	}
	return findField(v, keys[1:], leaf)
}

// jsonKind reports whether a node holds what encoding/json calls kind ("string",
// "number", "bool", "array", "object").
func jsonKind(kind string) func(*yaml.Node) bool {
	return func(n *yaml.Node) bool {
		switch {
		case strings.HasPrefix(kind, "number"):
			return n.Tag == "!!int" || n.Tag == "!!float"
		case kind == "string":
			return n.Kind == yaml.ScalarNode && n.Tag == "!!str"
		case kind == "bool":
			return n.Tag == "!!bool"
		case kind == "array":
			return n.Kind == yaml.SequenceNode
		case kind == "object":
			return n.Kind == yaml.MappingNode
		}
		return true
	}
}
