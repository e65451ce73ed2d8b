package version

import "testing"

// checkTotalOrder fails when a scheme's order is not reflexive, antisymmetric and
// transitive on three versions it accepts.
func checkTotalOrder(t *testing.T, s Scheme, a, b, c string) {
	var vs []Version
	for _, x := range []string{a, b, c} {
		v, err := s.Parse(x)
		if err != nil {
			return
		}
		if v.String() != x {
			t.Fatalf("%s: String() = %q, parsed %q", s.Name(), v.String(), x)
		}
		vs = append(vs, v)
	}
	for _, v := range vs {
		if v.Compare(v) != 0 {
			t.Fatalf("%s: %q != itself", s.Name(), v)
		}
	}
	for i := range vs {
		for j := range vs {
			if vs[i].Compare(vs[j]) != -vs[j].Compare(vs[i]) {
				t.Fatalf("%s: not antisymmetric: %q vs %q: %d, %d", s.Name(), vs[i], vs[j],
					vs[i].Compare(vs[j]), vs[j].Compare(vs[i]))
			}
			for k := range vs {
				ij, jk, ik := vs[i].Compare(vs[j]), vs[j].Compare(vs[k]), vs[i].Compare(vs[k])
				if ij <= 0 && jk <= 0 && ik > 0 {
					t.Fatalf("%s: not transitive: %q <= %q <= %q but %q > %q", s.Name(),
						vs[i], vs[j], vs[k], vs[i], vs[k])
				}
				if ij == 0 && jk == 0 && ik != 0 {
					t.Fatalf("%s: equality not transitive: %q %q %q", s.Name(), vs[i], vs[j], vs[k])
				}
			}
		}
	}
}

func fuzzScheme(f *testing.F, s Scheme) {
	vs := ascending[s]
	for i := 0; i+2 < len(vs); i++ {
		f.Add(vs[i], vs[i+1], vs[i+2])
	}
	for _, p := range equal[s] {
		f.Add(p[0], p[1], p[0])
	}
	f.Fuzz(func(t *testing.T, a, b, c string) { checkTotalOrder(t, s, a, b, c) })
}

func FuzzDpkg(f *testing.F)     { fuzzScheme(f, Dpkg) }
func FuzzApk(f *testing.F)      { fuzzScheme(f, Apk) }
func FuzzRPM(f *testing.F)      { fuzzScheme(f, RPM) }
func FuzzGo(f *testing.F)       { fuzzScheme(f, Go) }
func FuzzSemVer(f *testing.F)   { fuzzScheme(f, SemVer) }
func FuzzNPM(f *testing.F)      { fuzzScheme(f, NPM) }
func FuzzPEP440(f *testing.F)   { fuzzScheme(f, PEP440) }
func FuzzMaven(f *testing.F)    { fuzzScheme(f, Maven) }
func FuzzGem(f *testing.F)      { fuzzScheme(f, Gem) }
func FuzzComposer(f *testing.F) { fuzzScheme(f, Composer) }
func FuzzNuGet(f *testing.F)    { fuzzScheme(f, NuGet) }
