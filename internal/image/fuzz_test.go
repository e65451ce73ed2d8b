package image

import (
	"archive/tar"
	"bytes"
	"context"
	"path"
	"strings"
	"testing"
)

// FuzzLayer feeds arbitrary bytes to the tar and whiteout handling and checks the
// invariants the checks rely on: every indexed path is rooted and clean, nothing
// escapes the root, whiteouts name rooted paths, and squashing never keeps a file
// that a layer hid.
func FuzzLayer(f *testing.F) {
	seeds := [][]byte{
		tarOf(f, dir("etc/"), reg("etc/passwd", "root"), reg("app/.env", "TOKEN=x"), reg("app/.wh.old", ""),
			reg("app/cache/.wh..wh..opq", ""), symlink("bin/sh", "busybox")),
		tarOf(f, reg("../../x", "x"), reg("/abs", "y"), symlink("l", "../../.."), reg("l/in", "z"),
			ent{name: "h", typ: tar.TypeLink, link: "/abs"}, ent{name: "h2", typ: tar.TypeLink, link: "../out"},
			ent{name: "dev", typ: tar.TypeChar}, reg("d", "1"), reg("d", "2"), reg(".wh..wh..opq", "")),
		tarOf(f, reg("a/.wh.", ""), reg(".wh.a", ""), dir("a/"), reg("a/b/c", "deep")),
		{},
	}
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		lim := Limits{MaxFiles: 1000, MaxPathLen: 256, MaxContent: 1 << 10}.withDefaults()
		layers := make([]*Layer, 2)
		for i := range layers {
			l := &Layer{Index: i}
			w := &layerWalk{lim: &lim, layer: l, as: []Analyzer{fuzzAnalyzer{}}, records: make([][]Record, 1)}
			_ = w.entries(context.Background(), tar.NewReader(bytes.NewReader(data)))
			checkLayer(t, l)
			layers[i] = l
		}
		final, hidden := squash(layers)
		for p, f := range final {
			if f.Path != p {
				t.Fatalf("final[%q] holds %q", p, f.Path)
			}
		}
		for _, h := range hidden {
			if final[h.File.Path] == h.File {
				t.Fatalf("%q of layer %d both hidden and final", h.File.Path, h.File.Layer)
			}
		}
	})
}

func checkLayer(t *testing.T, l *Layer) {
	t.Helper()
	clean := func(what, p string) {
		if !strings.HasPrefix(p, "/") || path.Clean(p) != p || strings.Contains(p, "/../") {
			t.Fatalf("%s %q is not a clean rooted path", what, p)
		}
	}
	for _, f := range l.Files {
		clean("file", f.Path)
		if f.Path == "/" {
			t.Fatal("the root indexed as a file")
		}
		if f.Hardlink {
			clean("hard link target", f.Link)
		}
		if f.Size < 0 {
			t.Fatalf("%q has size %d", f.Path, f.Size)
		}
	}
	for _, w := range l.Whiteouts {
		clean("whiteout", w)
	}
	for _, o := range l.Opaque {
		clean("opaque dir", o)
	}
}

// fuzzAnalyzer wants everything, so content reads are fuzzed too.
type fuzzAnalyzer struct{}

func (fuzzAnalyzer) ID() string               { return "fuzz/1" }
func (fuzzAnalyzer) Need(*File) (bool, int64) { return true, 512 }
func (fuzzAnalyzer) Analyze(f *File, c []byte) ([]Record, error) {
	if int64(len(c)) > f.Size || len(c) > 512 {
		return nil, errTooMuch
	}
	return nil, nil
}

var errTooMuch = errorString("analyzer got more content than it asked for")

type errorString string

func (e errorString) Error() string { return string(e) }
