package sbom

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// The official JSON schemas: CycloneDX's ship in the cyclonedx-go module charter encodes
// with (read from the module cache, so they always match the library's version); SPDX
// 2.3's is kept in testdata/schema (see testdata/README.md for where it comes from).

var (
	cdxSchemaOnce sync.Once
	cdxSchemaDir  string
	cdxSchemaErr  error
)

func cycloneDXSchemaDir(t *testing.T) string {
	t.Helper()
	cdxSchemaOnce.Do(func() {
		out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/CycloneDX/cyclonedx-go").Output()
		if err != nil {
			cdxSchemaErr = err
			return
		}
		cdxSchemaDir = filepath.Join(strings.TrimSpace(string(out)), "schema")
	})
	if cdxSchemaErr != nil || cdxSchemaDir == "" {
		t.Fatalf("locating the cyclonedx-go module's schemas: %v", cdxSchemaErr)
	}
	return cdxSchemaDir
}

func addSchema(t *testing.T, c *jsonschema.Compiler, url, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if err := c.AddResource(url, doc); err != nil {
		t.Fatal(err)
	}
}

// cycloneDXSchema compiles bom-VERSION.schema.json with the SPDX licence list and JSF
// schemas it references, all from the module; nothing is fetched.
func cycloneDXSchema(t *testing.T, version string) *jsonschema.Schema {
	t.Helper()
	dir := cycloneDXSchemaDir(t)
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	addSchema(t, c, "http://cyclonedx.org/schema/spdx.schema.json", filepath.Join(dir, "spdx.schema.json"))
	addSchema(t, c, "http://cyclonedx.org/schema/jsf-0.82.schema.json", filepath.Join(dir, "jsf-0.82.schemax.json"))
	url := "http://cyclonedx.org/schema/bom-" + version + ".schema.json"
	addSchema(t, c, url, filepath.Join(dir, "bom-"+version+".schema.json"))
	s, err := c.Compile(url)
	if err != nil {
		t.Fatalf("compiling the CycloneDX %s schema: %v", version, err)
	}
	return s
}

func spdxSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	url := "http://spdx.org/rdf/terms/2.3"
	addSchema(t, c, url, filepath.Join("testdata", "schema", "spdx-schema-2.3.json"))
	s, err := c.Compile(url)
	if err != nil {
		t.Fatalf("compiling the SPDX 2.3 schema: %v", err)
	}
	return s
}

func validate(t *testing.T, s *jsonschema.Schema, name string, doc []byte) {
	t.Helper()
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if err := s.Validate(inst); err != nil {
		t.Errorf("%s does not validate: %v", name, err)
	}
}

// Every JSON document charter writes validates against the official schema, with and
// without owned files, for an image, a directory and an empty inventory.
func TestSchemaValid(t *testing.T) {
	cdx16, cdx15, spdx23 := cycloneDXSchema(t, "1.6"), cycloneDXSchema(t, "1.5"), spdxSchema(t)
	dirInv := sampleInventory()
	dirInv.Image = Image{Ref: "dir:/srv/rootfs"}
	dirInv.Layers = nil
	inventories := map[string]*Inventory{
		"image": sampleInventory(), "dir": dirInv,
		"empty": {Tool: sampleInventory().Tool, Image: Image{Ref: "scratch"}},
	}
	for name, inv := range inventories {
		for _, files := range []bool{false, true} {
			opt := Options{Files: files}
			validate(t, cdx16, name+" cyclonedx-json@1.6", encode(t, inv, "cyclonedx-json@1.6", opt))
			validate(t, cdx15, name+" cyclonedx-json@1.5", encode(t, inv, "cyclonedx-json@1.5", opt))
			validate(t, spdx23, name+" spdx-json@2.3", encode(t, inv, "spdx-json", opt))
		}
	}
}

// The validators are not vacuous: they accept Syft's documents and reject documents
// that break the schemas in ways an encoder bug would.
func TestSchemaRejects(t *testing.T) {
	cdx16, spdx23 := cycloneDXSchema(t, "1.6"), spdxSchema(t)
	for _, f := range []string{"syft-oci.cdx.json"} {
		b, err := os.ReadFile(filepath.Join("testdata", "syft", f))
		if err != nil {
			t.Fatal(err)
		}
		validate(t, cdx16, f, b)
	}
	b, err := os.ReadFile(filepath.Join("testdata", "syft", "syft-oci.spdx.json"))
	if err != nil {
		t.Fatal(err)
	}
	validate(t, spdx23, "syft-oci.spdx.json", b)

	good := string(encode(t, sampleInventory(), "cyclonedx-json", Options{Files: true}))
	for name, bad := range map[string]string{
		"bad serial":     strings.Replace(good, `"serialNumber": "urn:uuid:`, `"serialNumber": "uuid:`, 1),
		"bad type":       strings.Replace(good, `"type": "library"`, `"type": "package"`, 1),
		"two exprs":      strings.Replace(good, `"expression": "MIT OR Apache-2.0"`, `"expression": "MIT OR Apache-2.0"}, {"expression": "MIT"`, 1),
		"unknown id":     strings.Replace(good, `"id": "Apache-2.0"`, `"id": "Apache-2"`, 1),
		"bad timestamp":  strings.Replace(good, `"timestamp": "2026-01-31T12:00:00Z"`, `"timestamp": "31 Jan 2026"`, 1),
		"unknown field":  strings.Replace(good, `"bomFormat": "CycloneDX",`, `"bomFormat": "CycloneDX", "charter": 1,`, 1),
		"no properties":  strings.Replace(good, `"name": "charter:ecosystem",`, ``, 1),
		"empty dependOn": strings.Replace(good, `"ref": "charter:image"`, `"ref": 7`, 1),
	} {
		if bad == good {
			t.Fatalf("%s: the mutation did not apply", name)
		}
		inst, err := jsonschema.UnmarshalJSON(strings.NewReader(bad))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if cdx16.Validate(inst) == nil {
			t.Errorf("CycloneDX schema accepted a document with %s", name)
		}
	}
	goodSPDX := string(encode(t, sampleInventory(), "spdx-json", Options{Files: true}))
	for name, bad := range map[string]string{
		"bad relationship": strings.Replace(goodSPDX, `"relationshipType": "CONTAINS"`, `"relationshipType": "HAS"`, 1),
		"no checksum":      strings.Replace(goodSPDX, `"algorithm": "MD5"`, `"algorithm": "CRC32"`, 1),
		"bad purpose":      strings.Replace(goodSPDX, `"primaryPackagePurpose": "LIBRARY"`, `"primaryPackagePurpose": "LIB"`, 1),
		"no name":          strings.Replace(goodSPDX, `"name": "debian",`, ``, 1),
	} {
		if bad == goodSPDX {
			t.Fatalf("%s: the mutation did not apply", name)
		}
		inst, err := jsonschema.UnmarshalJSON(strings.NewReader(bad))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if spdx23.Validate(inst) == nil {
			t.Errorf("SPDX schema accepted a document with %s", name)
		}
	}
}

// xmllint validates the XML against the XSDs in the cyclonedx-go module. Go has no XSD
// validator; libxml2's is the reference one (Debian: libxml2-utils).
func xmlValidate(t *testing.T, version string, doc []byte) error {
	t.Helper()
	xmllint, err := exec.LookPath("xmllint")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("xmllint not installed (apt-get install libxml2-utils; scripts/test.sh installs it): CycloneDX XML cannot be validated against its XSD")
		}
		t.Skip("xmllint not installed (apt-get install libxml2-utils): CycloneDX XML is not validated against its XSD")
	}
	f := filepath.Join(t.TempDir(), "bom.xml")
	if err := os.WriteFile(f, doc, 0o600); err != nil {
		t.Fatal(err)
	}
	xsd := filepath.Join(cycloneDXSchemaDir(t), "bom-"+version+".xsd")
	out, err := exec.Command(xmllint, "--noout", "--nonet", "--schema", xsd, f).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%w: %s", err, out)
	}
	return nil
}

func TestSchemaValidXML(t *testing.T) {
	for _, version := range []string{"1.6", "1.5"} {
		for _, files := range []bool{false, true} {
			doc := encode(t, sampleInventory(), "cyclonedx-xml@"+version, Options{Files: files})
			if err := xmlValidate(t, version, doc); err != nil {
				t.Errorf("cyclonedx-xml@%s (files %v) does not validate: %v", version, files, err)
			}
		}
	}
	good := string(encode(t, sampleInventory(), "cyclonedx-xml", Options{}))
	bad := strings.Replace(good, `type="library"`, `type="package"`, 1)
	if xmlValidate(t, "1.6", []byte(bad)) == nil {
		t.Error("the XSD accepted an unknown component type")
	}
}

// cdxlicenses.txt is the CycloneDX schema's licence id list, so ids charter writes are
// ones the schema accepts; regenerate with -update when cyclonedx-go changes it.
func TestCycloneDXLicenseIDs(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(cycloneDXSchemaDir(t), "spdx.schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	var s struct {
		Enum []string `json:"enum"`
	}
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	sort.Strings(s.Enum)
	want := strings.Join(s.Enum, "\n") + "\n"
	if *update {
		if err := os.WriteFile("cdxlicenses.txt", []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if cdxLicenseList != want {
		t.Errorf("cdxlicenses.txt differs from the cyclonedx-go module's spdx.schema.json (run with -update)")
	}
	// A licence newer than the schema's list is written as a name and still validates.
	inv := sampleInventory()
	inv.Packages[0].Licenses = []string{"MIT", "Bitstream-Charter"}
	validate(t, cycloneDXSchema(t, "1.6"), "newer licence id", encode(t, inv, "cyclonedx-json", Options{}))
	if ok, _ := classifyLicense("Bitstream-Charter"); ok != licenseID || cdxLicenseIDs["Bitstream-Charter"] {
		t.Fatal("the test needs an id go-spdx knows and the schema does not; pick another")
	}
}
