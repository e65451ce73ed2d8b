package image

import (
	"io/fs"
	"path"
	"sort"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// File is one entry of one layer, as its tar header describes it.
type File struct {
	// Path is cleaned and rooted: "/etc/passwd". Entries whose path leaves the root are
	// never Files; they are Anomalies.
	Path string
	// Mode carries the type bits (fs.ModeDir, fs.ModeSymlink, fs.ModeDevice…), the
	// permissions and fs.ModeSetuid, fs.ModeSetgid and fs.ModeSticky.
	Mode fs.FileMode
	// Size is the content size; for a hard link, the size of its target when known.
	Size     int64
	UID, GID int
	// Link is a symlink's target as written, or a hard link's target as a cleaned rooted
	// path. Empty for other entries.
	Link     string
	Hardlink bool
	// Layer is the index of the layer that holds this entry.
	Layer int
}

// Regular reports whether f is a regular file (a hard link to one counts).
func (f *File) Regular() bool { return f.Mode.IsRegular() }

// AnomalyKind names something a layer does that a well-formed image does not.
type AnomalyKind string

// The anomalies the layer walk records. None stops the walk: each names an entry that
// was skipped or kept as the table below says, so checks can report it.
const (
	AnomalyTraversal   AnomalyKind = "path-traversal"     // "../" leaves the root; skipped
	AnomalyAbsolute    AnomalyKind = "absolute-path"      // leading "/"; kept, relative to the root
	AnomalyLongPath    AnomalyKind = "path-too-long"      // over Limits.MaxPathLen; skipped
	AnomalyLinkEscape  AnomalyKind = "symlink-escape"     // relative target climbs above the root; kept
	AnomalyHardlink    AnomalyKind = "hardlink-escape"    // hard link target leaves the root; skipped
	AnomalyHardMissing AnomalyKind = "hardlink-dangling"  // hard link target not earlier in the layer; kept
	AnomalyThroughLink AnomalyKind = "path-through-link"  // a parent is a symlink of this layer; kept
	AnomalyDevice      AnomalyKind = "device-node"        // character or block device; kept
	AnomalyDuplicate   AnomalyKind = "duplicate-entry"    // same path twice in a layer; the last wins
	AnomalyUnknownType AnomalyKind = "unknown-entry-type" // tar type charter does not know; skipped
	AnomalyWhiteout    AnomalyKind = "invalid-whiteout"   // ".wh." with no usable name; skipped
)

// Anomaly is one odd entry in a layer.
type Anomaly struct {
	Kind AnomalyKind
	// Name is the entry's name as written in the tar (control characters replaced,
	// truncated to 512 bytes).
	Name   string
	Detail string
	Layer  int
}

// Layer describes one layer of an image: where it came from and, after a Walk, what
// it holds.
type Layer struct {
	Index int
	// Digest is the blob's digest as stored (compressed); zero when the source does not
	// say (dir:, and the legacy docker-archive layout).
	Digest v1.Hash
	// DiffID is the digest of the uncompressed tar, from the image config.
	DiffID    v1.Hash
	MediaType types.MediaType
	// Size is the blob's size as stored, -1 when unknown.
	Size int64
	// History is the config's history entry that made this layer (empty_layer entries
	// skipped), nil when the history does not line up with the layers.
	History *v1.History

	// Filled by Walk.
	Files     []File
	Whiteouts []string // rooted paths this layer deletes from the layers below
	Opaque    []string // rooted directories whose lower contents this layer hides
	Anomalies []Anomaly
	Records   []Record // what the analyzers returned for this layer's files
	Cached    bool     // index and records came from the layer cache
}

// CreatedBy is the instruction that made the layer ("" when unknown).
func (l *Layer) CreatedBy() string {
	if l.History == nil {
		return ""
	}
	return l.History.CreatedBy
}

// HideReason says how a later layer hid a file.
type HideReason string

// How a file of one layer stops being visible in the final filesystem.
const (
	HiddenByWhiteout   HideReason = "whiteout"        // a ".wh." entry deleted it or a parent
	HiddenByOpaque     HideReason = "opaque"          // an opaque directory hid its contents
	HiddenByOverwrite  HideReason = "overwritten"     // a later entry at the same path replaced it
	HiddenByParentSwap HideReason = "parent-replaced" // a parent directory became a non-directory
)

// Hidden is a file an earlier layer added and a later one deleted or replaced: it is not
// in the final filesystem, yet anyone who pulls the image can still extract it.
type Hidden struct {
	File *File
	By   int // index of the layer that hid it
	How  HideReason
}

// Index is the result of a Walk: every layer's entries, the squashed (final) view, and
// the files later layers hid.
type Index struct {
	Layers []*Layer
	Hidden []Hidden
	final  map[string]*File
}

// Lookup returns the file at a rooted path in the final filesystem.
func (x *Index) Lookup(p string) (*File, bool) {
	f, ok := x.final[rooted(p)]
	return f, ok
}

// Files returns the final filesystem, sorted by path.
func (x *Index) Files() []*File {
	out := make([]*File, 0, len(x.final))
	for _, f := range x.final {
		out = append(out, f)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

// Visible reports whether the entry at path in layer is the one the final filesystem
// shows (false when a later layer deleted or replaced it).
func (x *Index) Visible(layer int, p string) bool {
	f, ok := x.final[rooted(p)]
	return ok && f.Layer == layer
}

// Records returns every analyzer's records from every layer, layer by layer.
func (x *Index) Records() []Record {
	var out []Record
	for _, l := range x.Layers {
		out = append(out, l.Records...)
	}
	return out
}

func rooted(p string) string {
	if !strings.HasPrefix(p, "/") {
		p = "/" + p
	}
	return path.Clean(p)
}
