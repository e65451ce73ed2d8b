package policy

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// TestDocsCoverEveryKey keeps docs/charter-file.md in step with the schema: every key of
// the charter file and of .hadolint.yaml must appear in it, in backquotes.
func TestDocsCoverEveryKey(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "docs", "charter-file.md"))
	if err != nil {
		t.Fatal(err)
	}
	doc := string(data)
	var keys []string
	collectKeys(reflect.TypeOf(File{}), "", &keys)
	if len(keys) < 40 {
		t.Fatalf("only %d keys collected: %v", len(keys), keys)
	}
	keys = append(keys, hadolintKeys...)
	keys = append(keys, "override.error", "override.warning", "override.info", "override.style")
	if mentioned(doc, "runtime.noSuchKey") {
		t.Fatal("mentioned() accepts anything")
	}
	for _, k := range keys {
		if !mentioned(doc, k) {
			t.Errorf("docs/charter-file.md does not mention %s", k)
		}
	}
}

// mentioned reports whether the doc names key in backquotes, in full or as written inside
// its section's table (limits.memory for runtime.limits.memory), alone or as a prefix.
func mentioned(doc, key string) bool {
	segs := strings.Split(key, ".")
	for i := range segs {
		s := strings.Join(segs[i:], ".")
		if strings.Contains(doc, "`"+s+"`") || strings.Contains(doc, "`"+s+".") {
			return true
		}
	}
	return false
}

func collectKeys(typ reflect.Type, prefix string, out *[]string) {
	for i := 0; i < typ.NumField(); i++ {
		fld := typ.Field(i)
		tag := strings.Split(fld.Tag.Get("yaml"), ",")[0]
		if tag == "" || !fld.IsExported() {
			continue
		}
		key := prefix + tag
		*out = append(*out, key)
		if fld.Type.Kind() == reflect.Struct {
			collectKeys(fld.Type, key+".", out)
		}
		if fld.Type.Kind() == reflect.Slice && fld.Type.Elem().Kind() == reflect.Struct && fld.Type != reflect.TypeOf(Overrides{}) {
			collectKeys(fld.Type.Elem(), key+".", out)
		}
	}
}
