package sbom

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	spdxjson "github.com/spdx/tools-golang/json"
	"github.com/spdx/tools-golang/spdx"
	"github.com/spdx/tools-golang/spdx/v2/common"
	"github.com/spdx/tools-golang/tagvalue"
)

// spdxNamespaceBase starts every document namespace charter writes. SPDX wants a unique
// URI per document; it is an identifier, never fetched.
const spdxNamespaceBase = "https://github.com/charterhq/charter/spdx/"

const (
	// purposeOS is the JSON spelling; tag-value spells it OPERATING-SYSTEM.
	purposeOS   = "OPERATING_SYSTEM"
	noAssertion = "NOASSERTION"
	imageSPDXID = "Image"
	relContains = "CONTAINS"
)

// EncodeSPDX writes inv as an SPDX 2.3 document: f.Kind SPDXJSON or SPDXTagValue.
func EncodeSPDX(w io.Writer, inv *Inventory, f Format, opt Options) error {
	if f.Version != "2.3" {
		return fmt.Errorf("%w: SPDX version %q (want 2.3)", ErrUnknownFormat, f.Version)
	}
	doc := spdxDocument(inv, f, opt)
	var err error
	switch f.Kind {
	case SPDXJSON:
		err = spdxjson.Write(doc, w, spdxjson.Indent("  "), spdxjson.EscapeHTML(false))
	case SPDXTagValue:
		hoistAnnotations(doc)
		for _, p := range doc.Packages {
			p.PrimaryPackagePurpose = strings.ReplaceAll(p.PrimaryPackagePurpose, "_", "-")
		}
		tagValueSafe(doc)
		err = tagvalue.Write(doc, w)
	default:
		return fmt.Errorf("%w %q", ErrUnknownFormat, f.Kind)
	}
	if err != nil {
		return fmt.Errorf("encoding SPDX: %w", err)
	}
	return nil
}

// spdxWriter builds one document; it keeps the identifiers and licence references
// handed out so far.
type spdxWriter struct {
	inv      *Inventory
	opt      Options
	created  string
	ids      uniqueIDs
	doc      *spdx.Document
	licRefs  map[string]string // licence name → LicenseRef-…
	licTaken uniqueIDs
}

func spdxDocument(inv *Inventory, f Format, opt Options) *spdx.Document {
	created := opt.now().Format(time.RFC3339)
	name := inv.Image.Ref
	if name == "" {
		name = "unnamed"
	}
	sw := &spdxWriter{
		inv: inv, opt: opt, created: created,
		ids: uniqueIDs{"DOCUMENT": 1, imageSPDXID: 1}, licRefs: map[string]string{}, licTaken: uniqueIDs{},
	}
	sw.doc = &spdx.Document{
		SPDXVersion: spdx.Version, DataLicense: spdx.DataLicense,
		SPDXIdentifier: "DOCUMENT", DocumentName: name,
		DocumentNamespace: spdxNamespaceBase + spdxIDChars(name) + "-" + docUUID(inv, f, created),
		CreationInfo: &spdx.CreationInfo{
			Creators: []common.Creator{{CreatorType: "Tool", Creator: inv.Tool.Name + "-" + inv.Tool.Version}},
			Created:  created,
		},
	}
	root := sw.imagePackage()
	sw.doc.Packages = append(sw.doc.Packages, root)
	sw.relate("DOCUMENT", imageSPDXID, "DESCRIBES")
	osID := ""
	if d := inv.Distro; d != nil && d.ID != "" {
		osID = sw.ids.take("OperatingSystem-" + spdxIDChars(d.ID+"-"+d.VersionID))
		sw.doc.Packages = append(sw.doc.Packages, sw.distroPackage(d, osID))
		sw.relate(imageSPDXID, osID, relContains)
	}
	pkgs := sorted(inv.Packages)
	for i := range pkgs {
		p := &pkgs[i]
		id := sw.ids.take("Package-" + spdxIDChars(p.Ecosystem+"-"+p.Name) + "-" + digestOf(identity(p)...))
		sw.doc.Packages = append(sw.doc.Packages, sw.pkg(p, id))
		parent := imageSPDXID
		if osID != "" && isOSEcosystem(p.Ecosystem) {
			parent = osID
		}
		sw.relate(parent, id, relContains)
		if opt.Files {
			sw.files(p, id)
		}
	}
	sort.SliceStable(sw.doc.OtherLicenses, func(i, j int) bool {
		return sw.doc.OtherLicenses[i].LicenseIdentifier < sw.doc.OtherLicenses[j].LicenseIdentifier
	})
	return sw.doc
}

func isOSEcosystem(e string) bool { return e == "deb" || e == "apk" || e == "rpm" }

func (sw *spdxWriter) relate(a, b, typ string) {
	sw.doc.Relationships = append(sw.doc.Relationships, &spdx.Relationship{
		RefA: common.MakeDocElementID("", a), RefB: common.MakeDocElementID("", b), Relationship: typ,
	})
}

func (sw *spdxWriter) annotations(props []prop) []spdx.Annotation {
	out := make([]spdx.Annotation, 0, len(props))
	for _, p := range props {
		out = append(out, spdx.Annotation{
			Annotator:      common.Annotator{AnnotatorType: "Tool", Annotator: sw.inv.Tool.Name + "-" + sw.inv.Tool.Version},
			AnnotationDate: sw.created, AnnotationType: "OTHER",
			AnnotationComment: p.name + ": " + p.value,
		})
	}
	return out
}

func (sw *spdxWriter) imagePackage() *spdx.Package {
	img := sw.inv.Image
	p := &spdx.Package{
		PackageName: sw.doc.DocumentName, PackageSPDXIdentifier: imageSPDXID,
		PackageVersion: img.Digest, PackageDownloadLocation: noAssertion,
		PrimaryPackagePurpose: "CONTAINER",
	}
	if alg, hex, ok := strings.Cut(img.Digest, ":"); ok && alg == "sha256" && hex != "" {
		p.PackageChecksums = []common.Checksum{{Algorithm: common.SHA256, Value: hex}}
	}
	if purl := ociPURL(img.Ref, img.Digest); purl != "" {
		p.PackageExternalReferences = []*spdx.PackageExternalReference{{
			Category: common.CategoryPackageManager, RefType: common.TypePackageManagerPURL, Locator: purl,
		}}
	}
	props := []prop{}
	add := func(k, v string) {
		if v != "" {
			props = append(props, prop{k, v})
		}
	}
	add(propImageRef, img.Ref)
	add(propImageID, img.ID)
	for i, l := range sw.inv.Layers {
		pfx := fmt.Sprintf("%s%d:", propImageLayer, i)
		add(pfx+"diffID", l.DiffID)
		add(pfx+"createdBy", l.CreatedBy)
		add(pfx+"base", fmt.Sprint(l.Base))
	}
	p.Annotations = sw.annotations(props)
	return p
}

func (sw *spdxWriter) distroPackage(d *Distro, id string) *spdx.Package {
	p := &spdx.Package{
		PackageName: d.ID, PackageSPDXIdentifier: common.ElementID(id), PackageVersion: d.VersionID,
		PackageDownloadLocation: noAssertion, PrimaryPackagePurpose: purposeOS,
		PackageDescription: d.Name,
	}
	var props []prop
	if d.Codename != "" {
		props = append(props, prop{propDistroCodeNm, d.Codename})
	}
	if d.Name != "" {
		props = append(props, prop{propDistroName, d.Name})
	}
	p.Annotations = sw.annotations(props)
	return p
}

func (sw *spdxWriter) pkg(p *Package, id string) *spdx.Package {
	sp := &spdx.Package{
		PackageName: p.Name, PackageSPDXIdentifier: common.ElementID(id), PackageVersion: p.Version,
		PackageDownloadLocation: noAssertion, PrimaryPackagePurpose: "LIBRARY",
		PackageLicenseConcluded: noAssertion, PackageLicenseDeclared: sw.licenseExpr(p.Licenses),
		PackageCopyrightText: noAssertion,
	}
	if p.Unmanaged {
		sp.PrimaryPackagePurpose = "APPLICATION"
	}
	if s := p.Source; s != nil && s.Name != "" {
		sp.PackageSourceInfo = strings.TrimSpace("built package from: " + s.Name + " " + s.Version)
	}
	if p.PURL != "" {
		sp.PackageExternalReferences = append(sp.PackageExternalReferences, &spdx.PackageExternalReference{
			Category: common.CategoryPackageManager, RefType: common.TypePackageManagerPURL, Locator: p.PURL,
		})
	}
	for _, cpe := range p.CPEs {
		typ := common.TypeSecurityCPE23Type
		if strings.HasPrefix(cpe, "cpe:/") {
			typ = common.TypeSecurityCPE22Type
		}
		sp.PackageExternalReferences = append(sp.PackageExternalReferences, &spdx.PackageExternalReference{
			Category: common.CategorySecurity, RefType: typ, Locator: cpe,
		})
	}
	sp.Annotations = sw.annotations(packageProps(sw.inv, p))
	return sp
}

// licenseExpr joins the declared licences with AND. A compound expression is wrapped in
// parentheses so that reading it back gives the same list; a name that is no SPDX
// expression becomes a LicenseRef with the name as its extracted text.
func (sw *spdxWriter) licenseExpr(ls []string) string {
	var parts []string
	for _, l := range ls {
		k, v := classifyLicense(l)
		switch {
		case v == "":
			continue
		case k == licenseID:
			parts = append(parts, v)
		case k == licenseExpression && strings.ContainsAny(v, " ()"):
			parts = append(parts, "("+v+")")
		case k == licenseExpression:
			parts = append(parts, v)
		default:
			parts = append(parts, sw.licenseRef(v))
		}
	}
	if len(parts) == 0 {
		return noAssertion
	}
	return strings.Join(parts, " AND ")
}

func (sw *spdxWriter) licenseRef(name string) string {
	if ref, ok := sw.licRefs[name]; ok {
		return ref
	}
	base := spdxIDChars(name)
	if base == "" {
		base = digestOf(name)
	}
	ref := sw.licTaken.take("LicenseRef-" + base)
	sw.licRefs[name] = ref
	sw.doc.OtherLicenses = append(sw.doc.OtherLicenses, &spdx.OtherLicense{
		LicenseIdentifier: ref, ExtractedText: name, LicenseName: name,
	})
	return ref
}

// spdxChecksumAlgorithms maps the package managers' digest prefixes to SPDX's names.
var spdxChecksumAlgorithms = map[string]common.ChecksumAlgorithm{
	"md5": common.MD5, "sha1": common.SHA1, "sha256": common.SHA256, "sha512": common.SHA512,
}

// files adds the package's owned files that have a digest (SPDX requires a checksum on
// every file), each CONTAINed by the package.
func (sw *spdxWriter) files(p *Package, pkgID string) {
	for _, path := range p.Files {
		alg, hex, ok := strings.Cut(p.Digests[path], ":")
		sa, known := spdxChecksumAlgorithms[alg]
		if !ok || !known || hex == "" {
			continue
		}
		id := sw.ids.take("File-" + digestOf(pkgID, path))
		sw.doc.Files = append(sw.doc.Files, &spdx.File{
			FileName: spdxFileName(path), FileSPDXIdentifier: common.ElementID(id),
			Checksums:        []common.Checksum{{Algorithm: sa, Value: strings.ToLower(hex)}},
			LicenseConcluded: noAssertion, FileCopyrightText: noAssertion,
		})
		sw.relate(pkgID, id, relContains)
	}
}

// spdxFileName writes a rooted path the way SPDX wants file names: relative to the
// package root, starting with "./".
func spdxFileName(p string) string {
	if strings.HasPrefix(p, "/") {
		return "." + p
	}
	return p
}

// hoistAnnotations moves package annotations to the document, each naming its package:
// tag-value has no per-package annotation block, only SPDXREF lines.
func hoistAnnotations(doc *spdx.Document) {
	for _, p := range doc.Packages {
		for i := range p.Annotations {
			a := p.Annotations[i]
			a.AnnotationSPDXIdentifier = common.MakeDocElementID("", string(p.PackageSPDXIdentifier))
			doc.Annotations = append(doc.Annotations, &a)
		}
		p.Annotations = nil
	}
}

// Tag-value is line-based: a value read from an image (a package name, a history
// instruction) could otherwise end its line or its <text> block and add lines of its
// own — a package that is not there, say. Values that must stay on one line lose their
// line breaks; every value has its <text> markers broken up; locators lose whitespace.
var (
	oneLine  = strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ", "<text>", "< text>", "</text>", "</ text>")
	textSafe = strings.NewReplacer("<text>", "< text>", "</text>", "</ text>")
	noSpace  = strings.NewReplacer(" ", "%20", "\t", "%09", "\r", "%0D", "\n", "%0A")
)

func tagValueSafe(doc *spdx.Document) {
	doc.DocumentName = oneLine.Replace(doc.DocumentName)
	for _, p := range doc.Packages {
		p.PackageName = oneLine.Replace(p.PackageName)
		p.PackageVersion = oneLine.Replace(p.PackageVersion)
		p.PackageLicenseDeclared = oneLine.Replace(p.PackageLicenseDeclared)
		p.PackageSourceInfo = textSafe.Replace(p.PackageSourceInfo)
		p.PackageDescription = textSafe.Replace(p.PackageDescription)
		for _, r := range p.PackageExternalReferences {
			r.Locator = noSpace.Replace(r.Locator)
		}
	}
	for _, f := range doc.Files {
		f.FileName = oneLine.Replace(f.FileName)
	}
	for _, a := range doc.Annotations {
		a.AnnotationComment = textSafe.Replace(a.AnnotationComment)
	}
	for _, l := range doc.OtherLicenses {
		l.LicenseName = oneLine.Replace(l.LicenseName)
		l.ExtractedText = textSafe.Replace(l.ExtractedText)
	}
}
