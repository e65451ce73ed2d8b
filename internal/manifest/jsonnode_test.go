package manifest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// oracleJSON is the slow, obviously right conversion: yaml.v3's own decoding, then
// encoding/json.
func oracleJSON(n *yaml.Node) ([]byte, error) {
	var v any
	if err := n.Decode(&v); err != nil {
		return nil, err
	}
	return json.Marshal(stringKeys(v))
}

func stringKeys(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, e := range t {
			t[k] = stringKeys(e)
		}
	case map[any]any:
		m := make(map[string]any, len(t))
		for k, e := range t {
			m[fmt.Sprint(k)] = stringKeys(e)
		}
		return m
	case []any:
		for i, e := range t {
			t[i] = stringKeys(e)
		}
	}
	return v
}

// plainTags reports whether a tree uses only the tags both conversions write alike
// (not timestamps or binary, which the oracle turns into Go values first, nor a null
// mapping key, which the oracle names "<nil>" and nodeJSON by its text).
func plainTags(n *yaml.Node, depth int) bool {
	if n == nil || depth > 64 {
		return n == nil
	}
	switch n.ShortTag() {
	case "!!timestamp", "!!binary":
		return false
	}
	if n.Kind == yaml.MappingNode {
		for i := 0; i < len(n.Content); i += 2 {
			if k := resolve(n.Content[i]); k.ShortTag() == "!!null" {
				return false
			}
		}
	}
	for _, c := range n.Content {
		if !plainTags(c, depth+1) {
			return false
		}
	}
	return true
}

// sameAsOracle checks nodeJSON against the oracle on every document of data where the
// oracle succeeds.
func sameAsOracle(t *testing.T, data []byte) (compared int) {
	t.Helper()
	docs, err := decodeDocuments(data)
	if err != nil {
		return 0
	}
	for _, d := range docs {
		if !plainTags(d, 0) {
			continue
		}
		want, err := oracleJSON(d)
		if err != nil {
			continue
		}
		var buf bytes.Buffer
		budget := maxJSONNodes
		if err := nodeJSON(&buf, d, &budget); err != nil {
			if strings.Contains(err.Error(), "repeated") {
				continue // "0" and 0 are one key to the API server, two to the oracle
			}
			t.Fatalf("line %d: nodeJSON: %v, the oracle gave %s", d.Line, err, want)
		}
		var a, b any
		if err := json.Unmarshal(buf.Bytes(), &a); err != nil {
			t.Fatalf("line %d: nodeJSON wrote invalid JSON %q: %v", d.Line, buf.Bytes(), err)
		}
		if err := json.Unmarshal(want, &b); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("line %d:\nnodeJSON %s\noracle   %s", d.Line, buf.Bytes(), want)
		}
		compared++
	}
	return compared
}

func TestNodeJSONMatchesOracle(t *testing.T) {
	files, _ := filepath.Glob("testdata/*/*.*")
	for _, p := range files {
		if info, err := os.Stat(p); err != nil || info.IsDir() {
			continue
		}
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		sameAsOracle(t, data)
	}
	n := sameAsOracle(t, []byte(`
base: &base { a: 1, b: [x, y] }
other: &other { b: 2, c: "three" }
merged: { <<: [*base, *other], a: override, d: ~ }
ints: [0x1F, 0o17, 017, -12, +12, 1_000, 9223372036854775807, 18446744073709551615]
floats: [1.5, 1e3, -0.0, .5, 6.02e+23]
special: [true, True, FALSE, yes, "yes", null, ~, '']
text: "tab\there \"quoted\" back\\slash \u00e9 \x01 end"
plain: a b c
folded: >
  one
  two
keys: { 1: one, true: yes, 2.5: x }
`))
	if n != 1 {
		t.Fatalf("the oracle refused the hand-written document")
	}
}

func TestNodeJSONRefuses(t *testing.T) {
	for _, in := range []string{
		"a: 1\na: 2\n",
		"a: &a [1]\nb: {<<: *a}\n",
		"? [a]\n: 1\n",
	} {
		docs, err := decodeDocuments([]byte(in))
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		budget := maxJSONNodes
		if err := nodeJSON(&buf, docs[0], &budget); err == nil {
			t.Errorf("%q: no error, wrote %s", in, buf.Bytes())
		}
	}
	// A billion laughs stops at the budget.
	bomb := "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
	for i := 'b'; i <= 'j'; i++ {
		bomb += fmt.Sprintf("%c: &%c [*%c, *%c, *%c, *%c, *%c, *%c, *%c, *%c, *%c, *%c]\n", i, i, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1)
	}
	docs, err := decodeDocuments([]byte(bomb))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	budget := maxJSONNodes
	if err := nodeJSON(&buf, docs[0], &budget); err == nil {
		t.Errorf("alias bomb expanded to %d bytes", buf.Len())
	}
}
