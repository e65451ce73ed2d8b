package sbom

import (
	"bytes"
	"testing"

	"github.com/charterhq/charter/internal/catalog"
	"github.com/charterhq/charter/internal/report"
)

// A catalog result becomes an inventory whose SBOM carries the layer, instruction,
// base flag and owned files of each package, and reads back the same.
func TestFromCatalog(t *testing.T) {
	res := &catalog.Result{
		Distro: &catalog.Distro{ID: "debian", VersionID: "12", Codename: "bookworm", Name: "Debian GNU/Linux 12 (bookworm)"},
		Layers: []catalog.LayerInfo{{DiffID: diff0, Instruction: ins0}, {DiffID: diff1, Instruction: ins1}},
		Packages: []catalog.Package{{
			Name: "libssl3", Version: "3.0.15-1~deb12u1", Ecosystem: catalog.Deb, Arch: "amd64",
			Source: &catalog.Source{Name: "openssl", Version: "3.0.15-1~deb12u1"}, Licenses: []string{"Apache-2.0"},
			Cataloger: "dpkg", Location: "/var/lib/dpkg/status",
			Files:   []string{"/usr/lib/x86_64-linux-gnu/libssl.so.3"},
			Digests: map[string]string{"/usr/lib/x86_64-linux-gnu/libssl.so.3": "md5:3c6f8f0a5e0d9b8c7a6f5e4d3c2b1a09"},
			PURL:    "pkg:deb/debian/libssl3@3.0.15-1~deb12u1?arch=amd64&distro=debian-12&upstream=openssl",
			Layer:   0, ChangedLayer: 1, Base: true,
		}},
	}
	inv := FromCatalog(res, Image{Ref: "debian:12", Digest: "sha256:314b5c956ef3745e8db2422964f16d402824a3a8f69ca8c88072d2ec6a014d45"},
		report.Tool{Name: "charter", Version: "0.3.0"}, 1)
	if len(inv.Layers) != 2 || !inv.Layers[0].Base || inv.Layers[1].Base || inv.Layers[1].CreatedBy != ins1 {
		t.Fatalf("layers %+v", inv.Layers)
	}
	p := inv.Packages[0]
	if p.Layer != diff0 || p.Instruction != ins0 || !p.Base || p.ChangedLayerIndex == nil || *p.ChangedLayerIndex != 1 ||
		len(p.Files) != 1 || p.Digests[p.Files[0]] == "" || p.Source.Name != "openssl" {
		t.Fatalf("package %+v", p)
	}
	doc, err := Decode(bytes.NewReader(encode(t, inv, "spdx-json", Options{Files: true})), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := asJSON(t, doc.Inventory), asJSON(t, expected(inv, "spdx-json", true)); got != want {
		t.Errorf("round trip differs\n got: %s\nwant: %s", got, want)
	}
}
