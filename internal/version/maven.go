package version

import (
	"regexp"
	"strings"
)

// Maven orders Maven versions as Maven's ComparableVersion does on the versions
// artifacts use: numbers numerically; qualifiers alpha < beta < milestone < rc (cr) <
// snapshot < release (ga, final, "") < sp < any other qualifier (alphabetically) <
// a "-" number < a "." number; "a1", "b1", "m1" read as alpha 1, beta 1, milestone 1;
// trailing zeros and release qualifiers do not count (1.0.0.RELEASE == 1).
//
// ComparableVersion nests a list at every "-" and is not transitive on some mixes of
// lists and qualifiers (1.a < 1b0 < 1 < 1.a). Here the nesting is flattened, which keeps
// its answers on real versions and makes the order total. The Go library otherwise in
// use here shares that flaw and keeps an emptied sub-list in place, so the comparator is
// written here.
var Maven Scheme = mavenScheme{}

type mavenScheme struct{}

var mavenPattern = regexp.MustCompile(`^[0-9][0-9A-Za-z._+-]*$`)

// Element kinds, in order.
const (
	mvnPre     = iota // alpha, beta, milestone, rc, snapshot: value is the rank
	mvnRelease        // also the padding of a shorter version
	mvnSP
	mvnOther // unknown qualifier: value is the word
	mvnDash  // a number after "-" or a letter
	mvnDot   // a number after "." or at the start
)

var mvnQualifiers = map[string]string{
	"alpha": "0", "beta": "1", "milestone": "2", "rc": "3", "cr": "3", "snapshot": "4",
}

type mvnElem struct {
	kind int
	val  string
}

type mavenVersion struct {
	elems []mvnElem
	s     string
}

func (mavenScheme) Name() string { return "maven" }

func (mavenScheme) Parse(s string) (Version, error) {
	if err := checkLen("maven", s); err != nil {
		return nil, err
	}
	if !mavenPattern.MatchString(s) {
		return nil, invalid("maven", s, "")
	}
	return mavenVersion{elems: mavenElems(strings.ToLower(s)), s: s}, nil
}

// mavenElems splits at ".", "-" (and "+", which Maven treats as a letter but which
// appears in versions as a separator) and at digit/letter changes, and drops the null
// items at the end of each "-" segment, as ComparableVersion's normalisation does.
func mavenElems(s string) []mvnElem {
	var out []mvnElem
	segStart := 0
	endSegment := func() {
		for len(out) > segStart && isMvnNull(out[len(out)-1]) {
			out = out[:len(out)-1]
		}
		segStart = len(out)
	}
	sep := byte('.')
	for i := 0; i < len(s); {
		c := s[i]
		if c == '.' || c == '-' || c == '+' {
			sep = c
			i++
			continue
		}
		j := i
		digit := c >= '0' && c <= '9'
		for j < len(s) && s[j] != '.' && s[j] != '-' && s[j] != '+' && (s[j] >= '0' && s[j] <= '9') == digit {
			j++
		}
		tok := s[i:j]
		if sep != '.' || (i > 0 && s[i-1] != '.' && s[i-1] != '-' && s[i-1] != '+') {
			endSegment() // "-", "+" or a digit/letter change starts a new segment
		}
		switch {
		case digit && sep == '.' && (i == 0 || s[i-1] == '.'):
			out = append(out, mvnElem{mvnDot, strings.TrimLeft(tok, "0")})
		case digit:
			out = append(out, mvnElem{mvnDash, strings.TrimLeft(tok, "0")})
		default:
			out = append(out, mvnQualifier(tok, j < len(s) && s[j] >= '0' && s[j] <= '9'))
		}
		sep = '.'
		i = j
	}
	endSegment()
	return out
}

func mvnQualifier(q string, beforeDigit bool) mvnElem {
	if beforeDigit {
		switch q {
		case "a":
			q = "alpha"
		case "b":
			q = "beta"
		case "m":
			q = "milestone"
		}
	}
	switch q {
	case "", "ga", "final", "release":
		return mvnElem{kind: mvnRelease}
	case "sp":
		return mvnElem{kind: mvnSP}
	}
	if r, ok := mvnQualifiers[q]; ok {
		return mvnElem{mvnPre, r}
	}
	return mvnElem{mvnOther, q}
}

func isMvnNull(e mvnElem) bool {
	return e.kind == mvnRelease || ((e.kind == mvnDot || e.kind == mvnDash) && e.val == "")
}

func (v mavenVersion) String() string { return v.s }
func (mavenVersion) scheme() string   { return "maven" }
func (v mavenVersion) Compare(w Version) int {
	o, ok := w.(mavenVersion)
	if !ok {
		return crossScheme(v, w)
	}
	pad := mvnElem{kind: mvnRelease}
	for i := 0; i < len(v.elems) || i < len(o.elems); i++ {
		a, b := pad, pad
		if i < len(v.elems) {
			a = v.elems[i]
		}
		if i < len(o.elems) {
			b = o.elems[i]
		}
		if a.kind != b.kind {
			return sign(a.kind - b.kind)
		}
		var c int
		switch a.kind {
		case mvnDot, mvnDash:
			c = cmpDigits(a.val, b.val)
		default:
			c = strings.Compare(a.val, b.val)
		}
		if c != 0 {
			return sign(c)
		}
	}
	return 0
}
