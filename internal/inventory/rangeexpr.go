package inventory

import (
	"errors"
	"fmt"
	"strings"
	"unicode"

	"github.com/charterhq/charter/internal/version"
)

// Range is a version range as users write it on the command line: comparisons joined
// by commas or spaces all hold ("AND"), and alternatives are separated by "||":
//
//	<2.17.1
//	>=2.0-beta9, <2.15.0 || >=2.16.0 <2.17.1
//	=1.2.3   (a bare version means the same)
//
// Versions are ordered by the package's ecosystem (dpkg, Maven, PEP 440…), so a Range
// is parsed once and compiled per scheme.
type Range struct {
	alts [][]constraint
}

type constraint struct {
	op  string // "<", "<=", ">", ">=", "=", "!="
	raw string
}

// Limits on a range expression: it comes from a command line or a script. maxRangeLen
// bounds the versions' text; the expression as written (operators, separators and
// spaces included) may be up to four times that, so its canonical form always parses.
const (
	maxRangeLen         = 1024
	maxRangeConstraints = 64
)

// ErrRange is wrapped by every range parse error.
var ErrRange = errors.New("invalid version range")

var ops = []string{"<=", ">=", "!=", "==", "<", ">", "="}

// ParseRange reads a range expression. An empty expression matches every version.
func ParseRange(s string) (Range, error) {
	var r Range
	if len(s) > 4*maxRangeLen {
		return r, fmt.Errorf("%w: longer than %d characters", ErrRange, 4*maxRangeLen)
	}
	if strings.TrimSpace(s) == "" {
		return r, nil
	}
	n, text := 0, 0
	for _, alt := range strings.Split(s, "||") {
		cs, err := parseAlt(alt)
		if err != nil {
			return Range{}, err
		}
		for _, c := range cs {
			text += len(c.raw)
		}
		if text > maxRangeLen {
			return Range{}, fmt.Errorf("%w: versions longer than %d characters in all", ErrRange, maxRangeLen)
		}
		n += len(cs)
		if n > maxRangeConstraints {
			return Range{}, fmt.Errorf("%w: more than %d comparisons", ErrRange, maxRangeConstraints)
		}
		r.alts = append(r.alts, cs)
	}
	return r, nil
}

func parseAlt(s string) ([]constraint, error) {
	fields := strings.FieldsFunc(s, func(c rune) bool { return c == ',' || c == ' ' || c == '\t' })
	if len(fields) == 0 {
		return nil, fmt.Errorf("%w: an empty alternative around ||", ErrRange)
	}
	var out []constraint
	for i := 0; i < len(fields); i++ {
		f := fields[i]
		op := ""
		for _, o := range ops {
			if strings.HasPrefix(f, o) {
				op = o
				break
			}
		}
		v := f[len(op):]
		if v == "" && i+1 < len(fields) { // ">= 2.0": the operator stands alone
			i++
			v = fields[i]
		}
		if v == "" {
			return nil, fmt.Errorf("%w: %q has no version", ErrRange, f)
		}
		if strings.ContainsAny(v, "<>=!|") {
			return nil, fmt.Errorf("%w: %q is not a comparison", ErrRange, clip(f))
		}
		if strings.ContainsFunc(v, unicode.IsControl) {
			return nil, fmt.Errorf("%w: %q holds a control character", ErrRange, clip(f))
		}
		switch op {
		case "", "==":
			op = "="
		}
		out = append(out, constraint{op: op, raw: v})
	}
	return out, nil
}

func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

// String writes the range back in a canonical form.
func (r Range) String() string {
	var alts []string
	for _, a := range r.alts {
		var cs []string
		for _, c := range a {
			cs = append(cs, c.op+c.raw)
		}
		alts = append(alts, strings.Join(cs, ", "))
	}
	return strings.Join(alts, " || ")
}

// Empty reports whether the range matches every version.
func (r Range) Empty() bool { return len(r.alts) == 0 }

// Matcher tests versions of one scheme against a compiled range.
type Matcher func(version.Version) bool

// Compile parses the range's versions with sch. A version the scheme cannot read is an
// error naming it.
func (r Range) Compile(sch version.Scheme) (Matcher, error) {
	type cmp struct {
		op string
		v  version.Version
	}
	alts := make([][]cmp, len(r.alts))
	for i, a := range r.alts {
		for _, c := range a {
			v, err := sch.Parse(c.raw)
			if err != nil {
				return nil, fmt.Errorf("%w: %w", ErrRange, err)
			}
			alts[i] = append(alts[i], cmp{c.op, v})
		}
	}
	return func(v version.Version) bool {
		if len(alts) == 0 {
			return true
		}
		for _, a := range alts {
			ok := true
			for _, c := range a {
				if !holds(c.op, v.Compare(c.v)) {
					ok = false
					break
				}
			}
			if ok {
				return true
			}
		}
		return false
	}, nil
}

func holds(op string, c int) bool {
	switch op {
	case "<":
		return c < 0
	case "<=":
		return c <= 0
	case ">":
		return c > 0
	case ">=":
		return c >= 0
	case "!=":
		return c != 0
	}
	return c == 0
}

// schemeOf is the version ordering of a package-URL type.
func schemeOf(purlType string) (version.Scheme, bool) {
	s, ok := map[string]version.Scheme{
		"deb": version.Dpkg, "apk": version.Apk, "rpm": version.RPM, "golang": version.Go,
		"npm": version.NPM, "cargo": version.SemVer, "hex": version.SemVer, "pypi": version.PEP440,
		"maven": version.Maven, "gem": version.Gem, "composer": version.Composer, "nuget": version.NuGet,
	}[purlType]
	return s, ok
}
