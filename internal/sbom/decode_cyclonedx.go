package sbom

import (
	"bytes"
	"fmt"
	"strings"

	cdx "github.com/CycloneDX/cyclonedx-go"
)

func decodeCycloneDX(data []byte, kind string, lim Limits) (doc *Document, err error) {
	defer recoverAs(&err, "CycloneDX")
	var bom cdx.BOM
	ff := cdx.BOMFileFormatJSON
	if kind == CycloneDXXML {
		ff = cdx.BOMFileFormatXML
	}
	if err := cdx.NewBOMDecoder(bytes.NewReader(data), ff).Decode(&bom); err != nil {
		return nil, fmt.Errorf("%w: invalid CycloneDX: %w", ErrNotSBOM, err)
	}
	if bom.SpecVersion == 0 {
		return nil, fmt.Errorf("%w: CycloneDX document without a known specVersion", ErrNotSBOM)
	}
	doc = &Document{Format: Format{Kind: kind, Version: bom.SpecVersion.String()}}
	if md := bom.Metadata; md != nil {
		doc.Producer, doc.Tool.Name, doc.Tool.Version = cdxProducer(md.Tools)
		if md.Component != nil {
			doc.cdxImage(md.Component)
		}
	}
	if bom.Components != nil {
		doc.cdxComponents(*bom.Components, 0, lim)
	}
	return doc, nil
}

func cdxProducer(t *cdx.ToolsChoice) (producer, name, version string) {
	if t == nil {
		return "", "", ""
	}
	if t.Components != nil {
		for _, c := range *t.Components {
			if c.Name != "" {
				return strings.TrimSpace(c.Name + " " + c.Version), c.Name, c.Version
			}
		}
	}
	if t.Tools != nil { //nolint:staticcheck // CycloneDX 1.4 documents still use the legacy tool list
		for _, c := range *t.Tools { //nolint:staticcheck // as above
			if c.Name != "" {
				return strings.TrimSpace(c.Name + " " + c.Version), c.Name, c.Version
			}
		}
	}
	return "", "", ""
}

func cdxProps(c *cdx.Component) props {
	p := props{}
	if c.Properties != nil {
		for _, pr := range *c.Properties {
			p[pr.Name] = append(p[pr.Name], pr.Value)
		}
	}
	return p
}

// cdxImage reads the described artifact: charter's properties, else Trivy's, else the
// component's own name and version (a digest when it is one).
func (doc *Document) cdxImage(c *cdx.Component) {
	p := cdxProps(c)
	doc.Image = Image{Ref: p.get(propImageRef), ID: p.get(propImageID)}
	if doc.Image.Ref == "" {
		doc.Image.Ref = c.Name
	}
	if strings.HasPrefix(c.Version, "sha256:") {
		doc.Image.Digest = c.Version
	}
	if doc.Image.ID == "" {
		doc.Image.ID = p.get(trivyPfx + trivyImageID)
	}
	if doc.Image.Digest == "" {
		if _, d, ok := strings.Cut(p.get(trivyPfx+trivyRepoDigest), "@"); ok {
			doc.Image.Digest = d
		}
	}
	doc.Layers = p.imageLayers()
	if len(doc.Layers) == 0 {
		for _, d := range p[trivyPfx+trivyDiffID] {
			doc.Layers = append(doc.Layers, Layer{DiffID: d})
		}
	}
}

// cdxComponents walks components and their nested components. Depth is bounded by
// checkJSONDepth/checkXMLDepth already; the counter guards the recursion regardless.
func (doc *Document) cdxComponents(cs []cdx.Component, depth int, lim Limits) {
	if depth > lim.MaxDepth {
		doc.warn("components nested too deep; the deeper ones were skipped")
		return
	}
	for i := range cs {
		c := &cs[i]
		switch c.Type {
		case cdx.ComponentTypeOS:
			if doc.Distro == nil {
				doc.Distro = cdxReadDistro(c)
			}
		case cdx.ComponentTypeFile, cdx.ComponentTypeContainer, cdx.ComponentTypeData,
			cdx.ComponentTypeDevice, cdx.ComponentTypeFirmware, cdx.ComponentTypePlatform,
			cdx.ComponentTypeMachineLearningModel, cdx.ComponentTypeCryptographicAsset:
			// Not packages.
		default:
			if len(doc.Packages) >= lim.MaxPackages+1 {
				return
			}
			if cdxProps(c).get(trivyPfx+trivyClass) != "" {
				break // Trivy's per-target aggregate ("Python", "app/package-lock.json")
			}
			if pkg, ok := cdxPackage(c); ok {
				doc.Packages = append(doc.Packages, pkg)
			} else {
				doc.warn(fmt.Sprintf("component %q has no name or purl; skipped", c.BOMRef))
			}
		}
		if c.Components != nil {
			doc.cdxComponents(*c.Components, depth+1, lim)
		}
	}
}

func cdxReadDistro(c *cdx.Component) *Distro {
	p := cdxProps(c)
	d := &Distro{ID: c.Name, VersionID: c.Version, Codename: p.get(propDistroCodeNm), Name: p.get(propDistroName)}
	if id := p.get(syftDistroID); id != "" {
		d.ID = id
	}
	if v := p.get(syftDistroVer); v != "" {
		d.VersionID = v
	}
	if d.Codename == "" {
		d.Codename = p.get(syftDistroCode)
	}
	if d.Name == "" {
		d.Name = p.get(syftDistroPretty)
	}
	if d.Name == "" {
		d.Name = c.Description
	}
	return d
}

func cdxPackage(c *cdx.Component) (Package, bool) {
	var pkg Package
	pkg.Name, pkg.Version, pkg.PURL = c.Name, c.Version, c.PackageURL
	if c.Group != "" && c.PackageURL == "" {
		pkg.Name = c.Group + "/" + c.Name
	}
	if pkg.Name == "" && pkg.PURL == "" {
		return pkg, false
	}
	if c.CPE != "" {
		pkg.CPEs = append(pkg.CPEs, c.CPE)
	}
	pkg.Licenses = cdxLicenseStrings(c.Licenses)
	p := cdxProps(c)
	p.apply(&pkg)
	pkg.CPEs = append(pkg.CPEs, p[syftCPE]...)
	if c.Evidence != nil && c.Evidence.Occurrences != nil {
		for _, o := range *c.Evidence.Occurrences {
			if o.Location != "" {
				pkg.Files = append(pkg.Files, o.Location)
			}
		}
	}
	if pkg.Ecosystem == "" && pkg.PURL == "" {
		pkg.Ecosystem = "generic"
	}
	return pkg, true
}

func cdxLicenseStrings(ls *cdx.Licenses) []string {
	if ls == nil {
		return nil
	}
	var out []string
	for _, l := range *ls {
		switch {
		case l.Expression != "":
			out = append(out, l.Expression)
		case l.License != nil && l.License.ID != "":
			out = append(out, l.License.ID)
		case l.License != nil && l.License.Name != "":
			out = append(out, l.License.Name)
		}
	}
	return out
}

// recoverAs turns a panic inside a third-party decoder into an error: hostile input
// must never crash charter, whichever library it reaches.
func recoverAs(err *error, what string) {
	if r := recover(); r != nil {
		*err = fmt.Errorf("%w: malformed %s document (decoder failed: %v)", ErrNotSBOM, what, r)
	}
}
