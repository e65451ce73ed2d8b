package pack

import (
	"bytes"
	"context"
	"debug/buildinfo"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Options describe one pack.
type Options struct {
	// Dir is where go build runs (the module, or a directory inside it). Default ".".
	Dir string
	// Package is the main package, as go build takes it ("./cmd/app"). Default ".".
	Package string
	// Binaries, when set, are prebuilt programs to pack instead of building Package,
	// one per platform ("linux/amd64" → file). They must be static.
	Binaries map[string]string
	// Platforms to build for. Default linux/amd64. More than one makes an index.
	Platforms []v1.Platform
	// Name is the program's file name. Default: the package directory's name.
	Name string
	// BinDir is the directory the program is put in. Default "/app".
	BinDir string
	// LDFlags are extra linker flags (-X main.version=…), after -s -w -buildid=.
	LDFlags string
	// CABundle is the PEM CA bundle put at /etc/ssl/certs/ca-certificates.crt.
	CABundle []byte
	// Source is where the source came from; its Epoch is every timestamp in the image.
	Source SourceInfo
	// Version is the org.opencontainers.image.version annotation, if any.
	Version string
	// GoBin is the go command. Default "go" from PATH.
	GoBin string
	// Env is the environment of go build (GOCACHE, GOPATH, HOME, GOPROXY…). Default
	// os.Environ(). CGO_ENABLED, GOOS, GOARCH and GOFLAGS are always set by pack.
	Env []string
	// Tool names the builder in the SBOM and the provenance: "charter" and its version.
	Tool, ToolVersion string

	importPath string // the main package's import path, from the built binary
}

// Built is one platform's image and the documents about it.
type Built struct {
	Platform v1.Platform
	Image    v1.Image
	Digest   v1.Hash
	// SBOM is a CycloneDX JSON document of the image; Provenance an in-toto statement
	// with a SLSA v1 predicate whose subject is the image.
	SBOM, Provenance []byte
	// BinarySHA256 is the program's digest, hex.
	BinarySHA256 string
}

// Result is a finished pack.
type Result struct {
	// Images holds one entry per platform, in the order asked.
	Images []Built
	// Index is set when several platforms were packed.
	Index v1.ImageIndex
	// Digest is the index's digest, or the single image's.
	Digest v1.Hash
	// Name and BinPath name the program and where it is in the image.
	Name, BinPath string
}

func (o *Options) defaults() error {
	if o.Dir == "" {
		o.Dir = "."
	}
	if o.Package == "" {
		o.Package = "."
	}
	if len(o.Platforms) == 0 {
		o.Platforms = []v1.Platform{{OS: "linux", Architecture: "amd64"}}
	}
	if o.BinDir == "" {
		o.BinDir = "/app"
	}
	if !path.IsAbs(o.BinDir) {
		return fmt.Errorf("binary directory %q must be absolute", o.BinDir)
	}
	if o.Name == "" {
		n, err := binaryName(o.Dir, o.Package)
		if err != nil {
			return err
		}
		o.Name = n
	}
	if strings.ContainsAny(o.Name, "/\\") || o.Name == "." || o.Name == ".." {
		return fmt.Errorf("program name %q is not a file name", o.Name)
	}
	if o.GoBin == "" {
		o.GoBin = "go"
	}
	if o.Env == nil {
		o.Env = os.Environ()
	}
	if len(o.CABundle) == 0 {
		return errors.New("no CA bundle: pass one (the build machine's is /etc/ssl/certs/ca-certificates.crt)")
	}
	if o.Tool == "" {
		o.Tool = "charter"
	}
	return nil
}

// Pack builds the program for each platform and assembles its images, SBOMs and
// provenance. Nothing is written but scratch files under a temporary directory.
func Pack(ctx context.Context, o Options) (*Result, error) {
	if err := o.defaults(); err != nil {
		return nil, err
	}
	scratch, err := os.MkdirTemp("", "charter-pack-")
	if err != nil {
		return nil, err
	}
	defer func() { _ = os.RemoveAll(scratch) }()
	res := &Result{Name: o.Name, BinPath: path.Join(o.BinDir, o.Name)}
	base, err := newLayer(baseEntries(o.CABundle), o.Source.Epoch)
	if err != nil {
		return nil, fmt.Errorf("base layer: %w", err)
	}
	for i, p := range o.Platforms {
		bin, err := o.binary(ctx, p, filepath.Join(scratch, fmt.Sprintf("bin-%d", i)))
		if err != nil {
			return nil, err
		}
		b, err := o.assemble(p, base, bin, res.BinPath)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", platformString(p), err)
		}
		if err := o.describe(ctx, b, bin, filepath.Join(scratch, fmt.Sprintf("oci-%d", i))); err != nil {
			return nil, fmt.Errorf("%s: %w", platformString(p), err)
		}
		res.Images = append(res.Images, *b)
	}
	if len(res.Images) == 1 {
		res.Digest = res.Images[0].Digest
		return res, nil
	}
	idx := mutate.IndexMediaType(empty.Index, types.OCIImageIndex)
	for _, b := range res.Images {
		p := b.Platform
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{Add: b.Image, Descriptor: v1.Descriptor{Platform: &p}})
	}
	idx = mutate.Annotations(idx, o.annotations()).(v1.ImageIndex)
	if res.Digest, err = idx.Digest(); err != nil {
		return nil, err
	}
	res.Index = idx
	return res, nil
}

// binary builds (or takes the prebuilt) program for p and returns its path.
func (o *Options) binary(ctx context.Context, p v1.Platform, out string) (string, error) {
	if o.Binaries != nil {
		f, ok := o.Binaries[platformString(p)]
		if !ok {
			return "", fmt.Errorf("no prebuilt binary for %s", platformString(p))
		}
		return f, checkStatic(f)
	}
	if err := goBuild(ctx, o, p, out); err != nil {
		return "", err
	}
	return out, nil
}

// annotations are the OCI annotations of the manifest (and the labels of the config).
func (o *Options) annotations() map[string]string {
	a := map[string]string{"org.opencontainers.image.created": o.Source.Epoch.UTC().Format(time.RFC3339)}
	if o.Source.URL != "" {
		a["org.opencontainers.image.source"] = o.Source.URL
	}
	if o.Source.Revision != "" {
		a["org.opencontainers.image.revision"] = o.Source.Revision
	}
	if o.Version != "" {
		a["org.opencontainers.image.version"] = o.Version
	}
	a["org.opencontainers.image.title"] = o.Name
	return a
}

// assemble makes the image of one platform.
func (o *Options) assemble(p v1.Platform, base v1.Layer, binFile, binPath string) (*Built, error) {
	bin, err := os.ReadFile(binFile)
	if err != nil {
		return nil, err
	}
	if bi, err := buildinfo.Read(bytes.NewReader(bin)); err == nil && bi.Path != "" {
		o.importPath = bi.Path
	}
	top, err := newLayer(binaryEntries(binPath, bin), o.Source.Epoch)
	if err != nil {
		return nil, fmt.Errorf("program layer: %w", err)
	}
	created := v1.Time{Time: o.Source.Epoch}
	cfg := &v1.ConfigFile{
		Architecture: p.Architecture, OS: p.OS, Variant: p.Variant, Created: created,
		Config: v1.Config{
			User:       fmt.Sprintf("%d:%d", NonRootUID, NonRootUID),
			Entrypoint: []string{binPath},
			Env: []string{
				"PATH=" + o.BinDir + ":/usr/local/bin:/usr/bin:/bin",
				"HOME=" + HomeDir,
				"SSL_CERT_FILE=" + CAPath,
			},
			WorkingDir: HomeDir,
			Labels:     o.annotations(),
		},
		RootFS: v1.RootFS{Type: "layers"},
	}
	img, err := mutate.ConfigFile(empty.Image, cfg)
	if err != nil {
		return nil, err
	}
	img = mutate.MediaType(img, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	img, err = mutate.Append(img,
		mutate.Addendum{Layer: base, MediaType: types.OCILayer, History: v1.History{Created: created, CreatedBy: "charter pack: base files (passwd, group, nsswitch.conf, CA certificates, /tmp, " + HomeDir + ")", Comment: "charter pack"}},
		mutate.Addendum{Layer: top, MediaType: types.OCILayer, History: v1.History{Created: created, CreatedBy: o.buildLine(p, binPath), Comment: "charter pack"}},
	)
	if err != nil {
		return nil, err
	}
	img = mutate.Annotations(img, o.annotations()).(v1.Image)
	d, err := img.Digest()
	if err != nil {
		return nil, err
	}
	return &Built{Platform: p, Image: img, Digest: d, BinarySHA256: sha256Hex(bin)}, nil
}

// buildLine is the history entry of the program layer: how it was made.
func (o *Options) buildLine(p v1.Platform, binPath string) string {
	if o.Binaries != nil {
		return "charter pack: prebuilt " + path.Base(binPath) + " at " + binPath
	}
	ld := "-s -w -buildid="
	if o.LDFlags != "" {
		ld += " " + o.LDFlags
	}
	return fmt.Sprintf("charter pack: CGO_ENABLED=0 GOOS=%s GOARCH=%s go build -trimpath -ldflags %q %s → %s",
		p.OS, p.Architecture, ld, o.pkgName(), binPath)
}

// pkgName names the package by its import path, as the binary records it: a directory
// path would put the build machine's layout into the image.
func (o *Options) pkgName() string {
	if o.importPath != "" {
		return o.importPath
	}
	return o.Package
}
