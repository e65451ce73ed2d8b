package version

import (
	"errors"
	"testing"
)

// ascending lists versions in each ecosystem's order, from its own documentation and
// package-manager behaviour; every pair is checked both ways.
var ascending = map[Scheme][]string{
	Dpkg: { // deb-version(7): epoch first, "~" before everything, letters before non-letters
		"0.9", "1.0~alpha", "1.0~rc1", "1.0~rc1+b1", "1.0", "1.0-1~bpo1", "1.0-1",
		"1.0-1+b1", "1.0-1+deb12u1", "1.0-2", "1.0a", "1.0+dfsg-1", "1.0.1", "1.1",
		"2.36-9+deb12u3", "2.36-9+deb12u4", "3.0.11-1~deb12u2", "3.0.13-1~deb12u1",
		"1:0.1", "1:1.0~rc1", "1:1.0", "2:0.0.1",
	},
	Apk: { // apk-tools: _alpha < _beta < _pre < _rc < release < _cvs < _svn < _git < _hg < _p
		"1.0_alpha1", "1.0_beta", "1.0_pre1", "1.0_rc1", "1.0_rc2", "1.0", "1.0-r1",
		"1.0_p1", "1.0a", "1.0.01", "1.0.1", "1.2.3-r0", "1.2.3-r9", "1.2.3-r10", "1.2.10-r0", "3.1.4-r5", "3.1.4a-r0",
	},
	RPM: { // rpmvercmp: numeric segments numerically, "~" before, "^" after
		"0.9", "1.0~rc1", "1.0", "1.0-1", "1.0-1.el9", "1.0-2.el9", "1.0^git1", "1.0.1",
		"1.1", "1.10", "3.0.7-24.el9", "3.0.7-25.el9", "1:0.1", "2:1.0",
	},
	Go: { // semver plus Go's pseudo-versions and toolchain names
		"v0.0.0-20190101000000-aaaaaaaaaaaa", "v0.0.0-20240101000000-abcdef123456", "v0.1.0",
		"v1.0.0-rc.1", "v1.0.0", "1.0.1", "v1.2.3", "v1.2.4-0.20240101000000-abcdef123456",
		"v1.2.4", "go1.20beta1", "go1.20rc2", "go1.20", "1.20.1", "go1.21rc2", "go1.21.0",
		"go1.22.5", "v1.22.6", "v2.0.0+incompatible", "v2.1.0",
	},
	SemVer: { // semver.org section 11
		"0.1.0", "1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta",
		"1.0.0-beta.2", "1.0.0-beta.11", "1.0.0-rc.1", "1.0.0", "1.0.1", "1.2.0", "1.10.0", "2.0.0",
	},
	NPM: {
		"0.0.1", "1.2.5", "1.2.6-beta.0", "1.2.6", "4.17.15", "4.17.20", "4.17.21", "10.0.0",
	},
	PEP440: { // PEP 440 "Summary of permitted suffixes and relative ordering"
		"1.0.dev456", "1.0a1", "1.0a2.dev456", "1.0a12.dev456", "1.0a12", "1.0b1.dev456",
		"1.0b2", "1.0b2.post345.dev456", "1.0b2.post345", "1.0rc1.dev456", "1.0rc1", "1.0",
		"1.0+abc.5", "1.0+abc.7", "1.0+5", "1.0.post456.dev34", "1.0.post456", "1.0.15",
		"1.1.dev1", "1.26.12", "1.26.18", "2.0.7", "1!0.1",
	},
	Maven: { // ComparableVersion: alpha < beta < milestone < rc < snapshot < release < sp
		"1-alpha-1", "1.0-alpha2", "1.0-beta1", "1.0-m1", "1.0-rc1", "1.0-SNAPSHOT", "1.0",
		"1.0-sp1", "1.0-foo", "1.0-1", "1.0.1", "1.2.17", "2.0-beta9", "2.0", "2.14.1", "2.15.0", "2.16.0", "2.17.0", "2.17.1",
	},
	Gem: { // Gem::Version: letter segments are pre-releases
		"0.9", "1.0.a", "1.0.a.2", "1.0.b1", "1.0.pre", "1.0.rc1", "1.0", "1.0.1", "1.1.a",
		"1.1", "1.10", "2.0.0-rc1", "2.0.0", "5.2.4.3", "5.2.4.4", "6.0",
	},
	Composer: { // dev < alpha < beta < RC < stable < patch
		"1.0.0-dev", "1.0.0-alpha1", "1.0.0-alpha2", "1.0.0-beta2-dev", "1.0.0-beta2",
		"1.0.0-beta10", "1.0.0-RC1", "1.0.0", "1.0.0-p1", "1.0.1", "v1.1", "2.0.0.1", "10.0",
	},
	NuGet: { // NuGet SemVer 2.0 with a fourth number, case-insensitive labels
		"1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-Beta", "1.0.0-beta.2", "1.0.0-rc.1", "1.0.0",
		"1.0.0.1", "1.0.1", "4.7.2", "13.0.1", "13.0.3",
	},
}

// equal lists pairs each ecosystem treats as the same version.
var equal = map[Scheme][][2]string{
	Dpkg:   {{"1.0", "0:1.0"}, {"1.0", "1.0-0"}},
	Apk:    {{"1.0-r0", "1.0-r00"}, {"1.01", "1.010"}},
	RPM:    {{"1.0", "0:1.0"}, {"1.0.0", "1_0_0"}},
	Go:     {{"v1.22.5", "go1.22.5"}, {"1.22.0", "go1.22"}, {"v1.21.0-rc.2", "go1.21rc2"}, {"v1.2.3", "v1.2.3+incompatible"}},
	SemVer: {{"1.0.0", "1.0.0+build.5"}, {"v1.2.0", "1.2"}},
	PEP440: {{"1.0", "1.0.0"}, {"1.0alpha1", "1.0a1"}, {"1.0-1", "1.0.post1"}, {"0!1.0", "1.0"}},
	Maven: {{"1.0", "1.0.0"}, {"1.0-ga", "1.0"}, {"1.0-final", "1"}, {"1.0-CR1", "1.0-rc1"},
		{"1.0.0.RELEASE", "1"}, {"1.0a1", "1.0-alpha-1"}, {"2.0.0.Final", "2"}},
	Gem:      {{"1.0", "1"}, {"1.0.0", "1"}, {"1.0.a", "1.a"}, {"1.0-rc1", "1.0.pre.rc1"}},
	Composer: {{"1.0.0", "v1.0"}, {"1.0.0-RC1", "1.0.0-rc1"}, {"1.0.0-beta1", "1.0.0-b1"}},
	NuGet:    {{"1.0", "1.0.0.0"}, {"1.0.0-RC.1", "1.0.0-rc.1"}, {"1.0.0+abc", "1.0.0"}},
}

// invalid lists strings each scheme must refuse rather than guess an order for.
var invalidVersions = map[Scheme][]string{
	Dpkg:     {"", "a1.0", "1.0 1", "1:", "-1"},
	Apk:      {"", "1.0_foo", "abc"},
	Go:       {"", "(devel)", "1.2.3.4", "go1.20rc", "golang", "v1.2.3-"},
	SemVer:   {"", "a.b.c", "1.2.3-"},
	PEP440:   {"", "1.0-foo", "french toast"},
	Gem:      {"", "1..0", "-1", "1.0 beta"},
	Composer: {"", "dev-main", "1.x-dev", "latest"},
	NuGet:    {"", "v1.0", "1.0.0.0.0", "1.0-"},
	Maven:    {"", "1.0\x00", "1.0 beta", "latest"},
	RPM:      {"", "1.0 1"},
}

func TestOrder(t *testing.T) {
	for s, vs := range ascending {
		for i := range vs {
			for j := range vs {
				c, err := Compare(s, vs[i], vs[j])
				if err != nil {
					t.Fatalf("%s: %v", s.Name(), err)
				}
				want := sign(i - j)
				if c != want {
					t.Errorf("%s: Compare(%q, %q) = %d, want %d", s.Name(), vs[i], vs[j], c, want)
				}
			}
		}
	}
}

func TestEqual(t *testing.T) {
	for s, pairs := range equal {
		for _, p := range pairs {
			c, err := Compare(s, p[0], p[1])
			if err != nil || c != 0 {
				t.Errorf("%s: Compare(%q, %q) = %d, %v; want 0", s.Name(), p[0], p[1], c, err)
			}
		}
	}
}

func TestInvalid(t *testing.T) {
	for s, vs := range invalidVersions {
		for _, v := range vs {
			if _, err := s.Parse(v); !errors.Is(err, ErrInvalid) {
				t.Errorf("%s: Parse(%q) = %v, want ErrInvalid", s.Name(), v, err)
			}
		}
	}
}

func TestForOSV(t *testing.T) {
	for eco, want := range map[string]string{
		"Debian:12": "dpkg", "Ubuntu:22.04:LTS": "dpkg", "Alpine:v3.19": "apk", "Go": "go",
		"npm": "npm", "crates.io": "semver", "PyPI": "pep440", "Maven": "maven",
		"RubyGems": "gem", "Packagist": "composer", "NuGet": "nuget", "Rocky Linux:9": "rpm",
		"Red Hat:enterprise_linux:9::appstream": "rpm",
	} {
		s, ok := ForOSV(eco)
		if !ok || s.Name() != want {
			t.Errorf("ForOSV(%q) = %v, %v; want %s", eco, s, ok, want)
		}
		if n, ok := Named(want); !ok || n != s {
			t.Errorf("Named(%q) = %v", want, n)
		}
	}
	if _, ok := ForOSV("Android"); ok {
		t.Error("ForOSV(Android) should be unknown")
	}
}

func TestCrossSchemeIsTotal(t *testing.T) {
	a, _ := Dpkg.Parse("1.0")
	b, _ := Go.Parse("v1.0.0")
	if a.Compare(b) != -b.Compare(a) || a.Compare(b) == 0 {
		t.Errorf("cross-scheme compare: %d, %d", a.Compare(b), b.Compare(a))
	}
}
