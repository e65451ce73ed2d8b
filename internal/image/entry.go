package image

import (
	"archive/tar"
	"fmt"
	"io/fs"
	"path"
	"strings"
)

// typeRegOld is the pre-POSIX type flag for a regular file ('\x00'); old layers use it.
const typeRegOld = '\x00'

const (
	whiteoutPrefix = ".wh."
	whiteoutMeta   = ".wh..wh."
	whiteoutOpaque = ".wh..wh..opq"
	maxAnomalyName = 512
)

// layerBuilder turns the tar headers of one layer into its index. It never touches the
// filesystem: entries are data, so a hostile name can at worst become an Anomaly.
type layerBuilder struct {
	lim      Limits
	layer    *Layer
	at       map[string]int // rooted path -> index in layer.Files
	symlinks bool           // the layer has a symlink: check parents of later entries
	entries  int
}

func newLayerBuilder(l *Layer, lim Limits) *layerBuilder {
	return &layerBuilder{lim: lim, layer: l, at: map[string]int{}}
}

// add records one header. It returns the index of the File it added (or replaced), or -1
// when the entry is a whiteout, metadata, or skipped as an anomaly.
func (b *layerBuilder) add(h *tar.Header) (int, error) {
	b.entries++
	if b.entries > b.lim.MaxFiles {
		return -1, fmt.Errorf("more than %d entries (Limits.MaxFiles)", b.lim.MaxFiles)
	}
	switch h.Typeflag {
	case tar.TypeXGlobalHeader, tar.TypeXHeader, tar.TypeGNULongName, tar.TypeGNULongLink:
		return -1, nil // archive/tar folds these into the next header; a stray one is inert
	}
	p, ok := b.cleanName(h.Name)
	if !ok || p == "/" {
		return -1, nil
	}
	dir, base := path.Split(p)
	if strings.HasPrefix(base, whiteoutPrefix) {
		b.whiteout(h.Name, path.Clean(dir), base)
		return -1, nil
	}
	f := File{Path: p, Size: h.Size, UID: h.Uid, GID: h.Gid, Layer: b.layer.Index}
	f.Mode = h.FileInfo().Mode()
	switch h.Typeflag {
	case tar.TypeReg, typeRegOld, tar.TypeGNUSparse, tar.TypeCont:
		f.Mode &^= fs.ModeType
	case tar.TypeDir:
		f.Size = 0
	case tar.TypeSymlink:
		if !b.symlink(h, &f) {
			return -1, nil
		}
	case tar.TypeLink:
		if !b.hardlink(h, &f) {
			return -1, nil
		}
	case tar.TypeChar, tar.TypeBlock:
		f.Size = 0
		b.anomaly(AnomalyDevice, h.Name, fmt.Sprintf("device %d:%d", h.Devmajor, h.Devminor))
	case tar.TypeFifo:
		f.Size = 0
	default:
		b.anomaly(AnomalyUnknownType, h.Name, fmt.Sprintf("type %q", h.Typeflag))
		return -1, nil
	}
	if f.Size < 0 {
		f.Size = 0
	}
	if b.symlinks {
		b.checkParents(h.Name, p)
	}
	return b.put(h.Name, f), nil
}

// cleanName maps a tar name to a rooted path, or records why it cannot.
func (b *layerBuilder) cleanName(name string) (string, bool) {
	if len(name) > b.lim.MaxPathLen {
		b.anomaly(AnomalyLongPath, name, fmt.Sprintf("%d bytes", len(name)))
		return "", false
	}
	rel := strings.TrimLeft(name, "/")
	if rel != name {
		b.anomaly(AnomalyAbsolute, name, "read relative to the image root")
	}
	c := path.Clean(rel)
	if c == ".." || strings.HasPrefix(c, "../") {
		b.anomaly(AnomalyTraversal, name, "leaves the image root; entry skipped")
		return "", false
	}
	if c == "." {
		return "/", true
	}
	return "/" + c, true
}

func (b *layerBuilder) whiteout(name, dir, base string) {
	switch {
	case base == whiteoutOpaque:
		b.layer.Opaque = append(b.layer.Opaque, dir)
	case strings.HasPrefix(base, whiteoutMeta):
		// aufs bookkeeping (.wh..wh.plnk and friends): not part of the filesystem.
	default:
		target := base[len(whiteoutPrefix):]
		if target == "" || target == "." || target == ".." {
			b.anomaly(AnomalyWhiteout, name, "whiteout names nothing")
			return
		}
		b.layer.Whiteouts = append(b.layer.Whiteouts, path.Join(dir, target))
	}
}

func (b *layerBuilder) symlink(h *tar.Header, f *File) bool {
	if len(h.Linkname) > b.lim.MaxPathLen {
		b.anomaly(AnomalyLongPath, h.Name, "symlink target too long; entry skipped")
		return false
	}
	f.Link = h.Linkname
	f.Size = 0
	b.symlinks = true
	if !strings.HasPrefix(h.Linkname, "/") {
		// Resolved lexically from the link's directory; at run time the kernel stops
		// at the container root, but a naive extractor would not.
		rel := strings.TrimPrefix(path.Dir(f.Path), "/")
		t := path.Clean(path.Join(rel, h.Linkname)) //nolint:gosec // checked, never extracted
		if t == ".." || strings.HasPrefix(t, "../") {
			b.anomaly(AnomalyLinkEscape, h.Name, "target "+clip(h.Linkname)+" climbs above the root")
		}
	}
	return true
}

func (b *layerBuilder) hardlink(h *tar.Header, f *File) bool {
	if len(h.Linkname) > b.lim.MaxPathLen {
		b.anomaly(AnomalyLongPath, h.Name, "hard link target too long; entry skipped")
		return false
	}
	rel := path.Clean(strings.TrimLeft(h.Linkname, "/"))
	if rel == "." || rel == ".." || strings.HasPrefix(rel, "../") {
		b.anomaly(AnomalyHardlink, h.Name, "target "+clip(h.Linkname)+" leaves the image root; entry skipped")
		return false
	}
	f.Link = "/" + rel
	f.Hardlink = true
	f.Mode &^= fs.ModeType
	if i, ok := b.at[f.Link]; ok {
		t := b.layer.Files[i]
		f.Size = t.Size
		f.Mode = t.Mode&fs.ModeType | f.Mode&^fs.ModeType
		if t.Mode.IsDir() {
			b.anomaly(AnomalyHardlink, h.Name, "hard link to a directory; entry skipped")
			return false
		}
	} else {
		f.Size = 0
		b.anomaly(AnomalyHardMissing, h.Name, "target "+clip(h.Linkname)+" is not earlier in this layer")
	}
	return true
}

// checkParents flags entries written beneath a symlink of the same layer: extracting
// them naively writes wherever the link points.
func (b *layerBuilder) checkParents(name, p string) {
	for d := path.Dir(p); d != "/"; d = path.Dir(d) {
		if i, ok := b.at[d]; ok && b.layer.Files[i].Mode&fs.ModeSymlink != 0 {
			b.anomaly(AnomalyThroughLink, name, "parent "+d+" is a symlink in this layer")
			return
		}
	}
}

func (b *layerBuilder) put(name string, f File) int {
	if i, ok := b.at[f.Path]; ok {
		b.anomaly(AnomalyDuplicate, name, "an earlier entry at this path is replaced")
		b.layer.Files[i] = f
		return i
	}
	b.at[f.Path] = len(b.layer.Files)
	b.layer.Files = append(b.layer.Files, f)
	return len(b.layer.Files) - 1
}

func (b *layerBuilder) anomaly(k AnomalyKind, name, detail string) {
	b.layer.Anomalies = append(b.layer.Anomalies, Anomaly{Kind: k, Name: clip(name), Detail: detail, Layer: b.layer.Index})
}

// clip makes a hostile name safe to print: no control characters, bounded length.
func clip(s string) string {
	if len(s) > maxAnomalyName {
		s = s[:maxAnomalyName] + "…"
	}
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return '?'
		}
		return r
	}, s)
}
