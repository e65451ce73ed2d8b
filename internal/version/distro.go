package version

import (
	debver "github.com/knqyf263/go-deb-version"
	rpmver "github.com/knqyf263/go-rpm-version"
)

// Dpkg orders Debian and Ubuntu versions ([epoch:]upstream[-revision]) as dpkg does:
// the epoch first, then upstream and revision, where `~` sorts before anything, even
// the end of the string (1.0~rc1 < 1.0).
var Dpkg Scheme = dpkgScheme{}

type dpkgScheme struct{}

// dpkgVersion keeps the parts dpkg compares. Parsing and validation are the library's;
// comparison is dpkg's own verrevcmp, written here: the library runs two regular
// expressions per comparison and reads numbers into an int, which overflows.
type dpkgVersion struct {
	epoch              int
	upstream, revision string
	s                  string
}

func (dpkgScheme) Name() string { return "dpkg" }

func (dpkgScheme) Parse(s string) (Version, error) {
	if err := checkLen("dpkg", s); err != nil {
		return nil, err
	}
	v, err := debver.NewVersion(s)
	if err != nil {
		return nil, invalid("dpkg", s, err.Error())
	}
	return dpkgVersion{epoch: v.Epoch(), upstream: v.Version(), revision: v.Revision(), s: s}, nil
}

func (v dpkgVersion) String() string { return v.s }
func (dpkgVersion) scheme() string   { return "dpkg" }
func (v dpkgVersion) Compare(w Version) int {
	o, ok := w.(dpkgVersion)
	if !ok {
		return crossScheme(v, w)
	}
	if v.epoch != o.epoch {
		return cmpInt(v.epoch, o.epoch)
	}
	if c := verrevcmp(v.upstream, o.upstream); c != 0 {
		return c
	}
	return verrevcmp(v.revision, o.revision)
}

// verrevcmp compares upstream versions or revisions as dpkg does: alternating runs of
// non-digits (letters before other characters, '~' before everything, even the end) and
// numbers (by value, at any length).
func verrevcmp(a, b string) int {
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		for (i < len(a) && !isDigit(a[i])) || (j < len(b) && !isDigit(b[j])) {
			ac, bc := dpkgOrder(a, i), dpkgOrder(b, j)
			if ac != bc {
				return sign(ac - bc)
			}
			i, j = i+1, j+1
		}
		for i < len(a) && a[i] == '0' {
			i++
		}
		for j < len(b) && b[j] == '0' {
			j++
		}
		first := 0
		for i < len(a) && j < len(b) && isDigit(a[i]) && isDigit(b[j]) {
			if first == 0 {
				first = int(a[i]) - int(b[j])
			}
			i, j = i+1, j+1
		}
		if i < len(a) && isDigit(a[i]) {
			return 1
		}
		if j < len(b) && isDigit(b[j]) {
			return -1
		}
		if first != 0 {
			return sign(first)
		}
	}
	return 0
}

// dpkgOrder weighs the character at s[i]: 0 past the end or on a digit, the letter
// itself, -1 for '~', other characters after every letter.
func dpkgOrder(s string, i int) int {
	if i >= len(s) {
		return 0
	}
	switch c := s[i]; {
	case isDigit(c):
		return 0
	case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
		return int(c)
	case c == '~':
		return -1
	default:
		return int(c) + 256
	}
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// RPM orders [epoch:]version[-release] as rpm's rpmvercmp does, with `~` (pre-release)
// and `^` (post-release) handled.
var RPM Scheme = rpmScheme{}

type rpmScheme struct{}

type rpmVersion struct {
	v rpmver.Version
	s string
}

func (rpmScheme) Name() string { return "rpm" }

func (rpmScheme) Parse(s string) (Version, error) {
	if err := checkLen("rpm", s); err != nil {
		return nil, err
	}
	return rpmVersion{v: rpmver.NewVersion(s), s: s}, nil
}

func (v rpmVersion) String() string { return v.s }
func (rpmVersion) scheme() string   { return "rpm" }
func (v rpmVersion) Compare(w Version) int {
	o, ok := w.(rpmVersion)
	if !ok {
		return crossScheme(v, w)
	}
	return sign(v.v.Compare(o.v))
}
