package catalog

import (
	"os"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

func TestParsePythonMetadataLicences(t *testing.T) {
	cases := map[string]string{
		"Name: a\nVersion: 1\nLicense-Expression: MIT OR Apache-2.0\nLicense: ignored\n":                           "MIT OR Apache-2.0",
		"Name: a\nVersion: 1\nLicense: BSD\n":                                                                      "BSD",
		"Name: a\nVersion: 1\nLicense: UNKNOWN\nClassifier: License :: OSI Approved :: MIT License\n":              "MIT License",
		"Name: a\nVersion: 1\nLicense: Copyright (c)\n  long text\n  more\nClassifier: License :: Public Domain\n": "Public Domain",
	}
	for in, want := range cases {
		p, warn := parsePythonMetadata([]byte(in))
		if warn != "" || strings.Join(p.Licenses, ",") != want {
			t.Errorf("%q: licences %v (warning %q), want %s", in, p, warn, want)
		}
	}
	if _, warn := parsePythonMetadata([]byte("Name: a\n\nVersion: 1\n")); warn == "" {
		t.Error("a Version after the headers was read")
	}
}

func TestParseCopyright(t *testing.T) {
	got := parseCopyright([]byte("Format: x\n\nFiles: *\nLicense: GPL-2+\n\nFiles: b\nLicense: BSD-3-clause\n  text\n\nOn Debian systems see /usr/share/common-licenses/GPL-2.\n"))
	if strings.Join(got, ",") != "BSD-3-clause,GPL-2,GPL-2+" {
		t.Errorf("licences = %v", got)
	}
	if b, err := os.ReadFile("testdata/dpkg/copyright-base-files"); err == nil {
		t.Logf("base-files copyright: %v", parseCopyright(b))
	}
}

func TestParseMD5Sums(t *testing.T) {
	b, err := os.ReadFile("testdata/dpkg/base-files.md5sums")
	if err != nil {
		t.Fatal(err)
	}
	got := parseMD5Sums(b)
	if lines := strings.Count(string(b), "\n"); len(got) != lines {
		t.Errorf("%d digests from %d lines", len(got), lines)
	}
	for p, d := range got {
		if !strings.HasPrefix(p, "/") || !strings.HasPrefix(d, "md5:") || len(d) != 36 {
			t.Errorf("%s -> %s", p, d)
		}
	}
}

func TestApkFixture(t *testing.T) {
	b, err := os.ReadFile("testdata/apk/installed")
	if err != nil {
		t.Fatal(err)
	}
	found := parseApkInstalled(b)
	if len(found) != 2 || found[0].Package.Name != "musl" || len(found[0].Package.Files) != 2 || found[1].Package.Source.Version != "1.3.1-r0" {
		t.Errorf("found %+v", found)
	}
}

func TestBaseFromImage(t *testing.T) {
	h := func(s string) v1.Hash { return v1.Hash{Algorithm: "sha256", Hex: strings.Repeat(s, 64)} }
	img := []v1.Hash{h("a"), h("b"), h("c")}
	if n := BaseFromImage(img, []v1.Hash{h("a"), h("b")}); n != 2 {
		t.Errorf("shared base = %d", n)
	}
	if n := BaseFromImage(img, []v1.Hash{h("a"), h("x")}); n != 0 {
		t.Errorf("another base = %d", n)
	}
}

func TestPURLs(t *testing.T) {
	deb := &Distro{ID: "ubuntu", VersionID: "22.04"}
	cases := []struct {
		p    Package
		d    *Distro
		want string
	}{
		{Package{Name: "libssl3", Version: "3.0.2-0ubuntu1.10", Ecosystem: Deb, Arch: "amd64", Source: &Source{Name: "openssl", Version: "3.0.2-0ubuntu1.10"}}, deb,
			"pkg:deb/ubuntu/libssl3@3.0.2-0ubuntu1.10?arch=amd64&distro=ubuntu-22.04&upstream=openssl"},
		{Package{Name: "golang.org/x/net", Version: "v0.21.0", Ecosystem: Golang}, nil, "pkg:golang/golang.org/x/net@v0.21.0"},
		{Package{Name: "PyYAML", Version: "6.0", Ecosystem: PyPI}, nil, "pkg:pypi/pyyaml@6.0"},
		{Package{Name: "busybox", Version: "1.36.1", Ecosystem: Generic}, nil, "pkg:generic/busybox@1.36.1"},
	}
	for _, c := range cases {
		if got := purlOf(&c.p, c.d); got != c.want {
			t.Errorf("purl = %s, want %s", got, c.want)
		}
	}
}

func TestReportChangedLayer(t *testing.T) {
	r := &Result{Layers: []LayerInfo{{DiffID: "sha256:a", Instruction: "FROM"}, {DiffID: "sha256:b", Instruction: "RUN"}},
		Packages: []Package{{Name: "x", Version: "2", Ecosystem: Deb, Layer: 0, ChangedLayer: 1, Base: true, Location: "/var/lib/dpkg/status",
			Source: &Source{Name: "y", Version: "2"}, Licenses: []string{"MIT"}}}}
	rp := r.Report()[0]
	if rp.Layer != "sha256:a" || *rp.LayerIndex != 0 || rp.ChangedLayerIndex == nil || *rp.ChangedLayerIndex != 1 ||
		!rp.Base || rp.Source.Name != "y" || rp.Instruction != "FROM" || rp.Locations[0] != "/var/lib/dpkg/status" {
		t.Errorf("report package = %+v", rp)
	}
}
