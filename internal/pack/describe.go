package pack

import (
	"bytes"
	"context"
	"crypto/sha256"
	"debug/buildinfo"
	"debug/elf"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"path/filepath"
	"runtime/debug"
	"sort"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"

	"github.com/charterhq/charter/internal/catalog"
	"github.com/charterhq/charter/internal/image"
	"github.com/charterhq/charter/internal/report"
	"github.com/charterhq/charter/internal/sbom"
)

// Predicate and build types of the provenance.
const (
	SLSAProvenanceV1 = "https://slsa.dev/provenance/v1"
	BuildType        = "https://github.com/charterhq/charter/pack/v1"
	BuilderID        = "https://github.com/charterhq/charter/pack"
	statementType    = "https://in-toto.io/Statement/v1"
)

// describe adds the SBOM and the provenance to b.
func (o *Options) describe(ctx context.Context, b *Built, binFile, scratch string) error {
	doc, err := o.sbomOf(ctx, b, scratch)
	if err != nil {
		return fmt.Errorf("SBOM: %w", err)
	}
	b.SBOM = doc
	prov, err := o.provenance(b, binFile)
	if err != nil {
		return fmt.Errorf("provenance: %w", err)
	}
	b.Provenance = prov
	return nil
}

// sbomOf catalogs the built image the way `charter sbom` does (one walk, every
// cataloger, the base layer marked as such) and encodes CycloneDX JSON dated at the
// epoch.
func (o *Options) sbomOf(ctx context.Context, b *Built, dir string) ([]byte, error) {
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		return nil, err
	}
	if err := p.AppendImage(b.Image); err != nil {
		return nil, err
	}
	opts := image.Options{CacheDir: filepath.Join(dir, "cache"), NoCache: true, Platform: platformString(b.Platform)}
	opts.Limits.MaxContent = 256 << 20
	im, err := image.Open(ctx, image.SchemeOCIDir+":"+dir, opts)
	if err != nil {
		return nil, err
	}
	defer func() { _ = im.Close() }()
	idx, err := im.Walk(ctx, catalog.Analyzers()...)
	if err != nil {
		return nil, err
	}
	const baseLayers = 1
	res := catalog.Build(idx, catalog.Options{BaseLayers: baseLayers})
	inv := sbom.FromCatalog(res, sbom.Image{Ref: o.Name, Digest: b.Digest.String(), ID: configID(b)},
		report.Tool{Name: o.Tool, Version: o.ToolVersion}, baseLayers)
	f, err := sbom.ParseFormat(sbom.CycloneDXJSON)
	if err != nil {
		return nil, err
	}
	epoch := o.Source.Epoch
	var buf bytes.Buffer
	if err := sbom.Encode(&buf, inv, f, sbom.Options{Now: func() time.Time { return epoch }}); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// configID is the image ID: the config's digest.
func configID(b *Built) string {
	if h, err := b.Image.ConfigName(); err == nil {
		return h.String()
	}
	return ""
}

// resource is a SLSA ResourceDescriptor.
type resource struct {
	Name        string            `json:"name,omitempty"`
	URI         string            `json:"uri,omitempty"`
	Digest      map[string]string `json:"digest,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

type provenancePredicate struct {
	BuildDefinition struct {
		BuildType            string         `json:"buildType"`
		ExternalParameters   map[string]any `json:"externalParameters"`
		InternalParameters   map[string]any `json:"internalParameters,omitempty"`
		ResolvedDependencies []resource     `json:"resolvedDependencies,omitempty"`
	} `json:"buildDefinition"`
	RunDetails struct {
		Builder struct {
			ID      string            `json:"id"`
			Version map[string]string `json:"version,omitempty"`
		} `json:"builder"`
		Byproducts []resource `json:"byproducts,omitempty"`
	} `json:"runDetails"`
}

type statement struct {
	Type          string              `json:"_type"`
	Subject       []resource          `json:"subject"`
	PredicateType string              `json:"predicateType"`
	Predicate     provenancePredicate `json:"predicate"`
}

// provenance is an in-toto statement with a SLSA v1 predicate about the image: what was
// built (package, platform, flags), from which source and modules, by which toolchain.
// It holds no time but the epoch, so it is as reproducible as the image.
func (o *Options) provenance(b *Built, binFile string) ([]byte, error) {
	var p provenancePredicate
	p.BuildDefinition.BuildType = BuildType
	ext := map[string]any{"package": o.pkgName(), "platform": platformString(b.Platform)}
	if o.LDFlags != "" {
		ext["ldflags"] = o.LDFlags
	}
	if o.Version != "" {
		ext["version"] = o.Version
	}
	if o.Binaries != nil {
		ext["prebuilt"] = true
	}
	p.BuildDefinition.ExternalParameters = ext
	internal := map[string]any{"epoch": o.Source.Epoch.UTC().Format(time.RFC3339)}
	if o.Binaries == nil {
		internal["env"] = map[string]string{"CGO_ENABLED": "0", "GOOS": b.Platform.OS, "GOARCH": b.Platform.Architecture}
		internal["flags"] = []string{"-trimpath", "-ldflags=-s -w -buildid="}
	}
	if o.Source.Dirty {
		internal["sourceModified"] = true
	}
	deps := o.sourceDeps()
	if bi, err := buildinfo.ReadFile(binFile); err == nil {
		internal["goVersion"] = bi.GoVersion
		deps = append(deps, moduleDeps(bi)...)
	}
	p.BuildDefinition.InternalParameters = internal
	p.BuildDefinition.ResolvedDependencies = deps
	p.RunDetails.Builder.ID = BuilderID
	if o.ToolVersion != "" {
		p.RunDetails.Builder.Version = map[string]string{o.Tool: o.ToolVersion}
	}
	p.RunDetails.Byproducts = []resource{{Name: o.Name, Digest: map[string]string{"sha256": b.BinarySHA256}}}
	st := statement{Type: statementType, PredicateType: SLSAProvenanceV1, Predicate: p,
		Subject: []resource{{Name: o.Name, Digest: map[string]string{b.Digest.Algorithm: b.Digest.Hex}}}}
	return json.Marshal(st)
}

func (o *Options) sourceDeps() []resource {
	if o.Source.Revision == "" {
		return nil
	}
	r := resource{Digest: map[string]string{"gitCommit": o.Source.Revision}}
	if o.Source.URL != "" {
		r.URI = "git+" + o.Source.URL + "@" + o.Source.Revision
	} else {
		r.Name = "source"
	}
	return []resource{r}
}

// moduleDeps lists the modules linked into the program, with their go.sum hashes.
func moduleDeps(bi *debug.BuildInfo) []resource {
	var out []resource
	for _, m := range bi.Deps {
		if m.Replace != nil {
			m = m.Replace
		}
		r := resource{URI: "pkg:golang/" + m.Path + "@" + m.Version}
		if m.Sum != "" {
			r.Annotations = map[string]string{"go.sum": m.Sum}
		}
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].URI < out[j].URI })
	return out
}

// checkStatic refuses a prebuilt program that needs a dynamic loader or libc: the image
// has neither.
func checkStatic(file string) error {
	f, err := elf.Open(file)
	if err != nil {
		return fmt.Errorf("prebuilt binary %s: not an ELF program: %w", file, err)
	}
	defer func() { _ = f.Close() }()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return fmt.Errorf("prebuilt binary %s is dynamically linked; build it with CGO_ENABLED=0", file)
		}
	}
	return nil
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}
