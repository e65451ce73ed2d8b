package sbom

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// expected is what decoding a document charter wrote must give back: the inventory,
// sorted, with owned files only where the format and options carry them.
func expected(inv *Inventory, format string, files bool) *Inventory {
	want := *inv
	want.Packages = sorted(inv.Packages)
	for i := range want.Packages {
		p := &want.Packages[i]
		switch {
		case !files:
			p.Files, p.Digests = nil, nil
		case strings.HasPrefix(format, "cyclonedx"):
			p.Digests = nil // evidence occurrences carry paths only
		}
	}
	return &want
}

func asJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.MarshalIndent(v, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// Encoding and decoding again gives the same inventory, in every format.
func TestRoundTrip(t *testing.T) {
	formats := []string{"cyclonedx-json", "cyclonedx-json@1.5", "cyclonedx-xml", "cyclonedx-xml@1.5", "spdx-json", "spdx-tag-value"}
	for _, format := range formats {
		for _, files := range []bool{false, true} {
			inv := sampleInventory()
			doc, err := Decode(bytes.NewReader(encode(t, inv, format, Options{Files: files})), Limits{})
			if err != nil {
				t.Fatalf("%s: %v", format, err)
			}
			f, _ := ParseFormat(format)
			if doc.Format != f {
				t.Errorf("%s: decoded as %s", format, doc.Format)
			}
			if doc.Producer != "charter 0.3.0" {
				t.Errorf("%s: producer %q", format, doc.Producer)
			}
			if len(doc.Warnings) > 0 {
				t.Errorf("%s: warnings %q", format, doc.Warnings)
			}
			got, want := asJSON(t, doc.Inventory), asJSON(t, expected(inv, format, files))
			if got != want {
				t.Errorf("%s (files %v): round trip differs\n got: %s\nwant: %s", format, files, got, want)
			}
		}
	}
}

// Decoding then encoding a foreign document keeps its packages: what charter reads
// from Syft's SBOM survives into charter's own.
func TestReencodeForeign(t *testing.T) {
	for _, name := range []string{"syft/syft-oci.cdx.json", "syft/syft-oci.spdx.json", "trivy/trivy-debian.cdx.json", "trivy/trivy-debian.spdx.json"} {
		first := decodeFile(t, name)
		for _, format := range []string{"cyclonedx-json", "spdx-json"} {
			again, err := Decode(bytes.NewReader(encode(t, &first.Inventory, format, Options{Files: true})), Limits{})
			if err != nil {
				t.Fatalf("%s → %s: %v", name, format, err)
			}
			if got, want := asJSON(t, again.Packages), asJSON(t, expected(&first.Inventory, format, true).Packages); got != want {
				t.Errorf("%s → %s → decode changed the packages\n got: %s\nwant: %s", name, format, got, want)
			}
		}
	}
}

// Strings from a hostile image (a package name, a version, a history instruction, a
// licence) cannot add packages or lines to charter's documents in any format.
func TestHostileStrings(t *testing.T) {
	inv := sampleInventory()
	inject := "\nPackageName: injected\nSPDXID: SPDXRef-injected\n"
	inv.Layers[2].CreatedBy = "RUN x </text>" + inject + "<text>"
	p := &inv.Packages[1] // libssl3: it has a source package
	p.Name = "evil" + inject
	p.Version = "1.0</text>" + inject
	p.Instruction = "</text>" + inject
	p.Licenses = []string{"<text>MIT" + inject, "</text>"}
	p.Locations = []string{"/x" + inject}
	p.CPEs = []string{"cpe:2.3:a:evil:evil:1.0 " + inject}
	p.Source.Name = "src" + inject
	for _, format := range []string{"cyclonedx-json", "cyclonedx-xml", "spdx-json", "spdx-tag-value"} {
		out := encode(t, inv, format, Options{Files: true})
		doc, err := Decode(bytes.NewReader(out), Limits{})
		if err != nil {
			t.Fatalf("%s: %v", format, err)
		}
		if len(doc.Packages) != len(inv.Packages) {
			t.Errorf("%s: %d packages; want %d", format, len(doc.Packages), len(inv.Packages))
		}
		for _, p := range doc.Packages {
			if p.Name == "injected" {
				t.Errorf("%s: a package was injected", format)
			}
		}
		if format == "spdx-tag-value" {
			// Outside <text> blocks, no line may come from the injected string.
			inText := false
			for _, line := range strings.Split(string(out), "\n") {
				if !inText && strings.HasPrefix(line, "PackageName: injected") {
					t.Errorf("spdx-tag-value: an injected line reached the document")
				}
				open, closed := strings.Count(line, "<text>"), strings.Count(line, "</text>")
				if open > closed {
					inText = true
				} else if closed > open {
					inText = false
				}
			}
		}
	}
}
