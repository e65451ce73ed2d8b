package version

import (
	"strings"

	mmsemver "github.com/Masterminds/semver/v3"
	"golang.org/x/mod/semver"
)

// SemVer orders Semantic Versioning 2.0 versions (crates.io, Hex, and OSV's SEMVER
// ranges): major.minor.patch, a pre-release sorts before its release, build metadata is
// ignored. A leading "v" and missing minor or patch numbers are accepted.
var SemVer Scheme = mmScheme{name: "semver"}

// NPM orders npm versions: Semantic Versioning 2.0 as node-semver applies it.
var NPM Scheme = mmScheme{name: "npm"}

type mmScheme struct{ name string }

type mmVersion struct {
	v    *mmsemver.Version
	s    string
	name string
}

func (m mmScheme) Name() string { return m.name }

func (m mmScheme) Parse(s string) (Version, error) {
	if err := checkLen(m.name, s); err != nil {
		return nil, err
	}
	v, err := mmsemver.NewVersion(strings.TrimPrefix(s, "="))
	if err != nil {
		return nil, invalid(m.name, s, err.Error())
	}
	return mmVersion{v: v, s: s, name: m.name}, nil
}

func (v mmVersion) String() string { return v.s }
func (v mmVersion) scheme() string { return v.name }
func (v mmVersion) Compare(w Version) int {
	o, ok := w.(mmVersion)
	if !ok || o.name != v.name {
		return crossScheme(v, w)
	}
	return sign(v.v.Compare(o.v))
}

// Go orders Go module versions (v1.2.3, pseudo-versions such as
// v0.0.0-20240101000000-abcdef123456, +incompatible) and Go toolchain versions as the Go
// vulnerability database writes them for the standard library: go1.22.5 is v1.22.5,
// go1.21rc2 is v1.21.0-rc.2, go1.22 is v1.22.0. The "v" may be omitted, as OSV records do.
var Go Scheme = goScheme{}

type goScheme struct{}

type goVersion struct {
	canon string // canonical semver with "v", without build metadata
	s     string
}

func (goScheme) Name() string { return "go" }

func (goScheme) Parse(s string) (Version, error) {
	if err := checkLen("go", s); err != nil {
		return nil, err
	}
	c := goCanonical(s)
	if c == "" {
		return nil, invalid("go", s, "")
	}
	return goVersion{canon: c, s: s}, nil
}

// goCanonical turns a module or toolchain version into canonical semver, or "".
func goCanonical(s string) string {
	if strings.HasPrefix(s, "go") {
		return toolchainSemver(s[2:])
	}
	if !strings.HasPrefix(s, "v") {
		s = "v" + s
	}
	return semver.Canonical(s)
}

// toolchainSemver converts "1.21rc2", "1.22.5", "1.20beta1", "1" to canonical semver.
func toolchainSemver(s string) string {
	num, pre := s, ""
	for _, tag := range []string{"rc", "beta", "alpha"} {
		if i := strings.Index(s, tag); i > 0 {
			num, pre = s[:i], tag+"."+s[i+len(tag):]
			if s[i+len(tag):] == "" {
				return ""
			}
			break
		}
	}
	c := semver.Canonical("v" + num)
	if c == "" || semver.Prerelease(c) != "" || strings.Contains(num, "-") {
		return ""
	}
	if pre != "" {
		c += "-" + pre
		if !semver.IsValid(c) {
			return ""
		}
	}
	return c
}

func (v goVersion) String() string { return v.s }
func (goVersion) scheme() string   { return "go" }
func (v goVersion) Compare(w Version) int {
	o, ok := w.(goVersion)
	if !ok {
		return crossScheme(v, w)
	}
	return semver.Compare(v.canon, o.canon)
}
