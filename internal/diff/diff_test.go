package diff

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/charterhq/charter/internal/report"
)

func pkg(eco, name, ver, purl string) report.Package {
	return report.Package{Ecosystem: eco, Name: name, Version: ver, PURL: purl}
}

func TestPackages(t *testing.T) {
	a := []report.Package{
		pkg("deb", "openssl", "3.0.11-1~deb12u1", "pkg:deb/debian/openssl@3.0.11-1~deb12u1?arch=amd64&distro=debian-12"),
		pkg("npm", "lodash", "4.17.20", "pkg:npm/lodash@4.17.20"),
		pkg("npm", "lodash", "4.17.21", "pkg:npm/lodash@4.17.21"),
		pkg("npm", "left-pad", "1.3.0", "pkg:npm/left-pad@1.3.0"),
		pkg("binary", "tool", "1", ""),
	}
	b := []report.Package{
		// the upstream qualifier carries the source version: it must not make a new package
		pkg("deb", "openssl", "3.0.11-1~deb12u2", "pkg:deb/debian/openssl@3.0.11-1~deb12u2?arch=amd64&distro=debian-12&upstream=openssl%403.0.11-1~deb12u2"),
		pkg("npm", "lodash", "4.17.21", "pkg:npm/lodash@4.17.21"),
		pkg("npm", "lodash", "4.17.22", "pkg:npm/lodash@4.17.22"),
		pkg("maven", "log4j-core", "2.17.1", "pkg:maven/org.apache.logging.log4j/log4j-core@2.17.1"),
		pkg("binary", "tool", "2", ""),
	}
	got := comparePackages(a, b)
	var lines []string
	for _, c := range got.Changed {
		lines = append(lines, "~"+c.Name+" "+c.From+">"+c.To)
	}
	for _, p := range got.Added {
		lines = append(lines, "+"+p.Name+" "+p.Version)
	}
	for _, p := range got.Removed {
		lines = append(lines, "-"+p.Name+" "+p.Version)
	}
	want := "[~tool 1>2 ~openssl 3.0.11-1~deb12u1>3.0.11-1~deb12u2 ~lodash 4.17.20>4.17.22 +log4j-core 2.17.1 -left-pad 1.3.0]"
	if fmt.Sprint(lines) != want {
		t.Errorf("got  %v\nwant %s", lines, want)
	}
}

func TestFindingsIgnoreMessagesAndLayers(t *testing.T) {
	f := func(rule, path, pkg, msg string, layer int) report.Finding {
		return report.Finding{Rule: rule, Severity: report.High, Message: msg,
			Location: report.Location{Path: path, Package: pkg, LayerIndex: &layer}}
	}
	a := []report.Finding{
		f("IMG001", "", "", "runs as root", 0),
		f("CVE-2023-5363", "/var/lib/dpkg/status", "pkg:deb/debian/openssl@3.0.11-1~deb12u1", "openssl 3.0.11-1~deb12u1 → …", 0),
		f("IMG005", "/bin/su", "", "setuid in layer 1", 1),
	}
	b := []report.Finding{
		f("IMG001", "", "", "runs as root (other words)", 3),
		// upgraded but still vulnerable: the same finding
		f("CVE-2023-5363", "/var/lib/dpkg/status", "pkg:deb/debian/openssl@3.0.11-1~deb12u1.1", "openssl 3.0.11-1~deb12u1.1 → …", 0),
		f("IMG007", "", "", "port 22", 2),
	}
	got := compareFindings(a, b)
	if len(got.New) != 1 || got.New[0].Rule != "IMG007" || len(got.Fixed) != 1 || got.Fixed[0].Rule != "IMG005" {
		t.Errorf("new %v fixed %v", got.New, got.Fixed)
	}
	r := &Result{Findings: got}
	if n := len(r.NewAtOrAbove(report.High)); n != 1 {
		t.Errorf("%d new at HIGH, want 1", n)
	}
	if n := len(r.NewAtOrAbove(report.SeverityNone)); n != 0 {
		t.Errorf("none as a threshold found %d", n)
	}
}

func TestLayers(t *testing.T) {
	l := func(id string, size int64) Layer { return Layer{DiffID: "sha256:" + id, Size: size} }
	got := compareLayers([]Layer{l("base", 100), l("deps", 50), l("app1", 5)}, []Layer{l("base", 100), l("deps", 50), l("app2", 6), l("extra", 1)})
	if got.Shared != 2 || got.SharedPrefix != 2 || len(got.Added) != 2 || len(got.Removed) != 1 || got.SizeA != 155 || got.SizeB != 157 {
		t.Errorf("%+v", got)
	}
	if got := compareLayers([]Layer{l("x", -1)}, []Layer{l("x", 3)}); got.SizeA != -1 || got.Shared != 1 {
		t.Errorf("unknown size: %+v", got)
	}
}

func TestConfigNeverPrintsEnvValues(t *testing.T) {
	const secret = "hunter2-very-secret"
	a := &v1.ConfigFile{OS: "linux", Architecture: "amd64", Config: v1.Config{
		User: "", Env: []string{"TOKEN=" + secret, "GONE=" + secret, "SAME=1"}, Cmd: []string{"run"},
		ExposedPorts: map[string]struct{}{"22/tcp": {}}, Labels: map[string]string{"version": "1"},
	}}
	b := &v1.ConfigFile{OS: "linux", Architecture: "arm64", Config: v1.Config{
		User: "65532", Env: []string{"TOKEN=" + secret + "2", "NEW=" + secret, "SAME=1"}, Cmd: []string{"run"},
		ExposedPorts: map[string]struct{}{"8080/tcp": {}}, Labels: map[string]string{"version": "2"},
		Volumes: map[string]struct{}{"/data": {}},
	}}
	res := Compare(&Side{Ref: "a", Config: a}, &Side{Ref: "b", Config: b}, Options{Redact: strings.ToUpper})
	out, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(out), secret) {
		t.Fatalf("an environment value is in the diff: %s", out)
	}
	var got []string
	for _, c := range res.Config {
		got = append(got, c.Field+" "+c.Key+" "+c.Change+" "+c.From+">"+c.To)
	}
	want := "[platform  changed linux/amd64>linux/arm64 user  added >65532 env GONE removed > env NEW added > env TOKEN changed > " +
		"ports 22/tcp removed > ports 8080/tcp added > volumes /data added > labels version changed 1>2]"
	if fmt.Sprint(got) != want {
		t.Errorf("got  %v\nwant %s", got, want)
	}
	if len(Compare(&Side{}, &Side{}, Options{}).Config) != 0 {
		t.Error("SBOM sides (no config) have config changes")
	}
}
