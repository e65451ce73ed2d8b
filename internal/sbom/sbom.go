// Package sbom writes an image's package inventory as CycloneDX and SPDX documents, and
// reads CycloneDX and SPDX documents (charter's own, Syft's, Trivy's, or any other
// producer's) back into packages, so that `sbom:FILE` can be matched against advisories
// without the image.
//
// Every component carries its purl, CPEs, licences, the layer (diffID) and history
// instruction that brought it, whether that layer belongs to the base image, and the
// files it owns, in the places each format has for them; what a format has no field for
// goes into properties or annotations under the documented `charter:` namespace (see
// docs/sbom.md). Output is deterministic: the same inventory and clock give the same
// bytes.
package sbom

import (
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/charterhq/charter/internal/report"
)

// Inventory is what an SBOM describes: one image (or directory) and its packages.
type Inventory struct {
	// Tool is the program that made the inventory (charter and its version).
	Tool report.Tool `json:"tool"`
	// Image is the described artifact; it becomes the CycloneDX metadata component and
	// the package the SPDX document describes.
	Image Image `json:"image"`
	// Distro is the operating system the image's os-release names, if any.
	Distro *Distro `json:"distro,omitempty"`
	// Layers are the image's filesystem layers, bottom first; Package.LayerIndex
	// points into it.
	Layers []Layer `json:"layers,omitempty"`
	// Packages are the installed packages. Encoders sort a copy; the slice is not
	// changed.
	Packages []Package `json:"packages,omitempty"`
}

// Image names the described artifact.
type Image struct {
	// Ref is the reference as the user gave it ("registry.example.com/app:1.2",
	// "oci-dir:build/oci", "dir:rootfs").
	Ref string `json:"ref"`
	// Digest is the manifest digest ("sha256:…"), empty for a directory.
	Digest string `json:"digest,omitempty"`
	// ID is the config digest (what `docker images` calls the image ID), if known.
	ID string `json:"id,omitempty"`
}

// Distro is the operating system of the image.
type Distro struct {
	ID        string `json:"id"`                  // "debian"
	VersionID string `json:"versionId,omitempty"` // "12"
	Codename  string `json:"codename,omitempty"`  // "bookworm"
	Name      string `json:"name,omitempty"`      // "Debian GNU/Linux 12 (bookworm)"
}

// Layer is one filesystem layer of the image.
type Layer struct {
	// DiffID is the digest of the uncompressed layer ("sha256:…").
	DiffID string `json:"diffID"`
	// CreatedBy is the history instruction that made the layer ("RUN apt-get …").
	CreatedBy string `json:"createdBy,omitempty"`
	// Base marks a layer that comes from the base image.
	Base bool `json:"base,omitempty"`
}

// Package is one package of the inventory: the report's package plus what only an SBOM
// carries.
type Package struct {
	report.Package
	// Files are the paths the package manager says the package installed.
	Files []string `json:"files,omitempty"`
	// Digests maps an owned path to its expected digest ("md5:HEX", "sha1:HEX",
	// "sha256:HEX"), as the package manager recorded it.
	Digests map[string]string `json:"digests,omitempty"`
}

// Report returns the inventory's packages in the report model, for `charter scan
// sbom:FILE` and the report's `packages`.
func (inv *Inventory) Report() []report.Package {
	out := make([]report.Package, 0, len(inv.Packages))
	for i := range inv.Packages {
		out = append(out, inv.Packages[i].Package)
	}
	return out
}

// Format names an SBOM encoding and its specification version.
type Format struct {
	// Kind is one of CycloneDXJSON, CycloneDXXML, SPDXJSON, SPDXTagValue.
	Kind string
	// Version is the specification version: "1.6" or "1.5" for CycloneDX, "2.3" for
	// SPDX (decoding also reports "1.4", "2.2" and others).
	Version string
}

// Format kinds, named as Syft names them so its users can carry their flags over.
const (
	CycloneDXJSON = "cyclonedx-json"
	CycloneDXXML  = "cyclonedx-xml"
	SPDXJSON      = "spdx-json"
	SPDXTagValue  = "spdx-tag-value"
)

// Formats lists the format names Encode accepts, each optionally followed by
// "@VERSION" ("cyclonedx-json@1.5").
var Formats = []string{CycloneDXJSON, CycloneDXXML, SPDXJSON, SPDXTagValue}

func (f Format) String() string { return f.Kind + "@" + f.Version }

// ErrUnknownFormat is returned by ParseFormat for a name it does not know.
var ErrUnknownFormat = errors.New("unknown SBOM format")

// ParseFormat reads a format name such as "cyclonedx-json", "cyclonedx-json@1.5",
// "cyclonedx" (CycloneDX JSON, as Trivy names it) or "spdx-json@2.3". A missing version
// means the newest one charter writes.
func ParseFormat(name string) (Format, error) {
	kind, version, _ := strings.Cut(strings.ToLower(strings.TrimSpace(name)), "@")
	if kind == "cyclonedx" {
		kind = CycloneDXJSON
	}
	var versions []string
	switch kind {
	case CycloneDXJSON, CycloneDXXML:
		versions = []string{"1.6", "1.5"}
	case SPDXJSON, SPDXTagValue:
		versions = []string{"2.3"}
	default:
		return Format{}, fmt.Errorf("%w %q (want %s, optionally @VERSION)", ErrUnknownFormat, name, strings.Join(Formats, ", "))
	}
	if version == "" {
		return Format{Kind: kind, Version: versions[0]}, nil
	}
	for _, v := range versions {
		if v == version {
			return Format{Kind: kind, Version: v}, nil
		}
	}
	return Format{}, fmt.Errorf("%w: %s version %q (want %s)", ErrUnknownFormat, kind, version, strings.Join(versions, " or "))
}

// Options tune encoding.
type Options struct {
	// Now gives the document's creation time. Nil means time.Now; pass NowFromEnv's
	// result to honour SOURCE_DATE_EPOCH, or a fixed clock for reproducible output.
	Now func() time.Time
	// Files adds each package's owned files: CycloneDX evidence occurrences, SPDX File
	// elements (only those with a recorded digest, which SPDX requires) that the
	// package CONTAINS. Off by default: it multiplies the document's size.
	Files bool
}

func (o Options) now() time.Time {
	if o.Now != nil {
		return o.Now().UTC().Truncate(time.Second)
	}
	return time.Now().UTC().Truncate(time.Second)
}

// NowFromEnv returns a clock that honours SOURCE_DATE_EPOCH (seconds since the Unix
// epoch) when getenv has it, for reproducible builds, and time.Now otherwise.
func NowFromEnv(getenv func(string) string) (func() time.Time, error) {
	s := strings.TrimSpace(getenv("SOURCE_DATE_EPOCH"))
	if s == "" {
		return time.Now, nil
	}
	sec, err := strconv.ParseInt(s, 10, 64)
	if err != nil || sec < 0 || sec > 253402300799 { // up to 9999-12-31
		return nil, fmt.Errorf("SOURCE_DATE_EPOCH=%q is not a number of seconds since 1970", s)
	}
	t := time.Unix(sec, 0).UTC()
	return func() time.Time { return t }, nil
}

// Encode writes inv in format f.
func Encode(w io.Writer, inv *Inventory, f Format, opt Options) error {
	switch f.Kind {
	case CycloneDXJSON, CycloneDXXML:
		return EncodeCycloneDX(w, inv, f, opt)
	case SPDXJSON, SPDXTagValue:
		return EncodeSPDX(w, inv, f, opt)
	}
	return fmt.Errorf("%w %q", ErrUnknownFormat, f.Kind)
}

// sorted returns a copy of the packages in a stable order: ecosystem, name, version,
// purl, arch, first location, layer.
func sorted(ps []Package) []Package {
	out := append([]Package(nil), ps...)
	sort.SliceStable(out, func(i, j int) bool {
		a, b := &out[i], &out[j]
		ka := [...]string{a.Ecosystem, a.Name, a.Version, a.PURL, a.Arch, first(a.Locations), a.Layer}
		kb := [...]string{b.Ecosystem, b.Name, b.Version, b.PURL, b.Arch, first(b.Locations), b.Layer}
		for k := range ka {
			if ka[k] != kb[k] {
				return ka[k] < kb[k]
			}
		}
		return false
	})
	return out
}

func first(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[0]
}

// instruction is the history entry that brought p: its own, else its layer's.
func (inv *Inventory) instruction(p *Package) string {
	if p.Instruction != "" {
		return p.Instruction
	}
	if p.LayerIndex != nil && *p.LayerIndex >= 0 && *p.LayerIndex < len(inv.Layers) {
		return inv.Layers[*p.LayerIndex].CreatedBy
	}
	return ""
}

// layerDiffID is the diffID of the layer that brought p: its own, else its layer's.
func (inv *Inventory) layerDiffID(p *Package) string {
	if p.Layer != "" {
		return p.Layer
	}
	if p.LayerIndex != nil && *p.LayerIndex >= 0 && *p.LayerIndex < len(inv.Layers) {
		return inv.Layers[*p.LayerIndex].DiffID
	}
	return ""
}
