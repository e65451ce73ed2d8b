package cli

import (
	"fmt"
	"strings"

	pkgcat "github.com/charterhq/charter/internal/catalog"
	"github.com/charterhq/charter/internal/report"
	"github.com/charterhq/charter/internal/sbom"
)

// ruleIMG009 is the package-integrity rule: the catalog package finds the problems
// (pkgcat.Verify), this file words them as findings.
var ruleIMG009 = report.Rule{
	ID:       "IMG009",
	Severity: report.High,
	Title:    "package files do not match their package manager's checksums",
	Description: "dpkg, apk and rpm record a digest for every file a package installs. A file whose content " +
		"no longer matches was changed after installation: patched by hand, replaced by a build step, or " +
		"tampered with. A package whose version changed in a layer that touched none of its files means the " +
		"package database itself was edited, a known way to make vulnerability scanners report a fixed " +
		"version that is not installed. Files listed by the package manager but absent from the image are " +
		"reported at LOW (documentation paths that slim images strip are left out).",
	Remediation: "Install packages only through the package manager (apt-get install, apk add, dnf install) " +
		"and never edit its database; rebuild from a trusted base and compare the layers that changed the files.",
	References: []string{"https://manpages.debian.org/bookworm/debsums/debsums.1.en.html"},
	Category:   "image",
}

// integrityRules lists the rules of the package scanner.
func integrityRules() []report.Rule { return []report.Rule{ruleIMG009} }

// strippedDocs are trees slim images delete on purpose (Docker's Debian images exclude
// them from dpkg): files missing there are expected, not suspicious.
var strippedDocs = []string{"/usr/share/doc/", "/usr/share/man/", "/usr/share/info/", "/usr/share/locale/",
	"/usr/share/lintian/", "/usr/share/linda/", "/usr/share/groff/"}

// maxPathsListed bounds the paths one finding's message names.
const maxPathsListed = 3

// integrityFindings turns pkgcat.Verify's problems into IMG009 findings: one per
// package and kind of problem, at the layer of the first file concerned.
func integrityFindings(problems []pkgcat.Problem, inv *sbom.Inventory) []report.Finding {
	type key struct {
		pkg  *pkgcat.Package
		kind string
	}
	groups := map[key][]pkgcat.Problem{}
	var order []key
	for _, p := range problems {
		if p.Kind == pkgcat.Missing && isStrippedDoc(p.Path) {
			continue
		}
		k := key{p.Package, p.Kind}
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], p)
	}
	out := make([]report.Finding, 0, len(order))
	for _, k := range order {
		out = append(out, integrityFinding(groups[k], inv))
	}
	return out
}

func isStrippedDoc(p string) bool {
	for _, d := range strippedDocs {
		if strings.HasPrefix(p, d) {
			return true
		}
	}
	return false
}

func integrityFinding(ps []pkgcat.Problem, inv *sbom.Inventory) report.Finding {
	first := ps[0]
	pkg := first.Package
	name := pkg.Name + " " + pkg.Version
	var msg string
	sev := report.High
	switch first.Kind {
	case pkgcat.Modified:
		msg = fmt.Sprintf("%s: %d file(s) differ from the checksums %s recorded: %s", name, len(ps), pkg.Cataloger, pathList(ps))
	case pkgcat.Missing:
		sev = report.Low
		msg = fmt.Sprintf("%s: %d file(s) %s lists are missing: %s", name, len(ps), pkg.Cataloger, pathList(ps))
	case pkgcat.VersionRewritten:
		msg = fmt.Sprintf("%s %s: the version changed from %s to %s in a layer that changed none of its files: the package database was edited",
			pkg.Ecosystem, pkg.Name, orUnknown(first.Expected), first.Actual)
	default:
		msg = fmt.Sprintf("%s: %s", name, first.Kind)
	}
	loc := report.Location{Path: first.Path, Package: pkg.PURL}
	if first.Path == "" {
		loc.Path = pkg.Location
	}
	if l := first.Layer; l >= 0 && inv != nil && l < len(inv.Layers) {
		idx := l
		loc.LayerIndex = &idx
		loc.Layer = inv.Layers[l].DiffID
		loc.Instruction = inv.Layers[l].CreatedBy
	}
	f := ruleIMG009.Finding(loc, msg)
	f.Severity = sev
	return f
}

func pathList(ps []pkgcat.Problem) string {
	var names []string
	for i, p := range ps {
		if i == maxPathsListed {
			names = append(names, fmt.Sprintf("and %d more", len(ps)-maxPathsListed))
			break
		}
		names = append(names, p.Path)
	}
	return strings.Join(names, ", ")
}

func orUnknown(s string) string {
	if s == "" {
		return "an unknown version"
	}
	return s
}
