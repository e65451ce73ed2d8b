package sbom

import (
	_ "embed"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	cdx "github.com/CycloneDX/cyclonedx-go"
	packageurl "github.com/package-url/packageurl-go"
)

// imageRef is the bom-ref of the described image (the metadata component).
const imageRef = "charter:image"

var cdxVersions = map[string]cdx.SpecVersion{"1.5": cdx.SpecVersion1_5, "1.6": cdx.SpecVersion1_6}

// EncodeCycloneDX writes inv as a CycloneDX BOM: f.Kind CycloneDXJSON or CycloneDXXML,
// f.Version "1.6" (the default) or "1.5".
func EncodeCycloneDX(w io.Writer, inv *Inventory, f Format, opt Options) error {
	spec, ok := cdxVersions[f.Version]
	if !ok {
		return fmt.Errorf("%w: CycloneDX version %q (want 1.6 or 1.5)", ErrUnknownFormat, f.Version)
	}
	var enc cdx.BOMEncoder
	switch f.Kind {
	case CycloneDXJSON:
		enc = cdx.NewBOMEncoder(w, cdx.BOMFileFormatJSON).SetEscapeHTML(false)
	case CycloneDXXML:
		enc = cdx.NewBOMEncoder(w, cdx.BOMFileFormatXML)
	default:
		return fmt.Errorf("%w %q", ErrUnknownFormat, f.Kind)
	}
	bom := cycloneDXBOM(inv, f, opt)
	if err := enc.SetPretty(true).EncodeVersion(bom, spec); err != nil {
		return fmt.Errorf("encoding CycloneDX: %w", err)
	}
	if f.Kind == CycloneDXXML { // the JSON encoder ends with a newline; match it
		_, err := io.WriteString(w, "\n")
		return err
	}
	return nil
}

func cycloneDXBOM(inv *Inventory, f Format, opt Options) *cdx.BOM {
	created := opt.now().Format(time.RFC3339)
	bom := cdx.NewBOM()
	bom.SerialNumber = "urn:uuid:" + docUUID(inv, f, created)
	root := cdxImage(inv)
	bom.Metadata = &cdx.Metadata{
		Timestamp: created,
		Tools: &cdx.ToolsChoice{Components: &[]cdx.Component{{
			Type: cdx.ComponentTypeApplication, Name: inv.Tool.Name, Version: inv.Tool.Version,
		}}},
		Component: root,
	}
	var comps []cdx.Component
	var refs []string
	if d := inv.Distro; d != nil && d.ID != "" {
		os := cdxDistro(d)
		comps = append(comps, os)
		refs = append(refs, os.BOMRef)
	}
	pkgs := sorted(inv.Packages)
	ids := uniqueIDs{imageRef: 1}
	for _, r := range refs {
		ids.take(r)
	}
	purls := map[string]int{}
	for i := range pkgs {
		purls[pkgs[i].PURL]++
	}
	for i := range pkgs {
		c := cdxComponent(inv, &pkgs[i], opt)
		c.BOMRef = ids.take(bomRef(&pkgs[i], purls[pkgs[i].PURL] == 1))
		comps = append(comps, c)
		refs = append(refs, c.BOMRef)
	}
	if len(comps) > 0 {
		bom.Components = &comps
		bom.Dependencies = &[]cdx.Dependency{{Ref: root.BOMRef, Dependencies: &refs}}
	}
	return bom
}

// bomRef prefers the purl, which readers show and match on; a package without one, or
// whose purl another package shares (one npm package installed at two paths), gets a
// digest of its identity.
func bomRef(p *Package, uniquePURL bool) string {
	if p.PURL != "" && uniquePURL {
		return p.PURL
	}
	return "charter:pkg:" + digestOf(identity(p)...)
}

func cdxImage(inv *Inventory) *cdx.Component {
	c := &cdx.Component{
		BOMRef: imageRef, Type: cdx.ComponentTypeContainer,
		Name: inv.Image.Ref, Version: inv.Image.Digest,
		PackageURL: ociPURL(inv.Image.Ref, inv.Image.Digest),
	}
	if c.Name == "" {
		c.Name = "unnamed"
	}
	var props []cdx.Property
	add := func(k, v string) {
		if v != "" {
			props = append(props, cdx.Property{Name: k, Value: v})
		}
	}
	add(propImageRef, inv.Image.Ref)
	add(propImageID, inv.Image.ID)
	for i, l := range inv.Layers {
		pfx := propImageLayer + strconv.Itoa(i) + ":"
		add(pfx+"diffID", l.DiffID)
		add(pfx+"createdBy", l.CreatedBy)
		add(pfx+"base", strconv.FormatBool(l.Base))
	}
	if len(props) > 0 {
		c.Properties = &props
	}
	return c
}

func cdxDistro(d *Distro) cdx.Component {
	c := cdx.Component{
		BOMRef: "charter:os:" + d.ID + "@" + d.VersionID,
		Type:   cdx.ComponentTypeOS, Name: d.ID, Version: d.VersionID, Description: d.Name,
	}
	var props []cdx.Property
	if d.Codename != "" {
		props = append(props, cdx.Property{Name: propDistroCodeNm, Value: d.Codename})
	}
	if d.Name != "" {
		props = append(props, cdx.Property{Name: propDistroName, Value: d.Name})
	}
	if len(props) > 0 {
		c.Properties = &props
	}
	return c
}

func cdxComponent(inv *Inventory, p *Package, opt Options) cdx.Component {
	c := cdx.Component{
		Type: cdx.ComponentTypeLibrary, Name: p.Name, Version: p.Version, PackageURL: p.PURL,
	}
	if p.Unmanaged {
		c.Type = cdx.ComponentTypeApplication
	}
	if purl, err := packageurl.FromString(p.PURL); err == nil && purl.Type == packageurl.TypeMaven {
		c.Group = purl.Namespace
	}
	if len(p.CPEs) > 0 {
		c.CPE = p.CPEs[0]
	}
	if ls := cdxLicenses(p.Licenses); ls != nil {
		c.Licenses = ls
	}
	props := packageProps(inv, p)
	for _, cpe := range p.CPEs[min(1, len(p.CPEs)):] {
		props = append(props, prop{propCPE, cpe})
	}
	if len(props) > 0 {
		cp := make([]cdx.Property, len(props))
		for i, pr := range props {
			cp[i] = cdx.Property{Name: pr.name, Value: pr.value}
		}
		c.Properties = &cp
	}
	if opt.Files && len(p.Files) > 0 {
		occ := make([]cdx.EvidenceOccurrence, len(p.Files))
		for i, f := range p.Files {
			occ[i] = cdx.EvidenceOccurrence{Location: f}
		}
		c.Evidence = &cdx.Evidence{Occurrences: &occ}
	}
	return c
}

type prop struct{ name, value string }

// packageProps are the charter: properties of one package, in a fixed order; both
// formats carry the same list.
func packageProps(inv *Inventory, p *Package) []prop {
	var out []prop
	add := func(k, v string) {
		if v != "" {
			out = append(out, prop{k, v})
		}
	}
	add(propEcosystem, p.Ecosystem)
	add(propArch, p.Arch)
	if s := p.Source; s != nil {
		add(propSourceName, s.Name)
		add(propSourceVersion, s.Version)
	}
	for _, l := range p.Locations {
		add(propLocation, l)
	}
	add(propLayerDiffID, inv.layerDiffID(p))
	if p.LayerIndex != nil {
		add(propLayerIndex, strconv.Itoa(*p.LayerIndex))
	}
	add(propInstruction, inv.instruction(p))
	if p.Layer != "" || p.LayerIndex != nil || p.Base {
		add(propBase, strconv.FormatBool(p.Base))
	}
	if p.ChangedLayerIndex != nil {
		add(propChangedIndex, strconv.Itoa(*p.ChangedLayerIndex))
	}
	if p.Unmanaged {
		add(propUnmanaged, "true")
	}
	return out
}

// cdxLicenseIDs are the SPDX licence identifiers the CycloneDX schema accepts as a
// license id (its spdx.schema.json enum). The schema's list is older than the SPDX
// licence list charter validates with, so a newer identifier is written as a name, which
// keeps every document valid. TestCycloneDXLicenseIDs keeps the file in step with the
// cyclonedx-go module's schema.
//
//go:embed cdxlicenses.txt
var cdxLicenseList string

var cdxLicenseIDs = func() map[string]bool {
	m := map[string]bool{}
	for _, id := range strings.Fields(cdxLicenseList) {
		m[id] = true
	}
	return m
}()

// cdxLicenses writes SPDX identifiers as ids, a lone expression as an expression (the
// schema allows one expression and nothing beside it), and everything else as names.
func cdxLicenses(ls []string) *cdx.Licenses {
	if len(ls) == 0 {
		return nil
	}
	if len(ls) == 1 {
		if k, v := classifyLicense(ls[0]); k == licenseExpression {
			return &cdx.Licenses{{Expression: v}}
		}
	}
	out := make(cdx.Licenses, 0, len(ls))
	for _, l := range ls {
		k, v := classifyLicense(l)
		if k != licenseName && cdxLicenseIDs[v] {
			out = append(out, cdx.LicenseChoice{License: &cdx.License{ID: v}})
		} else if v != "" {
			out = append(out, cdx.LicenseChoice{License: &cdx.License{Name: v}})
		}
	}
	if len(out) == 0 {
		return nil
	}
	return &out
}
