package vulndb

import (
	"fmt"
	"slices"
	"sort"
	"sync"

	bolt "go.etcd.io/bbolt"

	"github.com/charterhq/charter/internal/version"
)

// A package's index entries are decoded and their versions parsed once per open
// database: a scan of many images, an inventory or a long-running server looks the same
// packages up again and again, and parsing is what matching costs.

// maxCached bounds each cache of a DB handle (package keys, records). Past it the cache
// starts again empty, so a long-lived handle over a huge database stays bounded.
const maxCached = 1 << 17

// cache holds what a DB has decoded. It is safe for concurrent use.
type cache struct {
	mu   sync.Mutex
	pkgs map[string][]compiledEntry // by index prefix: ecosystem key NUL name NUL
	recs map[string]*record         // by records-bucket key
}

// compiledEntry is one record's affected entries for one package, versions parsed.
type compiledEntry struct {
	recKey   string // source NUL id
	affected []compiledAffected
}

type compiledAffected struct {
	scheme    version.Scheme
	intervals []compiledInterval
	versions  *lazyVersions     // explicit versions, in the scheme's order
	unordered []string          // listed versions the scheme cannot order, sorted bytewise
	fixes     []version.Version // every interval's fix, in order: the nearest above a listed version is reported
	sev       severity
}

// compiledInterval is an interval with its bounds parsed; nil lo or hi is unbounded.
type compiledInterval struct {
	lo, hi version.Version
	incl   bool
	fixed  version.Version // nil: the bound is not a fix (last_affected, limit)
}

func (c *cache) entries(idx *bolt.Bucket, prefix []byte) []compiledEntry {
	c.mu.Lock()
	es, ok := c.pkgs[string(prefix)]
	c.mu.Unlock()
	if ok {
		return es
	}
	es = compileKey(idx, prefix)
	c.mu.Lock()
	if c.pkgs == nil || len(c.pkgs) >= maxCached {
		c.pkgs = map[string][]compiledEntry{}
	}
	c.pkgs[string(prefix)] = es
	c.mu.Unlock()
	return es
}

// compileKey reads every index entry under prefix. A damaged entry is left out and
// never hides the others.
func compileKey(idx *bolt.Bucket, prefix []byte) []compiledEntry {
	var out []compiledEntry
	c := idx.Cursor()
	for k, v := c.Seek(prefix); k != nil && hasPrefix(k, prefix); k, v = c.Next() {
		e, err := decodeEntry(v)
		if err != nil {
			continue
		}
		ce := compiledEntry{recKey: string(k[len(prefix):])}
		for i := range e.Affected {
			if ca, ok := compileAffected(&e.Affected[i]); ok {
				ce.affected = append(ce.affected, ca)
			}
		}
		out = append(out, ce)
	}
	return out
}

func hasPrefix(k, prefix []byte) bool {
	return len(k) >= len(prefix) && string(k[:len(prefix)]) == string(prefix)
}

// compileAffected parses an affected entry's bounds. An interval with a bound its
// scheme cannot read matches nothing, so it is dropped.
func compileAffected(a *affected) (compiledAffected, bool) {
	sch, ok := version.Named(a.Scheme)
	if !ok {
		return compiledAffected{}, false
	}
	ca := compiledAffected{scheme: sch, sev: a.Sev, unordered: a.Unordered}
	for _, iv := range a.Intervals {
		ci := compiledInterval{incl: iv.Incl}
		if f, err := sch.Parse(iv.Fixed); err == nil {
			ci.fixed = f
			ca.fixes = append(ca.fixes, f)
		}
		var err error
		if iv.Lo != "" {
			if ci.lo, err = sch.Parse(iv.Lo); err != nil {
				continue
			}
		}
		if iv.Hi != "" {
			if ci.hi, err = sch.Parse(iv.Hi); err != nil {
				continue
			}
		}
		ca.intervals = append(ca.intervals, ci)
	}
	if len(a.Versions) > 0 {
		ca.versions = &lazyVersions{sch: sch, raw: a.Versions, vs: make([]version.Version, len(a.Versions))}
	}
	sort.Slice(ca.fixes, func(i, j int) bool { return ca.fixes[i].Compare(ca.fixes[j]) < 0 })
	return ca, len(ca.intervals) > 0 || ca.versions != nil || len(ca.unordered) > 0
}

// lazyVersions is an explicit versions list, stored sorted in its scheme's order. PyPI
// advisories list every affected release (140,000 versions over 2,600 records), and a
// lookup binary-searches a list: versions are parsed when the search reaches them.
type lazyVersions struct {
	sch version.Scheme
	raw []string
	mu  sync.Mutex
	vs  []version.Version
}

// has reports whether the list holds a version equal to v in the scheme's order.
func (l *lazyVersions) has(v version.Version) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	i := sort.Search(len(l.raw), func(i int) bool {
		w := l.at(i)
		return w == nil || w.Compare(v) >= 0
	})
	if i == len(l.raw) {
		return false
	}
	w := l.at(i)
	return w != nil && w.Compare(v) == 0
}

// at parses the i-th version once; nil when the scheme cannot read it (the import
// keeps only versions it can).
func (l *lazyVersions) at(i int) version.Version {
	if l.vs[i] == nil {
		w, err := l.sch.Parse(l.raw[i])
		if err != nil {
			return nil
		}
		l.vs[i] = w
	}
	return l.vs[i]
}

// record returns a stored record, decoded once per handle.
func (c *cache) record(recs *bolt.Bucket, key string) (*record, error) {
	c.mu.Lock()
	r, ok := c.recs[key]
	c.mu.Unlock()
	if ok {
		return r, nil
	}
	v := recs.Get([]byte(key))
	if v == nil {
		return nil, fmt.Errorf("%w: index names missing record %q", ErrCorrupt, key)
	}
	dec, err := decodeRecord(v)
	if err != nil {
		return nil, fmt.Errorf("%w: record %q: %w", ErrCorrupt, key, err)
	}
	r = &dec
	ns := nameGroup([]hit{{recKey: key, rec: r}})
	r.solo = &ns
	c.mu.Lock()
	if c.recs == nil || len(c.recs) >= maxCached {
		c.recs = map[string]*record{}
	}
	c.recs[key] = r
	c.mu.Unlock()
	return r, nil
}

// contains reports whether v is affected, and the fix to report (nil for none).
func (a *compiledAffected) contains(v version.Version) (bool, version.Version) {
	for i := range a.intervals {
		if a.intervals[i].contains(v) {
			return true, a.intervals[i].fixed
		}
	}
	if a.versions == nil || !a.versions.has(v) {
		return false, nil
	}
	// listed explicitly: report the nearest fix above it, if a range gives one
	j := sort.Search(len(a.fixes), func(j int) bool { return a.fixes[j].Compare(v) > 0 })
	if j == len(a.fixes) {
		return true, nil
	}
	return true, a.fixes[j]
}

// listsAsWritten reports whether raw, a version the scheme cannot read, is listed
// exactly so. Nothing can be said about where it falls in a range.
func (a *compiledAffected) listsAsWritten(raw string) bool {
	_, ok := slices.BinarySearch(a.unordered, raw)
	return ok
}

// fixPastAll is the fix to report for a version that is only known to be listed: the
// highest fix, when every interval ends in a fix and no listed version reaches it, so
// that it is past everything the entry names; else nil.
func (a *compiledAffected) fixPastAll() version.Version {
	var top version.Version
	for i := range a.intervals {
		f := a.intervals[i].fixed
		if f == nil {
			return nil // open, or ends at a last_affected or limit
		}
		if top == nil || f.Compare(top) > 0 {
			top = f
		}
	}
	if top == nil || a.versions == nil {
		return top
	}
	a.versions.mu.Lock()
	defer a.versions.mu.Unlock()
	if last := a.versions.at(len(a.versions.raw) - 1); last == nil || last.Compare(top) >= 0 {
		return nil
	}
	return top
}

func (iv *compiledInterval) contains(v version.Version) bool {
	if iv.lo != nil && v.Compare(iv.lo) < 0 {
		return false
	}
	if iv.hi == nil {
		return true
	}
	c := v.Compare(iv.hi)
	return c < 0 || (iv.incl && c == 0)
}
