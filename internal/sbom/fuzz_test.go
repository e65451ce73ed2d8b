package sbom

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// seed adds every file under testdata/DIR whose name contains one of the markers.
func seed(f *testing.F, markers ...string) {
	for _, dir := range []string{"syft", "trivy", "golden"} {
		entries, err := os.ReadDir(filepath.Join("testdata", dir))
		if err != nil {
			f.Fatal(err)
		}
		for _, e := range entries {
			for _, m := range markers {
				if strings.Contains(e.Name(), m) {
					b, err := os.ReadFile(filepath.Join("testdata", dir, e.Name()))
					if err != nil {
						f.Fatal(err)
					}
					f.Add(b)
					break
				}
			}
		}
	}
}

// fuzzLimits keep each input's work small.
var fuzzLimits = Limits{MaxBytes: 1 << 20, MaxDepth: 32, MaxPackages: 2000}

// fixedPoint checks that what Decode returns survives charter's own encoding: decoding
// charter's re-encoding of a decoded document gives the same packages every time after
// the first pass (which may normalise, e.g. "mit" to "MIT").
func fixedPoint(t *testing.T, doc *Document, format string) {
	f, err := ParseFormat(format)
	if err != nil {
		t.Fatal(err)
	}
	cycle := func(inv *Inventory) *Document {
		var buf bytes.Buffer
		if err := Encode(&buf, inv, f, Options{Now: fixedClock, Files: true}); err != nil {
			t.Fatalf("encoding a decoded document as %s: %v", format, err)
		}
		out, err := Decode(&buf, Limits{})
		if err != nil {
			t.Fatalf("decoding charter's own %s: %v\n%s", format, err, buf.String())
		}
		return out
	}
	second := cycle(&doc.Inventory)
	third := cycle(&second.Inventory)
	if a, b := asJSON(t, second.Inventory), asJSON(t, third.Inventory); a != b {
		t.Fatalf("%s does not reach a fixed point:\n%s\n%s", format, a, b)
	}
}

func FuzzDecodeCycloneDX(f *testing.F) {
	seed(f, ".cdx")
	f.Fuzz(func(t *testing.T, data []byte) {
		doc, err := Decode(bytes.NewReader(data), fuzzLimits)
		if err != nil {
			return
		}
		if len(doc.Packages) > fuzzLimits.MaxPackages {
			t.Fatalf("%d packages past the limit", len(doc.Packages))
		}
		fixedPoint(t, doc, "cyclonedx-json")
	})
}

func FuzzDecodeSPDX(f *testing.F) {
	seed(f, ".spdx")
	f.Fuzz(func(t *testing.T, data []byte) {
		doc, err := Decode(bytes.NewReader(data), fuzzLimits)
		if err != nil {
			return
		}
		if len(doc.Packages) > fuzzLimits.MaxPackages {
			t.Fatalf("%d packages past the limit", len(doc.Packages))
		}
		fixedPoint(t, doc, "spdx-json")
	})
}
