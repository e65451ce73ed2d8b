package sbom

import (
	"bytes"
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/charterhq/charter/internal/catalog"
	"github.com/charterhq/charter/internal/image"
	"github.com/charterhq/charter/internal/report"
)

// The whole path on the image Syft's test documents were made from (testdata/oci):
// open, walk with the catalogers, build, encode. charter's SBOM must name the same
// packages as Syft's, each with the same layer and source package, and validate.
func TestPipelineAgainstSyft(t *testing.T) {
	ctx := context.Background()
	img, err := image.Open(ctx, "oci-dir:testdata/oci", image.Options{NoCache: true})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = img.Close() }()
	idx, err := img.Walk(ctx, catalog.Analyzers()...)
	if err != nil {
		t.Fatal(err)
	}
	n, _ := catalog.BaseLayers(img.ConfigFile(), nil)
	res := catalog.Build(idx, catalog.Options{BaseLayers: n})
	inv := FromCatalog(res, Image{Ref: img.Ref(), Digest: img.Digest().String()}, report.Tool{Name: "charter", Version: "test"}, n)

	out := encode(t, inv, "cyclonedx-json", Options{Files: true})
	validate(t, cycloneDXSchema(t, "1.6"), "charter's SBOM of testdata/oci", out)
	validate(t, spdxSchema(t), "charter's SPDX of testdata/oci", encode(t, inv, "spdx-json", Options{Files: true}))
	ours, err := Decode(bytes.NewReader(out), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	theirs := decodeFile(t, "syft/syft-oci.cdx.json")

	key := func(p *Package) string { return p.Ecosystem + "/" + strings.ToLower(p.Name) + "@" + p.Version }
	summary := func(doc *Document) map[string]string {
		m := map[string]string{}
		for i := range doc.Packages {
			p := &doc.Packages[i]
			src := ""
			if p.Source != nil && (p.Source.Name != p.Name || p.Source.Version != p.Version) {
				src = p.Source.Name + "@" + p.Source.Version
			}
			m[key(p)] = fmt.Sprintf("layer %s source %q", p.Layer, src)
		}
		return m
	}
	a, b := summary(ours), summary(theirs)
	var keys []string
	for k := range a {
		keys = append(keys, k)
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	if len(a) != 11 || len(b) != 11 {
		t.Errorf("charter found %d packages, syft %d; want 11 each (8 deb, 3 python)", len(a), len(b))
	}
	for _, k := range keys {
		if a[k] != b[k] {
			t.Errorf("%s: charter %q, syft %q", k, a[k], b[k])
		}
	}
	if ours.Distro == nil || ours.Distro.ID != "debian" || len(ours.Layers) != 2 || ours.Layers[1].CreatedBy == "" {
		t.Errorf("distro %+v, layers %+v", ours.Distro, ours.Layers)
	}
}
