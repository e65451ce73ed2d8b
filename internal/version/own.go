package version

import (
	"regexp"
	"strings"
)

// The orderings below are written here from each ecosystem's published rules: no Go
// library for them is a field standard.

// cmpDigits orders two strings of ASCII digits numerically, at any length.
func cmpDigits(a, b string) int {
	a = strings.TrimLeft(a, "0")
	b = strings.TrimLeft(b, "0")
	if len(a) != len(b) {
		return sign(len(a) - len(b))
	}
	return strings.Compare(a, b)
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// Gem orders RubyGems versions as Gem::Version does: segments split at dots and at
// digit/letter boundaries, a letter segment marks a pre-release (1.0.a < 1.0), "-" reads
// as ".pre.", and trailing zeros do not count (1.0 == 1).
var Gem Scheme = gemScheme{}

type gemScheme struct{}

var gemPattern = regexp.MustCompile(`^[0-9]+(\.[0-9a-zA-Z]+)*(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?$`)

type gemVersion struct {
	segs []string // canonical segments; digits-only ones are numbers
	s    string
}

func (gemScheme) Name() string { return "gem" }

func (gemScheme) Parse(s string) (Version, error) {
	if err := checkLen("gem", s); err != nil {
		return nil, err
	}
	if !gemPattern.MatchString(s) {
		return nil, invalid("gem", s, "")
	}
	return gemVersion{segs: gemCanonical(strings.ReplaceAll(s, "-", ".pre.")), s: s}, nil
}

// gemCanonical splits a version into number and letter runs and drops the trailing zeros
// of its release part and of its pre-release part.
func gemCanonical(s string) []string {
	var segs []string
	for i := 0; i < len(s); {
		j := i
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			for j < len(s) && s[j] >= '0' && s[j] <= '9' {
				j++
			}
			segs = append(segs, strings.TrimLeft(s[i:j], "0"))
		case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
			for j < len(s) && (s[j] >= 'a' && s[j] <= 'z' || s[j] >= 'A' && s[j] <= 'Z') {
				j++
			}
			segs = append(segs, s[i:j])
		default:
			j++
		}
		i = j
	}
	pre := len(segs)
	for i, g := range segs {
		if !gemNumber(g) {
			pre = i
			break
		}
	}
	release, rest := dropZeros(segs[:pre]), dropZeros(segs[pre:])
	return append(release, rest...)
}

// gemNumber reports a numeric segment; zero is stored as "" after trimming.
func gemNumber(g string) bool { return g == "" || g[0] >= '0' && g[0] <= '9' }

func dropZeros(segs []string) []string {
	n := len(segs)
	for n > 0 && segs[n-1] == "" {
		n--
	}
	return append([]string(nil), segs[:n]...)
}

func (v gemVersion) String() string { return v.s }
func (gemVersion) scheme() string   { return "gem" }
func (v gemVersion) Compare(w Version) int {
	o, ok := w.(gemVersion)
	if !ok {
		return crossScheme(v, w)
	}
	for i := 0; i < len(v.segs) || i < len(o.segs); i++ {
		a, b := "", ""
		if i < len(v.segs) {
			a = v.segs[i]
		}
		if i < len(o.segs) {
			b = o.segs[i]
		}
		an, bn := gemNumber(a), gemNumber(b)
		switch {
		case a == b:
			continue
		case an && bn:
			return cmpDigits(a, b)
		case an:
			return 1 // a number sorts after a letter segment
		case bn:
			return -1
		default:
			return sign(strings.Compare(a, b))
		}
	}
	return 0
}

// Composer orders Packagist versions as Composer does after normalising them: up to four
// numbers, then the stability dev < alpha < beta < RC < stable < patch with its number
// ("1.0.0-beta2", "v2.3", "1.0.0-RC1", "1.0.0-p1"). Branch names (dev-main, 1.x-dev)
// name no point in the order and are rejected.
var Composer Scheme = composerScheme{}

type composerScheme struct{}

var composerPattern = regexp.MustCompile(`(?i)^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:\.(\d+))?` +
	`(?:[._-]?(stable|beta|b|rc|alpha|a|patch|pl|p)((?:[.-]?\d+)*))?([.-]?dev)?(?:\+[0-9A-Za-z.-]+)?$`)

type composerVersion struct {
	nums      [4]string
	stability int
	stabNums  []string
	dev       bool
	s         string
}

var composerStability = map[string]int{
	"alpha": 1, "a": 1, "beta": 2, "b": 2, "rc": 3, "stable": 4, "patch": 5, "pl": 5, "p": 5,
}

func (composerScheme) Name() string { return "composer" }

func (composerScheme) Parse(s string) (Version, error) {
	if err := checkLen("composer", s); err != nil {
		return nil, err
	}
	m := composerPattern.FindStringSubmatch(s)
	if m == nil {
		return nil, invalid("composer", s, "")
	}
	v := composerVersion{s: s, stability: 4, dev: m[7] != ""}
	copy(v.nums[:], m[1:5])
	if m[5] != "" {
		v.stability = composerStability[strings.ToLower(m[5])]
		v.stabNums = strings.FieldsFunc(m[6], func(r rune) bool { return r == '.' || r == '-' })
	}
	if v.dev && m[5] == "" {
		v.stability = 0 // 1.0.0-dev: before any alpha of 1.0.0
		v.dev = false
	}
	return v, nil
}

func (v composerVersion) String() string { return v.s }
func (composerVersion) scheme() string   { return "composer" }
func (v composerVersion) Compare(w Version) int {
	o, ok := w.(composerVersion)
	if !ok {
		return crossScheme(v, w)
	}
	for i := range v.nums {
		if c := cmpDigits(v.nums[i], o.nums[i]); c != 0 {
			return c
		}
	}
	if v.stability != o.stability {
		return sign(v.stability - o.stability)
	}
	if c := cmpNumLists(v.stabNums, o.stabNums); c != 0 {
		return c
	}
	switch {
	case v.dev == o.dev:
		return 0
	case v.dev:
		return -1
	}
	return 1
}

// cmpNumLists orders lists of digit strings, a missing number counting as zero.
func cmpNumLists(a, b []string) int {
	for i := 0; i < len(a) || i < len(b); i++ {
		x, y := "0", "0"
		if i < len(a) {
			x = a[i]
		}
		if i < len(b) {
			y = b[i]
		}
		if c := cmpDigits(x, y); c != 0 {
			return c
		}
	}
	return 0
}

// NuGet orders NuGet versions: up to four numbers (missing ones are zero), a release
// after its pre-releases, pre-release labels compared part by part (numbers numerically,
// before letters; letters case-insensitively), build metadata ignored.
var NuGet Scheme = nugetScheme{}

type nugetScheme struct{}

var nugetPattern = regexp.MustCompile(`^(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:\.(\d+))?` +
	`(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?$`)

type nugetVersion struct {
	nums [4]string
	pre  []string
	s    string
}

func (nugetScheme) Name() string { return "nuget" }

func (nugetScheme) Parse(s string) (Version, error) {
	if err := checkLen("nuget", s); err != nil {
		return nil, err
	}
	m := nugetPattern.FindStringSubmatch(s)
	if m == nil {
		return nil, invalid("nuget", s, "")
	}
	v := nugetVersion{s: s}
	copy(v.nums[:], m[1:5])
	if m[5] != "" {
		v.pre = strings.Split(strings.ToLower(m[5]), ".")
	}
	return v, nil
}

func (v nugetVersion) String() string { return v.s }
func (nugetVersion) scheme() string   { return "nuget" }
func (v nugetVersion) Compare(w Version) int {
	o, ok := w.(nugetVersion)
	if !ok {
		return crossScheme(v, w)
	}
	for i := range v.nums {
		if c := cmpDigits(v.nums[i], o.nums[i]); c != 0 {
			return c
		}
	}
	switch {
	case len(v.pre) == 0 && len(o.pre) == 0:
		return 0
	case len(v.pre) == 0:
		return 1
	case len(o.pre) == 0:
		return -1
	}
	return cmpLabels(v.pre, o.pre)
}

// cmpLabels orders dot-separated pre-release labels as SemVer 2.0 does.
func cmpLabels(a, b []string) int {
	for i := 0; i < len(a) && i < len(b); i++ {
		x, y := a[i], b[i]
		xd, yd := isDigits(x), isDigits(y)
		var c int
		switch {
		case xd && yd:
			c = cmpDigits(x, y)
		case xd:
			c = -1
		case yd:
			c = 1
		default:
			c = strings.Compare(x, y)
		}
		if c != 0 {
			return sign(c)
		}
	}
	return sign(len(a) - len(b))
}
