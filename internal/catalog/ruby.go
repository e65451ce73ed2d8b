package catalog

import (
	"path"
	"regexp"
	"strings"

	"github.com/charterhq/charter/internal/image"
)

// rubyCataloger reads installed gems' specifications (.../specifications/NAME.gemspec),
// the Ruby files RubyGems writes for every installed gem. They are read as text, never
// evaluated.
type rubyCataloger struct{}

func (rubyCataloger) Name() string { return "ruby" }
func (rubyCataloger) Version() int { return 1 }

func (rubyCataloger) Need(f *image.File) (bool, int64) {
	if f.Regular() && strings.HasSuffix(f.Path, ".gemspec") && path.Base(path.Dir(f.Path)) == "specifications" {
		return true, 1 << 20
	}
	return false, 0
}

var (
	gemName     = regexp.MustCompile(`(?m)^\s*\w+\.name\s*=\s*["']([^"'\n]+)["']`)
	gemVersion  = regexp.MustCompile(`(?m)^\s*\w+\.version\s*=\s*(?:Gem::Version\.new\(\s*)?["']([^"'\n]+)["']`)
	gemLicenses = regexp.MustCompile(`(?m)^\s*\w+\.licen[sc]es?\s*=\s*(\[[^\]\n]*\]|["'][^"'\n]*["'])`)
	gemQuoted   = regexp.MustCompile(`["']([^"'\n]+)["']`)
)

func (rubyCataloger) Parse(_ *image.File, content []byte) []Found {
	p := parseGemspec(content)
	if p == nil {
		return []Found{{Warning: "gemspec without a literal name and version"}}
	}
	return []Found{{Package: p}}
}

func parseGemspec(b []byte) *Package {
	n, v := gemName.FindSubmatch(b), gemVersion.FindSubmatch(b)
	if n == nil || v == nil {
		return nil
	}
	p := &Package{Name: string(n[1]), Version: string(v[1]), Ecosystem: Gem}
	if l := gemLicenses.FindSubmatch(b); l != nil {
		for _, q := range gemQuoted.FindAllSubmatch(l[1], 16) {
			p.Licenses = append(p.Licenses, string(q[1]))
		}
	}
	return p
}
