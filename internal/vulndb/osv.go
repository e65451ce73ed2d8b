package vulndb

import (
	"bytes"
	"encoding/json"
	"errors"
	"regexp"
	"slices"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/charterhq/charter/internal/version"
)

// osvRecord is the part of an OSV 1.x record charter reads.
type osvRecord struct {
	ID               string          `json:"id"`
	Modified         string          `json:"modified"`
	Published        string          `json:"published"`
	Withdrawn        string          `json:"withdrawn"`
	Aliases          []string        `json:"aliases"`
	Summary          string          `json:"summary"`
	Details          string          `json:"details"`
	Severity         []osvSeverity   `json:"severity"`
	Affected         []osvAffected   `json:"affected"`
	References       []osvReference  `json:"references"`
	DatabaseSpecific json.RawMessage `json:"database_specific"`
}

type osvSeverity struct {
	Type  string `json:"type"`
	Score string `json:"score"`
}

type osvReference struct {
	Type string `json:"type"`
	URL  string `json:"url"`
}

type osvAffected struct {
	Package struct {
		Ecosystem string `json:"ecosystem"`
		Name      string `json:"name"`
		PURL      string `json:"purl"`
	} `json:"package"`
	Severity          []osvSeverity   `json:"severity"`
	Ranges            []osvRange      `json:"ranges"`
	Versions          []string        `json:"versions"`
	EcosystemSpecific json.RawMessage `json:"ecosystem_specific"`
	DatabaseSpecific  json.RawMessage `json:"database_specific"`
}

type osvRange struct {
	Type   string     `json:"type"`
	Events []osvEvent `json:"events"`
}

type osvEvent struct {
	Introduced   string `json:"introduced"`
	Fixed        string `json:"fixed"`
	LastAffected string `json:"last_affected"`
	Limit        string `json:"limit"`
}

// record is what the store keeps of an advisory.
type record struct {
	ID        string   `json:"id"`
	Aliases   []string `json:"al,omitempty"`
	Summary   string   `json:"s,omitempty"`
	Modified  string   `json:"m,omitempty"`
	Published string   `json:"p,omitempty"`
	Refs      []string `json:"r,omitempty"`
	// Keys are the index keys (ecosystem key, NUL, package name) the record is under.
	Keys []string `json:"k"`
	// solo is how a match on this record alone is named, set when a DB handle decodes it.
	solo *names
}

// affected is one pre-parsed OSV affected entry: intervals of versions in one scheme,
// plus explicit versions sorted in that scheme's order, and the listed versions the
// scheme cannot order (PyPI's "0.1-bulbasaur", "trunk"), kept as written and sorted
// bytewise: an installed version the scheme cannot read is looked up among them by
// exact string, the one comparison that needs no order.
type affected struct {
	Scheme    string     `json:"v"`
	Intervals []interval `json:"i,omitempty"`
	Versions  []string   `json:"x,omitempty"`
	Unordered []string   `json:"u,omitempty"`
	Sev       severity   `json:"s"`
}

// interval is [Lo, Hi) or [Lo, Hi] (Incl). Empty Lo is "from the first version", empty
// Hi "no upper bound". Fixed is the version to report as the fix ("" when the bound is a
// last_affected or limit event).
type interval struct {
	Lo    string `json:"lo,omitempty"`
	Hi    string `json:"hi,omitempty"`
	Incl  bool   `json:"in,omitempty"`
	Fixed string `json:"f,omitempty"`
}

// entry is an index value: one record's affected entries for one package.
type entry struct {
	Affected []affected `json:"a"`
}

// parsed is one OSV document turned into what the store keeps.
type parsed struct {
	rec       record
	entries   map[string]*entry // by index key
	withdrawn bool
}

// skip is a reason to leave a record or part of one out, counted in ImportStats.
type skip struct{ reason, detail string }

func (s *skip) Error() string {
	if s.detail == "" {
		return s.reason
	}
	return s.reason + ": " + s.detail
}

// Reasons an import skips a record or an affected entry, as ImportStats counts them.
const (
	SkipTooLarge       = "too large"
	SkipInvalidJSON    = "invalid JSON"
	SkipInvalidID      = "missing or invalid id"
	SkipUnknownEco     = "unknown ecosystem"
	SkipBadRange       = "unparseable range"
	SkipNoVersions     = "no affected versions"
	SkipNoPackages     = "no supported package"
	SkipTooMany        = "list too long"
	SkipUnsafePath     = "unsafe archive path"
	SkipDuplicate      = "duplicate record"
	SkipUnreadableFile = "unreadable file"
)

var idPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:+-]*$`)

func validID(id string) bool { return len(id) <= maxIDLen && idPattern.MatchString(id) }

// parseOSV reads one OSV document. warn receives problems with parts of the record that
// were left out; a returned *skip means the whole record was.
func parseOSV(data []byte, lim *Limits, warn func(reason, detail string)) (*parsed, error) {
	if int64(len(data)) > lim.MaxRecordBytes {
		return nil, &skip{reason: SkipTooLarge}
	}
	var r osvRecord
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&r); err != nil {
		return nil, &skip{reason: SkipInvalidJSON, detail: shorten(err.Error())}
	}
	if !validID(r.ID) {
		return nil, &skip{reason: SkipInvalidID, detail: shorten(r.ID)}
	}
	if r.Withdrawn != "" {
		return &parsed{rec: record{ID: r.ID}, withdrawn: true}, nil
	}
	if len(r.Affected) > lim.MaxAffected || len(r.Aliases) > lim.MaxAliases {
		return nil, &skip{reason: SkipTooMany, detail: r.ID}
	}
	p := &parsed{rec: record{
		ID: r.ID, Aliases: cleanAliases(r.ID, r.Aliases), Summary: summaryOf(&r),
		Modified: clip(r.Modified, 40), Published: clip(r.Published, 40), Refs: refsOf(r.References),
	}, entries: map[string]*entry{}}
	recSev := severityInputs{list: r.Severity, db: r.DatabaseSpecific, id: r.ID}
	for i := range r.Affected {
		a := &r.Affected[i]
		key, sch, err := indexKeyOf(a.Package.Ecosystem, a.Package.Name)
		if err != nil {
			var s *skip
			if errors.As(err, &s) {
				warn(s.reason, s.detail)
			}
			continue
		}
		af, err := convertAffected(a, sch, lim, recSev)
		if err != nil {
			var s *skip
			if errors.As(err, &s) {
				warn(s.reason, r.ID+": "+s.detail)
			}
			continue
		}
		e := p.entries[key]
		if e == nil {
			e = &entry{}
			p.entries[key] = e
			p.rec.Keys = append(p.rec.Keys, key)
		}
		e.Affected = append(e.Affected, af...)
	}
	if len(p.entries) == 0 {
		return nil, &skip{reason: SkipNoPackages, detail: r.ID}
	}
	sort.Strings(p.rec.Keys)
	return p, nil
}

func cleanAliases(id string, as []string) []string {
	var out []string
	seen := map[string]bool{id: true}
	for _, a := range as {
		if validID(a) && !seen[a] {
			seen[a] = true
			out = append(out, a)
		}
	}
	sort.Strings(out)
	return out
}

func summaryOf(r *osvRecord) string {
	s := r.Summary
	if s == "" {
		s, _, _ = strings.Cut(strings.TrimSpace(r.Details), "\n")
	}
	return clip(strings.TrimSpace(s), maxSummaryLen)
}

func refsOf(refs []osvReference) []string {
	var out []string
	for _, r := range refs {
		if len(out) == maxRefs {
			break
		}
		if len(r.URL) <= maxURLLen && (strings.HasPrefix(r.URL, "https://") || strings.HasPrefix(r.URL, "http://")) {
			out = append(out, r.URL)
		}
	}
	return out
}

// clip cuts s to at most n bytes on a rune boundary and drops invalid UTF-8.
func clip(s string, n int) string {
	s = strings.ToValidUTF8(s, "")
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

func shorten(s string) string { return clip(s, 120) }

// convertAffected pre-parses one affected entry: SEMVER and ECOSYSTEM ranges become
// intervals, the versions list is sorted; GIT ranges name commits, which installed
// packages do not carry, and are left out.
func convertAffected(a *osvAffected, eco version.Scheme, lim *Limits, rec severityInputs) ([]affected, error) {
	if len(a.Versions) > lim.MaxVersions || len(a.Ranges) > lim.MaxEvents {
		return nil, &skip{reason: SkipTooMany, detail: a.Package.Name}
	}
	sev := severityOf(a, rec)
	bySch := map[string]*affected{}
	get := func(s version.Scheme) *affected {
		if bySch[s.Name()] == nil {
			bySch[s.Name()] = &affected{Scheme: s.Name(), Sev: sev}
		}
		return bySch[s.Name()]
	}
	lastKnown := lastKnownAffected(a.DatabaseSpecific)
	var bad error
	for _, r := range a.Ranges {
		var sch version.Scheme
		switch r.Type {
		case "ECOSYSTEM":
			sch = eco
		case "SEMVER":
			sch = semverFor(eco)
		default:
			continue
		}
		if len(r.Events) > lim.MaxEvents {
			return nil, &skip{reason: SkipTooMany, detail: a.Package.Name}
		}
		ivs, err := intervalsOf(sch, r.Events, lastKnown)
		if err != nil {
			bad = err
			continue
		}
		af := get(sch)
		af.Intervals = append(af.Intervals, ivs...)
	}
	if vs, un := sortedVersions(eco, a.Versions); len(vs) > 0 || len(un) > 0 {
		af := get(eco)
		af.Versions, af.Unordered = vs, un
	}
	var out []affected
	for _, name := range []string{eco.Name(), semverFor(eco).Name()} {
		if af := bySch[name]; af != nil && (len(af.Intervals) > 0 || len(af.Versions) > 0 || len(af.Unordered) > 0) {
			out = append(out, *af)
			delete(bySch, name)
		}
	}
	if len(out) == 0 {
		if bad != nil {
			return nil, bad
		}
		return nil, &skip{reason: SkipNoVersions, detail: a.Package.Name}
	}
	return out, nil
}

// semverFor is the scheme OSV's SEMVER ranges use in an ecosystem: Go's own for Go
// (which reads "v"-less and toolchain versions), npm's for npm, plain SemVer elsewhere.
func semverFor(eco version.Scheme) version.Scheme {
	switch eco {
	case version.Go, version.NPM:
		return eco
	}
	return version.SemVer
}

// sortedVersions parses an explicit versions list and sorts what the scheme reads in
// its order, so matching can binary-search it. What it cannot read is returned apart,
// as written, sorted bytewise without repeats; empty strings and strings longer than
// any scheme accepts are dropped.
func sortedVersions(s version.Scheme, vs []string) (ordered, unordered []string) {
	type pv struct {
		v version.Version
		s string
	}
	var ps []pv
	for _, v := range vs {
		if p, err := s.Parse(v); err == nil {
			ps = append(ps, pv{p, v})
		} else if v != "" && len(v) <= maxVersionLen {
			unordered = append(unordered, v)
		}
	}
	slices.Sort(unordered)
	unordered = slices.Clip(slices.Compact(unordered))
	sort.SliceStable(ps, func(i, j int) bool { return ps[i].v.Compare(ps[j].v) < 0 })
	for i, p := range ps {
		if i > 0 && ps[i-1].v.Compare(p.v) == 0 {
			continue
		}
		ordered = append(ordered, p.s)
	}
	return ordered, unordered
}

// event is one range event with its version parsed.
type event struct {
	kind int // evIntroduced, evFixed, evLastAffected, evLimit
	raw  string
	v    version.Version // nil for introduced "0" and limit "*"
}

const (
	evIntroduced = iota
	evFixed
	evLastAffected
	evLimit
)

// intervalsOf evaluates a range's events in version order, as the OSV schema defines:
// an introduced opens an interval, a fixed closes it before the fix, a last_affected
// closes it after that version, and a limit caps every interval.
func intervalsOf(s version.Scheme, evs []osvEvent, lastKnown *interval) ([]interval, error) {
	var list []event
	for _, e := range evs {
		ev, err := eventOf(s, e)
		if err != nil {
			return nil, err
		}
		list = append(list, ev)
	}
	sort.SliceStable(list, func(i, j int) bool { return lessEvent(list[i], list[j]) })
	var out []interval
	var limit *event
	open := false
	var cur interval
	for i := range list {
		e := &list[i]
		switch e.kind {
		case evIntroduced:
			if !open {
				open, cur = true, interval{Lo: versionOrEmpty(e)}
			}
		case evFixed, evLastAffected:
			if open {
				cur.Hi, cur.Incl = e.raw, e.kind == evLastAffected
				if e.kind == evFixed {
					cur.Fixed = e.raw
				}
				out, open = append(out, cur), false
			}
		case evLimit:
			if e.v != nil && (limit == nil || e.v.Compare(limit.v) < 0) {
				limit = e
			}
		}
	}
	if open {
		if lastKnown != nil && parses(s, lastKnown.Hi) {
			cur.Hi, cur.Incl = lastKnown.Hi, lastKnown.Incl
		}
		out = append(out, cur)
	}
	if limit != nil {
		out = capIntervals(s, out, limit)
	}
	return out, nil
}

func eventOf(s version.Scheme, e osvEvent) (event, error) {
	set := 0
	var ev event
	for kind, raw := range []string{e.Introduced, e.Fixed, e.LastAffected, e.Limit} {
		if raw != "" {
			set++
			ev = event{kind: kind, raw: raw}
		}
	}
	if set != 1 {
		return ev, &skip{reason: SkipBadRange, detail: "an event must set exactly one of introduced, fixed, last_affected, limit"}
	}
	if (ev.kind == evIntroduced && ev.raw == "0") || (ev.kind == evLimit && ev.raw == "*") {
		return ev, nil
	}
	v, err := s.Parse(ev.raw)
	if err != nil {
		return ev, &skip{reason: SkipBadRange, detail: shorten(err.Error())}
	}
	ev.v = v
	return ev, nil
}

// lessEvent orders events by version; introduced "0" comes first, limit "*" last.
func lessEvent(a, b event) bool {
	switch {
	case a.v == nil && b.v == nil:
		return a.kind == evIntroduced && b.kind != evIntroduced
	case a.v == nil:
		return a.kind == evIntroduced
	case b.v == nil:
		return b.kind != evIntroduced
	}
	return a.v.Compare(b.v) < 0
}

func versionOrEmpty(e *event) string {
	if e.v == nil {
		return ""
	}
	return e.raw
}

// capIntervals applies a limit: nothing at or above it is affected.
func capIntervals(s version.Scheme, ivs []interval, limit *event) []interval {
	var out []interval
	for _, iv := range ivs {
		if iv.Lo != "" {
			if lo, err := s.Parse(iv.Lo); err == nil && lo.Compare(limit.v) >= 0 {
				continue
			}
		}
		if iv.Hi == "" {
			iv.Hi, iv.Incl, iv.Fixed = limit.raw, false, ""
		} else if hi, err := s.Parse(iv.Hi); err == nil && (hi.Compare(limit.v) > 0 || (iv.Incl && hi.Compare(limit.v) == 0)) {
			iv.Hi, iv.Incl, iv.Fixed = limit.raw, false, ""
		}
		out = append(out, iv)
	}
	return out
}

// lastKnownAffected reads GHSA's database_specific.last_known_affected_version_range
// ("< 2.0", "<= 1.4.3"): for a range with no fix, the advisory's statement of where the
// vulnerable versions end.
func lastKnownAffected(raw json.RawMessage) *interval {
	var ds struct {
		R string `json:"last_known_affected_version_range"`
	}
	if len(raw) == 0 || json.Unmarshal(raw, &ds) != nil || ds.R == "" {
		return nil
	}
	r := strings.TrimSpace(ds.R)
	switch {
	case strings.HasPrefix(r, "<="):
		return &interval{Hi: strings.TrimSpace(r[2:]), Incl: true}
	case strings.HasPrefix(r, "<"):
		return &interval{Hi: strings.TrimSpace(r[1:])}
	}
	return nil
}

func parses(s version.Scheme, v string) bool {
	_, err := s.Parse(v)
	return err == nil
}
