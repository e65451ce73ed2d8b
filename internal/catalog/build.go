package catalog

import (
	"encoding/json"
	"fmt"
	"path"
	"sort"
	"strings"

	"github.com/charterhq/charter/internal/image"
)

// Options tune Build.
type Options struct {
	// BaseLayers is how many leading layers come from the base image (see BaseLayers);
	// packages introduced by them are marked Base. 0: none, or unknown.
	BaseLayers int
}

// record is one decoded catalog record of one layer.
type record struct {
	layer int
	path  string
	Found
}

// Build turns the records the catalogers left in a walked Index into the image's
// packages: only databases and manifests still visible in the final filesystem count;
// earlier layers' copies tell which layer introduced each package and which last
// changed it.
func Build(idx *image.Index, opts Options) *Result {
	res := &Result{}
	for _, l := range idx.Layers {
		res.Layers = append(res.Layers, LayerInfo{DiffID: l.DiffID.String(), Instruction: l.CreatedBy()})
	}
	var pkgs, owns, distros []record
	for _, r := range idx.Records() {
		if !strings.HasPrefix(r.Analyzer, analyzerPrefix) {
			continue
		}
		rec := record{layer: r.Layer, path: r.Path}
		if err := json.Unmarshal(r.Data, &rec.Found); err != nil {
			res.Warnings = append(res.Warnings, fmt.Sprintf("%s: undecodable record: %v", r.Path, err))
			continue
		}
		visible := idx.Visible(r.Layer, r.Path)
		switch {
		case rec.Package != nil:
			pkgs = append(pkgs, rec)
		case rec.Owns != nil && visible:
			owns = append(owns, rec)
		case rec.Distro != nil && visible:
			distros = append(distros, rec)
		case rec.Warning != "" && visible:
			res.Warnings = append(res.Warnings, r.Path+": "+rec.Warning)
		}
	}
	res.Distro = pickDistro(distros)
	res.Packages = finalPackages(idx, pkgs)
	attachOwnership(res.Packages, owns)
	res.Packages = dropOwnedUnmanaged(res.Packages)
	res.Packages = dropInstalledLocked(res.Packages)
	for i := range res.Packages {
		p := &res.Packages[i]
		if p.PURL == "" {
			p.PURL = purlOf(p, res.Distro)
		}
		if p.CPEs == nil {
			p.CPEs = cpesOf(p)
		}
		p.Base = opts.BaseLayers > 0 && p.Layer < opts.BaseLayers
	}
	sortPackages(res.Packages)
	return res
}

// finalPackages keeps the packages of visible files and dates each one: Layer is the
// start of the unbroken run of layers whose copy of the same file declared it, and
// ChangedLayer the start of the run in which it had its final version.
func finalPackages(idx *image.Index, recs []record) []Package {
	byKey := map[string]map[int]*Package{} // key -> layer -> package
	var final []string
	finalPkg := map[string]*Package{}
	finalPath := map[string]string{}
	for i := range recs {
		r := &recs[i]
		k := r.Package.key(r.path)
		if byKey[k] == nil {
			byKey[k] = map[int]*Package{}
		}
		byKey[k][r.layer] = r.Package
		if idx.Visible(r.layer, r.path) && finalPkg[k] == nil {
			finalPkg[k] = r.Package
			finalPath[k] = r.path
			r.Package.Layer, r.Package.ChangedLayer = r.layer, r.layer
			final = append(final, k)
		}
	}
	holders := layersHolding(idx, finalPath)
	out := make([]Package, 0, len(final))
	for _, k := range final {
		p := finalPkg[k]
		fp := p.fingerprint()
		changed := true
		for _, l := range holders[finalPath[k]] { // descending, below the final layer
			if l >= p.Layer {
				continue
			}
			prev, ok := byKey[k][l]
			if !ok {
				break // the file was there without this package: it arrived later
			}
			if changed && prev.fingerprint() == fp {
				p.ChangedLayer = l
			} else if changed {
				changed = false
				if prev.Version != p.Version {
					if p.Meta == nil {
						p.Meta = map[string]string{}
					}
					p.Meta["previousVersion"] = prev.Version
				}
			}
			p.Layer = l
		}
		out = append(out, *p)
	}
	return out
}

// layersHolding lists, for each path, the layers that have an entry at it, latest first.
func layersHolding(idx *image.Index, paths map[string]string) map[string][]int {
	want := map[string]bool{}
	for _, p := range paths {
		want[p] = true
	}
	out := map[string][]int{}
	for li := len(idx.Layers) - 1; li >= 0; li-- {
		for _, f := range idx.Layers[li].Files {
			if want[f.Path] {
				out[f.Path] = append(out[f.Path], li)
			}
		}
	}
	return out
}

// attachOwnership gives OS packages the files and digests their manager lists apart
// from the package's own entry (dpkg's info/NAME.list and NAME.md5sums).
func attachOwnership(pkgs []Package, owns []record) {
	type key struct{ manager, name string }
	byName := map[key][]*Ownership{}
	for i := range owns {
		o := owns[i].Owns
		byName[key{o.Manager, o.Package}] = append(byName[key{o.Manager, o.Package}], o)
	}
	for i := range pkgs {
		p := &pkgs[i]
		// Multi-arch packages write info/NAME:ARCH.list, while their doc directory
		// (the copyright) is plain NAME: both belong to the package.
		os := append(byName[key{p.Cataloger, p.Name + ":" + p.Arch}], byName[key{p.Cataloger, p.Name}]...)
		if p.Ecosystem == PyPI { // RECORD is keyed by its dist-info directory
			os = byName[key{p.Cataloger, path.Dir(p.Location)}]
		}
		for _, o := range os {
			if len(o.Files) > 0 && len(p.Files) == 0 {
				p.Files = o.Files
			}
			if len(p.Licenses) == 0 {
				p.Licenses = o.Licenses
			}
			for path, d := range o.Digests {
				if p.Digests == nil {
					p.Digests = map[string]string{}
				}
				p.Digests[path] = d
			}
		}
		if len(p.Files) == 0 && len(p.Digests) > 0 {
			for path := range p.Digests {
				p.Files = append(p.Files, path)
			}
			sort.Strings(p.Files)
		}
	}
}

// dropOwnedUnmanaged removes binaries identified as unmanaged software when an OS
// package owns them: Debian's /usr/bin/python3.11 is python3.11's, not unmanaged.
func dropOwnedUnmanaged(pkgs []Package) []Package {
	owned := map[string]bool{}
	for i := range pkgs {
		if isOSEcosystem(pkgs[i].Ecosystem) {
			for _, f := range pkgs[i].Files {
				owned[f] = true
			}
		}
	}
	out := pkgs[:0]
	for _, p := range pkgs {
		if p.Unmanaged && owned[p.Location] {
			continue
		}
		out = append(out, p)
	}
	return out
}

func isOSEcosystem(e string) bool { return e == Deb || e == Apk || e == RPM }

// dropInstalledLocked removes a lock file's entry when the same package (name and
// version) is installed: the installed copy is the one that runs.
func dropInstalledLocked(pkgs []Package) []Package {
	installed := map[string]bool{}
	for i := range pkgs {
		if pkgs[i].Meta["declared"] == "" {
			installed[pkgs[i].Ecosystem+"/"+pkgs[i].Namespace+"/"+pkgs[i].Name+"@"+pkgs[i].Version] = true
		}
	}
	out := pkgs[:0]
	for _, p := range pkgs {
		if p.Meta["declared"] != "" && installed[p.Ecosystem+"/"+p.Namespace+"/"+p.Name+"@"+p.Version] {
			continue
		}
		out = append(out, p)
	}
	return out
}
