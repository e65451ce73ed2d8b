package catalog

import (
	"encoding/json"
	"strings"

	"github.com/charterhq/charter/internal/image"
)

// phpCataloger reads Composer's record of installed packages,
// vendor/composer/installed.json (the Composer 1 array and the Composer 2 object).
type phpCataloger struct{}

func (phpCataloger) Name() string { return "php-composer" }
func (phpCataloger) Version() int { return 1 }

func (phpCataloger) Need(f *image.File) (bool, int64) {
	if f.Regular() && strings.HasSuffix(f.Path, "/vendor/composer/installed.json") {
		return true, 32 << 20
	}
	return false, 0
}

type composerPackage struct {
	Name    string   `json:"name"`
	Version string   `json:"version"`
	License []string `json:"license"`
}

func (phpCataloger) Parse(_ *image.File, content []byte) []Found {
	return parseComposerInstalled(content)
}

func parseComposerInstalled(b []byte) []Found {
	var list []composerPackage
	var v2 struct {
		Packages []composerPackage `json:"packages"`
	}
	if err := json.Unmarshal(b, &v2); err == nil && v2.Packages != nil {
		list = v2.Packages
	} else if err := json.Unmarshal(b, &list); err != nil {
		return []Found{{Warning: "installed.json: " + clipString(err.Error())}}
	}
	var out []Found
	for _, c := range list {
		vendor, name, ok := strings.Cut(c.Name, "/")
		version := strings.TrimPrefix(c.Version, "v")
		if !ok || vendor == "" || name == "" || version == "" {
			continue
		}
		out = append(out, Found{Package: &Package{Namespace: vendor, Name: name, Version: version,
			Ecosystem: Composer, Licenses: c.License}})
	}
	return out
}
