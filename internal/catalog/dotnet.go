package catalog

import (
	"encoding/json"
	"sort"
	"strings"

	"github.com/charterhq/charter/internal/image"
)

// dotnetCataloger reads .NET's *.deps.json, which lists every library an application
// was built against; NuGet packages ("type": "package") are reported, the project and
// its own assemblies are not.
type dotnetCataloger struct{}

func (dotnetCataloger) Name() string { return "dotnet-deps" }
func (dotnetCataloger) Version() int { return 1 }

func (dotnetCataloger) Need(f *image.File) (bool, int64) {
	if f.Regular() && strings.HasSuffix(f.Path, ".deps.json") {
		return true, 16 << 20
	}
	return false, 0
}

func (dotnetCataloger) Parse(_ *image.File, content []byte) []Found { return parseDepsJSON(content) }

func parseDepsJSON(b []byte) []Found {
	var doc struct {
		Libraries map[string]struct {
			Type string `json:"type"`
		} `json:"libraries"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return []Found{{Warning: "deps.json: " + clipString(err.Error())}}
	}
	keys := make([]string, 0, len(doc.Libraries))
	for k := range doc.Libraries {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var out []Found
	for _, k := range keys {
		if doc.Libraries[k].Type != "package" {
			continue
		}
		name, version, ok := strings.Cut(k, "/")
		if !ok || name == "" || version == "" {
			continue
		}
		out = append(out, Found{Package: &Package{Name: name, Version: version, Ecosystem: NuGet}})
	}
	return out
}
