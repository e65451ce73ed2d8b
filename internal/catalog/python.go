package catalog

import (
	"bytes"
	"encoding/base64"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"io"
	"path"
	"strings"

	"github.com/charterhq/charter/internal/image"
)

// pythonCataloger reads installed Python distributions: *.dist-info/METADATA (pip,
// wheels), *.egg-info/PKG-INFO and the single-file *.egg-info Debian's python3-*
// packages ship in dist-packages.
type pythonCataloger struct{}

func (pythonCataloger) Name() string { return "python" }
func (pythonCataloger) Version() int { return 2 }

const (
	pythonMetaMax   = 1 << 20
	pythonRecordMax = 8 << 20
)

func (pythonCataloger) Need(f *image.File) (bool, int64) {
	if !f.Regular() {
		return false, 0
	}
	dir, base := path.Split(f.Path)
	switch {
	case base == "RECORD" && strings.HasSuffix(dir, ".dist-info/"):
		return true, pythonRecordMax
	case base == "METADATA" && strings.HasSuffix(dir, ".dist-info/"),
		base == "PKG-INFO" && strings.HasSuffix(dir, ".egg-info/"),
		strings.HasSuffix(base, ".egg-info"):
		return true, pythonMetaMax
	}
	return false, 0
}

func (pythonCataloger) Parse(f *image.File, content []byte) []Found {
	if path.Base(f.Path) == "RECORD" {
		return []Found{{Owns: parsePythonRecord(path.Dir(f.Path), content)}}
	}
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

// parsePythonRecord reads a wheel's RECORD (CSV: path, "sha256=" + unpadded base64url,
// size), paths relative to the directory holding the dist-info. The ownership is keyed
// by the dist-info directory, which Build matches with METADATA's.
func parsePythonRecord(distInfo string, b []byte) *Ownership {
	o := &Ownership{Manager: "python", Package: distInfo}
	root := path.Dir(distInfo)
	r := csv.NewReader(bytes.NewReader(b))
	r.FieldsPerRecord = -1
	r.LazyQuotes = true
	for {
		rec, err := r.Read()
		if err != nil {
			if errors.Is(err, io.EOF) || len(o.Files) > 0 {
				break
			}
			return o
		}
		if len(rec) == 0 || rec[0] == "" {
			continue
		}
		p := path.Join(root, rec[0])
		if !strings.HasPrefix(p, "/") {
			continue
		}
		o.Files = append(o.Files, p)
		if len(rec) > 1 {
			if h, ok := strings.CutPrefix(rec[1], "sha256="); ok {
				if raw, err := base64.RawURLEncoding.DecodeString(h); err == nil && len(raw) == 32 {
					if o.Digests == nil {
						o.Digests = map[string]string{}
					}
					o.Digests[p] = "sha256:" + hex.EncodeToString(raw)
				}
			}
		}
	}
	return o
}
