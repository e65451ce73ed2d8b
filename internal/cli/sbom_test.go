package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/charterhq/charter/internal/sbom"
)

// The official JSON schemas: CycloneDX's from the cyclonedx-go module charter encodes
// with, SPDX 2.3's from the sbom package's testdata. Nothing is fetched.
var (
	schemaOnce sync.Once
	schemas    map[string]*jsonschema.Schema
	schemaErr  error
)

func sbomSchemas(t *testing.T) map[string]*jsonschema.Schema {
	t.Helper()
	schemaOnce.Do(func() { schemas, schemaErr = compileSchemas() })
	if schemaErr != nil {
		t.Fatalf("SBOM schemas: %v", schemaErr)
	}
	return schemas
}

func compileSchemas() (map[string]*jsonschema.Schema, error) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/CycloneDX/cyclonedx-go").Output()
	if err != nil {
		return nil, fmt.Errorf("locating cyclonedx-go: %w", err)
	}
	cdx := filepath.Join(strings.TrimSpace(string(out)), "schema")
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	for url, path := range map[string]string{
		"http://cyclonedx.org/schema/spdx.schema.json":     filepath.Join(cdx, "spdx.schema.json"),
		"http://cyclonedx.org/schema/jsf-0.82.schema.json": filepath.Join(cdx, "jsf-0.82.schemax.json"),
		"http://cyclonedx.org/schema/bom-1.6.schema.json":  filepath.Join(cdx, "bom-1.6.schema.json"),
		"http://cyclonedx.org/schema/bom-1.5.schema.json":  filepath.Join(cdx, "bom-1.5.schema.json"),
		"http://spdx.org/rdf/terms/2.3":                    filepath.Join("..", "sbom", "testdata", "schema", "spdx-schema-2.3.json"),
	} {
		b, err := os.ReadFile(path) //nolint:gosec // schema files of the module and the repository
		if err != nil {
			return nil, err
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if err := c.AddResource(url, doc); err != nil {
			return nil, err
		}
	}
	s := map[string]*jsonschema.Schema{}
	for format, url := range map[string]string{
		"cyclonedx-json":     "http://cyclonedx.org/schema/bom-1.6.schema.json",
		"cyclonedx-json@1.5": "http://cyclonedx.org/schema/bom-1.5.schema.json",
		"spdx-json":          "http://spdx.org/rdf/terms/2.3",
	} {
		if s[format], err = c.Compile(url); err != nil {
			return nil, fmt.Errorf("compiling %s: %w", url, err)
		}
	}
	return s, nil
}

func validateSBOM(t *testing.T, format string, doc []byte) {
	t.Helper()
	s, ok := sbomSchemas(t)[format]
	if !ok {
		return
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		t.Fatalf("%s: %v", format, err)
	}
	if err := s.Validate(inst); err != nil {
		t.Errorf("%s does not validate against its schema: %v", format, err)
	}
}

// packageSet lists name, version, ecosystem, purl, layer and base of each package of a
// decoded document, sorted: what every format must carry the same.
func packageSet(t *testing.T, doc []byte) []string {
	t.Helper()
	d, err := sbom.Decode(bytes.NewReader(doc), sbom.Limits{})
	if err != nil {
		t.Fatalf("decode: %v\n%.500s", err, doc)
	}
	var out []string
	for _, p := range d.Report() {
		layer := -1
		if p.LayerIndex != nil {
			layer = *p.LayerIndex
		}
		out = append(out, fmt.Sprintf("%s %s %s %s layer=%d base=%v", p.Ecosystem, p.Name, p.Version, p.PURL, layer, p.Base))
	}
	slices.Sort(out)
	return out
}

// Every SBOM format validates (JSON against the official schemas), decodes back to the
// same packages as charter JSON, and is byte-identical when made twice.
func TestSbomFormats(t *testing.T) {
	cache := t.TempDir()
	ref := ociRef(t, vulnImage(t, ""))
	code, out, errOut := runAt(t, cache, testNow, nil, false, "sbom", ref, "-o", "json")
	if code != ExitPass || errOut != "" {
		t.Fatalf("-o json: exit %d, stderr %q", code, errOut)
	}
	r := decodeReport(t, out)
	if r.Schema != "charter.report/v1" || r.Target.Kind != "image" || len(r.Findings) != 0 || !r.Verdict.Pass {
		t.Errorf("charter JSON: %+v", r)
	}
	var want []string
	for _, p := range r.Packages {
		layer := -1
		if p.LayerIndex != nil {
			layer = *p.LayerIndex
		}
		want = append(want, fmt.Sprintf("%s %s %s %s layer=%d base=%v", p.Ecosystem, p.Name, p.Version, p.PURL, layer, p.Base))
	}
	slices.Sort(want)
	if len(want) != 12 {
		t.Errorf("%d packages, want 12 (6 deb, 5 golang, 1 pypi):\n%s", len(want), strings.Join(want, "\n"))
	}
	for _, format := range []string{"cyclonedx-json", "cyclonedx-json@1.5", "cyclonedx-xml", "spdx-json", "spdx-tag-value"} {
		for _, files := range []bool{false, true} {
			args := []string{"sbom", ref, "-o", format}
			if files {
				args = append(args, "--files")
			}
			code, doc, errOut := runAt(t, cache, testNow, nil, false, args...)
			if code != ExitPass || errOut != "" {
				t.Fatalf("%v: exit %d, stderr %q", args, code, errOut)
			}
			validateSBOM(t, format, []byte(doc))
			if got := packageSet(t, []byte(doc)); !slices.Equal(got, want) {
				t.Errorf("%v decodes to other packages:\n got %s\nwant %s", args, strings.Join(got, "\n     "), strings.Join(want, "\n     "))
			}
			_, again, _ := runAt(t, t.TempDir(), testNow, nil, false, args...)
			if again != doc {
				t.Errorf("%v: a second run (cold cache) gives other bytes", args)
			}
		}
	}
	code, out, _ = runAt(t, cache, testNow, nil, false, "sbom", ref, "-o", "cyclonedx-json")
	if code != ExitPass || !strings.Contains(out, `"timestamp": "2026-11-25T12:00:00Z"`) {
		t.Errorf("timestamp is not the command's clock:\n%.600s", out)
	}
	_, epoch, _ := runAt(t, cache, testNow, map[string]string{"SOURCE_DATE_EPOCH": "1700000000"}, false, "sbom", ref, "-o", "cyclonedx-json")
	if !strings.Contains(epoch, `"timestamp": "2023-11-14T22:13:20Z"`) {
		t.Errorf("SOURCE_DATE_EPOCH not honoured:\n%.600s", epoch)
	}
	code, _, errOut = runAt(t, cache, testNow, map[string]string{"SOURCE_DATE_EPOCH": "yesterday"}, false, "sbom", ref, "-o", "spdx-json")
	if code != ExitError || !strings.Contains(errOut, "SOURCE_DATE_EPOCH") {
		t.Errorf("bad SOURCE_DATE_EPOCH: exit %d, stderr %q", code, errOut)
	}
}

// The table lists each package with its layer and whether the base image brought it;
// --output writes the file and nothing to stdout; sbom:FILE converts between formats.
func TestSbomTableOutputAndConversion(t *testing.T) {
	cache := t.TempDir()
	ref := ociRef(t, vulnImage(t, ""))
	code, out, _ := runAt(t, cache, testNow, nil, false, "sbom", ref)
	for _, line := range []string{
		"NAME                VERSION           TYPE    LAYER  FROM",
		"libssl3             3.0.11-1~deb12u1  deb     0      base",
		"cryptography        38.0.4            pypi    1      image",
		"golang.org/x/net    v0.35.0           golang  2      image",
		": 12 package(s) (deb 6, golang 5, pypi 1)",
	} {
		if code != ExitPass || !strings.Contains(out, line) {
			t.Errorf("table: exit %d, no line %q:\n%s", code, line, out)
		}
	}
	dir := t.TempDir()
	cdx := filepath.Join(dir, "app.cdx.json")
	code, out, errOut := runAt(t, cache, testNow, nil, false, "sbom", ref, "-o", "cyclonedx-json", "--output", cdx)
	if code != ExitPass || out != "" || errOut != "" {
		t.Fatalf("--output: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	b, err := os.ReadFile(cdx)
	if err != nil {
		t.Fatal(err)
	}
	want := packageSet(t, b)
	code, spdx, errOut := runAt(t, cache, testNow, nil, false, "sbom", "sbom:"+cdx, "-o", "spdx-json")
	if code != ExitPass || errOut != "" {
		t.Fatalf("sbom sbom:FILE: exit %d, stderr %q", code, errOut)
	}
	validateSBOM(t, "spdx-json", []byte(spdx))
	if got := packageSet(t, []byte(spdx)); !slices.Equal(got, want) {
		t.Errorf("CycloneDX → SPDX changed the packages:\n got %v\nwant %v", got, want)
	}
	var doc map[string]any
	if err := json.Unmarshal([]byte(spdx), &doc); err != nil || !strings.Contains(spdx, ref) {
		t.Errorf("converted document does not name the image %s (%v)", ref, err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"sbom", ref, "-o", "sarif"}, "unknown format"},
		{[]string{"sbom", ref, "-o", "cyclonedx-json@1.2"}, "unknown format"},
		{[]string{"sbom", "oci-dir:" + filepath.Join(dir, "missing")}, "missing"},
		{[]string{"sbom", "sbom:" + filepath.Join(dir, "missing.json")}, "no such file"},
		{[]string{"sbom"}, "accepts 1 arg"},
		{[]string{"sbom", ref, "--output", filepath.Join(dir, "no", "such", "dir", "x.json")}, "--output"},
	} {
		code, out, errOut := runAt(t, cache, testNow, nil, false, tc.args...)
		if code != ExitError || out != "" || strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d, stdout %q, stderr %q (want one line with %q)", tc.args, code, out, errOut, tc.want)
		}
	}
}

// The base image's packages are told from the history (the base's closing CMD), or
// exactly from --base when the history cannot tell.
func TestSbomBase(t *testing.T) {
	cache := t.TempDir()
	baseOf := func(args ...string) map[string]bool {
		t.Helper()
		code, out, errOut := runAt(t, cache, testNow, nil, false, append([]string{"sbom", "-o", "json"}, args...)...)
		if code != ExitPass {
			t.Fatalf("%v: exit %d %s", args, code, errOut)
		}
		m := map[string]bool{}
		for _, p := range decodeReport(t, out).Packages {
			m[p.Name] = p.Base
		}
		return m
	}
	// The same layers without the base's closing CMD in the history: nothing tells.
	base, python, app := vulnLayers(t)
	cfg := vulnImage(t, "")
	cf, err := cfg.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	noHistory := imageWithoutCloser(t, cf.Config, base, python, app)
	ref := ociRef(t, noHistory)
	if m := baseOf(ref); m["libssl3"] || m["cryptography"] {
		t.Errorf("without history marks, packages are marked base: %v", m)
	}
	baseRef := ociRef(t, vulnBaseImage(t))
	if m := baseOf(ref, "--base", baseRef); !m["libssl3"] || !m["apt"] || m["cryptography"] || m["golang.org/x/net"] {
		t.Errorf("--base: %v", m)
	}
	if m := baseOf(ociRef(t, vulnImage(t, ""))); !m["libssl3"] || m["cryptography"] {
		t.Errorf("from the history: %v", m)
	}
	code, _, errOut := runAt(t, cache, testNow, nil, false, "sbom", ref, "--base", "oci-dir:"+filepath.Join(t.TempDir(), "none"))
	if code != ExitError || !strings.Contains(errOut, "--base") {
		t.Errorf("missing --base: exit %d, stderr %q", code, errOut)
	}
}

// Progress goes to a terminal's stderr only, and is cleared.
func TestSbomProgressOnTerminalOnly(t *testing.T) {
	ref := ociRef(t, vulnImage(t, ""))
	code, _, errOut := runAt(t, t.TempDir(), testNow, nil, true, "sbom", ref, "-o", "json")
	if code != ExitPass || !strings.Contains(errOut, "layers ") || !strings.HasSuffix(errOut, "\r\x1b[2K") {
		t.Errorf("terminal: exit %d, stderr %q", code, errOut)
	}
	if _, _, errOut = runAt(t, t.TempDir(), testNow, nil, true, "sbom", ref, "-o", "json", "--no-progress"); errOut != "" {
		t.Errorf("--no-progress: stderr %q", errOut)
	}
}
