package catalog

import (
	"sort"
	"strconv"

	"github.com/charterhq/charter/internal/report"
)

// Ecosystems, as Package.Ecosystem and the report's `ecosystem` field name them. They
// follow the purl types, except Unmanaged software, which is "generic".
const (
	Deb      = "deb"
	Apk      = "apk"
	RPM      = "rpm"
	Golang   = "golang"
	PyPI     = "pypi"
	NPM      = "npm"
	Maven    = "maven"
	Cargo    = "cargo"
	Gem      = "gem"
	Composer = "composer"
	NuGet    = "nuget"
	Generic  = "generic"
)

// Package is one installed package: what a cataloger read, completed by Build with the
// distro, purl, CPEs, owned files and layers.
type Package struct {
	Name      string `json:"name"`
	Version   string `json:"version"`
	Ecosystem string `json:"ecosystem"`
	// Namespace is the part of the name a registry scopes it by: a Maven groupId, an
	// npm scope ("@babel"), a Go module's path without its last element.
	Namespace string   `json:"namespace,omitempty"`
	Arch      string   `json:"arch,omitempty"`
	Source    *Source  `json:"source,omitempty"`
	Licenses  []string `json:"licenses,omitempty"`
	// Cataloger names the cataloger that found it.
	Cataloger string `json:"cataloger"`
	// Unmanaged is set for software no package manager knows about, identified from
	// its binaries (a node or python built from source, a copied busybox).
	Unmanaged bool `json:"unmanaged,omitempty"`
	// Location is the file that declares the package: a database, a manifest, a binary.
	// Inside archives it reads "/app/x.war!/WEB-INF/lib/y.jar".
	Location string `json:"location"`
	// Files are the paths the package manager says the package installed.
	Files []string `json:"files,omitempty"`
	// Digests maps an owned path to its expected digest ("md5:HEX", "sha1:HEX",
	// "sha256:HEX"): what an integrity check compares the image's files with.
	Digests map[string]string `json:"digests,omitempty"`
	// Meta holds ecosystem details: Go's "main" (the binary's main module) and
	// "replace", "toolchain"; Java's "origin" (pom.properties, manifest, filename).
	Meta map[string]string `json:"meta,omitempty"`

	// PURL and CPEs are filled by Build when a cataloger leaves them empty.
	PURL string   `json:"purl,omitempty"`
	CPEs []string `json:"cpes,omitempty"`

	// Filled by Build from the image's layers.

	// Layer is the layer whose files first declared the package; ChangedLayer the one
	// that last changed its version (equal to Layer when never changed).
	Layer        int  `json:"layer"`
	ChangedLayer int  `json:"changedLayer"`
	Base         bool `json:"base,omitempty"`
}

// Source is the source package a binary package was built from (dpkg Source:, rpm
// SOURCERPM): distro advisories name source packages.
type Source struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

// Result is what Build makes of a walked image.
type Result struct {
	Distro   *Distro
	Packages []Package
	// Layers are the layers' diffIDs and instructions, by index, for the report.
	Layers []LayerInfo
	// Warnings are files the catalogers could not read; data, not log lines.
	Warnings []string
}

// LayerInfo names a layer for the report.
type LayerInfo struct {
	DiffID      string
	Instruction string
}

// Report converts the packages to the report model (charter.report/v1 `packages`).
func (r *Result) Report() []report.Package {
	out := make([]report.Package, 0, len(r.Packages))
	for i := range r.Packages {
		p := &r.Packages[i]
		rp := report.Package{
			Name: p.Name, Version: p.Version, Ecosystem: p.Ecosystem, PURL: p.PURL,
			Arch: p.Arch, Licenses: p.Licenses, CPEs: p.CPEs, Unmanaged: p.Unmanaged,
			Base: p.Base, Locations: []string{p.Location},
		}
		if p.Source != nil {
			rp.Source = &report.PackageSource{Name: p.Source.Name, Version: p.Source.Version}
		}
		li := p.Layer
		rp.LayerIndex = &li
		if li < len(r.Layers) {
			rp.Layer = r.Layers[li].DiffID
			rp.Instruction = r.Layers[li].Instruction
		}
		if p.ChangedLayer != p.Layer {
			ci := p.ChangedLayer
			rp.ChangedLayerIndex = &ci
		}
		out = append(out, rp)
	}
	return out
}

func sortPackages(ps []Package) {
	sort.SliceStable(ps, func(i, j int) bool {
		a, b := &ps[i], &ps[j]
		if a.Ecosystem != b.Ecosystem {
			return a.Ecosystem < b.Ecosystem
		}
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		if a.Version != b.Version {
			return a.Version < b.Version
		}
		return a.Location < b.Location
	})
}

// key identifies a package across the layers that rewrote its database.
func (p *Package) key(recordPath string) string {
	return p.Cataloger + "\x00" + recordPath + "\x00" + p.Location + "\x00" + p.Namespace + "\x00" + p.Name + "\x00" + p.Arch
}

// fingerprint changes when an upgrade or a rewrite changes the package.
func (p *Package) fingerprint() string {
	s := p.Version + "\x00" + p.Arch + "\x00" + strconv.Itoa(len(p.Files))
	if p.Source != nil {
		s += "\x00" + p.Source.Name + "\x00" + p.Source.Version
	}
	return s
}
