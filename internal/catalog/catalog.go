package catalog

import (
	"encoding/json"
	"fmt"

	"github.com/charterhq/charter/internal/image"
)

// Cataloger reads one ecosystem's package metadata from the files of a layer. It is
// served by the image walk (see Analyzers), so every layer is read once for all of them.
//
// Parse must depend only on the file and its content: what it returns is cached per
// layer. Questions that span layers (is this database still visible, which layer
// introduced the package, which files does it own) are answered by Build.
type Cataloger interface {
	// Name is short and stable ("dpkg", "python"); it keys the layer cache together with
	// Version.
	Name() string
	// Version changes whenever Parse would return something else for the same input.
	Version() int
	// Need says whether the cataloger wants f and how many bytes of its content.
	Need(f *image.File) (want bool, maxBytes int64)
	// Parse reads one wanted file. Malformed input is reported as a Found with Warning
	// set, never as an error: an error stops the whole walk.
	Parse(f *image.File, content []byte) []Found
}

// RecommendedMaxContent is the image.Limits.MaxContent a walk that catalogs should use:
// binaries and Java archives are read whole, and many are larger than the walk's 16 MiB
// default (a Go binary's build information sits near its end).
const RecommendedMaxContent = 256 << 20

// Catalogers returns every cataloger charter has, in a fixed order.
func Catalogers() []Cataloger {
	return []Cataloger{
		distroCataloger{},
		dpkgCataloger{},
		apkCataloger{},
		rpmCataloger{},
		goCataloger{},
		rustCataloger{},
		pythonCataloger{},
		npmCataloger{},
		javaCataloger{},
		rubyCataloger{},
		phpCataloger{},
		dotnetCataloger{},
		unmanagedCataloger{},
	}
}

// Found is one thing a cataloger learnt from one file.
type Found struct {
	// Package is a package the file declares (a database entry, a manifest, a binary's
	// embedded metadata).
	Package *Package `json:"package,omitempty"`
	// Owns lists files (and their expected digests) that a package manager says one of
	// its packages installed, from a file apart from the package's own entry
	// (/var/lib/dpkg/info/NAME.list and NAME.md5sums).
	Owns *Ownership `json:"owns,omitempty"`
	// Distro is the operating system an os-release file names.
	Distro *Distro `json:"distro,omitempty"`
	// Warning describes input the cataloger could not read; it is returned, not logged.
	Warning string `json:"warning,omitempty"`
}

// Ownership is a package manager's list of the files of one installed package.
type Ownership struct {
	// Manager is the cataloger that read it ("dpkg").
	Manager string `json:"manager"`
	// Package is the package's name, with ":ARCH" when the manager writes it so.
	Package string   `json:"package"`
	Files   []string `json:"files,omitempty"`
	// Digests maps a rooted path to its expected digest, "md5:HEX", "sha1:HEX" or
	// "sha256:HEX".
	Digests map[string]string `json:"digests,omitempty"`
	// Licenses are licences the package's files declare (Debian's copyright file).
	Licenses []string `json:"licenses,omitempty"`
}

// Analyzers adapts catalogers to the image walk: pass them to image.Image.Walk, then
// hand the Index to Build. With no argument, every cataloger is used.
func Analyzers(cs ...Cataloger) []image.Analyzer {
	if len(cs) == 0 {
		cs = Catalogers()
	}
	out := make([]image.Analyzer, 0, len(cs))
	for _, c := range cs {
		out = append(out, analyzer{c})
	}
	return out
}

// analyzerPrefix starts the ID of every cataloger's analyzer, so Build can tell their
// records from other analyzers'.
const analyzerPrefix = "catalog-"

type analyzer struct{ c Cataloger }

func (a analyzer) ID() string {
	return fmt.Sprintf("%s%s/%d", analyzerPrefix, a.c.Name(), a.c.Version())
}

func (a analyzer) Need(f *image.File) (bool, int64) { return a.c.Need(f) }

func (a analyzer) Analyze(f *image.File, content []byte) ([]image.Record, error) {
	found := a.c.Parse(f, content)
	recs := make([]image.Record, 0, len(found))
	for i := range found {
		if p := found[i].Package; p != nil {
			p.Cataloger = a.c.Name()
			if p.Location == "" {
				p.Location = f.Path
			}
		}
		data, err := json.Marshal(&found[i])
		if err != nil {
			return nil, err
		}
		recs = append(recs, image.Record{Kind: kindOf(&found[i]), Data: data})
	}
	return recs, nil
}

func kindOf(f *Found) string {
	switch {
	case f.Package != nil:
		return "package"
	case f.Owns != nil:
		return "owns"
	case f.Distro != nil:
		return "distro"
	}
	return "warning"
}
