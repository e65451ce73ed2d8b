package profile

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// TestOCIGoldenValidatesAgainstSchema checks the generated config.json files against
// the runtime-spec's own JSON schema, from the module the OCI types come from: nothing
// is fetched.
func TestOCIGoldenValidatesAgainstSchema(t *testing.T) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/opencontainers/runtime-spec").Output()
	if err != nil {
		t.Fatalf("locating the runtime-spec module: %v", err)
	}
	dir := filepath.Join(strings.TrimSpace(string(out)), "schema")
	names, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil || len(names) == 0 {
		t.Fatalf("no schema in %s: %v", dir, err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft4) // the spec's schemas are draft-04; some files omit $schema
	const base = "https://charter.invalid/runtime-spec/schema/"
	for _, n := range names {
		b, err := os.ReadFile(n)
		if err != nil {
			t.Fatal(err)
		}
		// A few references are written "defs.json#definitions/x", which JSON pointer
		// resolution (unlike the lenient validator the spec's own tooling uses) refuses.
		b = bytes.ReplaceAll(b, []byte(`#definitions/`), []byte(`#/definitions/`))
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("%s: %v", n, err)
		}
		if err := c.AddResource(base+filepath.Base(n), doc); err != nil {
			t.Fatal(err)
		}
	}
	schema, err := c.Compile(base + "config-schema.json")
	if err != nil {
		t.Fatalf("compiling the runtime-spec config schema: %v", err)
	}
	userns, err := Build(posterSource(t), loadCharter(t, "charter.yaml"), Options{Arch: "amd64", UserNS: &IDMap{HostID: 100000, Size: 65536}})
	if err != nil {
		t.Fatal(err)
	}
	usernsJSON, err := userns.OCIJSON()
	if err != nil {
		t.Fatal(err)
	}
	docs := map[string][]byte{"userns (poster with --userns 100000:65536)": usernsJSON}
	for _, g := range []string{"poster.config.json", "defaults.config.json"} {
		docs[g] = readFile(t, filepath.Join("golden", g))
	}
	for g, b := range docs {
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		if err := schema.Validate(doc); err != nil {
			t.Errorf("%s does not validate against the runtime-spec schema: %v", g, err)
		}
	}
	// The schema can fail: a negative uid is refused.
	bad := bytes.Replace(readFile(t, filepath.Join("golden", "poster.config.json")), []byte(`"uid": 10001`), []byte(`"uid": -1`), 1)
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(bad))
	if err != nil {
		t.Fatal(err)
	}
	if schema.Validate(doc) == nil {
		t.Error("the schema accepted uid -1")
	}
}
