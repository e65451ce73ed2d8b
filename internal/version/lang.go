package version

import (
	pep440 "github.com/aquasecurity/go-pep440-version"
)

// PEP440 orders Python package versions by PEP 440: epochs, pre-, post- and
// dev-releases, and local versions (1.0.dev1 < 1.0a1 < 1.0 < 1.0.post1 < 1.0+local).
var PEP440 Scheme = pep440Scheme{}

type pep440Scheme struct{}

type pep440Version struct {
	v pep440.Version
	s string
}

func (pep440Scheme) Name() string { return "pep440" }

func (pep440Scheme) Parse(s string) (Version, error) {
	if err := checkLen("pep440", s); err != nil {
		return nil, err
	}
	v, err := pep440.Parse(s)
	if err != nil {
		return nil, invalid("pep440", s, "")
	}
	return pep440Version{v: v, s: s}, nil
}

func (v pep440Version) String() string { return v.s }
func (pep440Version) scheme() string   { return "pep440" }
func (v pep440Version) Compare(w Version) int {
	o, ok := w.(pep440Version)
	if !ok {
		return crossScheme(v, w)
	}
	return sign(v.v.Compare(o.v))
}
