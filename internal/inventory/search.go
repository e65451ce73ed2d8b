package inventory

import (
	"context"
	"errors"
	"fmt"
	"strings"

	packageurl "github.com/package-url/packageurl-go"

	"github.com/charterhq/charter/internal/report"
	"github.com/charterhq/charter/internal/vulndb"
)

// Result is one package of one recorded image that a search found.
type Result struct {
	Image   Summary `json:"image"`
	Package Package `json:"package"`
	// Layer is the diffID of the layer that brought the package.
	Layer string `json:"layer,omitempty"`
	// Fixed is the version that fixes the advisory, when one is known.
	Fixed string `json:"fixed,omitempty"`
	// Severity is the advisory's rating for this package (affected only).
	Severity string `json:"severity,omitempty"`
}

// Affected lists every recorded image package the advisory affects: the advisory's
// package names are looked up in the index, and each candidate version is tested with
// the advisory's own ranges, in its ecosystem's order, as a scan would.
func Affected(ctx context.Context, s Store, adv *vulndb.Advisory) ([]Result, error) {
	var lookups []Lookup
	for _, p := range adv.Packages {
		if p.Type != "" {
			lookups = append(lookups, Lookup{Ecosystem: p.Type, Name: p.Name})
		}
	}
	cands, err := s.Candidates(ctx, lookups)
	if err != nil {
		return nil, err
	}
	type verdict struct{ fixed, sev string }
	keep := map[int64]verdict{}
	var kept []Candidate
	for _, c := range cands {
		p := reportPackage(&c)
		if fixed, sev, ok := adv.Affects(&p, vulndb.Distro{}); ok {
			keep[c.ID] = verdict{fixed, sev.String()}
			kept = append(kept, c)
		}
	}
	hits, err := s.Hits(ctx, kept)
	if err != nil {
		return nil, err
	}
	out := make([]Result, 0, len(hits))
	for _, h := range hits {
		v := keep[h.Candidate.ID]
		out = append(out, Result{Image: h.Image, Package: h.Package, Layer: h.Layer, Fixed: v.fixed, Severity: v.sev})
	}
	return out, nil
}

func reportPackage(c *Candidate) report.Package {
	p := report.Package{Ecosystem: c.Ecosystem, Name: c.Name, Version: c.Version, PURL: c.PURL}
	if c.SourceName != "" || c.SourceVersion != "" {
		p.Source = &report.PackageSource{Name: c.SourceName, Version: c.SourceVersion}
	}
	return p
}

// Query selects packages by purl or by name, and optionally by version range.
type Query struct {
	// PURL names the package ("pkg:maven/org.apache.logging.log4j/log4j-core"); a
	// version in it means that version exactly, and its qualifiers must all match.
	PURL string
	// Ecosystem (a purl type: deb, maven, npm…) and Name select by name instead. The
	// name matches a package's name, its source package, or its namespaced name
	// ("org.apache.logging.log4j:log4j-core", "@scope/pkg", "golang.org/x/net").
	Ecosystem string
	Name      string
	// Range filters versions (see ParseRange).
	Range Range
}

// Search lists the recorded image packages that match q.
func Search(ctx context.Context, s Store, q Query) ([]Result, error) {
	match, lookup, err := q.compile()
	if err != nil {
		return nil, err
	}
	cands, err := s.Candidates(ctx, []Lookup{lookup})
	if err != nil {
		return nil, err
	}
	matchers := map[string]Matcher{}
	var kept []Candidate
	for _, c := range cands {
		if !match(&c) {
			continue
		}
		ok, err := q.inRange(&c, matchers)
		if err != nil {
			return nil, err
		}
		if ok {
			kept = append(kept, c)
		}
	}
	hits, err := s.Hits(ctx, kept)
	if err != nil {
		return nil, err
	}
	out := make([]Result, 0, len(hits))
	for _, h := range hits {
		out = append(out, Result{Image: h.Image, Package: h.Package, Layer: h.Layer})
	}
	return out, nil
}

// compile turns the query into an index lookup and an exact test of a candidate.
func (q *Query) compile() (func(*Candidate) bool, Lookup, error) {
	if q.PURL != "" {
		want, err := packageurl.FromString(q.PURL)
		if err != nil {
			return nil, Lookup{}, fmt.Errorf("--purl %q: %w", clip(q.PURL), err)
		}
		if want.Version != "" && !q.Range.Empty() {
			return nil, Lookup{}, errors.New("--purl names a version and --range gives another condition: use one")
		}
		if want.Version != "" {
			q.Range = Range{alts: [][]constraint{{{op: "=", raw: want.Version}}}}
		}
		return func(c *Candidate) bool { return samePURL(&want, c.PURL) }, Lookup{Ecosystem: want.Type, Name: want.Name}, nil
	}
	if q.Name == "" {
		return nil, Lookup{}, errors.New("name a package: --purl PURL, or --name NAME (with --ecosystem TYPE)")
	}
	name, eco := q.Name, strings.ToLower(q.Ecosystem)
	return func(c *Candidate) bool {
		if eco != "" && c.Ecosystem != eco {
			return false
		}
		return sameName(name, c.Name) || (c.SourceName != "" && sameName(name, c.SourceName)) || sameName(name, namespaced(c.PURL))
	}, Lookup{Ecosystem: eco, Name: name}, nil
}

// samePURL compares type, namespace and name (case-insensitively where the purl type
// says names are), and requires every qualifier the query gives.
func samePURL(want *packageurl.PackageURL, got string) bool {
	g, err := packageurl.FromString(got)
	if err != nil || g.Type != want.Type {
		return false
	}
	if !sameName(want.Namespace, g.Namespace) || !sameName(want.Name, g.Name) {
		return false
	}
	have := g.Qualifiers.Map()
	for k, v := range want.Qualifiers.Map() {
		if have[k] != v {
			return false
		}
	}
	return true
}

func sameName(a, b string) bool {
	return strings.EqualFold(a, b) || (a != "" && NameKey(a) == NameKey(b) && strings.EqualFold(strings.ReplaceAll(a, "_", "-"), strings.ReplaceAll(b, "_", "-")))
}

// namespaced is a package's name as its ecosystem writes it with its namespace.
func namespaced(purl string) string {
	p, err := packageurl.FromString(purl)
	if err != nil || p.Namespace == "" {
		return ""
	}
	if p.Type == "maven" {
		return p.Namespace + ":" + p.Name
	}
	return p.Namespace + "/" + p.Name
}

// inRange tests a candidate's version against the range in its ecosystem's order.
func (q *Query) inRange(c *Candidate, matchers map[string]Matcher) (bool, error) {
	if q.Range.Empty() {
		return true, nil
	}
	sch, ok := schemeOf(c.Ecosystem)
	if !ok {
		return false, fmt.Errorf("--range: charter has no version order for %s packages (%s)", c.Ecosystem, c.Name)
	}
	m, ok := matchers[sch.Name()]
	if !ok {
		var err error
		if m, err = q.Range.Compile(sch); err != nil {
			return false, fmt.Errorf("--range for %s packages: %w", c.Ecosystem, err)
		}
		matchers[sch.Name()] = m
	}
	v, err := sch.Parse(c.Version)
	if err != nil {
		return false, nil // a version the ecosystem cannot order matches no range
	}
	return m(v), nil
}
