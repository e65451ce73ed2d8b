package catalog_test

import (
	"context"
	"fmt"

	"github.com/charterhq/charter/internal/catalog"
	"github.com/charterhq/charter/internal/image"
)

// Catalog an image in the same walk as other analyzers, mark what came from its base,
// and check package files against their managers' digests (IMG009).
func Example() {
	ctx := context.Background()
	img, err := image.Open(ctx, "oci-dir:./build/oci:v1", image.Options{
		Limits: image.Limits{MaxContent: catalog.RecommendedMaxContent},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer func() { _ = img.Close() }()

	analyzers := append(catalog.Analyzers(), catalog.Hasher{}) // plus secrets, files…
	idx, err := img.Walk(ctx, analyzers...)
	if err != nil {
		fmt.Println(err)
		return
	}
	base, _ := catalog.BaseLayers(img.ConfigFile(), nil)
	res := catalog.Build(idx, catalog.Options{BaseLayers: base})
	for _, p := range res.Packages {
		fmt.Println(p.PURL, "layer", p.Layer, "base", p.Base)
	}
	problems, _ := catalog.Verify(idx, res)
	for _, pr := range problems {
		fmt.Println("IMG009", pr.Kind, pr.Package.Name, pr.Path)
	}
	_ = res.Report() // the report's `packages`
}
