package catalog

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/charterhq/charter/internal/image"
)

// file is one entry of a test layer: a regular file unless typ says otherwise.
type file struct {
	name string
	body []byte
	mode int64
	typ  byte
	link string
}

func reg(name string, body string) file { return file{name: name, body: []byte(body), mode: 0o644} }
func bin(name string, body []byte) file { return file{name: name, body: body, mode: 0o755} }
func whiteout(name string) file {
	d, b := filepath.Split(name)
	return file{name: d + ".wh." + b, mode: 0o644}
}
func symlink(name, target string) file {
	return file{name: name, typ: tar.TypeSymlink, link: target, mode: 0o777}
}

// layer is a test layer and the instruction that made it.
type layer struct {
	createdBy string
	files     []file
}

// hist is an empty-layer history entry (CMD, ENV…).
type hist string

func tarOf(t testing.TB, fs []file) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range fs {
		h := &tar.Header{Name: strings.TrimPrefix(f.name, "/"), Mode: f.mode, Typeflag: f.typ, Linkname: f.link,
			Size: int64(len(f.body)), Format: tar.FormatPAX}
		if h.Typeflag == 0 {
			h.Typeflag = tar.TypeReg
		}
		if h.Typeflag != tar.TypeReg {
			h.Size = 0
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if h.Typeflag == tar.TypeReg {
			if _, err := tw.Write(f.body); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// buildImage writes an OCI layout with the given layers (and empty-layer history
// entries between them) and returns its oci-dir: reference.
func buildImage(t testing.TB, steps ...any) string {
	t.Helper()
	img := empty.Image
	for _, s := range steps {
		switch s := s.(type) {
		case layer:
			b := tarOf(t, s.files)
			l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil })
			if err != nil {
				t.Fatal(err)
			}
			img, err = mutate.Append(img, mutate.Addendum{Layer: l, History: v1.History{CreatedBy: s.createdBy}})
			if err != nil {
				t.Fatal(err)
			}
		case hist:
			cf, err := img.ConfigFile()
			if err != nil {
				t.Fatal(err)
			}
			cf = cf.DeepCopy()
			cf.History = append(cf.History, v1.History{CreatedBy: string(s), EmptyLayer: true})
			if img, err = mutate.ConfigFile(img, cf); err != nil {
				t.Fatal(err)
			}
		}
	}
	dir := t.TempDir()
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.AppendImage(img); err != nil {
		t.Fatal(err)
	}
	return "oci-dir:" + dir
}

// catalogOf opens ref, walks it with every cataloger and builds the result.
func catalogOf(t testing.TB, ref string, extra ...image.Analyzer) (*Result, *image.Index, *image.Image) {
	t.Helper()
	ctx := context.Background()
	img, err := image.Open(ctx, ref, image.Options{NoCache: true, Limits: image.Limits{MaxContent: RecommendedMaxContent}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = img.Close() })
	idx, err := img.Walk(ctx, append(Analyzers(), extra...)...)
	if err != nil {
		t.Fatal(err)
	}
	n, _ := BaseLayers(img.ConfigFile(), nil)
	return Build(idx, Options{BaseLayers: n}), idx, img
}

func find(r *Result, eco, name string) []Package {
	var out []Package
	for _, p := range r.Packages {
		if p.Ecosystem == eco && p.Name == name {
			out = append(out, p)
		}
	}
	return out
}

func one(t testing.TB, r *Result, eco, name string) Package {
	t.Helper()
	ps := find(r, eco, name)
	if len(ps) != 1 {
		t.Fatalf("%s/%s: found %d packages, want 1 (%v)", eco, name, len(ps), ps)
	}
	return ps[0]
}

func readHost(t testing.TB, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Skipf("host file %s not available: %v", p, err)
	}
	return b
}

// wantedFile is an image.File for a parser test, with its content.
type wantedFile struct {
	File    image.File
	Content []byte
}

func fileOf(p string, content []byte) *wantedFile {
	return &wantedFile{File: image.File{Path: p, Mode: 0o644, Size: int64(len(content))}, Content: content}
}

func sha256hex(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}
