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
