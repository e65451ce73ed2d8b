package pack

import (
	"archive/tar"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/charterhq/charter/internal/image"
)

const testCA = "-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n"

// helloModule writes a small main module into dir.
func helloModule(t *testing.T, dir string) {
	t.Helper()
	files := map[string]string{
		"go.mod":  "module example.com/hello\n\ngo 1.22\n",
		"main.go": "package main\n\nimport \"fmt\"\n\nvar version = \"dev\"\n\nfunc main() { fmt.Println(\"hello\", version) }\n",
	}
	for n, c := range files {
		if err := os.WriteFile(filepath.Join(dir, n), []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func needGo(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("packing builds with the go command, which is not on PATH")
	}
}

func testOptions(dir string) Options {
	return Options{
		Dir: dir, Package: ".", Name: "hello", CABundle: []byte(testCA),
		LDFlags: "-X main.version=1.0.0", Version: "1.0.0",
		Source: SourceInfo{Epoch: time.Unix(1700000000, 0).UTC(), URL: "https://example.com/hello", Revision: "0123abcd"},
		Tool:   "charter", ToolVersion: "test",
		// A private GOFLAGS or module cache must not matter.
		Env: append(os.Environ(), "GOFLAGS=-ldflags=-X=main.version=leaked"),
	}
}

func packDigest(t *testing.T, o Options) *Result {
	t.Helper()
	r, err := Pack(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestReproducible packs the same source twice in one copy, and once from another copy
// in another directory: the digests, SBOMs and provenance are the same bytes.
func TestReproducible(t *testing.T) {
	needGo(t)
	a, b := t.TempDir(), filepath.Join(t.TempDir(), "elsewhere", "src")
	if err := os.MkdirAll(b, 0o755); err != nil {
		t.Fatal(err)
	}
	helloModule(t, a)
	helloModule(t, b)
	r1 := packDigest(t, testOptions(a))
	r2 := packDigest(t, testOptions(a))
	r3 := packDigest(t, testOptions(b))
	for i, r := range []*Result{r2, r3} {
		if r.Digest != r1.Digest {
			t.Errorf("pack %d: digest %s, first pack %s", i+2, r.Digest, r1.Digest)
		}
		if string(r.Images[0].SBOM) != string(r1.Images[0].SBOM) || string(r.Images[0].Provenance) != string(r1.Images[0].Provenance) {
			t.Errorf("pack %d: SBOM or provenance differ", i+2)
		}
	}
	o := testOptions(a)
	o.Source.Epoch = o.Source.Epoch.Add(time.Second)
	if r4 := packDigest(t, o); r4.Digest == r1.Digest {
		t.Error("another epoch gave the same digest: timestamps are not in the image")
	}
}

// layerFiles reads a layer's tar headers.
func layerFiles(t *testing.T, l v1.Layer) []*tar.Header {
	t.Helper()
	rc, err := l.Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = rc.Close() }()
	var hs []*tar.Header
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return hs
		}
		if err != nil {
			t.Fatal(err)
		}
		hs = append(hs, h)
	}
}

func TestImageContents(t *testing.T) {
	needGo(t)
	dir := t.TempDir()
	helloModule(t, dir)
	r := packDigest(t, testOptions(dir))
	img := r.Images[0].Image
	cfg, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	c := cfg.Config
	if c.User != "65532:65532" || len(c.Entrypoint) != 1 || c.Entrypoint[0] != "/app/hello" || c.WorkingDir != HomeDir {
		t.Errorf("config: user %q entrypoint %q workdir %q", c.User, c.Entrypoint, c.WorkingDir)
	}
	if !contains(c.Env, "SSL_CERT_FILE="+CAPath) {
		t.Errorf("env %q lacks SSL_CERT_FILE", c.Env)
	}
	want := map[string]string{
		"org.opencontainers.image.source": "https://example.com/hello", "org.opencontainers.image.revision": "0123abcd",
		"org.opencontainers.image.version": "1.0.0", "org.opencontainers.image.created": "2023-11-14T22:13:20Z",
	}
	m, err := img.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range want {
		if c.Labels[k] != v || m.Annotations[k] != v {
			t.Errorf("%s: label %q, annotation %q, want %q", k, c.Labels[k], m.Annotations[k], v)
		}
	}
	if len(cfg.History) != 2 || !cfg.Created.Equal(time.Unix(1700000000, 0)) {
		t.Errorf("history %d entries, created %v", len(cfg.History), cfg.Created)
	}
	layers, err := img.Layers()
	if err != nil || len(layers) != 2 {
		t.Fatalf("layers: %d, %v", len(layers), err)
	}
	seen := map[string]*tar.Header{}
	var names []string
	for _, l := range layers {
		for _, h := range layerFiles(t, l) {
			seen["/"+strings.TrimSuffix(h.Name, "/")] = h
			names = append(names, h.Name)
			if !h.ModTime.Equal(time.Unix(1700000000, 0)) || h.Uname != "" || h.Gname != "" {
				t.Errorf("%s: mtime %v owner names %q/%q", h.Name, h.ModTime, h.Uname, h.Gname)
			}
		}
	}
	for p, mode := range map[string]int64{"/tmp": 0o1777, HomeDir: 0o700, "/app/hello": 0o755, CAPath: 0o644, "/etc/passwd": 0o644} {
		h, ok := seen[p]
		if !ok {
			t.Errorf("%s missing (have %q)", p, names)
			continue
		}
		if h.Mode != mode {
			t.Errorf("%s: mode %o, want %o", p, h.Mode, mode)
		}
	}
	if seen[HomeDir].Uid != NonRootUID {
		t.Errorf("%s owned by %d", HomeDir, seen[HomeDir].Uid)
	}
	for _, shell := range []string{"/bin/sh", "/bin/bash", "/bin/busybox"} {
		if _, ok := seen[shell]; ok {
			t.Errorf("%s is in the image", shell)
		}
	}
	var sb struct {
		BOMFormat  string `json:"bomFormat"`
		Components []struct {
			Name, Version string
		} `json:"components"`
	}
	if err := json.Unmarshal(r.Images[0].SBOM, &sb); err != nil || sb.BOMFormat != "CycloneDX" {
		t.Fatalf("SBOM: %v %q", err, sb.BOMFormat)
	}
	found := false
	for _, comp := range sb.Components {
		found = found || comp.Name == "stdlib" || comp.Name == "example.com/hello"
	}
	if !found {
		t.Errorf("SBOM names neither the module nor stdlib: %+v", sb.Components)
	}
	var st statement
	if err := json.Unmarshal(r.Images[0].Provenance, &st); err != nil {
		t.Fatal(err)
	}
	if st.PredicateType != SLSAProvenanceV1 || st.Subject[0].Digest["sha256"] != r.Digest.Hex {
		t.Errorf("provenance: type %q subject %v, image %s", st.PredicateType, st.Subject, r.Digest)
	}
	if st.Predicate.BuildDefinition.ExternalParameters["ldflags"] != "-X main.version=1.0.0" {
		t.Errorf("provenance parameters: %v", st.Predicate.BuildDefinition.ExternalParameters)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestLayoutAndIndex packs two platforms into a layout, twice: one index, its images and
// four referrers (SBOM and provenance per platform), the second pack replacing the first.
func TestLayoutAndIndex(t *testing.T) {
	needGo(t)
	dir := t.TempDir()
	helloModule(t, dir)
	o := testOptions(dir)
	o.Platforms = []v1.Platform{{OS: "linux", Architecture: "amd64"}, {OS: "linux", Architecture: "arm64"}}
	r := packDigest(t, o)
	if r.Index == nil || len(r.Images) != 2 {
		t.Fatalf("want an index of 2 images, got %d", len(r.Images))
	}
	out := filepath.Join(t.TempDir(), "oci")
	for range 2 {
		if err := r.WriteLayout(out, "v1", o.Source.Epoch); err != nil {
			t.Fatal(err)
		}
	}
	p, err := layout.FromPath(out)
	if err != nil {
		t.Fatal(err)
	}
	ii, err := p.ImageIndex()
	if err != nil {
		t.Fatal(err)
	}
	im, err := ii.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if len(im.Manifests) != 5 {
		t.Fatalf("index.json holds %d entries, want 1 index + 4 referrers", len(im.Manifests))
	}
	if im.Manifests[0].Digest != r.Digest {
		t.Errorf("first entry %s, want the index %s", im.Manifests[0].Digest, r.Digest)
	}
	for _, d := range im.Manifests[1:] {
		raw, err := p.Bytes(d.Digest)
		if err != nil {
			t.Fatal(err)
		}
		var m v1.Manifest
		if err := json.Unmarshal(raw, &m); err != nil || m.Subject == nil {
			t.Fatalf("referrer %s: %v, subject %v", d.Digest, err, m.Subject)
		}
		if m.Subject.Digest != r.Images[0].Digest && m.Subject.Digest != r.Images[1].Digest {
			t.Errorf("referrer %s is about %s, not a packed image", d.Digest, m.Subject.Digest)
		}
	}
}

// TestPush pushes to an in-process registry and finds the referrers through the API.
func TestPush(t *testing.T) {
	needGo(t)
	dir := t.TempDir()
	helloModule(t, dir)
	o := testOptions(dir)
	r := packDigest(t, o)
	srv := httptest.NewServer(registry.New(registry.WithReferrersSupport(true), registry.Logger(log.New(io.Discard, "", 0))))
	defer srv.Close()
	u, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	ref := u.Host + "/hello:v1"
	got, err := r.Push(context.Background(), ref, imageOptions(u.Host), o.Source.Epoch)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(got, "@"+r.Digest.String()) {
		t.Errorf("pushed %s, want …@%s", got, r.Digest)
	}
	d, err := name.NewDigest(got, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	idx, err := remote.Referrers(d)
	if err != nil {
		t.Fatal(err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	// The in-process registry reports the config's media type as the artifact type, so
	// the manifests themselves are read.
	types := map[string]bool{}
	for _, m := range im.Manifests {
		desc, err := remote.Get(d.Context().Digest(m.Digest.String()))
		if err != nil {
			t.Fatal(err)
		}
		var rm v1.Manifest
		if err := json.Unmarshal(desc.Manifest, &rm); err != nil {
			t.Fatal(err)
		}
		types[rm.ArtifactType] = true
	}
	if len(im.Manifests) != 2 || !types[CycloneDXMediaType] || !types[InTotoMediaType] {
		t.Errorf("referrers: %d, %v", len(im.Manifests), types)
	}
}

func TestCleanRemote(t *testing.T) {
	for in, want := range map[string]string{
		"https://user:ghp_secret@github.com/acme/app.git": "https://github.com/acme/app.git",
		"git@github.com:acme/app.git":                     "github.com:acme/app.git",
		"https://github.com/acme/app":                     "https://github.com/acme/app",
		"":                                                "",
	} {
		if got := cleanRemote(in); got != want {
			t.Errorf("cleanRemote(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestPlatforms(t *testing.T) {
	if p, err := ParsePlatform("linux/arm/v7"); err != nil || p.Variant != "v7" {
		t.Errorf("linux/arm/v7: %v %v", p, err)
	}
	for _, bad := range []string{"linux", "linux/", "/amd64", "a/b/c/d"} {
		if _, err := ParsePlatform(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func imageOptions(host string) image.Options {
	return image.Options{InsecureRegistries: []string{host}, Getenv: func(string) string { return "" }}
}
