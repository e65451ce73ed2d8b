package vulndb

import (
	"cmp"
	"context"
	"fmt"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"

	bolt "go.etcd.io/bbolt"

	"github.com/charterhq/charter/internal/report"
	"github.com/charterhq/charter/internal/version"
)

// Match is one vulnerability in one package: every matching record that names the same
// vulnerability (by ID or alias) merged into one.
type Match struct {
	// Package is the affected package, as given to DB.Match.
	Package report.Package `json:"package"`
	// ID names the vulnerability and is the finding's rule: the CVE when the merged
	// records name exactly one, else the preferred record ID (GHSA before the rest).
	ID string `json:"id"`
	// Aliases are the group's other IDs (GHSA-…, GO-…, PYSEC-…, DSA-…, CVE-…), sorted.
	Aliases []string `json:"aliases,omitempty"`
	Summary string   `json:"summary,omitempty"`
	// Installed is the version compared: the source package's for Debian and Ubuntu.
	Installed string `json:"installed"`
	// Fixed is the lowest version that fixes every merged record; "" when none does.
	Fixed string `json:"fixed,omitempty"`
	// Severity is rated from the records (see SeveritySource); an unrated vulnerability
	// is Medium with SevDefault as its source.
	Severity       report.Severity `json:"severity"`
	SeveritySource string          `json:"severitySource"`
	Score          float64         `json:"score,omitempty"`
	Vector         string          `json:"vector,omitempty"`
	References     []string        `json:"references,omitempty"`
	// Ecosystem is the OSV ecosystem key matched ("Debian:12", "Go").
	Ecosystem string `json:"ecosystem"`
	// Records are the matched records as source/ID.
	Records []string `json:"records"`
}

// Result is the outcome of matching a list of packages.
type Result struct {
	// Matches are in package order. Matches share their slices (aliases, references,
	// records) with others of the same vulnerability: treat them as read-only.
	Matches []Match `json:"matches"`
	// Unmatched counts packages that could not be looked up, or only in part, by
	// reason ("ecosystem generic has no advisories"; "version not valid for pep440:
	// matched by the advisory's versions list only; ranges not evaluated", whether or
	// not a list named it): data for the report's warnings, never a failure.
	Unmatched map[string]int `json:"unmatched,omitempty"`
}

// Findings turns the matches into report findings, in match order.
func (r *Result) Findings() []report.Finding {
	out := make([]report.Finding, 0, len(r.Matches))
	for i := range r.Matches {
		out = append(out, r.Matches[i].Finding())
	}
	return out
}

// Finding is the match as a charter.report/v1 finding: the rule is the vulnerability ID,
// the location the package's purl, layer and instruction.
func (m *Match) Finding() report.Finding {
	p := &m.Package
	name := p.Name
	if p.Source != nil && p.Source.Name != "" && p.Source.Name != p.Name {
		name += " (source " + p.Source.Name + ")"
	}
	fixed, remedy := "no fix", ""
	if m.Fixed != "" {
		fixed = m.Fixed
		remedy = fmt.Sprintf("upgrade %s to %s or later", name, m.Fixed)
	}
	title := m.Summary
	if title == "" {
		title = m.ID + " in " + p.Name
	}
	f := report.Finding{
		Rule: m.ID, Aliases: m.Aliases, Severity: m.Severity, Title: title,
		Message:     fmt.Sprintf("%s %s → %s (severity from %s)", name, m.Installed, fixed, m.SeveritySource),
		Remediation: remedy, References: m.References,
		Location: report.Location{
			Package: p.PURL, Layer: p.Layer, LayerIndex: p.LayerIndex, Instruction: p.Instruction,
		},
	}
	if len(p.Locations) > 0 {
		f.Location.Path = p.Locations[0]
	}
	return f
}

// hit is one record matching one package.
type hit struct {
	recKey string
	eco    string
	fixed  version.Version // nil: no fix
	sev    severity
	rec    *record
}

// Match looks every package up and returns one Match per (package, vulnerability).
// Distro packages (deb, apk, rpm) are matched against the advisories of distro d's
// release, by source package where the package names one; with a zero d, each
// package's purl `distro` qualifier is used. Withdrawn records were never stored.
// Many packages are matched by GOMAXPROCS workers; the result is in package order
// either way.
func (db *DB) Match(ctx context.Context, pkgs []report.Package, d Distro) (*Result, error) {
	found := make([]*lookupResult, len(pkgs))
	res := &Result{}
	var err error
	if workers := min(runtime.GOMAXPROCS(0), len(pkgs)/parallelMin); workers <= 1 {
		err = db.lookupRange(ctx, pkgs, d, found, res)
	} else {
		// contiguous chunks, each in its own read transaction: a bbolt transaction is
		// not shared between goroutines
		parts := make([]Result, workers)
		errs := make([]error, workers)
		var wg sync.WaitGroup
		for w := range workers {
			lo, hi := w*len(pkgs)/workers, (w+1)*len(pkgs)/workers
			wg.Go(func() { errs[w] = db.lookupRange(ctx, pkgs[lo:hi], d, found[lo:hi], &parts[w]) })
		}
		wg.Wait()
		for w := range parts {
			for why, k := range parts[w].Unmatched {
				if res.Unmatched == nil {
					res.Unmatched = map[string]int{}
				}
				res.Unmatched[why] += k
			}
		}
		for _, e := range errs {
			if e != nil {
				err = e
				break
			}
		}
	}
	n := 0
	for _, r := range found {
		if r != nil {
			n += len(r.matches)
		}
	}
	res.Matches = make([]Match, n) // a Match is large: grow nothing
	k := 0
	for i, r := range found {
		if r == nil || len(r.matches) == 0 {
			continue
		}
		p := &pkgs[i]
		installed := installedOf(p)
		for j := range r.matches {
			m := &res.Matches[k]
			*m = r.matches[j]
			m.Package, m.Installed = *p, installed
			k++
		}
	}
	return res, err
}

// parallelMin is the fewest packages per worker worth a goroutine: a 500-package scan
// is matched on one.
const parallelMin = 2048

// lookupRange looks pkgs up into found (one slot per package, nil for a package that
// could not be looked up) and counts why in res.Unmatched.
func (db *DB) lookupRange(ctx context.Context, pkgs []report.Package, d Distro, found []*lookupResult, res *Result) error {
	return db.bolt.View(func(tx *bolt.Tx) error {
		idx, recs := tx.Bucket(bucketIndex), tx.Bucket(bucketRecords)
		memo := lookups{}
		for i := range pkgs {
			if i%256 == 0 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			r, err := memo.lookup(&db.cache, idx, recs, &pkgs[i], d)
			if err != nil {
				return err
			}
			if r.why != "" {
				if res.Unmatched == nil {
					res.Unmatched = map[string]int{}
				}
				res.Unmatched[r.why]++
			}
			if len(r.matches) > 0 {
				found[i] = r
			}
		}
		return nil
	})
}

// lookups remembers what a (lookup keys, version) pair matched within one Match call:
// an inventory of many images repeats the same packages.
type lookups map[string]*lookupResult

type lookupResult struct {
	matches []Match // Package and Installed are the first package's
	// why says why the package could not be looked up, or only in part (its version
	// is not one its advisories' scheme can order); matches may be set either way
	why string
}

func (l lookups) lookup(c *cache, idx, recs *bolt.Bucket, p *report.Package, d Distro) (*lookupResult, error) {
	q, why := queryOf(p, d)
	if why != "" {
		return &lookupResult{why: why}, nil
	}
	key := strings.Join(q.ecoKeys, "\x01") + "\x00" + strings.Join(q.names, "\x01") + "\x00" + q.eco + "\x00" + q.version
	if r, ok := l[key]; ok {
		return r, nil
	}
	hits, why := lookup(c, idx, q)
	r := &lookupResult{why: why}
	for j := range hits {
		rec, err := c.record(recs, hits[j].recKey)
		if err != nil {
			return nil, err
		}
		hits[j].rec = rec
	}
	r.matches = merge(p, hits)
	l[key] = r
	return r, nil
}

// lookup finds the records affecting one package. When one of its records' schemes
// cannot read the version, the package was checked against their versions lists only,
// by exact string, and the second result says so.
func lookup(c *cache, idx *bolt.Bucket, q query) ([]hit, string) {
	var parsed installed
	var hits []hit
	var seen map[string]bool // a record under two of the package's keys counts once
	if len(q.ecoKeys)*len(q.names) > 1 {
		seen = map[string]bool{}
	}
	var badVersion string
	for _, eco := range q.ecoKeys {
		for _, name := range q.names {
			prefix := []byte(eco + "\x00" + normName(q.eco, name) + "\x00")
			for _, e := range c.entries(idx, prefix) {
				if seen[e.recKey] {
					continue
				}
				h, ok, bad := check(&e, q.version, &parsed)
				if bad != "" {
					badVersion = bad
				}
				if ok {
					if seen != nil {
						seen[e.recKey] = true
					}
					h.recKey, h.eco = e.recKey, eco
					hits = append(hits, h)
				}
			}
		}
	}
	if badVersion != "" {
		return hits, "version not valid for " + badVersion + ": matched by the advisory's versions list only; ranges not evaluated"
	}
	return hits, ""
}

// installed is the installed version parsed by each scheme asked so far (a package's
// records use one or two schemes: the ecosystem's and SemVer).
type installed struct {
	schemes []version.Scheme
	vs      []version.Version // nil where the scheme cannot read the version
}

func (in *installed) in(sch version.Scheme, s string) (version.Version, bool) {
	for i, k := range in.schemes {
		if k == sch {
			return in.vs[i], false
		}
	}
	v, err := sch.Parse(s)
	if err != nil {
		v = nil
	}
	in.schemes, in.vs = append(in.schemes, sch), append(in.vs, v)
	return v, err != nil
}

// check tests a version against one record's affected entries for a package. The
// third result names a scheme that cannot read the version: for that scheme's entries
// the version is looked up among the listed versions as written, and the fix reported
// is one past everything the entry names, if there is one.
func check(e *compiledEntry, raw string, parsed *installed) (hit, bool, string) {
	var best hit
	found := false
	bad := ""
	for i := range e.affected {
		a := &e.affected[i]
		v, failed := parsed.in(a.scheme, raw)
		if failed {
			bad = a.scheme.Name()
		}
		hitOK, fixed := false, version.Version(nil)
		if v != nil {
			hitOK, fixed = a.contains(v)
		} else if hitOK = a.listsAsWritten(raw); hitOK {
			fixed = a.fixPastAll()
		}
		if hitOK && (!found || (best.fixed == nil && fixed != nil)) {
			best, found = hit{fixed: fixed, sev: a.sev}, true
		}
	}
	return best, found, bad
}

// merge groups a package's hits into vulnerabilities: records that share an ID or an
// alias, directly or through another record, are one vulnerability.
func merge(p *report.Package, hits []hit) []Match {
	switch len(hits) {
	case 0:
		return nil
	case 1: // most packages: no grouping, no sorting
		return []Match{group(p, hits)}
	}
	roots := groupRoots(hits)
	n := 0
	for r := range hits {
		if roots[r] == r {
			n++
		}
	}
	out := make([]Match, 0, n) // a Match is large: grow it once
	hs := make([]hit, 0, len(hits))
	for r := range hits {
		if roots[r] != r {
			continue
		}
		hs = hs[:0] // group keeps nothing of it
		for i := r; i < len(hits); i++ {
			if roots[i] == r {
				hs = append(hs, hits[i])
			}
		}
		out = append(out, group(p, hs))
	}
	slices.SortStableFunc(out, func(a, b Match) int {
		if a.Severity != b.Severity {
			return cmp.Compare(b.Severity, a.Severity)
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out
}

// groupRoots returns, for each hit, the first hit of its vulnerability (union-find
// over shared IDs; the smaller index is always the root).
func groupRoots(hits []hit) []int {
	parent := make([]int, len(hits))
	for i := range parent {
		parent[i] = i
	}
	find := func(i int) int {
		for parent[i] != i {
			parent[i] = parent[parent[i]]
			i = parent[i]
		}
		return i
	}
	union := func(i, j int) {
		ri, rj := find(i), find(j)
		if ri > rj {
			ri, rj = rj, ri
		}
		parent[rj] = ri
	}
	if len(hits) <= 16 { // most packages: compare the records' IDs pairwise
		for i := range hits {
			for j := i + 1; j < len(hits); j++ {
				if shareID(hits[i].rec, hits[j].rec) {
					union(i, j)
				}
			}
		}
	} else {
		first := map[string]int{} // ID or alias → the first hit naming it
		for i := range hits {
			for _, id := range append([]string{hits[i].rec.ID}, hits[i].rec.Aliases...) {
				if j, ok := first[id]; ok {
					union(j, i)
				} else {
					first[id] = i
				}
			}
		}
	}
	for i := range parent {
		parent[i] = find(i)
	}
	return parent
}

func shareID(a, b *record) bool {
	if a.ID == b.ID {
		return true
	}
	for _, x := range a.Aliases {
		if x == b.ID {
			return true
		}
		for _, y := range b.Aliases {
			if x == y {
				return true
			}
		}
	}
	for _, y := range b.Aliases {
		if y == a.ID {
			return true
		}
	}
	return false
}

// group merges one vulnerability's records.
func group(p *report.Package, hs []hit) Match {
	if len(hs) > 1 {
		slices.SortStableFunc(hs, func(a, b hit) int { return cmp.Compare(idRank(a.rec.ID), idRank(b.rec.ID)) })
	}
	m := Match{Package: *p, Ecosystem: hs[0].eco}
	var ns names
	if len(hs) == 1 && hs[0].rec.solo != nil {
		ns = *hs[0].rec.solo // most vulnerabilities are one record: named once per handle
	} else {
		ns = nameGroup(hs)
	}
	m.ID, m.Aliases, m.References, m.Records = ns.id, ns.aliases, ns.refs, ns.records
	var fix version.Version
	best := severity{Rank: rankUnrated + 1}
	for _, h := range hs {
		if m.Summary == "" {
			m.Summary = h.rec.Summary
		}
		if h.fixed != nil && (fix == nil || h.fixed.Compare(fix) > 0) {
			fix = h.fixed
		}
		if h.sev.Rank < best.Rank || (h.sev.Rank == best.Rank && h.sev.Level > best.Level) {
			best = h.sev
		}
	}
	if fix != nil {
		m.Fixed = fix.String()
	}
	m.Installed = installedOf(p)
	m.Severity, m.SeveritySource, m.Score, m.Vector = best.Level, best.Source, best.Score, best.Vector
	if best.Rank >= rankUnrated || best.Level == report.SeverityNone {
		m.Severity, m.SeveritySource = report.Medium, SevDefault
	}
	return m
}

// names is how a group of records is named: its ID, the other IDs, references and
// the records as source/ID.
type names struct {
	id                     string
	aliases, refs, records []string
}

// nameGroup names a group of hits, sorted by idRank.
func nameGroup(hs []hit) names {
	var ns names
	var ids, cves []string
	for _, h := range hs {
		ns.records = append(ns.records, strings.Replace(h.recKey, "\x00", "/", 1))
		for k := -1; k < len(h.rec.Aliases); k++ {
			id := h.rec.ID
			if k >= 0 {
				id = h.rec.Aliases[k]
			}
			if !slices.Contains(ids, id) {
				ids = append(ids, id)
				if strings.HasPrefix(id, "CVE-") {
					cves = append(cves, id)
				}
			}
		}
		ns.refs = appendNew(ns.refs, h.rec.Refs, maxRefs)
	}
	ns.id = hs[0].rec.ID
	if len(cves) == 1 {
		ns.id = cves[0]
	}
	for _, id := range ids {
		if id != ns.id {
			ns.aliases = append(ns.aliases, id)
		}
	}
	sort.Strings(ns.aliases)
	// matches share these: an append to one must not reach another's
	ns.aliases, ns.refs, ns.records = slices.Clip(ns.aliases), slices.Clip(ns.refs), slices.Clip(ns.records)
	return ns
}

// idRank prefers GHSA records (reviewed, with summaries) and then the ecosystem's own
// database; CVE records sort last since they rarely carry package ranges of their own.
func idRank(id string) int {
	switch {
	case strings.HasPrefix(id, "GHSA-"):
		return 0
	case strings.HasPrefix(id, "CVE-"):
		return 2
	}
	return 1
}

func installedOf(p *report.Package) string {
	if p.Ecosystem == "deb" && p.Source != nil && p.Source.Version != "" {
		return p.Source.Version
	}
	return p.Version
}

func appendNew(dst, src []string, max int) []string {
	for _, s := range src {
		if len(dst) >= max {
			break
		}
		dup := false
		for _, d := range dst {
			dup = dup || d == s
		}
		if !dup {
			dst = append(dst, s)
		}
	}
	return dst
}
