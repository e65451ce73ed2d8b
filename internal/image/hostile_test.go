package image

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// openLayers writes an image of the given layers to a layout and opens it.
func openLayers(t *testing.T, o Options, layers ...v1.Layer) *Image {
	t.Helper()
	return mustOpen(t, "oci-dir:"+writeLayout(t, imageOf(t, layers, nil), "t"), o)
}

func anomalies(l *Layer) map[AnomalyKind][]string {
	out := map[AnomalyKind][]string{}
	for _, a := range l.Anomalies {
		out[a.Kind] = append(out[a.Kind], a.Name)
	}
	return out
}

func TestHostileEntries(t *testing.T) {
	layer := tarOf(t,
		reg("../../etc/cron.d/evil", "x"),
		reg("a/../../outside", "x"),
		reg("/etc/shadow", "root:*:"),
		symlink("up", "../../../../etc"),
		reg("up/passwd", "written through the link"),
		symlink("abs", "/etc/passwd"), // absolute targets stay in the root at run time: fine
		ent{name: "hl-out", typ: tar.TypeLink, link: "../../etc/passwd"},
		ent{name: "hl-missing", typ: tar.TypeLink, link: "nowhere"},
		reg("target", "0123456789"),
		ent{name: "hl-ok", typ: tar.TypeLink, link: "target"},
		ent{name: "dev/sda", typ: tar.TypeBlock, mode: 0o660},
		ent{name: "dev/fifo", typ: tar.TypeFifo, mode: 0o600},
		reg("dup", "first"), reg("./dup", "second"),
		reg("app/.wh.", ""),
		reg("app/.wh..wh.plnk", ""),
		reg(strings.Repeat("d/", 40)+"deep", "x"),
	)
	o := testOptions(t)
	o.Limits.MaxPathLen = 64
	var dupContent string
	an := &PathAnalyzer{Name: "dup/1", Paths: []string{"/dup", "/hl-ok"}, MaxBytes: 64,
		Func: func(f *File, c []byte) ([]Record, error) {
			if f.Path == "/dup" {
				dupContent = string(c)
			}
			if f.Path == "/hl-ok" && c != nil {
				t.Errorf("hard link given content %q", c)
			}
			return nil, nil
		}}
	x := mustWalk(t, openLayers(t, o, plainLayer(layer)), an)
	got := anomalies(x.Layers[0])
	want := map[AnomalyKind][]string{
		AnomalyTraversal:   {"../../etc/cron.d/evil", "a/../../outside"},
		AnomalyAbsolute:    {"/etc/shadow"},
		AnomalyLinkEscape:  {"up"},
		AnomalyThroughLink: {"up/passwd"},
		AnomalyHardlink:    {"hl-out"},
		AnomalyHardMissing: {"hl-missing"},
		AnomalyDevice:      {"dev/sda"},
		AnomalyDuplicate:   {"./dup"},
		AnomalyWhiteout:    {"app/.wh."},
		AnomalyLongPath:    {strings.Repeat("d/", 40) + "deep"},
	}
	for k, names := range want {
		if strings.Join(got[k], "|") != strings.Join(names, "|") {
			t.Errorf("%s: got %q, want %q", k, got[k], names)
		}
	}
	if len(got) != len(want) {
		t.Errorf("unexpected anomaly kinds: %v", got)
	}
	for _, f := range x.Layers[0].Files {
		if !strings.HasPrefix(f.Path, "/") || strings.Contains(f.Path, "..") || filepath.Clean(f.Path) != f.Path {
			t.Errorf("unclean path in index: %q", f.Path)
		}
	}
	if f, ok := x.Lookup("/etc/shadow"); !ok || f.Size != 7 {
		t.Errorf("/etc/shadow should be indexed relative to the root: %+v", f)
	}
	if f, ok := x.Lookup("/hl-ok"); !ok || !f.Hardlink || f.Link != "/target" || f.Size != 10 || !f.Regular() {
		t.Errorf("hard link: %+v", f)
	}
	if f, ok := x.Lookup("/dev/sda"); !ok || f.Mode&fs.ModeDevice == 0 {
		t.Errorf("device: %+v", f)
	}
	if dupContent != "second" {
		t.Errorf("duplicate: analyzer saw %q, want the last entry", dupContent)
	}
	if _, ok := x.Lookup("/app/.wh..wh.plnk"); ok {
		t.Error("aufs metadata indexed as a file")
	}
}

// Nothing a hostile layer names is ever created: the walk writes only into the cache.
func TestHostileWritesNothingOutsideCache(t *testing.T) {
	work := t.TempDir()
	t.Chdir(work)
	cache := filepath.Join(t.TempDir(), "cache")
	o := testOptions(t)
	o.CacheDir = cache
	layer := tarOf(t, reg("../escape", "x"), reg("/abs-escape", "x"), symlink("l", "../.."),
		reg("l/through", "x"), ent{name: "h", typ: tar.TypeLink, link: "../../../etc/passwd"})
	x := mustWalk(t, openLayers(t, o, gzLayer(t, layer)), secretAnalyzer())
	if len(x.Layers[0].Anomalies) == 0 {
		t.Fatal("no anomalies recorded")
	}
	if ents, err := os.ReadDir(work); err != nil || len(ents) != 0 {
		t.Errorf("working directory changed: %v %v", ents, err)
	}
	err := filepath.WalkDir(cache, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type()&fs.ModeSymlink != 0 || (!d.IsDir() && !d.Type().IsRegular()) {
			t.Errorf("cache holds a non-regular file: %s", p)
		}
		if !d.IsDir() && !strings.HasSuffix(p, ".gob") && !strings.HasSuffix(p, ".json") {
			t.Errorf("unexpected cache file %s", p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestHostileStreams(t *testing.T) {
	good := tarOf(t, reg("a", "hello"))
	zeros := tarOf(t, ent{name: "zeros", body: string(make([]byte, 8<<20))})
	bomb := gzLayer(t, zeros)

	wrongDiff := gzLayer(t, good)
	wrongDiff.diffID = sha([]byte("something else"))
	wrongBlob := gzLayer(t, good)
	wrongBlob.blob = gzipOf(t, tarOf(t, reg("a", "HELLO"))) // same size class, other bytes
	truncated := gzLayer(t, good)
	truncated.blob = truncated.blob[:len(truncated.blob)/2]
	truncated.digest = sha(truncated.blob)
	notTar := plainLayer([]byte(strings.Repeat("not a tar archive ", 64)))

	// A PAX header over archive/tar's 1 MiB limit for special headers.
	rec := "comment=" + strings.Repeat("A", 2<<20) + "\n"
	rec = fmt.Sprintf("%d %s", len(rec)+8, rec)
	var huge bytes.Buffer
	huge.Write(rawHeader("PaxHeaders/x", 'x', int64(len(rec))))
	huge.WriteString(rec)
	huge.Write(make([]byte, (512-len(rec)%512)%512+1024))

	cases := []struct {
		name   string
		layer  v1.Layer
		limits Limits
		kind   error
		text   string
	}{
		{"diffID mismatch", wrongDiff, Limits{}, ErrCorrupt, "uncompressed digest is"},
		{"blob digest mismatch", wrongBlob, Limits{}, ErrCorrupt, "blob digest is"},
		{"truncated gzip", truncated, Limits{}, ErrCorrupt, "unexpected EOF"},
		{"not a tar", notTar, Limits{}, ErrCorrupt, "reading tar"},
		{"huge PAX header", plainLayer(huge.Bytes()), Limits{}, ErrCorrupt, "reading tar"},
		{"ratio bomb", bomb, Limits{RatioFloor: 1 << 20, MaxRatio: 50}, ErrLimit, "Limits.MaxRatio"},
		{"layer cap", bomb, Limits{MaxLayerBytes: 1 << 20}, ErrLimit, "Limits.MaxLayerBytes"},
		{"image cap", bomb, Limits{MaxImageBytes: 1 << 20}, ErrLimit, "Limits.MaxImageBytes"},
		{"file count", plainLayer(tarOf(t, reg("a", ""), reg("b", ""), reg("c", ""))), Limits{MaxFiles: 2}, ErrLimit, "Limits.MaxFiles"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o := testOptions(t)
			o.Limits = c.limits
			// The base layer differs from every tested one: a layer whose diffID the
			// cache already knows is served from the cache without being read.
			im := openLayers(t, o, plainLayer(tarOf(t, reg("base", "b"))), c.layer)
			_, err := im.Walk(context.Background())
			if !errors.Is(err, c.kind) {
				t.Fatalf("want %v, got %v", c.kind, err)
			}
			msg := err.Error()
			if !strings.Contains(msg, "layer 1 (sha256:") || !strings.Contains(msg, c.text) || strings.Contains(msg, "\n") {
				t.Errorf("message should name layer 1 and say %q on one line: %s", c.text, msg)
			}
			var e *Error
			if !errors.As(err, &e) || e.Ref != im.Ref() {
				t.Errorf("error does not carry the reference: %#v", err)
			}
		})
	}
}

// rawHeader builds a ustar header block by hand, for headers archive/tar refuses to write.
func rawHeader(name string, typ byte, size int64) []byte {
	b := make([]byte, 512)
	copy(b[0:100], name)
	copy(b[100:108], "0000644\x00")
	copy(b[108:116], "0000000\x00")
	copy(b[116:124], "0000000\x00")
	copy(b[124:136], fmt.Sprintf("%011o\x00", size))
	copy(b[136:148], "00000000000\x00")
	b[156] = typ
	copy(b[257:265], "ustar\x0000")
	copy(b[148:156], "        ")
	sum := 0
	for _, c := range b {
		sum += int(c)
	}
	copy(b[148:156], fmt.Sprintf("%06o\x00 ", sum))
	return b
}
