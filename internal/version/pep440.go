package version

import "strings"

// PEP440 orders Python package versions by PEP 440: epochs, pre-, post- and
// dev-releases, and local versions (1.0.dev1 < 1.0a1 < 1.0 < 1.0.post1 < 1.0+local).
//
// Written here from the PEP's grammar and ordering: the library charter used first
// formats both versions on every comparison, and PyPI advisories list 140,000 versions
// that matching binary-searches and an import sorts.
var PEP440 Scheme = pep440Scheme{}

type pep440Scheme struct{}

// pep440Version is a version in normal form: numbers as digit strings without leading
// zeros (any length), the release without trailing zeros, the local segments lower-cased.
type pep440Version struct {
	s       string
	epoch   string
	release []string
	pre     int8 // preNone, preA, preB, preRC
	preN    string
	post    bool
	postN   string
	dev     bool
	devN    string
	local   []string
	isLocal bool
}

const (
	preNone int8 = iota
	preA
	preB
	preRC
)

func (pep440Scheme) Name() string { return "pep440" }

func (pep440Scheme) Parse(s string) (Version, error) {
	if err := checkLen("pep440", s); err != nil {
		return nil, err
	}
	v, ok := parsePEP440(s)
	if !ok {
		return nil, invalid("pep440", s, "")
	}
	return v, nil
}

// pepScanner reads a lower-cased version left to right.
type pepScanner struct {
	s string
	i int
}

func (p *pepScanner) digits() (string, bool) {
	j := p.i
	for j < len(p.s) && p.s[j] >= '0' && p.s[j] <= '9' {
		j++
	}
	if j == p.i {
		return "", false
	}
	d := strings.TrimLeft(p.s[p.i:j], "0")
	p.i = j
	return d, true
}

func (p *pepScanner) sep() {
	if p.i < len(p.s) && (p.s[p.i] == '-' || p.s[p.i] == '_' || p.s[p.i] == '.') {
		p.i++
	}
}

// word consumes the first of words found at the cursor, after an optional separator.
func (p *pepScanner) word(words ...string) (string, bool) {
	start := p.i
	p.sep()
	for _, w := range words {
		if strings.HasPrefix(p.s[p.i:], w) {
			p.i += len(w)
			return w, true
		}
	}
	p.i = start
	return "", false
}

// number reads the optional number after a pre-, post- or dev-release word (an omitted
// number is 0).
func (p *pepScanner) number() string {
	start := p.i
	p.sep()
	if d, ok := p.digits(); ok {
		return d
	}
	p.i = start
	return ""
}

func parsePEP440(raw string) (pep440Version, bool) {
	v := pep440Version{s: raw}
	p := &pepScanner{s: strings.ToLower(raw)}
	if strings.HasPrefix(p.s, "v") {
		p.i++
	}
	first, ok := p.digits()
	if !ok {
		return v, false
	}
	if p.i < len(p.s) && p.s[p.i] == '!' {
		p.i++
		v.epoch = first
		if first, ok = p.digits(); !ok {
			return v, false
		}
	}
	v.release = append(v.release, first)
	for p.i+1 < len(p.s) && p.s[p.i] == '.' && p.s[p.i+1] >= '0' && p.s[p.i+1] <= '9' {
		p.i++
		d, _ := p.digits()
		v.release = append(v.release, d)
	}
	for len(v.release) > 0 && v.release[len(v.release)-1] == "" {
		v.release = v.release[:len(v.release)-1]
	}
	// "preview" before "pre", "alpha" before "a", "rc" before "c"
	if w, ok := p.word("alpha", "beta", "preview", "pre", "rc", "a", "b", "c"); ok {
		v.pre = map[string]int8{"alpha": preA, "a": preA, "beta": preB, "b": preB}[w]
		if v.pre == preNone {
			v.pre = preRC
		}
		v.preN = p.number()
	}
	if p.i+1 < len(p.s) && p.s[p.i] == '-' && p.s[p.i+1] >= '0' && p.s[p.i+1] <= '9' {
		p.i++
		v.post = true
		v.postN, _ = p.digits()
	} else if _, ok := p.word("post", "rev", "r"); ok {
		v.post = true
		v.postN = p.number()
	}
	if _, ok := p.word("dev"); ok {
		v.dev = true
		v.devN = p.number()
	}
	if p.i < len(p.s) && p.s[p.i] == '+' {
		p.i++
		if v.local, ok = localSegments(p.s[p.i:]); !ok {
			return v, false
		}
		v.isLocal = true
		p.i = len(p.s)
	}
	return v, p.i == len(p.s)
}

// localSegments splits a local version label at its separators; segments are
// alphanumeric and none is empty.
func localSegments(s string) ([]string, bool) {
	segs := strings.FieldsFunc(s, func(r rune) bool { return r == '.' || r == '-' || r == '_' })
	if len(segs) == 0 || strings.Count(s, ".")+strings.Count(s, "-")+strings.Count(s, "_") != len(segs)-1 {
		return nil, false
	}
	for _, seg := range segs {
		for i := 0; i < len(seg); i++ {
			if c := seg[i]; (c < 'a' || c > 'z') && (c < '0' || c > '9') {
				return nil, false
			}
		}
	}
	return segs, true
}

func (v pep440Version) String() string { return v.s }
func (pep440Version) scheme() string   { return "pep440" }

// Compare follows PEP 440's ordering: epoch, release, then a dev-only release before
// its pre-releases, pre-releases before the final release, post-releases after it,
// dev-releases before whatever they are dev-releases of, and a local version after
// its public one.
func (v pep440Version) Compare(w Version) int {
	o, ok := w.(pep440Version)
	if !ok {
		return crossScheme(v, w)
	}
	if c := cmpDigits(v.epoch, o.epoch); c != 0 {
		return c
	}
	if c := cmpNumLists(v.release, o.release); c != 0 {
		return c
	}
	if c := cmpInt(v.preRank(), o.preRank()); c != 0 {
		return c
	}
	if v.pre != preNone {
		if c := cmpDigits(v.preN, o.preN); c != 0 {
			return c
		}
	}
	if c := cmpOptional(v.post, v.postN, o.post, o.postN, -1); c != 0 {
		return c
	}
	if c := cmpOptional(v.dev, v.devN, o.dev, o.devN, +1); c != 0 {
		return c
	}
	return cmpLocal(v.isLocal, v.local, o.isLocal, o.local)
}

// preRank places the pre-release: 0 for a dev-release of the final version (1.0.dev1 <
// 1.0a1), 1–3 for a, b, rc, and 4 for no pre-release.
func (v pep440Version) preRank() int {
	switch {
	case v.pre != preNone:
		return int(v.pre)
	case v.dev && !v.post:
		return 0
	}
	return 4
}

// cmpOptional orders an optional number: absent sorts at absent (-1 first, +1 last).
func cmpOptional(has bool, n string, hasO bool, nO string, absent int) int {
	switch {
	case has && hasO:
		return cmpDigits(n, nO)
	case has == hasO:
		return 0
	case has:
		return -absent
	}
	return absent
}

// cmpLocal orders local labels: none first; segment by segment, numbers above words,
// numbers by value, words by text; a label that is a prefix of another first.
func cmpLocal(has bool, a []string, hasO bool, b []string) int {
	if has != hasO {
		if has {
			return 1
		}
		return -1
	}
	for i := 0; i < len(a) && i < len(b); i++ {
		an, bn := isDigits(a[i]), isDigits(b[i])
		var c int
		switch {
		case an && bn:
			c = cmpDigits(a[i], b[i])
		case an:
			c = 1
		case bn:
			c = -1
		default:
			c = strings.Compare(a[i], b[i])
		}
		if c != 0 {
			return c
		}
	}
	return cmpInt(len(a), len(b))
}

func cmpInt(a, b int) int { return sign(a - b) }
