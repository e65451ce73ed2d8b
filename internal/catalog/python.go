package catalog

import (
	"bytes"
	"path"
	"strings"

	"github.com/charterhq/charter/internal/image"
)

// pythonCataloger reads installed Python distributions: *.dist-info/METADATA (pip,
// wheels), *.egg-info/PKG-INFO and the single-file *.egg-info Debian's python3-*
// packages ship in dist-packages.
type pythonCataloger struct{}

func (pythonCataloger) Name() string { return "python" }
func (pythonCataloger) Version() int { return 1 }

const pythonMetaMax = 1 << 20

func (pythonCataloger) Need(f *image.File) (bool, int64) {
	if !f.Regular() {
		return false, 0
	}
	dir, base := path.Split(f.Path)
	switch {
	case base == "METADATA" && strings.HasSuffix(dir, ".dist-info/"),
		base == "PKG-INFO" && strings.HasSuffix(dir, ".egg-info/"),
		strings.HasSuffix(base, ".egg-info"):
		return true, pythonMetaMax
	}
	return false, 0
}

func (pythonCataloger) Parse(_ *image.File, content []byte) []Found {
	p, warn := parsePythonMetadata(content)
	if warn != "" {
		return []Found{{Warning: warn}}
	}
	return []Found{{Package: p}}
}

// parsePythonMetadata reads the core-metadata headers (RFC 822 style, up to the first
// blank line): Name, Version, License-Expression, License and licence classifiers.
func parsePythonMetadata(b []byte) (*Package, string) {
	p := &Package{Ecosystem: PyPI}
	var license, expr string
	var classifiers []string
	last := ""
	for len(b) > 0 {
		var line []byte
		line, b, _ = bytes.Cut(b, []byte{'\n'})
		line = bytes.TrimRight(line, "\r")
		if len(line) == 0 {
			break
		}
		if line[0] == ' ' || line[0] == '\t' {
			if last == "License" && len(license) < 4096 {
				license += "\n" + string(bytes.TrimSpace(line))
			}
			continue
		}
		k, v, ok := bytes.Cut(line, []byte{':'})
		if !ok {
			continue
		}
		last = string(k)
		val := string(bytes.TrimSpace(v))
		switch last {
		case "Name":
			p.Name = val
		case "Version":
			p.Version = val
		case "License":
			license = val
		case "License-Expression":
			expr = val
		case "Classifier":
			if c, ok := strings.CutPrefix(val, "License :: "); ok {
				parts := strings.Split(c, " :: ")
				classifiers = append(classifiers, parts[len(parts)-1])
			}
		}
	}
	if p.Name == "" || p.Version == "" {
		return nil, "Python metadata without Name or Version"
	}
	switch {
	case expr != "":
		p.Licenses = []string{expr}
	case license != "" && license != "UNKNOWN" && !strings.Contains(license, "\n") && len(license) < 128:
		p.Licenses = []string{license}
	case len(classifiers) > 0:
		p.Licenses = classifiers
	}
	return p, ""
}
