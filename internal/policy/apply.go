package policy

import (
	"fmt"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/charterhq/charter/internal/report"
)

// SuppressedBy is the Suppression.By of findings the charter file ignores.
const SuppressedBy = "charter.yaml"

// Validate checks what Parse cannot: that every ID in policy.rules names a rule of cat
// (by ID or alias) or looks like an advisory ID. A typo there would otherwise change
// nothing and go unnoticed. A nil f or cat validates.
func (f *File) Validate(cat *report.Catalog) error {
	if f == nil || cat == nil {
		return nil
	}
	for _, ov := range f.Policy.Rules {
		if knownID(ov.ID, cat) {
			continue
		}
		return &Error{Path: f.name, Line: ov.line, Msg: fmt.Sprintf(
			"policy.rules: unknown rule %q%s; `charter rules` lists them (advisory IDs like CVE-2024-1234 are accepted too)",
			ov.ID, suggest(ov.ID, catalogIDs(cat)))}
	}
	return nil
}

func knownID(id string, cat *report.Catalog) bool {
	if _, ok := lookup(cat, id); ok || looksLikeAdvisory(id) {
		return true
	}
	for _, r := range Rules() {
		if strings.EqualFold(r.ID, id) {
			return true
		}
	}
	return false
}

// lookup finds a rule by ID or alias as written, then upper-cased (df014 is DF014).
func lookup(cat *report.Catalog, id string) (report.Rule, bool) {
	if cat == nil {
		return report.Rule{}, false
	}
	if r, ok := cat.Lookup(id); ok {
		return r, true
	}
	return cat.Lookup(strings.ToUpper(id))
}

func catalogIDs(cat *report.Catalog) []string {
	var ids []string
	for _, r := range cat.All() {
		ids = append(ids, r.ID)
		ids = append(ids, r.Aliases...)
	}
	return ids
}

// Apply enforces the file on a report, before report.Finalize:
//
//   - policy.rules changes the severity of matching findings, or drops them for off;
//   - policy.ignore suppresses matching findings (Suppressed.By "charter.yaml"), except
//     that an entry whose expires date is before now's date suppresses nothing and is
//     itself reported as POL001, and an unexpired entry that matched nothing is reported
//     as POL002 (policy.rules can tune or turn off both).
//
// An ID names a finding when it is the finding's rule, one of the finding's aliases, or
// (with cat) an alias of the finding's rule in the catalog, unless the finding names a
// different rule of that same peer tool: DL3002 matches a DF001 finding that carries no
// hadolint ID, but DL3008 (apt-get) does not match a DF010 finding marked DL3013 (pip).
// IDs compare without case. A nil f does nothing.
func (f *File) Apply(r *report.Report, cat *report.Catalog, now time.Time) {
	if f == nil || r == nil {
		return
	}
	r.Findings = f.Policy.Rules.apply(r.Findings, cat)
	pol := f.ignore(r, cat, now)
	r.Findings = append(r.Findings, f.Policy.Rules.apply(pol, cat)...)
}

// apply changes or drops findings by rule. The closest match wins (the finding's rule,
// then its aliases, then the catalog's); among equals, the first in the file.
func (o Overrides) apply(in []report.Finding, cat *report.Catalog) []report.Finding {
	if len(o) == 0 {
		return in
	}
	ms := make([]idMatcher, len(o))
	for i, ov := range o {
		ms[i] = newMatcher(ov.ID, cat)
	}
	out := in[:0]
	for _, fd := range in {
		best, bestLevel := -1, noMatch
		for i, m := range ms {
			if l := m.match(fd); l != noMatch && (best < 0 || l < bestLevel) {
				best, bestLevel = i, l
			}
		}
		if best >= 0 {
			if o[best].Off() {
				continue
			}
			fd.Severity = o[best].Severity
		}
		out = append(out, fd)
	}
	return out
}

// Match levels, closest first.
const (
	noMatch = iota
	byRule
	byAlias
	byCatalog
)

// idMatcher decides whether an ID from a policy file names a finding.
type idMatcher struct {
	id     string
	family string // the peer tool's ID prefix: DL, DS-, CIS-DI-
	rule   string // the catalog rule id is an alias of, or ""
}

func newMatcher(id string, cat *report.Catalog) idMatcher {
	m := idMatcher{id: id, family: idFamily(id)}
	if r, ok := lookup(cat, id); ok && !strings.EqualFold(r.ID, id) {
		m.rule = r.ID
	}
	return m
}

func (m idMatcher) match(fd report.Finding) int {
	if strings.EqualFold(fd.Rule, m.id) {
		return byRule
	}
	if hasAlias(fd, m.id) {
		return byAlias
	}
	if m.rule == "" || !strings.EqualFold(fd.Rule, m.rule) {
		return noMatch
	}
	for _, a := range fd.Aliases {
		if strings.EqualFold(idFamily(a), m.family) {
			return noMatch // the finding names another rule of that peer
		}
	}
	return byCatalog
}

// idFamily strips an ID's trailing number: DL3008 → DL, DS-0002 → DS-, CIS-DI-0001 → CIS-DI-.
func idFamily(id string) string {
	return strings.TrimRight(id, "0123456789")
}

func hasAlias(fd report.Finding, id string) bool {
	for _, a := range fd.Aliases {
		if strings.EqualFold(a, id) {
			return true
		}
	}
	return false
}

func matchesID(fd report.Finding, id string) bool {
	return strings.EqualFold(fd.Rule, id) || hasAlias(fd, id)
}

// ignore suppresses findings and returns the POL findings about the entries themselves.
func (f *File) ignore(r *report.Report, cat *report.Catalog, now time.Time) []report.Finding {
	if len(f.Policy.Ignore) == 0 {
		return nil
	}
	today := now.Format(time.DateOnly)
	srcs := sourcePURLs(r.Packages)
	used := make([]bool, len(f.Policy.Ignore))
	ms := make([]idMatcher, len(f.Policy.Ignore))
	for j, ig := range f.Policy.Ignore {
		ms[j] = newMatcher(ig.ID, cat)
	}
	for i := range r.Findings {
		fd := &r.Findings[i]
		for j, ig := range f.Policy.Ignore {
			if ig.expired(today) || !ig.matches(*fd, ms[j], srcs[fd.Location.Package]) {
				continue
			}
			used[j] = true
			// A suppression already there (an inline pragma, right at the code) is the
			// more specific statement; the entry still counts as used.
			if fd.Suppressed == nil {
				fd.Suppressed = &report.Suppression{By: SuppressedBy, Reason: ig.Reason, Expires: ig.Expires}
			}
		}
	}
	var pol []report.Finding
	for j, ig := range f.Policy.Ignore {
		switch {
		case ig.expired(today):
			pol = append(pol, f.entryFinding(cat, rulePOL001, ig, fmt.Sprintf(
				"ignore of %s%s expired on %s: its findings count again; fix them or renew the entry with a new reason and date",
				ig.ID, ig.scope(), ig.Expires)))
		case !used[j] && ig.checkable(r):
			pol = append(pol, f.entryFinding(cat, rulePOL002, ig, fmt.Sprintf(
				"stale ignore: no finding matched %s%s; remove the entry or correct it", ig.ID, ig.scope())))
		}
	}
	return pol
}

func (f *File) entryFinding(cat *report.Catalog, rule report.Rule, ig Ignore, msg string) report.Finding {
	if cat != nil {
		if r, ok := cat.Lookup(rule.ID); ok && r.ID == rule.ID {
			rule = r
		}
	}
	return rule.Finding(report.Location{Path: f.name, Line: ig.line, Column: ig.column}, msg)
}

// expired reports whether the entry's last day is before today (both YYYY-MM-DD, which
// compare as strings). An entry expiring today still suppresses.
func (ig Ignore) expired(today string) bool {
	return ig.Expires != "" && ig.Expires < today
}

// checkable reports whether this run could have produced a finding for the entry: an
// advisory needs a run that catalogued packages, so a lint run does not call every
// vulnerability exception stale.
func (ig Ignore) checkable(r *report.Report) bool {
	if !looksLikeAdvisory(ig.ID) || len(r.Packages) > 0 {
		return true
	}
	for _, fd := range r.Findings {
		if looksLikeAdvisory(fd.Rule) {
			return true
		}
	}
	return false
}

func (ig Ignore) scope() string {
	var parts []string
	if ig.Package != "" {
		parts = append(parts, "package "+ig.Package)
	}
	if ig.Path != "" {
		parts = append(parts, "path "+ig.Path)
	}
	if len(parts) == 0 {
		return ""
	}
	return " (" + strings.Join(parts, ", ") + ")"
}

// matches reports whether the entry covers the finding. src is the purl of the source
// package the finding's package was built from, if it names one: package: openssl
// covers libssl3 and libcrypto3, whose source is openssl, as Debian's advisories do.
func (ig Ignore) matches(fd report.Finding, m idMatcher, src string) bool {
	if m.match(fd) == noMatch {
		return false
	}
	if ig.Package != "" && !matchPackage(ig.Package, fd.Location.Package) && (src == "" || !matchPackage(ig.Package, src)) {
		return false
	}
	if ig.Path != "" && !matchPath(ig.Path, fd.Location.Path) {
		return false
	}
	return true
}

// sourcePURLs maps the purl of each package built from a differently named source
// package to a purl of that source: the binary's purl with the source's name and
// version (pkg:deb/debian/libssl3@3.0.11-1?distro=debian-12 →
// pkg:deb/debian/openssl@3.0.11-1?distro=debian-12).
func sourcePURLs(pkgs []report.Package) map[string]string {
	out := map[string]string{}
	for i := range pkgs {
		p := &pkgs[i]
		if p.Source == nil || p.Source.Name == "" || p.Source.Name == p.Name || !strings.HasPrefix(p.PURL, "pkg:") {
			continue
		}
		out[p.PURL] = withName(p.PURL, p.Source.Name, p.Source.Version)
	}
	return out
}

// withName replaces a purl's name (and version, when ver is set), keeping its type,
// namespace and qualifiers.
func withName(purl, name, ver string) string {
	rest, tail := purl, ""
	if i := strings.IndexAny(rest, "?#"); i >= 0 {
		rest, tail = rest[:i], rest[i:]
	}
	oldVer := ""
	if i := strings.LastIndexByte(rest, '@'); i >= 0 {
		rest, oldVer = rest[:i], rest[i:]
	}
	if ver != "" {
		oldVer = "@" + url.PathEscape(ver)
	}
	if i := strings.LastIndexByte(rest, '/'); i >= 0 {
		rest = rest[:i+1]
	}
	return rest + url.PathEscape(name) + oldVer + tail
}

// matchPackage matches an ignore's package against a finding's package, which is a purl
// or, for findings from sources without one, a plain name. A name matches the purl's
// name; a purl prefix matches when the purl starts with it and, while the prefix is still
// inside the name, stops at a component boundary (pkg:deb/debian/openssl does not match
// openssl-dev). After the @, the prefix is plain: @3.0 matches 3.0 and 3.0.11.
func matchPackage(want, got string) bool {
	if got == "" {
		return false
	}
	if !strings.HasPrefix(want, "pkg:") {
		if !strings.HasPrefix(got, "pkg:") {
			return got == want
		}
		return purlName(got) == want
	}
	if !strings.HasPrefix(got, want) {
		return false
	}
	if len(got) == len(want) || strings.ContainsAny(want, "@?#") || strings.HasSuffix(want, "/") {
		return true
	}
	return strings.ContainsRune("@?#/", rune(got[len(want)]))
}

// purlName returns the unescaped name component of a purl.
func purlName(purl string) string {
	s := strings.TrimPrefix(purl, "pkg:")
	if i := strings.IndexAny(s, "?#"); i >= 0 {
		s = s[:i]
	}
	if i := strings.LastIndexByte(s, '@'); i >= 0 {
		s = s[:i]
	}
	s = strings.TrimSuffix(s, "/")
	if i := strings.LastIndexByte(s, '/'); i >= 0 {
		s = s[i+1:]
	}
	if u, err := url.PathUnescape(s); err == nil {
		return u
	}
	return s
}

// matchPath matches a glob against a finding's path. * and ? stay within one directory,
// ** spans any number of them; a leading / or ./ is ignored on both sides, so /etc/* and
// etc/* mean the same inside an image.
func matchPath(pattern, p string) bool {
	if p == "" {
		return false
	}
	return matchSegments(splitPath(pattern), splitPath(p))
}

func splitPath(p string) []string {
	p = strings.TrimPrefix(p, "./")
	p = strings.Trim(p, "/")
	if p == "" {
		return nil
	}
	return strings.Split(p, "/")
}

// matchSegments matches pattern segments against path segments by dynamic programming
// over (pattern position, path position), so no pattern can make it exponential.
func matchSegments(pat, segs []string) bool {
	// ok[j] says whether pat[i:] matches segs[j:], for the current i, filled backwards.
	ok := make([]bool, len(segs)+1)
	ok[len(segs)] = true
	for i := len(pat) - 1; i >= 0; i-- {
		next := make([]bool, len(segs)+1)
		for j := len(segs); j >= 0; j-- {
			switch {
			case pat[i] == "**":
				// ** matches nothing (ok[j]) or one more segment (next[j+1]).
				next[j] = ok[j] || j < len(segs) && next[j+1]
			case j < len(segs):
				m, _ := path.Match(pat[i], segs[j])
				next[j] = m && ok[j+1]
			}
		}
		ok = next
	}
	return ok[0]
}
