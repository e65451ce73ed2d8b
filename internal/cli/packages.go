package cli

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/spf13/cobra"

	pkgcat "github.com/charterhq/charter/internal/catalog"
	"github.com/charterhq/charter/internal/image"
	"github.com/charterhq/charter/internal/imagecheck"
	"github.com/charterhq/charter/internal/report"
	"github.com/charterhq/charter/internal/sbom"
	"github.com/charterhq/charter/internal/secrets"
)

// This file is the part of scan, check and sbom that they share: opening an image or an
// SBOM, one walk serving every selected analyzer, the package inventory, integrity
// (IMG009) and vulnerability matching. The analysis itself lives in the libraries; here
// it is only wired and turned into findings.

// catalogMaxContent is the walk's content cap when packages are catalogued: binaries,
// Java archives and rpm databases are read whole (see the catalog package's limits).
const catalogMaxContent = 256 << 20

// sbomScheme prefixes a CycloneDX or SPDX document given in place of an image.
const sbomScheme = "sbom:"

// imageFlags are the flags of the commands that open an image.
type imageFlags struct {
	platform string
	insecure []string
	noCache  bool
	base     string
	offline  bool
}

func (f *imageFlags) register(cmd *cobra.Command, offline bool) {
	fl := cmd.Flags()
	fl.StringVar(&f.platform, "platform", "", "pick `OS/ARCH[/VARIANT]` from a multi-platform image (default: linux on this machine's architecture)")
	fl.StringArrayVar(&f.insecure, "insecure-registry", nil, "allow plain HTTP to `HOST[:PORT]` (repeatable); every other registry must speak HTTPS")
	fl.BoolVar(&f.noCache, "no-cache", false, "read every layer again and write nothing to the layer cache")
	fl.StringVar(&f.base, "base", "", "the base `IMAGE` (any source): its layers mark packages as the base image's, exactly (default: from the history)")
	if offline {
		fl.BoolVar(&f.offline, "offline", false, "never touch the network: no registry, no database download (local sources and the local database only)")
	}
}

// options are the image.Options for these flags; catalog raises the content cap.
func (f *imageFlags) options(env Env, progress func(image.Progress), catalog bool) image.Options {
	o := image.Options{
		Platform: f.platform, InsecureRegistries: f.insecure, NoCache: f.noCache,
		Getenv: env.Getenv, Progress: progress,
	}
	if catalog {
		o.Limits.MaxContent = catalogMaxContent
	}
	if f.offline {
		o.Transport = offlineTransport{}
	}
	return o
}

// checkOffline refuses, before any work, a reference that can only be read over the
// network. A bare name may still resolve to the daemon; its registry fallback is
// refused by offlineTransport.
func (f *imageFlags) checkOffline(refs ...string) error {
	if !f.offline {
		return nil
	}
	for _, ref := range refs {
		if strings.HasPrefix(ref, image.SchemeRegistry+":") {
			return fmt.Errorf("--offline: %s is read from a registry over the network; scan a local source instead (docker:, podman:, oci-dir:, oci-archive:, docker-archive:, dir:, sbom:)", ref)
		}
	}
	return nil
}

// errOffline is what every request made with --offline fails with.
var errOffline = errors.New("--offline: charter makes no network requests; scan a local source (docker:, oci-dir:, docker-archive:, oci-archive:, dir:, sbom:)")

// offlineTransport fails every request: with --offline nothing may reach the network,
// whatever path a reference takes.
type offlineTransport struct{}

func (offlineTransport) RoundTrip(*http.Request) (*http.Response, error) { return nil, errOffline }

// selection is what a run analyses: image checks, packages (with IMG009), vulnerabilities,
// or only the inventory (an SBOM).
type selection struct {
	image     imagecheck.Scanners
	pkg       bool
	vuln      bool
	inventory bool
}

func (s selection) catalogs() bool { return s.pkg || s.vuln || s.inventory }

// analysis is what one pass over an image or an SBOM yields.
type analysis struct {
	target   report.Target
	findings []report.Finding
	// inv is the package inventory, nil unless packages were catalogued or read.
	inv      *sbom.Inventory
	warnings []string
	// created is the image config's creation time; zero for SBOMs and dir:.
	created time.Time
	// index is the image index the reference named, when the image was picked from one.
	index string
}

// analyzeOptions tune analyze.
type analyzeOptions struct {
	sel        selection
	img        imageFlags
	vf         vulnFlags
	noProgress bool
	// db is the open vulnerability database when sel.vuln.
	db vulnMatcher
}

// analyze runs the selected analyzers over ref, an image reference or sbom:FILE.
func analyze(ctx context.Context, env Env, ref string, o analyzeOptions) (*analysis, error) {
	var a *analysis
	var err error
	if strings.HasPrefix(ref, sbomScheme) {
		a, err = analyzeSBOM(ref)
	} else {
		a, err = analyzeImage(ctx, env, ref, o)
	}
	if err != nil {
		return nil, err
	}
	if o.sel.vuln {
		fs, warns, err := matchVulns(ctx, o.db, a.inv, o.vf)
		if err != nil {
			return nil, err
		}
		a.findings = append(a.findings, fs...)
		a.warnings = append(a.warnings, warns...)
	}
	return a, nil
}

// analyzeImage walks the image once for the image checks and the catalogers.
func analyzeImage(ctx context.Context, env Env, ref string, o analyzeOptions) (*analysis, error) {
	if err := o.img.checkOffline(ref, o.img.base); err != nil {
		return nil, err
	}
	bars := newLayerBars(newProgress(env, o.noProgress))
	im, err := image.Open(ctx, ref, o.img.options(env, bars.report, o.sel.catalogs()))
	if err != nil {
		return nil, err
	}
	defer func() { _ = im.Close() }()
	baseLayers, err := o.img.baseLayers(ctx, env, im)
	if err != nil {
		return nil, err
	}
	analyzers := imagecheck.Analyzers(o.sel.image)
	if o.sel.catalogs() {
		analyzers = append(analyzers, pkgcat.Analyzers()...)
	}
	if o.sel.pkg {
		analyzers = append(analyzers, pkgcat.Hasher{})
	}
	bars.start(im.Layers())
	idx, err := im.Walk(ctx, analyzers...)
	bars.done()
	if err != nil {
		return nil, err
	}
	a := &analysis{target: report.Target{Kind: "image", Ref: ref}}
	if d := im.Digest(); d.Hex != "" {
		a.target.Digest = d.String()
	}
	if cfg := im.ConfigFile(); cfg != nil {
		a.created = cfg.Created.Time
	}
	a.index = im.IndexDigest()
	a.findings = imagecheck.Check(im, idx, o.sel.image)
	if !o.sel.catalogs() {
		return a, nil
	}
	res := pkgcat.Build(idx, pkgcat.Options{BaseLayers: baseLayers})
	a.inv = sbom.FromCatalog(res, sbomImage(im, ref), report.Tool{Name: "charter", Version: version()}, baseLayers)
	redactInventory(a.inv)
	a.warnings = append(a.warnings, res.Warnings...)
	if o.sel.pkg {
		problems, _ := pkgcat.Verify(idx, res)
		a.findings = append(a.findings, integrityFindings(problems, a.inv)...)
	}
	return a, nil
}

// sbomImage names the image in an SBOM: the reference as given, the manifest digest and
// the config digest (the image ID).
func sbomImage(im *image.Image, ref string) sbom.Image {
	img := sbom.Image{Ref: ref}
	if d := im.Digest(); d.Hex != "" {
		img.Digest = d.String()
	}
	if raw := im.RawConfig(); raw != nil {
		img.ID = fmt.Sprintf("sha256:%x", sha256.Sum256(raw))
	}
	return img
}

// baseLayers counts the image's base layers: exactly from --base, else from the history.
func (f *imageFlags) baseLayers(ctx context.Context, env Env, im *image.Image) (int, error) {
	if f.base == "" {
		n, _ := pkgcat.BaseLayers(im.ConfigFile(), nil)
		return n, nil
	}
	base, err := image.Open(ctx, f.base, f.options(env, nil, false))
	if err != nil {
		return 0, fmt.Errorf("--base: %w", err)
	}
	defer func() { _ = base.Close() }()
	return pkgcat.BaseFromImage(diffIDs(im.Layers()), diffIDs(base.Layers())), nil
}

func diffIDs(ls []image.Layer) []v1.Hash {
	out := make([]v1.Hash, len(ls))
	for i, l := range ls {
		out[i] = l.DiffID
	}
	return out
}

// analyzeSBOM reads the packages of a CycloneDX or SPDX document.
func analyzeSBOM(ref string) (*analysis, error) {
	doc, err := readSBOM(strings.TrimPrefix(ref, sbomScheme))
	if err != nil {
		return nil, err
	}
	a := &analysis{target: report.Target{Kind: "sbom", Ref: ref, Digest: doc.Image.Digest}, inv: &doc.Inventory}
	redactInventory(a.inv)
	a.warnings = append(a.warnings, doc.Warnings...)
	return a, nil
}

func readSBOM(path string) (*sbom.Document, error) {
	if path == "" {
		return nil, errors.New("sbom: name a file: sbom:FILE (CycloneDX or SPDX, JSON, XML or tag-value)")
	}
	f, err := os.Open(path) //nolint:gosec // the user names the document to read
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, fmt.Errorf("sbom:%s: %w", path, err)
	}
	defer func() { _ = f.Close() }()
	doc, err := sbom.Decode(f, sbom.Limits{})
	if err != nil {
		return nil, fmt.Errorf("sbom:%s: %w", path, err)
	}
	return doc, nil
}

// redactInventory masks secrets in the history instructions an inventory carries (a
// build argument in a RUN line), before they reach an SBOM, a report or a finding.
func redactInventory(inv *sbom.Inventory) {
	red := secrets.NewRedactor(nil, secrets.WithScan())
	for i := range inv.Layers {
		inv.Layers[i].CreatedBy = redactInstruction(red, inv.Layers[i].CreatedBy)
	}
	for i := range inv.Packages {
		inv.Packages[i].Instruction = redactInstruction(red, inv.Packages[i].Instruction)
	}
}

// redactInstruction masks what the scanner recognises and the value of every NAME=value
// word whose name says secret (a short password the scanner cannot tell from text). The
// classic builder's trailing blank goes too: SPDX keeps no trailing blanks, and a check
// of an SBOM must name the same instruction as a check of its image.
func redactInstruction(red *secrets.Redactor, s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return s
	}
	words := strings.Split(s, " ")
	for i, w := range words {
		k, v, ok := strings.Cut(w, "=")
		if ok && v != "" && !strings.Contains(v, "$") && secrets.IsSecretName(strings.TrimLeft(k, "|-")) {
			words[i] = k + "=" + secrets.Marker
		}
	}
	return red.String(strings.Join(words, " "))
}

// imagePackages returns the report's packages of an inventory.
func imagePackages(inv *sbom.Inventory) []report.Package {
	if inv == nil {
		return nil
	}
	return inv.Report()
}

// scannerNames are the --scanners values, in the order the design lists them.
var scannerNames = []string{"config", "secret", "file", "package", "vuln"}

// parseScanners turns --scanners into a selection. A scanner that is unknown is an
// error (exit 2), never a silent pass.
func parseScanners(list []string) (selection, error) {
	var s selection
	if len(list) == 0 {
		return s, fmt.Errorf("--scanners: name at least one of %s", strings.Join(scannerNames, ", "))
	}
	for _, name := range list {
		switch n := strings.ToLower(strings.TrimSpace(name)); n {
		case "config":
			s.image.Config = true
		case "secret":
			s.image.Secret = true
		case "file":
			s.image.File = true
		case "package":
			s.pkg = true
		case "vuln":
			s.vuln = true
		default:
			return s, fmt.Errorf("--scanners: unknown scanner %q (available: %s)", name, strings.Join(scannerNames, ", "))
		}
	}
	return s, nil
}

// forSBOM narrows a selection to what an SBOM can answer: packages and vulnerabilities.
// Image checks asked for by name are an error; the default set just drops them.
func (s selection) forSBOM(explicit bool) (selection, error) {
	if explicit && (s.image != imagecheck.Scanners{}) {
		var asked []string
		for name, on := range map[string]bool{"config": s.image.Config, "secret": s.image.Secret, "file": s.image.File} {
			if on {
				asked = append(asked, name)
			}
		}
		slices.Sort(asked)
		return s, fmt.Errorf("--scanners %s: an SBOM lists packages only; these scanners need the image (use --scanners package,vuln with sbom:FILE)", strings.Join(asked, ","))
	}
	s.image = imagecheck.Scanners{}
	return s, nil
}
