package profile

import "testing"

// BenchmarkBuildRenderAll: a profile from an image config and charter, in every format.
func BenchmarkBuildRenderAll(b *testing.B) {
	t := &testing.T{}
	src, cf := posterSource(t), loadCharter(t, "charter.yaml")
	b.ReportAllocs()
	for b.Loop() {
		p, err := Build(src, cf, Options{Arch: "amd64", SeccompDeny: []string{"ptrace"}})
		if err != nil {
			b.Fatal(err)
		}
		for _, f := range Formats {
			if _, err := p.Render(f, ""); err != nil {
				b.Fatal(err)
			}
		}
	}
}
