package image

import (
	"encoding/json"
	"io/fs"
	"reflect"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// secretAnalyzer is a small analyzer in the shape the secret scanner will have.
func secretAnalyzer() *PathAnalyzer {
	return &PathAnalyzer{
		Name:     "test-secret/1",
		Globs:    []string{"/app/*", "/etc/*"},
		MaxBytes: 1 << 10,
		Func: func(f *File, content []byte) ([]Record, error) {
			if !strings.Contains(string(content), "TOKEN=") {
				return nil, nil
			}
			data, err := json.Marshal(map[string]int{"bytes": len(content)})
			return []Record{{Kind: "token", Data: data}}, err
		},
	}
}

func TestWalkLayerModel(t *testing.T) {
	dir := writeLayout(t, leakyImage(t), "v1")
	im := mustOpen(t, "oci-dir:"+dir, testOptions(t))
	x := mustWalk(t, im, secretAnalyzer())

	// /bin has no entry of its own: implicit parents are not files.
	want := []string{"/app", "/app/cache", "/app/cache/c", "/app/main", "/bin/sh", "/etc", "/etc/passwd"}
	if got := finalPaths(x); !reflect.DeepEqual(got, want) {
		t.Errorf("final filesystem\n got %v\nwant %v", got, want)
	}
	if f, ok := x.Lookup("/etc/passwd"); !ok || f.Layer != 2 {
		t.Errorf("/etc/passwd should come from layer 2, got %+v", f)
	}
	if f, _ := x.Lookup("bin/sh"); f == nil || f.Mode&fs.ModeSetuid == 0 || f.Mode.Perm() != 0o755 {
		t.Errorf("/bin/sh should be setuid 0755, got %+v", f)
	}

	type hid struct {
		path  string
		layer int
		by    int
		how   HideReason
	}
	var hidden []hid
	for _, h := range x.Hidden {
		hidden = append(hidden, hid{h.File.Path, h.File.Layer, h.By, h.How})
	}
	wantHidden := []hid{
		{"/app/.env", 0, 1, HiddenByWhiteout},
		{"/app/cache/a", 0, 1, HiddenByOpaque},
		{"/app/cache/b", 0, 1, HiddenByOpaque},
		{"/etc/passwd", 0, 2, HiddenByOverwrite},
	}
	if !reflect.DeepEqual(hidden, wantHidden) {
		t.Errorf("hidden\n got %v\nwant %v", hidden, wantHidden)
	}

	// History: the empty_layer entry belongs to no layer.
	for i, want := range []string{"ADD rootfs.tar /", "RUN rm /app/.env && build", "COPY passwd /etc/passwd"} {
		if got := x.Layers[i].CreatedBy(); got != want {
			t.Errorf("layer %d created by %q, want %q", i, got, want)
		}
	}
	if l := x.Layers[1]; !reflect.DeepEqual(l.Whiteouts, []string{"/app/.env"}) || !reflect.DeepEqual(l.Opaque, []string{"/app/cache"}) {
		t.Errorf("layer 1 whiteouts %v opaque %v", l.Whiteouts, l.Opaque)
	}

	// The analyzer saw the deleted .env in layer 0; the index knows it is not visible.
	recs := x.Records()
	if len(recs) != 1 || recs[0].Path != "/app/.env" || recs[0].Layer != 0 || recs[0].Analyzer != "test-secret/1" {
		t.Fatalf("records %+v", recs)
	}
	if x.Visible(recs[0].Layer, recs[0].Path) {
		t.Error("/app/.env of layer 0 reported visible; a later layer deleted it")
	}
	if !x.Visible(2, "/etc/passwd") || x.Visible(0, "/etc/passwd") {
		t.Error("Visible disagrees with the overwrite of /etc/passwd")
	}
	for _, l := range x.Layers {
		if l.Cached {
			t.Errorf("layer %d cached on a first walk", l.Index)
		}
		if l.DiffID.Hex == "" || l.Digest.Hex == "" {
			t.Errorf("layer %d lacks digests: %+v", l.Index, l)
		}
	}
}

func TestSquashEdgeCases(t *testing.T) {
	layers := []*Layer{
		{Index: 0, Files: []File{
			{Path: "/d", Mode: fs.ModeDir | 0o755}, {Path: "/d/x", Mode: 0o644}, {Path: "/d/sub", Mode: fs.ModeDir},
			{Path: "/d/sub/y", Mode: 0o644}, {Path: "/f", Mode: 0o644},
		}},
		// A file replaces directory /d; a directory replaces file /f; whiteout of a path
		// that does not exist is harmless.
		{Index: 1, Whiteouts: []string{"/nothing"}, Files: []File{
			{Path: "/d", Mode: 0o644, Layer: 1}, {Path: "/f", Mode: fs.ModeDir, Layer: 1}, {Path: "/f/z", Layer: 1},
		}},
		// Whiteout and re-add in the same layer: the whiteout hits the lower /f only.
		{Index: 2, Whiteouts: []string{"/f"}, Files: []File{{Path: "/f", Mode: 0o600, Layer: 2}}},
	}
	final, hidden := squash(layers)
	var got []string
	for p, f := range final {
		if f.Path != p {
			t.Errorf("final[%s] holds %s", p, f.Path)
		}
		got = append(got, p)
	}
	if len(got) != 2 || final["/d"].Layer != 1 || final["/f"].Layer != 2 || final["/f"].Mode != 0o600 {
		t.Errorf("final %v", final)
	}
	hows := map[string]HideReason{}
	for _, h := range hidden {
		hows[h.File.Path+"@"+string(rune('0'+h.File.Layer))] = h.How
	}
	want := map[string]HideReason{
		"/d@0": HiddenByOverwrite, "/d/x@0": HiddenByParentSwap, "/d/sub@0": HiddenByParentSwap,
		"/d/sub/y@0": HiddenByParentSwap, "/f@0": HiddenByOverwrite, "/f@1": HiddenByWhiteout, "/f/z@1": HiddenByWhiteout,
	}
	if !reflect.DeepEqual(hows, want) {
		t.Errorf("hidden\n got %v\nwant %v", hows, want)
	}
}

func TestLayerHistory(t *testing.T) {
	h := []v1.History{{CreatedBy: "a"}, {CreatedBy: "env", EmptyLayer: true}, {CreatedBy: "b"}}
	got := layerHistory(h, 2)
	if got[0].CreatedBy != "a" || got[1].CreatedBy != "b" {
		t.Errorf("got %v %v", got[0], got[1])
	}
	// History that does not line up with the layers maps nothing rather than wrongly.
	for _, n := range []int{1, 3} {
		for i, e := range layerHistory(h, n) {
			if e != nil {
				t.Errorf("n=%d: layer %d got %q", n, i, e.CreatedBy)
			}
		}
	}
}
