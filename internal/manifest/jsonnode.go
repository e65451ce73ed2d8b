package manifest

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// maxJSONNodes bounds the nodes one template expands to, aliases counted each time they
// are used: a few lines of anchors can otherwise name millions of nodes.
const maxJSONNodes = 1_000_000

// nodeJSON writes a YAML node as JSON, the way the API server sees a manifest: mappings
// become objects (merge keys applied, explicit keys winning), sequences arrays, and
// scalars take the type their YAML tag gives them.
func nodeJSON(b *bytes.Buffer, n *yaml.Node, budget *int) error {
	n = resolve(n)
	if *budget--; *budget < 0 {
		return errors.New("document expands to too many nodes (aliases)")
	}
	switch n.Kind {
	case yaml.MappingNode:
		b.WriteByte('{')
		first := true
		if err := mappingJSON(b, n, budget, &first, 0); err != nil {
			return err
		}
		b.WriteByte('}')
	case yaml.SequenceNode:
		b.WriteByte('[')
		for i, it := range n.Content {
			if i > 0 {
				b.WriteByte(',')
			}
			if err := nodeJSON(b, it, budget); err != nil {
				return err
			}
		}
		b.WriteByte(']')
	case yaml.ScalarNode:
		scalarJSON(b, n)
	default:
		b.WriteString("null")
	}
	return nil
}

// mappingJSON writes a mapping's entries: merged mappings first (the first of several
// last), so that what YAML says wins is written last, as encoding/json keeps the last
// of duplicate keys.
func mappingJSON(b *bytes.Buffer, n *yaml.Node, budget *int, first *bool, depth int) error {
	if depth > 32 {
		return errors.New("merge keys nested too deeply")
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		if k.Kind != yaml.ScalarNode || k.ShortTag() != "!!merge" {
			continue
		}
		v := resolve(n.Content[i+1])
		merged := []*yaml.Node{v}
		if v.Kind == yaml.SequenceNode {
			merged = v.Content
		}
		// In <<: [*a, *b], a's keys win over b's: write b first.
		for j := len(merged) - 1; j >= 0; j-- {
			m := resolve(merged[j])
			if m.Kind != yaml.MappingNode {
				return &ParseError{Line: m.Line, Err: errors.New("a merge key takes a mapping")}
			}
			if *budget--; *budget < 0 {
				return errors.New("document expands to too many nodes (aliases)")
			}
			if err := mappingJSON(b, m, budget, first, depth+1); err != nil {
				return err
			}
		}
	}
	var seen map[string]bool
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		if k.Kind == yaml.ScalarNode && k.ShortTag() == "!!merge" {
			continue
		}
		if k = resolve(k); k.Kind != yaml.ScalarNode {
			return &ParseError{Line: k.Line, Err: errors.New("a mapping key must be a scalar")}
		}
		key := keyText(k)
		if seen == nil {
			seen = make(map[string]bool, len(n.Content)/2)
		}
		if seen[key] {
			return &ParseError{Line: k.Line, Err: fmt.Errorf("key %q repeated", clipKey(key))}
		}
		seen[key] = true
		if !*first {
			b.WriteByte(',')
		}
		*first = false
		stringJSON(b, key)
		b.WriteByte(':')
		if err := nodeJSON(b, n.Content[i+1], budget); err != nil {
			return err
		}
	}
	return nil
}

// keyText is a mapping key as the API server's YAML-to-JSON conversion names it: a
// number or boolean key by its value (00 and 0x0 are "0"), anything else by its text.
func keyText(k *yaml.Node) string {
	switch k.ShortTag() {
	case "!!int", "!!bool", "!!float":
		var b bytes.Buffer
		scalarJSON(&b, k)
		if out := b.Bytes(); len(out) > 0 && out[0] != '"' {
			return string(out)
		}
	}
	return k.Value
}

func scalarJSON(b *bytes.Buffer, n *yaml.Node) {
	v := n.Value
	switch n.ShortTag() {
	case "!!null":
		b.WriteString("null")
		return
	case "!!bool":
		if t, err := strconv.ParseBool(strings.ToLower(v)); err == nil {
			b.WriteString(strconv.FormatBool(t))
			return
		}
	case "!!int":
		plain := strings.ReplaceAll(v, "_", "")
		if i, err := strconv.ParseInt(plain, 0, 64); err == nil {
			b.WriteString(strconv.FormatInt(i, 10))
			return
		}
		if u, err := strconv.ParseUint(strings.TrimPrefix(plain, "+"), 0, 64); err == nil {
			b.WriteString(strconv.FormatUint(u, 10))
			return
		}
	case "!!float":
		if f, err := strconv.ParseFloat(strings.ReplaceAll(v, "_", ""), 64); err == nil && !math.IsInf(f, 0) && !math.IsNaN(f) {
			b.WriteString(strconv.FormatFloat(f, 'g', -1, 64))
			return
		}
	}
	stringJSON(b, v) // strings, timestamps, binary, and numbers JSON cannot hold
}

const hexDigits = "0123456789abcdef"

// stringJSON writes s as a JSON string; invalid UTF-8 becomes U+FFFD, as encoding/json
// does.
func stringJSON(b *bytes.Buffer, s string) {
	b.WriteByte('"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b.WriteByte('\\')
				b.WriteByte(c)
			case c < 0x20:
				b.WriteString(`\u00`)
				b.WriteByte(hexDigits[c>>4])
				b.WriteByte(hexDigits[c&0xf])
			default:
				b.WriteByte(c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b.WriteString(`\ufffd`)
		} else {
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	b.WriteByte('"')
}

func clipKey(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}
