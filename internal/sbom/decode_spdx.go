package sbom

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	spdxjson "github.com/spdx/tools-golang/json"
	"github.com/spdx/tools-golang/spdx"
	"github.com/spdx/tools-golang/spdx/v2/common"
	"github.com/spdx/tools-golang/tagvalue"

	"github.com/charterhq/charter/internal/report"
)

func decodeSPDXJSON(data []byte, version string, lim Limits) (doc *Document, err error) {
	defer recoverAs(&err, "SPDX")
	var d *spdx.Document
	if version == spdx.Version {
		// The current version needs no conversion: one parse instead of the reader's
		// three (generic, versioned, converted).
		d = &spdx.Document{}
		err = json.Unmarshal(data, d)
	} else {
		d, err = spdxjson.Read(bytes.NewReader(data))
	}
	if err != nil {
		return nil, fmt.Errorf("%w: invalid SPDX JSON: %w", ErrNotSBOM, err)
	}
	return fromSPDX(d, Format{Kind: SPDXJSON, Version: strings.TrimPrefix(version, "SPDX-")}, lim), nil
}

func decodeSPDXTagValue(data []byte, lim Limits) (doc *Document, err error) {
	defer recoverAs(&err, "SPDX")
	d, err := tagvalue.Read(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("%w: invalid SPDX tag-value: %w", ErrNotSBOM, err)
	}
	version := tagValueVersion(data)
	return fromSPDX(d, Format{Kind: SPDXTagValue, Version: strings.TrimPrefix(version, "SPDX-")}, lim), nil
}

// tagValueVersion is the document's own SPDXVersion (the reader converts to 2.3).
func tagValueVersion(b []byte) string {
	for _, line := range bytes.Split(b, []byte("\n")) {
		if v, ok := bytes.CutPrefix(bytes.TrimSpace(line), []byte("SPDXVersion:")); ok {
			return string(bytes.TrimSpace(v))
		}
	}
	return ""
}

// spdxReader turns one parsed SPDX document into a Document.
type spdxReader struct {
	d        *spdx.Document
	doc      *Document
	ann      map[common.ElementID][]string // element → annotation comments
	files    map[common.ElementID]*spdx.File
	rels     map[common.ElementID][]*spdx.Relationship // by RefA
	licNames map[string]string                         // LicenseRef-… → the name it stands for
}

func fromSPDX(d *spdx.Document, f Format, lim Limits) *Document {
	r := &spdxReader{
		d: d, doc: &Document{Format: f},
		ann: map[common.ElementID][]string{}, files: map[common.ElementID]*spdx.File{},
		rels: map[common.ElementID][]*spdx.Relationship{}, licNames: map[string]string{},
	}
	r.index()
	r.creators()
	roots := r.described()
	for _, p := range d.Packages {
		if p == nil {
			continue
		}
		switch {
		case roots[p.PackageSPDXIdentifier] && isImagePackage(p):
			r.image(p)
		case strings.ReplaceAll(p.PrimaryPackagePurpose, "-", "_") == purposeOS:
			if r.doc.Distro == nil {
				r.distro(p)
			}
		case r.annProps(p.PackageSPDXIdentifier).get(trivyPfx+trivyClass) != "":
			// Trivy's per-target aggregate ("Python", "app/package-lock.json").
		default:
			if len(r.doc.Packages) > lim.MaxPackages {
				return r.doc
			}
			if pkg, ok := r.pkg(p); ok {
				r.doc.Packages = append(r.doc.Packages, pkg)
			} else {
				r.doc.warn(fmt.Sprintf("package SPDXRef-%s has no name; skipped", p.PackageSPDXIdentifier))
			}
		}
	}
	return r.doc
}

func (r *spdxReader) index() {
	for _, p := range r.d.Packages {
		if p == nil {
			continue
		}
		for _, a := range p.Annotations {
			r.ann[p.PackageSPDXIdentifier] = append(r.ann[p.PackageSPDXIdentifier], a.AnnotationComment)
		}
	}
	for _, a := range r.d.Annotations { // tag-value puts them at the document level
		if a != nil && a.AnnotationSPDXIdentifier.DocumentRefID == "" {
			id := a.AnnotationSPDXIdentifier.ElementRefID
			r.ann[id] = append(r.ann[id], a.AnnotationComment)
		}
	}
	for _, f := range r.d.Files {
		if f != nil {
			r.files[f.FileSPDXIdentifier] = f
		}
	}
	for _, p := range r.d.Packages {
		if p == nil {
			continue
		}
		for _, f := range p.Files { // tag-value nests a package's files in it
			if f != nil {
				r.files[f.FileSPDXIdentifier] = f
			}
		}
	}
	for _, rel := range r.d.Relationships {
		if rel != nil && rel.RefA.DocumentRefID == "" {
			r.rels[rel.RefA.ElementRefID] = append(r.rels[rel.RefA.ElementRefID], rel)
		}
	}
	for _, l := range r.d.OtherLicenses {
		if l == nil {
			continue
		}
		name := l.LicenseName
		if name == "" || name == noAssertion {
			name = l.ExtractedText
		}
		if name != "" && len(name) <= 200 && !strings.Contains(name, "\n") {
			r.licNames[l.LicenseIdentifier] = name
		}
	}
}

func (r *spdxReader) creators() {
	if r.d.CreationInfo == nil {
		return
	}
	for _, c := range r.d.CreationInfo.Creators {
		if c.CreatorType != "Tool" {
			continue
		}
		r.doc.Producer = c.Creator
		if i := strings.LastIndex(c.Creator, "-"); i > 0 {
			r.doc.Tool.Name, r.doc.Tool.Version = c.Creator[:i], c.Creator[i+1:]
			r.doc.Producer = r.doc.Tool.Name + " " + r.doc.Tool.Version
		} else {
			r.doc.Tool.Name = c.Creator
		}
		return
	}
}

// described returns the elements the document DESCRIBES.
func (r *spdxReader) described() map[common.ElementID]bool {
	out := map[common.ElementID]bool{}
	for _, rel := range r.rels["DOCUMENT"] {
		if rel.Relationship == "DESCRIBES" {
			out[rel.RefB.ElementRefID] = true
		}
	}
	for _, rels := range r.rels {
		for _, rel := range rels {
			if rel.Relationship == "DESCRIBED_BY" && rel.RefB.ElementRefID == "DOCUMENT" {
				out[rel.RefA.ElementRefID] = true
			}
		}
	}
	return out
}

// isImagePackage tells the described image (or directory) from a described package.
func isImagePackage(p *spdx.Package) bool {
	return p.PrimaryPackagePurpose == "CONTAINER" || p.PackageSPDXIdentifier == imageSPDXID ||
		strings.HasPrefix(string(p.PackageSPDXIdentifier), "DocumentRoot-") ||
		strings.HasPrefix(purlOf(p), "pkg:oci/")
}

func purlOf(p *spdx.Package) string {
	for _, ref := range p.PackageExternalReferences {
		if ref != nil && strings.EqualFold(ref.RefType, "purl") {
			return ref.Locator
		}
	}
	return ""
}

// annProps reads "KEY: VALUE" annotations: charter's keys as they are, Trivy's under
// its CycloneDX prefix, so one reader serves both formats.
func (r *spdxReader) annProps(id common.ElementID) props {
	p := props{}
	for _, c := range r.ann[id] {
		k, v, ok := strings.Cut(c, ": ")
		if !ok {
			continue
		}
		if !strings.HasPrefix(k, "charter:") {
			k = trivyPfx + k
		}
		p[k] = append(p[k], strings.TrimSpace(v))
	}
	return p
}

func (r *spdxReader) image(p *spdx.Package) {
	ap := r.annProps(p.PackageSPDXIdentifier)
	img := Image{Ref: ap.get(propImageRef), ID: ap.get(propImageID)}
	if img.Ref == "" {
		img.Ref = p.PackageName
	}
	if strings.HasPrefix(p.PackageVersion, "sha256:") {
		img.Digest = p.PackageVersion
	}
	if img.ID == "" {
		img.ID = ap.get(trivyPfx + trivyImageID)
	}
	if img.Digest == "" {
		if _, d, ok := strings.Cut(ap.get(trivyPfx+trivyRepoDigest), "@"); ok {
			img.Digest = d
		}
	}
	r.doc.Image = img
	r.doc.Layers = ap.imageLayers()
	if len(r.doc.Layers) == 0 {
		for _, d := range ap[trivyPfx+trivyDiffID] {
			r.doc.Layers = append(r.doc.Layers, Layer{DiffID: d})
		}
	}
}

func (r *spdxReader) distro(p *spdx.Package) {
	ap := r.annProps(p.PackageSPDXIdentifier)
	r.doc.Distro = &Distro{
		ID: p.PackageName, VersionID: p.PackageVersion,
		Codename: ap.get(propDistroCodeNm), Name: ap.get(propDistroName),
	}
	if r.doc.Distro.Name == "" {
		r.doc.Distro.Name = p.PackageDescription
	}
}

func (r *spdxReader) pkg(p *spdx.Package) (Package, bool) {
	var pkg Package
	pkg.Name, pkg.Version = p.PackageName, p.PackageVersion
	if pkg.Name == "" {
		return pkg, false
	}
	for _, ref := range p.PackageExternalReferences {
		if ref == nil {
			continue
		}
		switch strings.ToLower(ref.RefType) {
		case "purl":
			if pkg.PURL == "" {
				pkg.PURL = ref.Locator
			}
		case "cpe23type", "cpe22type":
			pkg.CPEs = append(pkg.CPEs, ref.Locator)
		}
	}
	lic := p.PackageLicenseDeclared
	if isNoLicense(lic) {
		lic = p.PackageLicenseConcluded
	}
	pkg.Licenses = r.licenses(lic)
	ap := r.annProps(p.PackageSPDXIdentifier)
	ap.apply(&pkg)
	if pkg.Source == nil {
		pkg.Source = sourceFromInfo(p.PackageSourceInfo)
	}
	r.related(p.PackageSPDXIdentifier, &pkg)
	if pkg.Ecosystem == "" && pkg.PURL == "" {
		pkg.Ecosystem = "generic"
	}
	return pkg, true
}

func isNoLicense(s string) bool { return s == "" || s == noAssertion || s == "NONE" }

// licenses splits a declared expression at its top-level ANDs (charter writes one part
// per declared licence) and turns LicenseRefs back into the names they stand for.
func (r *spdxReader) licenses(expr string) []string {
	if isNoLicense(expr) {
		return nil
	}
	var out []string
	for _, part := range splitAnd(expr) {
		if n, ok := r.licNames[part]; ok {
			part = n
		}
		out = append(out, part)
	}
	return out
}

// sourceFromInfo reads "built package from: NAME VERSION" (Trivy's and charter's
// sourceInfo).
func sourceFromInfo(s string) *report.PackageSource {
	rest, ok := strings.CutPrefix(s, "built package from: ")
	if !ok {
		return nil
	}
	name, version, _ := strings.Cut(strings.TrimSpace(rest), " ")
	if name == "" {
		return nil
	}
	return &report.PackageSource{Name: name, Version: strings.TrimSpace(version)}
}

// related reads the package's relationships to files: charter's CONTAINS (owned files,
// with their digests) and Syft's evident-by (the declaring file, and its layer).
func (r *spdxReader) related(id common.ElementID, pkg *Package) {
	var evident []string
	for _, rel := range r.rels[id] {
		f := r.files[rel.RefB.ElementRefID]
		if f == nil {
			continue
		}
		path := rooted(f.FileName)
		switch {
		case rel.Relationship == relContains:
			pkg.Files = append(pkg.Files, path)
			if len(f.Checksums) > 0 {
				if pkg.Digests == nil {
					pkg.Digests = map[string]string{}
				}
				c := f.Checksums[0]
				pkg.Digests[path] = strings.ToLower(string(c.Algorithm)) + ":" + c.Value
			}
		case rel.Relationship == "OTHER" && strings.HasPrefix(rel.RelationshipComment, "evident-by"):
			evident = append(evident, path)
			if layer, ok := strings.CutPrefix(f.FileComment, "layerID: "); ok && pkg.Layer == "" {
				pkg.Layer = strings.TrimSpace(layer)
			}
		}
	}
	if len(pkg.Locations) == 0 {
		sort.Strings(evident)
		pkg.Locations = evident
	}
}
