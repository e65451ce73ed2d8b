package vulndb

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/charterhq/charter/internal/report"
)

// writeRecords writes OSV documents into a new folder source.
func writeRecords(t testing.TB, docs map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, doc := range docs {
		if err := os.WriteFile(filepath.Join(dir, name+".json"), []byte(doc), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// Edge cases of the OSV schema, each a small record in the shape its source uses.
var edgeRecords = map[string]string{
	"limit": `{"id":"TEST-LIMIT","affected":[{"package":{"ecosystem":"npm","name":"lim"},
		"ranges":[{"type":"SEMVER","events":[{"introduced":"1.0.0"},{"limit":"1.5.0"}]}]}]}`,
	"withdrawn": `{"id":"GHSA-wwww-wwww-wwww","withdrawn":"2024-01-01T00:00:00Z","affected":[{"package":{"ecosystem":"npm","name":"lim"},
		"ranges":[{"type":"SEMVER","events":[{"introduced":"0"}]}]}]}`,
	"versions": `{"id":"PYSEC-TEST-1","affected":[{"package":{"ecosystem":"PyPI","name":"Listed_Pkg"},
		"ranges":[{"type":"GIT","repo":"https://example.invalid/r","events":[{"introduced":"0"},{"fixed":"abc123"}]}],
		"versions":["1.0","1.1","2.0rc1"]}]}`,
	"lastknown": `{"id":"GHSA-llll-llll-llll","affected":[{"package":{"ecosystem":"npm","name":"lk"},
		"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"}]}],
		"database_specific":{"last_known_affected_version_range":"< 2.0.0"}}],
		"database_specific":{"severity":"LOW"}}`,
	"cvss4": `{"id":"GHSA-4444-4444-4444","severity":[{"type":"CVSS_V3","score":"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:N/A:N"},
		{"type":"CVSS_V4","score":"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"}],
		"affected":[{"package":{"ecosystem":"crates.io","name":"v4"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"0.3.0"}]}]}]}`,
	"cvss2": `{"id":"TEST-CVSS2","severity":[{"type":"CVSS_V2","score":"AV:N/AC:L/Au:N/C:P/I:P/A:P"}],
		"affected":[{"package":{"ecosystem":"RubyGems","name":"gem2"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"1.0.1"}]}]}]}`,
	"unknown": `{"id":"TEST-UNKNOWN","affected":[{"package":{"ecosystem":"Android","name":"x"},"versions":["1"]},
		{"package":{"ecosystem":"NuGet","name":"Newtonsoft.Json"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"13.0.1"}]}]}]}`,
	"badrange": `{"id":"TEST-BADRANGE","affected":[{"package":{"ecosystem":"Debian:12","name":"b"},
		"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"not a version!"}]}]}]}`,
	"unordered": `{"id":"TEST-UNORDERED","affected":[{"package":{"ecosystem":"Packagist","name":"Vendor/Pkg"},
		"ranges":[{"type":"ECOSYSTEM","events":[{"fixed":"2.0.1"},{"introduced":"2.0.0"},{"fixed":"1.4.2"},{"introduced":"0"}]}]}]}`,
	"ubuntu": `{"id":"UBUNTU-CVE-2024-0001","aliases":["CVE-2024-0001"],"severity":[{"type":"Ubuntu","score":"low"},
		{"type":"CVSS_V3","score":"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
		"affected":[{"package":{"ecosystem":"Ubuntu:22.04:LTS","name":"curl"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"7.81.0-1ubuntu1.15"}]}]}]}`,
	"notjson": `{"id": "TEST-TRUNC", "affected": [`,
	// PyPA lists every release, including early ones PEP 440 cannot read
	"asWritten": `{"id":"PYSEC-TEST-2","affected":[{"package":{"ecosystem":"PyPI","name":"paramiko"},
		"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"2.9.3"}]}],
		"versions":["0.1-bulbasaur","0.9-eevee","trunk","0.9-eevee","1.0","2.9.2"]},
		{"package":{"ecosystem":"PyPI","name":"onlylisted"},"versions":["trunk","2019-09-11"]},
		{"package":{"ecosystem":"PyPI","name":"reopened"},"versions":["dev-build"],
		"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"1.0"},{"introduced":"2.0"}]}]},
		{"package":{"ecosystem":"PyPI","name":"listedpastfix"},"versions":["dev-build","0.9","1.1"],
		"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"1.0"}]}]}]}`,
}

func TestMatchEdgeCases(t *testing.T) {
	db, res, _ := build(t, Source{Name: "edge", Location: writeRecords(t, edgeRecords)})
	st := res.Sources[0]
	if st.Withdrawn != 1 || st.Skipped[SkipInvalidJSON] != 1 || st.Skipped[SkipBadRange] != 1 ||
		st.UnknownEcosystems["Android"] != 1 || st.Skipped[SkipNoPackages] != 1 {
		t.Errorf("stats %+v", st)
	}
	cases := []struct {
		name   string
		pkg    report.Package
		distro Distro
		want   []want
	}{
		{"inside limit", lang("npm", "pkg:npm/lim@1.4.9", "lim", "1.4.9"), Distro{}, []want{{"TEST-LIMIT", "", "", report.Medium, SevDefault}}},
		{"at limit; withdrawn record ignored", lang("npm", "pkg:npm/lim@1.5.0", "lim", "1.5.0"), Distro{}, nil},
		{"below introduced", lang("npm", "pkg:npm/lim@0.9.0", "lim", "0.9.0"), Distro{}, nil},
		{"explicit versions list", lang("pypi", "pkg:pypi/listed-pkg@2.0rc1", "listed-pkg", "2.0rc1"), Distro{}, []want{{"PYSEC-TEST-1", "", "", report.Medium, SevDefault}}},
		{"versions list compares by PEP 440", lang("pypi", "", "listed.pkg", "1.1.0"), Distro{}, []want{{"PYSEC-TEST-1", "", "", report.Medium, SevDefault}}},
		{"not in versions list", lang("pypi", "", "listed-pkg", "1.2"), Distro{}, nil},
		{"introduced only, last known affected", lang("npm", "", "lk", "1.9.9"), Distro{}, []want{{"GHSA-llll-llll-llll", "", "", report.Low, SevGHSA}}},
		{"past last known affected", lang("npm", "", "lk", "2.0.0"), Distro{}, nil},
		{"CVSS v4 preferred over v3", lang("cargo", "pkg:cargo/v4@0.2.0", "v4", "0.2.0"), Distro{}, []want{{"GHSA-4444-4444-4444", "", "0.3.0", report.Critical, SevCVSSv4}}},
		{"CVSS v2", lang("gem", "pkg:gem/gem2@1.0.0", "gem2", "1.0.0"), Distro{}, []want{{"TEST-CVSS2", "", "1.0.1", report.High, SevCVSSv2}}},
		{"NuGet, case-insensitive name", lang("nuget", "pkg:nuget/newtonsoft.json@12.0.3", "newtonsoft.json", "12.0.3"), Distro{}, []want{{"TEST-UNKNOWN", "", "13.0.1", report.Medium, SevDefault}}},
		{"unordered events, second range", lang("composer", "pkg:composer/vendor/pkg@2.0.0", "pkg", "2.0.0"), Distro{}, []want{{"TEST-UNORDERED", "", "2.0.1", report.Medium, SevDefault}}},
		{"unordered events, gap", lang("composer", "pkg:composer/vendor/pkg@1.4.2", "pkg", "1.4.2"), Distro{}, nil},
		{"unordered events, first range", lang("composer", "pkg:composer/vendor/pkg@v1.0", "pkg", "v1.0"), Distro{}, []want{{"TEST-UNORDERED", "", "1.4.2", report.Medium, SevDefault}}},
		{"ubuntu: the distro's priority wins over CVSS", report.Package{Name: "libcurl4", Version: "7.81.0-1ubuntu1.14", Ecosystem: "deb",
			Source: &report.PackageSource{Name: "curl", Version: "7.81.0-1ubuntu1.14"}}, Distro{ID: "ubuntu", VersionID: "22.04"},
			[]want{{"CVE-2024-0001", "UBUNTU-CVE-2024-0001", "7.81.0-1ubuntu1.15", report.Low, SevUbuntu}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, err := db.Match(context.Background(), []report.Package{c.pkg}, c.distro)
			if err != nil {
				t.Fatal(err)
			}
			checkMatches(t, r, c.want)
			if len(r.Unmatched) != 0 {
				t.Errorf("unmatched %v", r.Unmatched)
			}
		})
	}
}

// An installed version the ecosystem cannot order is looked up among the advisory's
// listed versions as written; its ranges cannot be evaluated, and the result says so.
func TestMatchUnorderableVersions(t *testing.T) {
	db, _, _ := build(t, Source{Name: "edge", Location: writeRecords(t, edgeRecords)})
	const partial = "version not valid for pep440: matched by the advisory's versions list only; ranges not evaluated"
	paramiko := func(v string) report.Package { return lang("pypi", "pkg:pypi/paramiko@"+v, "paramiko", v) }
	cases := []struct {
		name    string
		pkg     report.Package
		want    []want
		partial bool
	}{
		{"listed as written: the fix past every range", paramiko("0.1-bulbasaur"), []want{{"PYSEC-TEST-2", "", "2.9.3", report.Medium, SevDefault}}, true},
		{"listed twice", paramiko("0.9-eevee"), []want{{"PYSEC-TEST-2", "", "2.9.3", report.Medium, SevDefault}}, true},
		{"a word", paramiko("trunk"), []want{{"PYSEC-TEST-2", "", "2.9.3", report.Medium, SevDefault}}, true},
		{"no fix past an open range", lang("pypi", "", "reopened", "dev-build"), []want{{"PYSEC-TEST-2", "", "", report.Medium, SevDefault}}, true},
		{"no fix past a listed version", lang("pypi", "", "listedpastfix", "dev-build"), []want{{"PYSEC-TEST-2", "", "", report.Medium, SevDefault}}, true},
		{"not listed", paramiko("0.1-pikachu"), nil, true},
		{"exact string only", paramiko("Trunk"), nil, true},
		{"no ranges, only a list", lang("pypi", "", "OnlyListed", "2019-09-11"), []want{{"PYSEC-TEST-2", "", "", report.Medium, SevDefault}}, true},
		{"an orderable version still reads the range", paramiko("2.9.2"), []want{{"PYSEC-TEST-2", "", "2.9.3", report.Medium, SevDefault}}, false},
		{"an orderable listed version", lang("pypi", "", "onlylisted", "1.0"), nil, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, err := db.Match(context.Background(), []report.Package{c.pkg}, Distro{})
			if err != nil {
				t.Fatal(err)
			}
			checkMatches(t, r, c.want)
			if n := r.Unmatched[partial]; (n == 1) != c.partial || len(r.Unmatched) > n {
				t.Errorf("unmatched %v", r.Unmatched)
			}
		})
	}
	adv, err := ParseAdvisory([]byte(edgeRecords["asWritten"]))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		pkg   report.Package
		hit   bool
		fixed string
	}{
		{paramiko("0.1-bulbasaur"), true, "2.9.3"}, {paramiko("trunk"), true, "2.9.3"}, {paramiko("0.1-pikachu"), false, ""},
		{paramiko("2.9.2"), true, "2.9.3"}, {paramiko("2.9.3"), false, ""},
		{lang("pypi", "", "reopened", "dev-build"), true, ""}, {lang("pypi", "", "onlylisted", "trunk"), true, ""},
	} {
		if fixed, _, ok := adv.Affects(&c.pkg, Distro{}); ok != c.hit || fixed != c.fixed {
			t.Errorf("Advisory.Affects(%s %s) = %v, fix %q; want %v, %q", c.pkg.Name, c.pkg.Version, ok, fixed, c.hit, c.fixed)
		}
	}
}

func TestMatchReportsUnusableVersions(t *testing.T) {
	db, _, _ := build(t, snapshot())
	r, err := db.Match(context.Background(), []report.Package{
		lang("golang", "pkg:golang/golang.org/x/net@(devel)", "golang.org/x/net", "(devel)"),
		deb("openssl", "3.0.0", "", ""),
	}, Distro{ID: "debian"})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Matches) != 0 || r.Unmatched["version not valid for go: matched by the advisory's versions list only; ranges not evaluated"] != 1 || r.Unmatched["distro debian has no VERSION_ID to match advisories by"] != 1 {
		t.Errorf("matches %v unmatched %v", r.Matches, r.Unmatched)
	}
}
