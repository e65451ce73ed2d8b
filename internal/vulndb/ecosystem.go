package vulndb

import (
	"regexp"
	"strings"

	packageurl "github.com/package-url/packageurl-go"

	"github.com/charterhq/charter/internal/report"
	"github.com/charterhq/charter/internal/version"
)

// Distro is the operating system of the packages being matched: its os-release ID and
// VERSION_ID ("debian", "12"; "alpine", "3.19.1"; "ubuntu", "22.04").
type Distro struct {
	ID        string
	VersionID string
}

// indexKeyOf normalises an OSV (ecosystem, package name) into the store's index key:
// the ecosystem reduced to what a distro release is matched by ("Ubuntu:22.04:LTS" is
// "Ubuntu:22.04", "Red Hat:enterprise_linux:9::appstream" is "Red Hat:9"), a NUL, and
// the name as the ecosystem compares names (PyPI's normalised form, NuGet in lower case).
func indexKeyOf(eco, name string) (string, version.Scheme, error) {
	sch, ok := version.ForOSV(eco)
	if !ok {
		return "", nil, &skip{reason: SkipUnknownEco, detail: clip(eco, 64)}
	}
	if name == "" || len(name) > maxNameLen || strings.ContainsRune(name, 0) || len(eco) > 128 {
		return "", nil, &skip{reason: SkipNoPackages, detail: "bad package name"}
	}
	return ecoKey(eco) + "\x00" + normName(eco, name), sch, nil
}

var rhelRelease = regexp.MustCompile(`^Red Hat:enterprise_linux:(\d+)`)

func ecoKey(eco string) string {
	base, rest, _ := strings.Cut(eco, ":")
	switch base {
	case "Ubuntu":
		return strings.TrimSuffix(eco, ":LTS")
	case "Debian":
		if major, _, ok := strings.Cut(rest, "."); ok {
			return base + ":" + major
		}
	case "Red Hat":
		if m := rhelRelease.FindStringSubmatch(eco); m != nil {
			return "Red Hat:" + m[1]
		}
	}
	return eco
}

var pypiSep = regexp.MustCompile(`[-_.]+`)

func normName(eco, name string) string {
	base, _, _ := strings.Cut(eco, ":")
	switch base {
	case "PyPI":
		return pypiSep.ReplaceAllString(strings.ToLower(name), "-")
	case "NuGet", "Packagist":
		return strings.ToLower(name)
	}
	return name
}

// query is what one package is looked up by.
type query struct {
	ecoKeys []string // OSV ecosystem keys, most specific first
	eco     string   // the OSV ecosystem base, for normalising names
	names   []string // package names to look up (source package first for distros)
	version string   // the version to compare (the source version for Debian)
}

// osvLanguage maps charter's package ecosystems (purl types) to OSV ecosystems.
var osvLanguage = map[string]string{
	"golang": "Go", "npm": "npm", "pypi": "PyPI", "maven": "Maven", "cargo": "crates.io",
	"gem": "RubyGems", "composer": "Packagist", "nuget": "NuGet", "hex": "Hex",
}

// osvDistro maps os-release IDs to OSV ecosystems and how their releases are written.
var osvDistro = map[string]struct {
	eco     string
	release func(versionID string) string
}{
	"debian":     {"Debian", major},
	"ubuntu":     {"Ubuntu", same},
	"alpine":     {"Alpine", func(v string) string { return "v" + majorMinor(v) }},
	"wolfi":      {"Wolfi", nil},
	"chainguard": {"Chainguard", nil},
	"rhel":       {"Red Hat", major},
	"almalinux":  {"AlmaLinux", major},
	"rocky":      {"Rocky Linux", major},
	"mageia":     {"Mageia", same},
	"openeuler":  {"openEuler", same},
	"photon":     {"Photon OS", same},
}

func major(v string) string { m, _, _ := strings.Cut(v, "."); return m }
func same(v string) string  { return v }
func majorMinor(v string) string {
	parts := strings.SplitN(v, ".", 3)
	if len(parts) < 2 {
		return v
	}
	return parts[0] + "." + parts[1]
}

// queryOf works out how to look a package up, or says why it cannot be.
func queryOf(p *report.Package, d Distro) (query, string) {
	purl, _ := packageurl.FromString(p.PURL)
	if eco, ok := osvLanguage[p.Ecosystem]; ok {
		return query{ecoKeys: []string{eco}, eco: eco, names: []string{langName(p, &purl)}, version: p.Version}, ""
	}
	switch p.Ecosystem {
	case "deb", "apk", "rpm":
	default:
		return query{}, "ecosystem " + p.Ecosystem + " has no advisories"
	}
	if d.ID == "" { // an SBOM: the purl carries the distro
		d = distroOfPURL(&purl)
	}
	ds, ok := osvDistro[d.ID]
	if !ok {
		return query{}, "no advisories for distro " + strings.TrimSpace(d.ID+" "+d.VersionID)
	}
	q := query{eco: ds.eco, version: p.Version}
	if ds.release != nil { // a rolling distro (Wolfi) has no releases
		if d.VersionID == "" {
			return query{}, "distro " + d.ID + " has no VERSION_ID to match advisories by"
		}
		q.ecoKeys = append(q.ecoKeys, ds.eco+":"+ds.release(d.VersionID))
	}
	q.ecoKeys = append(q.ecoKeys, ds.eco)
	src := p.Source
	if src != nil && src.Name != "" {
		q.names = append(q.names, src.Name)
		if p.Ecosystem == "deb" && src.Version != "" {
			q.version = src.Version // Debian advisories give source package versions
		}
	}
	if src == nil || src.Name == "" || (p.Ecosystem == "rpm" && src.Name != p.Name) {
		q.names = append(q.names, p.Name)
	}
	return q, ""
}

// langName is the name OSV uses: Maven's group:artifact, npm's @scope/name, a Go
// module's full path, Composer's vendor/package.
func langName(p *report.Package, purl *packageurl.PackageURL) string {
	if purl.Name == "" {
		return p.Name
	}
	switch purl.Type {
	case "maven":
		if purl.Namespace != "" {
			return purl.Namespace + ":" + purl.Name
		}
	case "npm", "golang", "composer":
		if purl.Namespace != "" {
			return purl.Namespace + "/" + purl.Name
		}
	}
	return purl.Name
}

func distroOfPURL(purl *packageurl.PackageURL) Distro {
	d := Distro{ID: purl.Namespace}
	if q := purl.Qualifiers.Map()["distro"]; q != "" {
		id, ver, ok := strings.Cut(q, "-")
		if ok {
			d.ID, d.VersionID = id, ver
		} else if id != "" && id[0] >= '0' && id[0] <= '9' {
			d.VersionID = id
		}
	}
	return d
}
