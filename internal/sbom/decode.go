package sbom

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	packageurl "github.com/package-url/packageurl-go"

	"github.com/charterhq/charter/internal/report"
)

// Limits bound what Decode accepts, so a hostile document cannot exhaust memory or
// stack. They are kept here, in one place.
type Limits struct {
	// MaxBytes is the largest document read (default 256 MiB).
	MaxBytes int64
	// MaxDepth is the deepest nesting of JSON values or XML elements (default 64; real
	// SBOMs stay under 15).
	MaxDepth int
	// MaxPackages is the most packages returned (default 1,000,000).
	MaxPackages int
}

// DefaultLimits are generous for any real image and small enough for a CI runner.
var DefaultLimits = Limits{MaxBytes: 256 << 20, MaxDepth: 64, MaxPackages: 1_000_000}

func (l Limits) withDefaults() Limits {
	if l.MaxBytes <= 0 {
		l.MaxBytes = DefaultLimits.MaxBytes
	}
	if l.MaxDepth <= 0 {
		l.MaxDepth = DefaultLimits.MaxDepth
	}
	if l.MaxPackages <= 0 {
		l.MaxPackages = DefaultLimits.MaxPackages
	}
	return l
}

// Document is a decoded SBOM.
type Document struct {
	// Format is what the document turned out to be ("cyclonedx-json@1.6").
	Format Format
	// Producer names the tool that wrote it, as the document says ("syft 1.20.0").
	Producer string
	// Inventory holds the image, distro, layers and packages the document describes.
	// Fields the document does not carry stay empty; Tool is the producer's.
	Inventory
	// Warnings are parts of the document that were skipped (a component without a
	// name, an unparsable purl); data, not log lines.
	Warnings []string
}

// maxWarnings bounds Document.Warnings: a hostile document could otherwise make one per
// component.
const maxWarnings = 100

func (doc *Document) warn(w string) {
	switch {
	case len(doc.Warnings) < maxWarnings:
		doc.Warnings = append(doc.Warnings, w)
	case len(doc.Warnings) == maxWarnings:
		doc.Warnings = append(doc.Warnings, "more warnings left out")
	}
}

// ErrNotSBOM is returned for input that is neither CycloneDX nor SPDX.
var ErrNotSBOM = errors.New("not a CycloneDX or SPDX document")

// ErrTooLarge is returned when the input passes one of the Limits.
var ErrTooLarge = errors.New("SBOM exceeds a limit")

// Decode reads a CycloneDX (1.2–1.6 JSON or XML) or SPDX (2.2/2.3 JSON or tag-value)
// document, detecting which from its content. A zero Limits means DefaultLimits.
func Decode(r io.Reader, lim Limits) (*Document, error) {
	lim = lim.withDefaults()
	data, err := io.ReadAll(io.LimitReader(r, lim.MaxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("reading SBOM: %w", err)
	}
	if int64(len(data)) > lim.MaxBytes {
		return nil, fmt.Errorf("%w: larger than %d bytes", ErrTooLarge, lim.MaxBytes)
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	trimmed := bytes.TrimLeft(data, " \t\r\n")
	var doc *Document
	switch {
	case len(trimmed) == 0:
		return nil, fmt.Errorf("%w: empty input", ErrNotSBOM)
	case trimmed[0] == '{':
		doc, err = decodeJSON(trimmed, lim)
	case trimmed[0] == '<':
		doc, err = decodeXML(trimmed, lim)
	case looksLikeTagValue(trimmed):
		doc, err = decodeSPDXTagValue(trimmed, lim)
	default:
		return nil, ErrNotSBOM
	}
	if err != nil {
		return nil, err
	}
	if len(doc.Packages) > lim.MaxPackages {
		return nil, fmt.Errorf("%w: more than %d packages", ErrTooLarge, lim.MaxPackages)
	}
	doc.finish()
	return doc, nil
}

func decodeJSON(data []byte, lim Limits) (*Document, error) {
	head, err := scanJSON(data, lim.MaxDepth)
	if err != nil {
		return nil, err
	}
	switch {
	case strings.EqualFold(head.bomFormat, "CycloneDX"):
		return decodeCycloneDX(data, CycloneDXJSON, lim)
	case strings.HasPrefix(head.spdxVersion, "SPDX-"):
		return decodeSPDXJSON(data, head.spdxVersion, lim)
	}
	return nil, fmt.Errorf("%w: JSON without bomFormat \"CycloneDX\" or spdxVersion", ErrNotSBOM)
}

func decodeXML(data []byte, lim Limits) (*Document, error) {
	ns, err := checkXMLDepth(data, lim.MaxDepth)
	if err != nil {
		return nil, err
	}
	if !strings.HasPrefix(ns, "http://cyclonedx.org/schema/bom/") {
		return nil, fmt.Errorf("%w: XML root is not a CycloneDX bom (SPDX RDF/XML is not read)", ErrNotSBOM)
	}
	return decodeCycloneDX(data, CycloneDXXML, lim)
}

func looksLikeTagValue(b []byte) bool {
	for len(b) > 0 {
		line := b
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			line, b = b[:i], b[i+1:]
		} else {
			b = nil
		}
		line = bytes.TrimSpace(line)
		if len(line) == 0 || line[0] == '#' {
			continue
		}
		return bytes.HasPrefix(line, []byte("SPDXVersion:"))
	}
	return false
}

// jsonHead holds the top-level fields that say what a JSON document is.
type jsonHead struct{ bomFormat, spdxVersion string }

// scanJSON reads the top-level bomFormat and spdxVersion strings and refuses JSON nested
// deeper than maxDepth, in one pass without decoding: cheaper than a parse, and neither
// the decoder nor the walks over nested components can then be driven deep. Syntax
// errors are left to the decoder.
func scanJSON(b []byte, maxDepth int) (jsonHead, error) {
	var h jsonHead
	depth := 0
	expectKey, haveKey := false, false
	var key []byte
	for i := 0; i < len(b); i++ {
		switch b[i] {
		case '"':
			j := i + 1
			for j < len(b) && b[j] != '"' {
				if b[j] == '\\' {
					j++
				}
				j++
			}
			if j > len(b) {
				j = len(b)
			}
			if depth == 1 {
				str := b[i+1 : j]
				switch {
				case expectKey:
					key, expectKey, haveKey = str, false, true
				case haveKey:
					switch string(key) {
					case "bomFormat":
						h.bomFormat = string(str)
					case "spdxVersion":
						h.spdxVersion = string(str)
					}
					haveKey = false
				}
			}
			i = j
		case '{', '[':
			depth++
			if depth > maxDepth {
				return h, fmt.Errorf("%w: nested deeper than %d", ErrTooLarge, maxDepth)
			}
			if depth == 1 && b[i] == '{' {
				expectKey = true
			}
			haveKey = haveKey && depth == 1
		case '}', ']':
			depth--
		case ',':
			if depth == 1 {
				expectKey, haveKey = true, false
			}
		}
	}
	return h, nil
}

// checkXMLDepth refuses XML nested deeper than max and returns the root element's
// namespace.
func checkXMLDepth(b []byte, maxDepth int) (string, error) {
	d := xml.NewDecoder(bytes.NewReader(b))
	depth, ns := 0, ""
	for {
		tok, err := d.RawToken()
		if errors.Is(err, io.EOF) {
			return ns, nil
		}
		if err != nil {
			return "", fmt.Errorf("%w: invalid XML: %w", ErrNotSBOM, err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if depth == 0 && ns == "" {
				for _, a := range t.Attr {
					if a.Name.Space == "" && a.Name.Local == "xmlns" {
						ns = a.Value
					}
				}
			}
			depth++
			if depth > maxDepth {
				return "", fmt.Errorf("%w: nested deeper than %d", ErrTooLarge, maxDepth)
			}
		case xml.EndElement:
			depth--
		}
	}
}

// finish completes packages from what the document says elsewhere: layer indexes and
// instructions from the image's layer list, ecosystems, architectures and sources from
// purls, the distro from an OS package's purl; then sorts them.
func (doc *Document) finish() {
	index := map[string]int{}
	for i, l := range doc.Layers {
		if _, ok := index[l.DiffID]; !ok && l.DiffID != "" {
			index[l.DiffID] = i
		}
	}
	for i := range doc.Packages {
		p := &doc.Packages[i]
		fromPURL(&p.Package)
		if p.LayerIndex == nil && p.Layer != "" {
			if li, ok := index[p.Layer]; ok {
				p.LayerIndex = &li
			}
		}
		if p.LayerIndex != nil && *p.LayerIndex >= 0 && *p.LayerIndex < len(doc.Layers) {
			l := doc.Layers[*p.LayerIndex]
			if p.Layer == "" {
				p.Layer = l.DiffID
			}
			if p.Instruction == "" {
				p.Instruction = l.CreatedBy
			}
		}
		if doc.Distro == nil && isOSEcosystem(p.Ecosystem) {
			doc.Distro = distroFromPURL(p.PURL)
		}
	}
	doc.Packages = sorted(doc.Packages)
}

// fromPURL fills what a package URL says and the document did not.
func fromPURL(p *report.Package) {
	if p.PURL == "" {
		return
	}
	u, err := packageurl.FromString(p.PURL)
	if err != nil {
		return
	}
	if p.Ecosystem == "" {
		p.Ecosystem = u.Type
	}
	q := u.Qualifiers.Map()
	if p.Arch == "" {
		p.Arch = q["arch"]
	}
	if p.Source == nil && q["upstream"] != "" {
		name, version, _ := strings.Cut(q["upstream"], "@")
		if version == "" && (name != p.Name || u.Type == "rpm") {
			version = p.Version
		}
		p.Source = &report.PackageSource{Name: name, Version: version}
	}
	if p.Name == "" {
		p.Name = u.Name
		if u.Namespace != "" && u.Type != packageurl.TypeMaven && u.Type != packageurl.TypeDebian &&
			u.Type != packageurl.TypeApk && u.Type != packageurl.TypeRPM {
			p.Name = u.Namespace + "/" + u.Name
		}
	}
	if p.Version == "" {
		p.Version = u.Version
	}
}

// distroFromPURL reads pkg:deb/debian/x@v?distro=debian-12 (or Trivy's distro=12.8 with
// the namespace as the ID).
func distroFromPURL(purl string) *Distro {
	u, err := packageurl.FromString(purl)
	if err != nil || u.Namespace == "" {
		return nil
	}
	d := &Distro{ID: u.Namespace}
	q := u.Qualifiers.Map()["distro"]
	switch {
	case strings.HasPrefix(q, u.Namespace+"-"):
		d.VersionID = strings.TrimPrefix(q, u.Namespace+"-")
	case q != "" && (q[0] >= '0' && q[0] <= '9'):
		d.VersionID = q
	}
	return d
}

// ecosystemOf maps a producer's package type to charter's ecosystem (the purl type).
var ecosystemOf = map[string]string{
	// Syft's syft:package:type.
	"deb": "deb", "apk": "apk", "rpm": "rpm", "python": "pypi", "go-module": "golang",
	"java-archive": "maven", "jenkins-plugin": "maven", "npm": "npm", "rust-crate": "cargo",
	"gem": "gem", "php-composer": "composer", "dotnet": "nuget", "binary": "generic",
	// Trivy's PkgType.
	"debian": "deb", "ubuntu": "deb", "alpine": "apk", "wolfi": "apk", "chainguard": "apk",
	"redhat": "rpm", "centos": "rpm", "rocky": "rpm", "alma": "rpm", "amazon": "rpm",
	"oracle": "rpm", "fedora": "rpm", "photon": "rpm", "suse linux enterprise server": "rpm",
	"opensuse.leap": "rpm", "cbl-mariner": "rpm", "azurelinux": "rpm",
	"python-pkg": "pypi", "pip": "pypi", "pipenv": "pypi", "poetry": "pypi", "uv": "pypi",
	"gobinary": "golang", "gomod": "golang", "jar": "maven", "pom": "maven", "gradle": "maven",
	"node-pkg": "npm", "yarn": "npm", "pnpm": "npm", "cargo": "cargo", "rustbinary": "cargo",
	"gemspec": "gem", "bundler": "gem", "composer": "composer", "composer-vendor": "composer",
	"nuget": "nuget", "dotnet-core": "nuget", "packages-props": "nuget",
}

// props is a component's name → values, in document order.
type props map[string][]string

func (p props) get(k string) string {
	if v := p[k]; len(v) > 0 {
		return v[0]
	}
	return ""
}

func (p props) bool(k string) bool { return p.get(k) == "true" }

func (p props) int(k string) *int {
	s := p.get(k)
	if s == "" {
		return nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 || n > 1<<20 {
		return nil
	}
	return &n
}

// apply reads the charter: properties, then Syft's and Trivy's, into p: the first
// source that has a field wins.
func (p props) apply(pkg *Package) {
	if e := p.get(propEcosystem); e != "" {
		pkg.Ecosystem = e
	} else if e := ecosystemOf[p.get(syftPackageType)]; e != "" && pkg.PURL == "" {
		pkg.Ecosystem = e
	} else if e := ecosystemOf[strings.ToLower(p.get(trivyPfx+trivyPkgType))]; e != "" && pkg.PURL == "" {
		pkg.Ecosystem = e
	}
	pkg.Arch = p.get(propArch)
	pkg.Source = p.source(pkg.Version)
	pkg.Locations = append(pkg.Locations, p[propLocation]...)
	pkg.CPEs = append(pkg.CPEs, p[propCPE]...)
	pkg.Layer = p.get(propLayerDiffID)
	pkg.LayerIndex = p.int(propLayerIndex)
	pkg.Instruction = p.get(propInstruction)
	pkg.Base = p.bool(propBase)
	pkg.ChangedLayerIndex = p.int(propChangedIndex)
	pkg.Unmanaged = p.bool(propUnmanaged)
	if pkg.Layer == "" {
		pkg.Layer = p.get(trivyPfx + trivyLayerDiffID)
	}
	if pkg.Layer == "" {
		pkg.Layer = p.get(syftLocationPfx + "0:layerID")
	}
	if len(pkg.Locations) == 0 {
		pkg.Locations = p.syftPaths()
		if fp := p.get(trivyPfx + trivyFilePath); fp != "" && len(pkg.Locations) == 0 {
			pkg.Locations = []string{rooted(fp)}
		}
	}
}

func (p props) source(version string) *report.PackageSource {
	if n := p.get(propSourceName); n != "" {
		return &report.PackageSource{Name: n, Version: p.get(propSourceVersion)}
	}
	if n := p.get(syftSource); n != "" {
		v := p.get(syftSourceVer)
		if v == "" {
			v = version
		}
		return &report.PackageSource{Name: n, Version: v}
	}
	if n := p.get(trivyPfx + trivySrcName); n != "" {
		v := p.get(trivyPfx + trivySrcVersion)
		if r := p.get(trivyPfx + trivySrcRelease); r != "" {
			v += "-" + r
		}
		if e := p.get(trivyPfx + trivySrcEpoch); e != "" && e != "0" {
			v = e + ":" + v
		}
		return &report.PackageSource{Name: n, Version: v}
	}
	return nil
}

// syftPaths reads syft:location:N:path in N order.
func (p props) syftPaths() []string {
	type loc struct {
		n    int
		path string
	}
	var locs []loc
	for k, vs := range p {
		rest, ok := strings.CutPrefix(k, syftLocationPfx)
		if !ok {
			continue
		}
		ns, field, _ := strings.Cut(rest, ":")
		n, err := strconv.Atoi(ns)
		if err != nil || field != "path" || len(vs) == 0 {
			continue
		}
		locs = append(locs, loc{n, vs[0]})
	}
	sort.Slice(locs, func(i, j int) bool { return locs[i].n < locs[j].n })
	var out []string
	for _, l := range locs {
		out = append(out, rooted(l.path))
	}
	return out
}

// imageLayers reads charter:image:layer:N:… properties.
func (p props) imageLayers() []Layer {
	var layers []Layer
	for i := 0; ; i++ {
		pfx := propImageLayer + strconv.Itoa(i) + ":"
		d := p.get(pfx + "diffID")
		if d == "" {
			return layers
		}
		layers = append(layers, Layer{DiffID: d, CreatedBy: p.get(pfx + "createdBy"), Base: p.bool(pfx + "base")})
	}
}

func rooted(path string) string {
	path = strings.TrimPrefix(path, ".")
	if path != "" && !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	return path
}
