package image

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/klauspost/compress/zstd"
)

// ent is one tar entry of a test layer.
type ent struct {
	name string
	typ  byte // tar.TypeReg when zero
	body string
	mode int64
	link string
	uid  int
	pax  map[string]string
}

func reg(name, body string) ent { return ent{name: name, body: body, mode: 0o644} }
func dir(name string) ent       { return ent{name: name, typ: tar.TypeDir, mode: 0o755} }
func symlink(name, target string) ent {
	return ent{name: name, typ: tar.TypeSymlink, link: target, mode: 0o777}
}

// tarOf builds an uncompressed layer.
func tarOf(t testing.TB, ents ...ent) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range ents {
		h := &tar.Header{Name: e.name, Typeflag: e.typ, Mode: e.mode, Linkname: e.link, Uid: e.uid,
			Size: int64(len(e.body)), PAXRecords: e.pax, Format: tar.FormatPAX}
		if h.Typeflag == 0 {
			h.Typeflag = tar.TypeReg
		}
		if h.Typeflag != tar.TypeReg {
			h.Size = 0
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatalf("tar header %s: %v", e.name, err)
		}
		if _, err := io.WriteString(tw, e.body); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func gzipOf(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func zstdOf(t testing.TB, b []byte) []byte {
	t.Helper()
	zw, err := zstd.NewWriter(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = zw.Close() }()
	return zw.EncodeAll(b, nil)
}

func sha(b []byte) v1.Hash {
	s := sha256.Sum256(b)
	return v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(s[:])}
}

// rawLayer is a layer whose blob, digests and media type are exactly what a test says,
// so tests can build images that lie.
type rawLayer struct {
	blob      []byte
	digest    v1.Hash
	diffID    v1.Hash
	mediaType types.MediaType
}

func (l *rawLayer) Digest() (v1.Hash, error)            { return l.digest, nil }
func (l *rawLayer) DiffID() (v1.Hash, error)            { return l.diffID, nil }
func (l *rawLayer) Size() (int64, error)                { return int64(len(l.blob)), nil }
func (l *rawLayer) MediaType() (types.MediaType, error) { return l.mediaType, nil }
func (l *rawLayer) Compressed() (io.ReadCloser, error) {
	return io.NopCloser(bytes.NewReader(l.blob)), nil
}
func (l *rawLayer) Uncompressed() (io.ReadCloser, error) {
	return io.NopCloser(bytes.NewReader(l.blob)), nil
}

// gzLayer is an honest gzip layer of a tar.
func gzLayer(t testing.TB, tarBytes []byte) *rawLayer {
	blob := gzipOf(t, tarBytes)
	return &rawLayer{blob: blob, digest: sha(blob), diffID: sha(tarBytes), mediaType: types.OCILayer}
}

func zstdLayer(t testing.TB, tarBytes []byte) *rawLayer {
	blob := zstdOf(t, tarBytes)
	return &rawLayer{blob: blob, digest: sha(blob), diffID: sha(tarBytes), mediaType: types.OCILayerZStd}
}

func plainLayer(tarBytes []byte) *rawLayer {
	return &rawLayer{blob: tarBytes, digest: sha(tarBytes), diffID: sha(tarBytes), mediaType: types.OCIUncompressedLayer}
}

// imageOf stacks layers with one history entry each ("layer N"), plus empty_layer
// entries where history says so.
func imageOf(t testing.TB, layers []v1.Layer, history []v1.History) v1.Image {
	t.Helper()
	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	for _, l := range layers {
		var err error
		if img, err = mutate.Append(img, mutate.Addendum{Layer: l}); err != nil {
			t.Fatal(err)
		}
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = "linux", "amd64"
	cf.Config.User = "app"
	if history != nil {
		cf.History = history
	}
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// leakyImage is the image most tests share: a secret added then deleted, an opaque
// directory, an overwrite, and history with an empty_layer entry.
func leakyImage(t testing.TB) v1.Image { return leakyImageWith(t, zstdLayer) }

// leakyImageWith builds leakyImage with its middle layer compressed by mid (Docker
// before 23 cannot load zstd layers).
func leakyImageWith(t testing.TB, mid func(testing.TB, []byte) *rawLayer) v1.Image {
	l0 := gzLayer(t, tarOf(t,
		dir("etc/"), reg("etc/passwd", "root:x:0:0::/root:/bin/sh\n"),
		dir("app/"), reg("app/.env", "TOKEN=ghp_0123456789abcdef0123456789abcdef0123\n"),
		dir("app/cache/"), reg("app/cache/a", "a"), reg("app/cache/b", "b"),
		ent{name: "bin/sh", body: "#!shell", mode: 0o4755}))
	l1 := mid(t, tarOf(t,
		reg("app/.wh..env", ""), reg("app/cache/.wh..wh..opq", ""), reg("app/cache/c", "c"),
		reg("app/main", "binary")))
	l2 := plainLayer(tarOf(t, reg("etc/passwd", "root:x:0:0::/root:/sbin/nologin\n")))
	hist := []v1.History{
		{CreatedBy: "ADD rootfs.tar /"},
		{CreatedBy: "ENV TOKEN=x", EmptyLayer: true},
		{CreatedBy: "RUN rm /app/.env && build"},
		{CreatedBy: "COPY passwd /etc/passwd"},
	}
	return imageOf(t, []v1.Layer{l0, l1, l2}, hist)
}

// writeLayout writes img into a new OCI layout, tagged.
func writeLayout(t testing.TB, img v1.Image, tag string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "layout")
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.AppendImage(img, layout.WithAnnotations(map[string]string{refNameAnnotation: tag})); err != nil {
		t.Fatal(err)
	}
	return dir
}

// tarDir packs a directory into a tar file (an oci-archive from a layout).
func tarDir(t testing.TB, dir string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "archive.tar")
	f, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	tw := tar.NewWriter(f)
	if err := tw.AddFS(os.DirFS(dir)); err != nil {
		t.Fatal(err)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return out
}

// writeDockerArchive writes img as go-containerregistry's docker-archive (gzip layers).
func writeDockerArchive(t testing.TB, img v1.Image, tag string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "image.tar")
	ref, err := name.NewTag(tag)
	if err != nil {
		t.Fatal(err)
	}
	if err := tarball.WriteToFile(out, ref, img); err != nil {
		t.Fatal(err)
	}
	return out
}

// writeLegacyArchive writes img the way docker save did before OCI layouts: a
// directory per layer holding an uncompressed layer.tar, a "<configdigest>.json", and
// manifest.json last.
func writeLegacyArchive(t testing.TB, img v1.Image, tag string) string {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	add := func(name string, b []byte) {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(b)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(b); err != nil {
			t.Fatal(err)
		}
	}
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	m := dockerManifest{RepoTags: []string{tag}}
	for i, l := range layers {
		rc, err := l.Uncompressed()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		if err != nil {
			t.Fatal(err)
		}
		_ = rc.Close()
		id := sha([]byte{byte(i)}).Hex // a v1 layer ID: not a digest of the content
		add(id+"/layer.tar", b)
		m.Layers = append(m.Layers, id+"/layer.tar")
	}
	cfg, err := img.RawConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	m.Config = sha(cfg).Hex + ".json"
	add(m.Config, cfg)
	mj, err := json.Marshal([]dockerManifest{m})
	if err != nil {
		t.Fatal(err)
	}
	add("manifest.json", mj)
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "legacy.tar")
	if err := os.WriteFile(out, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return out
}

// testOptions keeps each test's cache in its own directory.
func testOptions(t testing.TB) Options {
	return Options{CacheDir: t.TempDir(), Getenv: func(string) string { return "" }}
}

func mustOpen(t testing.TB, ref string, o Options) *Image {
	t.Helper()
	im, err := Open(context.Background(), ref, o)
	if err != nil {
		t.Fatalf("Open(%s): %v", ref, err)
	}
	t.Cleanup(func() {
		if err := im.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return im
}

func mustWalk(t testing.TB, im *Image, as ...Analyzer) *Index {
	t.Helper()
	x, err := im.Walk(context.Background(), as...)
	if err != nil {
		t.Fatalf("Walk(%s): %v", im.Ref(), err)
	}
	return x
}

// paths lists the final filesystem as "path mode layer" lines.
func finalPaths(x *Index) []string {
	var out []string
	for _, f := range x.Files() {
		out = append(out, f.Path)
	}
	return out
}

func layoutWriteIndex(dir string, idx v1.ImageIndex) (layout.Path, error) {
	return layout.Write(dir, idx)
}

func emptyIndex() v1.ImageIndex { return empty.Index }
