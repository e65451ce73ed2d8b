// Package version orders package versions the way each ecosystem's own package manager
// does: dpkg for Debian and Ubuntu, apk for Alpine, rpm for the RPM distros, Go modules
// and toolchains, npm and crates.io (semantic versioning), PyPI (PEP 440), Maven,
// RubyGems, Packagist (Composer) and NuGet.
//
// Each ordering is a Scheme: Parse a version string once, then Compare parsed versions.
// Every scheme is a total order on the versions it accepts (a fuzz test checks that it is
// antisymmetric and transitive); a string a scheme cannot order is a parse error, never a
// guess.
package version

import (
	"errors"
	"fmt"
	"strings"
)

// Version is one parsed version of a scheme.
type Version interface {
	// Compare orders the version against another of the same scheme: -1, 0 or +1.
	// Versions of different schemes order by scheme name, so that Compare stays total.
	Compare(w Version) int
	// String returns the version as it was parsed.
	String() string
	scheme() string
}

// Scheme parses and orders one ecosystem's versions.
type Scheme interface {
	// Name is the scheme's short name: "dpkg", "apk", "rpm", "go", "semver", "npm",
	// "pep440", "maven", "gem", "composer", "nuget".
	Name() string
	// Parse reads a version; an error means the scheme cannot order it.
	Parse(s string) (Version, error)
}

// ErrInvalid is wrapped by every parse error.
var ErrInvalid = errors.New("invalid version")

// maxLen bounds a version string: no package manager writes longer ones, and the
// comparators are at least linear in the length.
const maxLen = 256

func invalid(scheme, s string, why string) error {
	if len(s) > 64 {
		s = s[:64] + "…"
	}
	if why == "" {
		return fmt.Errorf("%w for %s: %q", ErrInvalid, scheme, s)
	}
	return fmt.Errorf("%w for %s: %q: %s", ErrInvalid, scheme, s, why)
}

// checkLen rejects empty, over-long and non-printable-ASCII strings, which no ecosystem
// uses in versions and which some comparators mishandle.
func checkLen(scheme, s string) error {
	if s == "" {
		return invalid(scheme, s, "empty")
	}
	if len(s) > maxLen {
		return invalid(scheme, s, "too long")
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] >= 0x7f {
			return invalid(scheme, s, "not printable ASCII")
		}
	}
	return nil
}

// crossScheme orders versions of different schemes, which callers never mix.
func crossScheme(v, w Version) int {
	return strings.Compare(v.scheme(), w.scheme())
}

func sign(n int) int {
	switch {
	case n < 0:
		return -1
	case n > 0:
		return 1
	}
	return 0
}

// Compare parses a and b with s and orders them.
func Compare(s Scheme, a, b string) (int, error) {
	va, err := s.Parse(a)
	if err != nil {
		return 0, err
	}
	vb, err := s.Parse(b)
	if err != nil {
		return 0, err
	}
	return va.Compare(vb), nil
}

var schemes = map[string]Scheme{
	"dpkg":     Dpkg,
	"apk":      Apk,
	"rpm":      RPM,
	"go":       Go,
	"semver":   SemVer,
	"npm":      NPM,
	"pep440":   PEP440,
	"maven":    Maven,
	"gem":      Gem,
	"composer": Composer,
	"nuget":    NuGet,
}

// Named returns the scheme with the given short name.
func Named(name string) (Scheme, bool) {
	s, ok := schemes[name]
	return s, ok
}

// osvSchemes maps OSV ecosystem names (the part before the first colon) to schemes.
var osvSchemes = map[string]Scheme{
	"Debian":      Dpkg,
	"Ubuntu":      Dpkg,
	"Alpine":      Apk,
	"Wolfi":       Apk,
	"Chainguard":  Apk,
	"Red Hat":     RPM,
	"AlmaLinux":   RPM,
	"Rocky Linux": RPM,
	"openSUSE":    RPM,
	"SUSE":        RPM,
	"Mageia":      RPM,
	"openEuler":   RPM,
	"Photon OS":   RPM,
	"Go":          Go,
	"npm":         NPM,
	"crates.io":   SemVer,
	"Hex":         SemVer,
	"PyPI":        PEP440,
	"Maven":       Maven,
	"RubyGems":    Gem,
	"Packagist":   Composer,
	"NuGet":       NuGet,
}

// ForOSV returns the scheme of an OSV ecosystem ("Debian:12", "PyPI", "Alpine:v3.19").
func ForOSV(ecosystem string) (Scheme, bool) {
	base, _, _ := strings.Cut(ecosystem, ":")
	s, ok := osvSchemes[base]
	return s, ok
}
