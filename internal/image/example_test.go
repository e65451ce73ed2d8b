package image_test

import (
	"context"
	"fmt"
	"strings"

	"github.com/charterhq/charter/internal/image"
)

// Open an image, walk it once with an analyzer, and ask the index what a later layer
// deleted.
func Example() {
	ctx := context.Background()
	img, err := image.Open(ctx, "oci-dir:./build/oci:v1", image.Options{})
	if err != nil {
		fmt.Println(err) // one line, naming the reference and what to do
		return
	}
	defer func() { _ = img.Close() }()

	envFiles := &image.PathAnalyzer{
		Name:     "dotenv/1",
		Globs:    []string{"/*/.env"},
		MaxBytes: 4 << 10,
		Func: func(f *image.File, content []byte) ([]image.Record, error) {
			if strings.Contains(string(content), "TOKEN=") {
				return []image.Record{{Kind: "token"}}, nil
			}
			return nil, nil
		},
	}
	idx, err := img.Walk(ctx, envFiles)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range idx.Records() {
		l := idx.Layers[r.Layer]
		fmt.Printf("%s in layer %d (%s), still visible: %v\n", r.Path, r.Layer, l.CreatedBy(), idx.Visible(r.Layer, r.Path))
	}
	for _, h := range idx.Hidden {
		fmt.Printf("%s from layer %d, %s by layer %d\n", h.File.Path, h.File.Layer, h.How, h.By)
	}
}
