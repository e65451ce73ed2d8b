package version

import (
	"regexp"
	"strings"
)

// Apk orders Alpine, Wolfi and Chainguard versions as apk-tools does:
// numbers (after the first, one with a leading zero compares as a decimal fraction), an
// optional letter, suffixes where _alpha < _beta < _pre < _rc come before the release and
// _cvs < _svn < _git < _hg < _p after it, a ~commit hash, then the -rN package revision:
// 1.0_rc1 < 1.0 < 1.0-r1 < 1.0_p1 < 1.0a < 1.0.1.
//
// It is written here rather than taken from a library: the Go library in use elsewhere
// orders 2.0 before 2.0_rc1.
var Apk Scheme = apkScheme{}

type apkScheme struct{}

var apkPattern = regexp.MustCompile(`^(\d+(?:\.\d+)*)([a-z])?((?:_(?:alpha|beta|pre|rc|cvs|svn|git|hg|p)\d*)*)(~[0-9a-f]+)?(?:-r(\d+))?$`)

var apkSuffixes = []string{"alpha", "beta", "pre", "rc", "cvs", "svn", "git", "hg", "p"}

const apkFirstPost = 4 // index of "cvs": suffixes from here on come after the release

// apkToken classes, ordered so that at the first difference in kind the version whose
// token has the higher class is the greater (apk-tools: a version that goes on is newer,
// unless it goes on with a pre-release suffix).
const (
	apkPreSuffix = iota
	apkEnd
	apkRevision
	apkHash
	apkSuffixNo
	apkPostSuffix
	apkLetter
	apkNumber
)

type apkToken struct {
	class int
	val   string // digits, a letter, a suffix index as a digit string, a hash
	frac  bool   // a number after the first: leading zeros make it a fraction
}

type apkVersion struct {
	toks []apkToken
	s    string
}

func (apkScheme) Name() string { return "apk" }

func (apkScheme) Parse(s string) (Version, error) {
	if err := checkLen("apk", s); err != nil {
		return nil, err
	}
	m := apkPattern.FindStringSubmatch(s)
	if m == nil {
		return nil, invalid("apk", s, "")
	}
	var toks []apkToken
	for i, n := range strings.Split(m[1], ".") {
		toks = append(toks, apkToken{class: apkNumber, val: n, frac: i > 0})
	}
	if m[2] != "" {
		toks = append(toks, apkToken{class: apkLetter, val: m[2]})
	}
	for _, suf := range strings.Split(m[3], "_")[1:] {
		toks = append(toks, apkSuffix(suf)...)
	}
	if m[4] != "" {
		toks = append(toks, apkToken{class: apkHash, val: m[4][1:]})
	}
	if m[5] != "" {
		toks = append(toks, apkToken{class: apkRevision, val: m[5]})
	}
	return apkVersion{toks: toks, s: s}, nil
}

func apkSuffix(suf string) []apkToken {
	name := strings.TrimRight(suf, "0123456789")
	num := suf[len(name):]
	for i, known := range apkSuffixes {
		if known == name {
			class := apkPreSuffix
			if i >= apkFirstPost {
				class = apkPostSuffix
			}
			t := []apkToken{{class: class, val: string(rune('0' + i))}}
			if num != "" {
				t = append(t, apkToken{class: apkSuffixNo, val: num})
			}
			return t
		}
	}
	return nil // unreachable: the pattern admits only known suffixes
}

func (v apkVersion) String() string { return v.s }
func (apkVersion) scheme() string   { return "apk" }
func (v apkVersion) Compare(w Version) int {
	o, ok := w.(apkVersion)
	if !ok {
		return crossScheme(v, w)
	}
	for i := 0; ; i++ {
		a, b := apkAt(v.toks, i), apkAt(o.toks, i)
		if a.class != b.class {
			// pre-release suffixes and ends rank lowest, see the classes above
			return sign(a.class - b.class)
		}
		if a.class == apkEnd {
			return 0
		}
		if c := apkCompareValues(a, b); c != 0 {
			return c
		}
	}
}

func apkAt(toks []apkToken, i int) apkToken {
	if i < len(toks) {
		return toks[i]
	}
	return apkToken{class: apkEnd}
}

func apkCompareValues(a, b apkToken) int {
	switch a.class {
	case apkNumber, apkSuffixNo, apkRevision:
		if a.frac && (isLeadingZero(a.val) || isLeadingZero(b.val)) {
			return sign(strings.Compare(strings.TrimRight(a.val, "0"), strings.TrimRight(b.val, "0")))
		}
		return cmpDigits(a.val, b.val)
	}
	return sign(strings.Compare(a.val, b.val))
}

// isLeadingZero reports a number written with a leading zero ("05"), not zero itself.
func isLeadingZero(s string) bool { return len(s) > 1 && s[0] == '0' }
