package vulndb

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	bolt "go.etcd.io/bbolt"

	"github.com/charterhq/charter/internal/report"
	"github.com/charterhq/charter/internal/version"
)

// Advisory is one vulnerability as matching sees it, read from an OSV document or from
// the database (every stored record that carries the asked ID or has it as an alias).
// It answers "does this package version fall in the advisory's ranges" with the same
// rules as Match, without a scan: `charter inventory affected` asks it about every
// candidate package a fleet inventory holds.
type Advisory struct {
	// ID is the ID asked for, or the document's ID.
	ID string `json:"id"`
	// Aliases are the other IDs of the records read, sorted.
	Aliases []string `json:"aliases,omitempty"`
	Summary string   `json:"summary,omitempty"`
	// Records are the records read, as source/ID ("file/ID" for a document).
	Records []string `json:"records"`
	// Packages are the affected packages, sorted by ecosystem and name.
	Packages []AdvisoryPackage `json:"packages"`

	entries map[string]*entry // by index key
}

// AdvisoryPackage is one package an advisory names.
type AdvisoryPackage struct {
	// Ecosystem is the OSV ecosystem as matching keys it ("Maven", "Debian:12").
	Ecosystem string `json:"ecosystem"`
	// Name is the package name as the ecosystem compares names (PyPI normalised).
	Name string `json:"name"`
	// Type is the package-URL type of installed packages that can match it ("maven",
	// "deb", "golang"), the ecosystem charter's catalogers write.
	Type string `json:"type"`
}

// ErrNoAdvisory is returned by DB.Advisory when no stored record has the ID.
var ErrNoAdvisory = errors.New("no such advisory")

// ParseAdvisory reads one OSV JSON document with the same parser and limits an import
// uses. A withdrawn record, or one that names no package charter can match, is an error.
func ParseAdvisory(data []byte) (*Advisory, error) {
	lim := DefaultLimits()
	p, err := parseOSV(data, &lim, func(string, string) {})
	if err != nil {
		return nil, fmt.Errorf("OSV document: %w", err)
	}
	if p.withdrawn {
		return nil, fmt.Errorf("OSV document: %s is withdrawn", p.rec.ID)
	}
	a := &Advisory{ID: p.rec.ID, entries: map[string]*entry{}}
	a.add(p.rec, "file/"+p.rec.ID, p.entries)
	a.finish()
	return a, nil
}

// Advisory reads every stored record whose ID or alias is id, across sources, merged
// into one Advisory: one lookup in the ID index, whatever the database's size. With none
// it returns an error wrapping ErrNoAdvisory.
func (db *DB) Advisory(id string) (*Advisory, error) {
	if !validID(id) {
		return nil, fmt.Errorf("%w: %q is not an advisory ID", ErrNoAdvisory, shorten(id))
	}
	a := &Advisory{ID: id, entries: map[string]*entry{}}
	err := db.bolt.View(func(tx *bolt.Tx) error {
		recs, idx, ids := tx.Bucket(bucketRecords), tx.Bucket(bucketIndex), tx.Bucket(bucketIDs)
		prefix := []byte(id + "\x00")
		c := ids.Cursor()
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			rk := recordKeyOfName(k)
			v := recs.Get(rk)
			if v == nil {
				return fmt.Errorf("%w: ID entry %q has no record", ErrCorrupt, k)
			}
			r, err := decodeRecord(v)
			if err != nil {
				return fmt.Errorf("%w: record %q: %w", ErrCorrupt, rk, err)
			}
			entries := map[string]*entry{}
			for _, key := range r.Keys {
				raw := idx.Get([]byte(key + "\x00" + string(rk)))
				if raw == nil {
					continue
				}
				e, err := decodeEntry(raw)
				if err != nil {
					continue
				}
				entries[key] = &e
			}
			a.add(r, strings.Replace(string(rk), "\x00", "/", 1), entries)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(a.Records) == 0 {
		return nil, fmt.Errorf("%w: %s is not in the vulnerability database (%s)", ErrNoAdvisory, id, db.path)
	}
	a.finish()
	return a, nil
}

func (a *Advisory) add(r record, name string, entries map[string]*entry) {
	a.Records = append(a.Records, name)
	a.Aliases = append(a.Aliases, r.ID)
	a.Aliases = append(a.Aliases, r.Aliases...)
	if a.Summary == "" {
		a.Summary = r.Summary
	}
	for key, e := range entries {
		if cur := a.entries[key]; cur != nil {
			cur.Affected = append(cur.Affected, e.Affected...)
		} else {
			a.entries[key] = &entry{Affected: append([]affected(nil), e.Affected...)}
		}
	}
}

// finish sorts and deduplicates what add gathered and lists the packages.
func (a *Advisory) finish() {
	seen := map[string]bool{a.ID: true}
	var aliases []string
	for _, id := range a.Aliases {
		if !seen[id] {
			seen[id] = true
			aliases = append(aliases, id)
		}
	}
	sort.Strings(aliases)
	a.Aliases = aliases
	sort.Strings(a.Records)
	for key := range a.entries {
		eco, name, _ := strings.Cut(key, "\x00")
		a.Packages = append(a.Packages, AdvisoryPackage{Ecosystem: eco, Name: name, Type: purlType(eco)})
	}
	sort.Slice(a.Packages, func(i, j int) bool {
		if a.Packages[i].Ecosystem != a.Packages[j].Ecosystem {
			return a.Packages[i].Ecosystem < a.Packages[j].Ecosystem
		}
		return a.Packages[i].Name < a.Packages[j].Name
	})
}

// purlType maps an OSV ecosystem to the package-URL type of the packages it covers.
func purlType(eco string) string {
	base, _, _ := strings.Cut(eco, ":")
	for typ, osv := range osvLanguage {
		if osv == base {
			return typ
		}
	}
	switch sch, _ := version.ForOSV(eco); sch {
	case version.Dpkg:
		return "deb"
	case version.Apk:
		return "apk"
	case version.RPM:
		return "rpm"
	}
	return ""
}

// Affects reports whether the advisory affects p, with the same lookup Match makes
// (distro release keys, source packages, per-ecosystem version order): the fixed version
// to report ("" when none is known) and the severity. With a zero d, a distro
// package's purl `distro` qualifier names its release.
func (a *Advisory) Affects(p *report.Package, d Distro) (fixed string, sev report.Severity, ok bool) {
	q, why := queryOf(p, d)
	if why != "" {
		return "", report.SeverityNone, false
	}
	var fix version.Version
	var best severity
	for _, eco := range q.ecoKeys {
		for _, name := range q.names {
			e := a.entries[eco+"\x00"+normName(q.eco, name)]
			if e == nil {
				continue
			}
			for i := range e.Affected {
				af := &e.Affected[i]
				hit, f := af.affects(q.version)
				if !hit {
					continue
				}
				ok = true
				if f != nil && (fix == nil || f.Compare(fix) > 0) {
					fix = f
				}
				if af.Sev.Level > best.Level {
					best = af.Sev
				}
			}
		}
	}
	if !ok {
		return "", report.SeverityNone, false
	}
	if fix != nil {
		fixed = fix.String()
	}
	sev = best.Level
	if sev == report.SeverityNone {
		sev = report.Medium
	}
	return fixed, sev, true
}

// affects evaluates one stored affected entry for a raw installed version, as the OSV
// schema defines: inside an interval, or listed explicitly. The fix is the interval's
// fixed event, or for a listed version the nearest fix above it; nil when none is known.
// A version the scheme cannot read is only looked up among the listed versions as
// written, with the fix Match would report for it.
func (a *affected) affects(raw string) (bool, version.Version) {
	sch, ok := version.Named(a.Scheme)
	if !ok {
		return false, nil
	}
	v, err := sch.Parse(raw)
	if err != nil {
		if _, listed := slices.BinarySearch(a.Unordered, raw); !listed {
			return false, nil
		}
		ca, ok := compileAffected(a)
		if !ok {
			return true, nil
		}
		return true, ca.fixPastAll()
	}
	parse := func(s string) version.Version {
		if s == "" {
			return nil
		}
		p, err := sch.Parse(s)
		if err != nil {
			return nil
		}
		return p
	}
	for _, iv := range a.Intervals {
		if iv.Lo != "" {
			lo := parse(iv.Lo)
			if lo == nil || v.Compare(lo) < 0 {
				continue
			}
		}
		if iv.Hi != "" {
			hi := parse(iv.Hi)
			if hi == nil {
				continue
			}
			if c := v.Compare(hi); c > 0 || (c == 0 && !iv.Incl) {
				continue
			}
		}
		return true, parse(iv.Fixed)
	}
	listed := false
	for _, s := range a.Versions {
		if w := parse(s); w != nil && w.Compare(v) == 0 {
			listed = true
			break
		}
	}
	if !listed {
		return false, nil
	}
	var fix version.Version
	for _, iv := range a.Intervals {
		if f := parse(iv.Fixed); f != nil && f.Compare(v) > 0 && (fix == nil || f.Compare(fix) < 0) {
			fix = f
		}
	}
	return true, fix
}
