package imagecheck

import (
	"context"
	"fmt"
	"math/rand"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/charterhq/charter/internal/image"
	"github.com/charterhq/charter/internal/imagecheck/imagetest"
)

// BenchmarkContentScan measures what the checks cost on top of the layer walk when every
// file is text the secret scan must read (configuration and application files, not the
// distribution trees the scan skips): a walk with no analyzer against a walk with the
// checks' analyzers plus Check, on about 64 MB of text in four layers, cache off.
func BenchmarkContentScan(b *testing.B) {
	dir := b.TempDir()
	ref := imagetest.WriteOCI(b, filepath.Join(dir, "oci"), "bench", textImage(b, 64<<20))
	ctx := context.Background()
	var size int64
	for _, tc := range []struct {
		name  string
		check bool
	}{{"walk-only", false}, {"walk+checks", true}} {
		b.Run(tc.name, func(b *testing.B) {
			for b.Loop() {
				im, err := image.Open(ctx, ref, image.Options{NoCache: true})
				if err != nil {
					b.Fatal(err)
				}
				var as []image.Analyzer
				if tc.check {
					as = Analyzers(All())
				}
				idx, err := im.Walk(ctx, as...)
				if err != nil {
					b.Fatal(err)
				}
				if tc.check {
					_ = Check(im, idx, All())
				}
				size = 0
				for _, f := range idx.Files() {
					size += f.Size
				}
				_ = im.Close()
			}
			b.SetBytes(size)
		})
	}
}

// textImage writes files of prose, code-like lines and hex, 1 KiB to 1 MiB each, under
// /srv/data, about total bytes in four layers.
func textImage(b *testing.B, total int) v1.Image {
	r := rand.New(rand.NewSource(1))
	words := strings.Fields("the quick brown fox config value return error token key secret port host user name path " +
		"import module package func struct layer image data file")
	var steps []imagetest.Step
	for l := range 4 {
		var entries []imagetest.Entry
		for n, i := 0, 0; n < total/4; i++ {
			size := 1 << (10 + r.Intn(11))
			var sb strings.Builder
			for sb.Len() < size {
				sb.WriteString(words[r.Intn(len(words))])
				if r.Intn(8) == 0 {
					fmt.Fprintf(&sb, " = %x\n", r.Uint64())
				} else {
					sb.WriteByte(' ')
				}
			}
			entries = append(entries, imagetest.File(fmt.Sprintf("srv/data/l%d/f%d.txt", l, i), sb.String()))
			n += sb.Len()
		}
		steps = append(steps, imagetest.Step{CreatedBy: fmt.Sprintf("COPY data%d /srv/data/", l), Layer: imagetest.Layer(b, entries...)})
	}
	return imagetest.Image(b, v1.Config{User: "1000"}, steps...)
}
