package catalog

import (
	"bytes"
	"compress/zlib"
	"debug/elf"
	"encoding/json"
	"io"

	"github.com/charterhq/charter/internal/image"
)

// rustCataloger reads the dependency list `cargo auditable` embeds in Rust binaries:
// a zlib-compressed JSON document in the ELF section .dep-v0.
type rustCataloger struct{}

func (rustCataloger) Name() string { return "rust-audit" }
func (rustCataloger) Version() int { return 1 }

func (rustCataloger) Need(f *image.File) (bool, int64) { return wantExecutable(f) }

const rustAuditMax = 8 << 20

func (rustCataloger) Parse(f *image.File, content []byte) []Found {
	if !bytes.HasPrefix(content, []byte("\x7fELF")) || int64(len(content)) != f.Size ||
		!bytes.Contains(content, []byte(".dep-v0")) {
		return nil
	}
	ef, err := elf.NewFile(bytes.NewReader(content))
	if err != nil {
		return nil
	}
	sec := ef.Section(".dep-v0")
	if sec == nil || sec.Type == elf.SHT_NOBITS {
		return nil
	}
	raw, err := sec.Data()
	if err != nil {
		return []Found{{Warning: "unreadable .dep-v0 section"}}
	}
	return parseRustAudit(raw)
}

type rustAudit struct {
	Packages []struct {
		Name    string `json:"name"`
		Version string `json:"version"`
		Source  string `json:"source"`
		Kind    string `json:"kind"`
		Root    bool   `json:"root"`
	} `json:"packages"`
}

// parseRustAudit decompresses and reads the .dep-v0 document. Build-time dependencies
// are not in the binary and are left out.
func parseRustAudit(raw []byte) []Found {
	zr, err := zlib.NewReader(bytes.NewReader(raw))
	if err != nil {
		return []Found{{Warning: "cargo auditable data is not zlib"}}
	}
	js, err := io.ReadAll(io.LimitReader(zr, rustAuditMax))
	if err != nil {
		return []Found{{Warning: "cargo auditable data is corrupt"}}
	}
	var doc rustAudit
	if err := json.Unmarshal(js, &doc); err != nil {
		return []Found{{Warning: "cargo auditable JSON: " + clipString(err.Error())}}
	}
	var out []Found
	for _, p := range doc.Packages {
		if p.Name == "" || p.Version == "" || p.Kind == "build" {
			continue
		}
		pk := &Package{Name: p.Name, Version: p.Version, Ecosystem: Cargo}
		if p.Source != "" || p.Root {
			pk.Meta = map[string]string{}
			if p.Source != "" {
				pk.Meta["source"] = p.Source
			}
			if p.Root {
				pk.Meta["root"] = "true"
			}
		}
		out = append(out, Found{Package: pk})
	}
	return out
}
