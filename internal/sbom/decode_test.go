package sbom

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func decodeFile(t *testing.T, name string) *Document {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	doc, err := Decode(bytes.NewReader(b), Limits{})
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return doc
}

func find(t *testing.T, doc *Document, name string) *Package {
	t.Helper()
	for i := range doc.Packages {
		if doc.Packages[i].Name == name {
			return &doc.Packages[i]
		}
	}
	t.Fatalf("no package %q among %d", name, len(doc.Packages))
	return nil
}

// wantPkg is what a test checks of one decoded package; empty fields are not checked.
type wantPkg struct {
	version, ecosystem, purl, arch, srcName, srcVersion, layer, location, license string
	layerIndex                                                                    *int
}

func checkPkg(t *testing.T, file string, p *Package, w wantPkg) {
	t.Helper()
	check := func(field, got, want string) {
		if want != "" && got != want {
			t.Errorf("%s %s: %s = %q; want %q", file, p.Name, field, got, want)
		}
	}
	check("version", p.Version, w.version)
	check("ecosystem", p.Ecosystem, w.ecosystem)
	check("purl", p.PURL, w.purl)
	check("arch", p.Arch, w.arch)
	check("layer", p.Layer, w.layer)
	check("location", first(p.Locations), w.location)
	check("licence", strings.Join(p.Licenses, " & "), w.license)
	if w.srcName != "" {
		if p.Source == nil {
			t.Errorf("%s %s: no source package; want %s %s", file, p.Name, w.srcName, w.srcVersion)
		} else {
			check("source name", p.Source.Name, w.srcName)
			check("source version", p.Source.Version, w.srcVersion)
		}
	}
	if w.layerIndex != nil && (p.LayerIndex == nil || *p.LayerIndex != *w.layerIndex) {
		t.Errorf("%s %s: layer index %v; want %d", file, p.Name, p.LayerIndex, *w.layerIndex)
	}
}

const (
	syftBase = "sha256:68bc6b09dbf48222a5efa7df69f13f874ba31b4959cfaa9905c46523368d5974"
	syftApp  = "sha256:271193f864f81af07179fa96c949f7b286821667fa7a786fd0852dcf0b40def3"
)

// Syft's SBOMs of the same two-layer image, in every format Syft writes: the same
// packages, with the source packages and, where the format has them, the layers.
func TestDecodeSyft(t *testing.T) {
	files := []struct {
		name, format string
		layers       bool // does the format carry Syft's layer IDs?
	}{
		{"syft-oci.cdx.json", "cyclonedx-json@1.6", true},
		{"syft-oci.cdx-1.5.json", "cyclonedx-json@1.5", true},
		{"syft-oci.cdx-1.4.json", "cyclonedx-json@1.4", true},
		{"syft-oci.cdx.xml", "cyclonedx-xml@1.6", true},
		{"syft-oci.spdx.json", "spdx-json@2.3", true},
		{"syft-oci.spdx-2.2.json", "spdx-json@2.2", true},
		{"syft-oci.spdx", "spdx-tag-value@2.3", true},
		{"syft-oci.spdx-2.2", "spdx-tag-value@2.2", true},
	}
	for _, f := range files {
		doc := decodeFile(t, "syft/"+f.name)
		if doc.Format.String() != f.format {
			t.Errorf("%s: format %s; want %s", f.name, doc.Format, f.format)
		}
		if !strings.HasPrefix(doc.Producer, "syft") {
			t.Errorf("%s: producer %q", f.name, doc.Producer)
		}
		if doc.Image.Ref != "/tmp/sb/oci" || doc.Image.Digest != "sha256:314b5c956ef3745e8db2422964f16d402824a3a8f69ca8c88072d2ec6a014d45" {
			t.Errorf("%s: image %+v", f.name, doc.Image)
		}
		if doc.Distro == nil || doc.Distro.ID != "debian" || doc.Distro.VersionID != "12" {
			t.Errorf("%s: distro %+v", f.name, doc.Distro)
		}
		if len(doc.Packages) != 11 {
			t.Errorf("%s: %d packages; want 11 (8 deb, 3 python)", f.name, len(doc.Packages))
		}
		layer := func(l string) string {
			if f.layers {
				return l
			}
			return ""
		}
		checkPkg(t, f.name, find(t, doc, "libssl3"), wantPkg{
			version: "3.0.19-1~deb12u2", ecosystem: "deb", arch: "amd64", srcName: "openssl", srcVersion: "3.0.19-1~deb12u2",
			purl:  "pkg:deb/debian/libssl3@3.0.19-1~deb12u2?arch=amd64&distro=debian-12&upstream=openssl",
			layer: layer(syftBase), location: "/var/lib/dpkg/status",
		})
		checkPkg(t, f.name, find(t, doc, "bash"), wantPkg{
			version: "5.2.15-2+b8", ecosystem: "deb", srcName: "bash", srcVersion: "5.2.15-2", layer: layer(syftBase),
		})
		checkPkg(t, f.name, find(t, doc, "tzdata"), wantPkg{version: "2025b-0+deb12u2", arch: "all"})
		checkPkg(t, f.name, find(t, doc, "pyyaml"), wantPkg{
			version: "6.0", ecosystem: "pypi", purl: "pkg:pypi/pyyaml@6.0", license: "MIT", layer: layer(syftApp),
			location: "/usr/lib/python3/dist-packages/PyYAML-6.0.dist-info/METADATA",
		})
		checkPkg(t, f.name, find(t, doc, "distro"), wantPkg{license: "Apache License, Version 2.0"})
		if p := find(t, doc, "libssl3"); len(p.CPEs) == 0 || !strings.HasPrefix(p.CPEs[0], "cpe:2.3:a:") {
			t.Errorf("%s libssl3: CPEs %q", f.name, p.CPEs)
		}
	}
}

const (
	trivyBase = "sha256:8b296f48696071aafb5a6286ca60d441a7e559b192fc7f94bb63ee93dae98f17"
	trivyTop  = "sha256:0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e"
)

// Trivy's SBOMs: layer diffIDs and their index (from the image's DiffID list), source
// packages with epochs, the Python package's file, and the distro.
func TestDecodeTrivy(t *testing.T) {
	for _, name := range []string{"trivy-debian.cdx.json", "trivy-debian.spdx.json"} {
		doc := decodeFile(t, "trivy/"+name)
		if doc.Producer != "trivy 0.58.0" {
			t.Errorf("%s: producer %q", name, doc.Producer)
		}
		if doc.Image.Digest != "sha256:6c3ba6c0ad7fb58c2bc5ab9d1d2a3c5f8e6f3a9c1e0d4b7a2f5c8e1d3b6a9f0c2" ||
			doc.Image.ID != "sha256:a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192" ||
			doc.Image.Ref != "python:3.11-slim-bookworm" {
			t.Errorf("%s: image %+v", name, doc.Image)
		}
		if len(doc.Layers) != 3 || doc.Layers[0].DiffID != trivyBase {
			t.Errorf("%s: layers %+v", name, doc.Layers)
		}
		if doc.Distro == nil || doc.Distro.ID != "debian" || doc.Distro.VersionID != "12.8" {
			t.Errorf("%s: distro %+v", name, doc.Distro)
		}
		if len(doc.Packages) != 3 {
			t.Errorf("%s: %d packages; want 3: %+v", name, len(doc.Packages), doc.Packages)
		}
		checkPkg(t, name, find(t, doc, "libssl3"), wantPkg{
			ecosystem: "deb", arch: "amd64", srcName: "openssl", srcVersion: "3.0.15-1~deb12u1",
			layer: trivyBase, layerIndex: intp(0), license: "Apache-2.0 & Artistic-2.0",
		})
		checkPkg(t, name, find(t, doc, "zlib1g"), wantPkg{
			version: "1:1.2.13.dfsg-1", srcName: "zlib", srcVersion: "1:1.2.13.dfsg-1", layerIndex: intp(0),
		})
		checkPkg(t, name, find(t, doc, "pip"), wantPkg{
			ecosystem: "pypi", layer: trivyTop, layerIndex: intp(2),
			location: "/usr/local/lib/python3.11/site-packages/pip-24.0.dist-info/METADATA",
		})
	}
}

// Input that is not an SBOM, or passes a limit, is refused with an error a caller can
// tell apart; it never panics.
func TestDecodeRefuses(t *testing.T) {
	deep := strings.Repeat(`{"a":`, 100) + "1" + strings.Repeat("}", 100)
	deepXML := `<bom xmlns="http://cyclonedx.org/schema/bom/1.6">` + strings.Repeat("<c>", 100) + strings.Repeat("</c>", 100) + `</bom>`
	big := `{"bomFormat":"CycloneDX","specVersion":"1.6","components":[` + strings.Repeat(`{"type":"library","name":"x"},`, 200) + `{"type":"library","name":"x"}]}`
	for name, c := range map[string]struct {
		in   string
		lim  Limits
		want error
	}{
		"empty":        {"", Limits{}, ErrNotSBOM},
		"text":         {"hello", Limits{}, ErrNotSBOM},
		"json":         {`{"name":"x"}`, Limits{}, ErrNotSBOM},
		"bad json":     {`{"bomFormat":"CycloneDX",`, Limits{}, ErrNotSBOM},
		"bad version":  {`{"bomFormat":"CycloneDX","specVersion":"9.9"}`, Limits{}, ErrNotSBOM},
		"spdx 9":       {`{"spdxVersion":"SPDX-9.0"}`, Limits{}, ErrNotSBOM},
		"rdf":          {`<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"/>`, Limits{}, ErrNotSBOM},
		"bad xml":      {`<bom xmlns="http://cyclonedx.org/schema/bom/1.6"><`, Limits{}, ErrNotSBOM},
		"deep json":    {deep, Limits{}, ErrTooLarge},
		"deep xml":     {deepXML, Limits{}, ErrTooLarge},
		"too big":      {big, Limits{MaxBytes: 1000}, ErrTooLarge},
		"too many":     {big, Limits{MaxPackages: 100}, ErrTooLarge},
		"bad tagvalue": {"SPDXVersion: SPDX-2.3\nPackageName: x\nPackageVersion", Limits{}, ErrNotSBOM},
	} {
		_, err := Decode(strings.NewReader(c.in), c.lim)
		if !errors.Is(err, c.want) {
			t.Errorf("%s: err = %v; want %v", name, err, c.want)
		}
	}
	if doc, err := Decode(strings.NewReader(big), Limits{}); err != nil || len(doc.Packages) != 201 {
		t.Errorf("201 packages within the limits: %v", err)
	}
}

// A byte-order mark and leading whitespace, as Windows tools write them, are fine.
func TestDecodeBOM(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "syft", "syft-oci.cdx.json"))
	if err != nil {
		t.Fatal(err)
	}
	doc, err := Decode(bytes.NewReader(append([]byte("\xef\xbb\xbf\r\n  "), b...)), Limits{})
	if err != nil || len(doc.Packages) != 11 {
		t.Fatalf("with a BOM: %v", err)
	}
}

// Report gives the report model's packages, for sbom: scanning.
func TestReport(t *testing.T) {
	doc := decodeFile(t, "trivy/trivy-debian.cdx.json")
	rp := doc.Report()
	if len(rp) != 3 || rp[0].PURL == "" || rp[0].Ecosystem == "" {
		t.Fatalf("Report() = %+v", rp)
	}
}

// The format is told from top-level fields only, in a scan that copes with escapes.
func TestScanJSON(t *testing.T) {
	for in, want := range map[string]jsonHead{
		`{"bomFormat":"CycloneDX","specVersion":"1.6"}`:                          {bomFormat: "CycloneDX"},
		`{"a":{"bomFormat":"CycloneDX"},"spdxVersion":"SPDX-2.3"}`:               {spdxVersion: "SPDX-2.3"},
		`{"x":"\"bomFormat\":\"CycloneDX\"","y":[1,{"spdxVersion":"SPDX-2.3"}]}`: {},
		`{"n":1, "bomFormat" : "CycloneDX"}`:                                     {bomFormat: "CycloneDX"},
		`[{"bomFormat":"CycloneDX"}]`:                                            {},
		`{"spdxVersion":"SPDX-2.2","bomFormat`:                                   {spdxVersion: "SPDX-2.2"},
	} {
		got, err := scanJSON([]byte(in), 10)
		if err != nil || got != want {
			t.Errorf("scanJSON(%s) = %+v, %v; want %+v", in, got, err, want)
		}
	}
}

// Components without a name are skipped with a warning, and the warnings are bounded.
func TestDecodeWarnings(t *testing.T) {
	in := `{"bomFormat":"CycloneDX","specVersion":"1.6","components":[` + strings.Repeat(`{"type":"library","name":""},`, 500) + `{"type":"library","name":"ok"}]}`
	doc, err := Decode(strings.NewReader(in), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if len(doc.Packages) != 1 || len(doc.Warnings) != maxWarnings+1 {
		t.Errorf("%d packages, %d warnings; want 1 and %d", len(doc.Packages), len(doc.Warnings), maxWarnings+1)
	}
}
