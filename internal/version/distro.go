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

type dpkgVersion struct {
	v debver.Version
	s string
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
	return dpkgVersion{v: v, s: s}, nil
}

func (v dpkgVersion) String() string { return v.s }
func (dpkgVersion) scheme() string   { return "dpkg" }
func (v dpkgVersion) Compare(w Version) int {
	o, ok := w.(dpkgVersion)
	if !ok {
		return crossScheme(v, w)
	}
	return sign(v.v.Compare(o.v))
}

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
