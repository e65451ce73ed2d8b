package sbom

import (
	"bytes"
	"fmt"
	"io"
	"testing"

	"github.com/charterhq/charter/internal/report"
)

// bigInventory is the size of a large real image: 3,000 packages, 40 owned files each.
func bigInventory() *Inventory {
	inv := sampleInventory()
	inv.Packages = nil
	for i := 0; i < 3000; i++ {
		p := Package{Package: report.Package{
			Name: fmt.Sprintf("pkg%04d", i), Version: "1.2.3-4", Ecosystem: "deb", Arch: "amd64",
			PURL:   fmt.Sprintf("pkg:deb/debian/pkg%04d@1.2.3-4?arch=amd64&distro=debian-12", i),
			Source: &report.PackageSource{Name: fmt.Sprintf("src%04d", i), Version: "1.2.3-4"},
			Layer:  diff0, LayerIndex: intp(0), Base: true, Locations: []string{"/var/lib/dpkg/status"},
			Licenses: []string{"GPL-2.0-or-later", "BSD-3-Clause"},
			CPEs:     []string{fmt.Sprintf("cpe:2.3:a:pkg%04d:pkg%04d:1.2.3:*:*:*:*:*:*:*", i, i)},
		}}
		p.Digests = map[string]string{}
		for j := 0; j < 40; j++ {
			f := fmt.Sprintf("/usr/share/pkg%04d/file%02d", i, j)
			p.Files = append(p.Files, f)
			p.Digests[f] = "md5:0123456789abcdef0123456789abcdef"
		}
		inv.Packages = append(inv.Packages, p)
	}
	return inv
}

func BenchmarkEncode(b *testing.B) {
	inv := bigInventory()
	for _, format := range []string{"cyclonedx-json", "cyclonedx-xml", "spdx-json"} {
		for _, files := range []bool{false, true} {
			b.Run(fmt.Sprintf("%s/files=%v", format, files), func(b *testing.B) {
				f, _ := ParseFormat(format)
				var n int
				for b.Loop() {
					var c countWriter
					if err := Encode(&c, inv, f, Options{Now: fixedClock, Files: files}); err != nil {
						b.Fatal(err)
					}
					n = int(c)
				}
				b.ReportMetric(float64(n)/(1<<20), "MiB/doc")
			})
		}
	}
}

func BenchmarkDecode(b *testing.B) {
	inv := bigInventory()
	for _, format := range []string{"cyclonedx-json", "cyclonedx-xml", "spdx-json"} {
		doc := encode(b, inv, format, Options{Files: true})
		b.Run(format, func(b *testing.B) {
			b.SetBytes(int64(len(doc)))
			for b.Loop() {
				d, err := Decode(bytes.NewReader(doc), Limits{})
				if err != nil || len(d.Packages) != 3000 {
					b.Fatal(err)
				}
			}
		})
	}
}

type countWriter int64

func (c *countWriter) Write(p []byte) (int, error) { *c += countWriter(len(p)); return len(p), nil }

var _ io.Writer = (*countWriter)(nil)
