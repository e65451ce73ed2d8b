package sbom

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// goldenFormats are the encodings with a golden file each.
var goldenFormats = []struct{ format, file string }{
	{"cyclonedx-json", "sample.cdx.json"},
	{"cyclonedx-json@1.5", "sample.cdx-1.5.json"},
	{"cyclonedx-xml", "sample.cdx.xml"},
	{"spdx-json", "sample.spdx.json"},
	{"spdx-tag-value", "sample.spdx"},
}

func encode(t testing.TB, inv *Inventory, format string, opt Options) []byte {
	t.Helper()
	f, err := ParseFormat(format)
	if err != nil {
		t.Fatal(err)
	}
	if opt.Now == nil {
		opt.Now = fixedClock
	}
	var buf bytes.Buffer
	if err := Encode(&buf, inv, f, opt); err != nil {
		t.Fatalf("%s: %v", format, err)
	}
	return buf.Bytes()
}

func TestGolden(t *testing.T) {
	for _, g := range goldenFormats {
		t.Run(g.format, func(t *testing.T) {
			got := encode(t, sampleInventory(), g.format, Options{Files: true})
			path := filepath.Join("testdata", "golden", g.file)
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs from %s (run with -update and review the diff)", g.format, path)
			}
		})
	}
}

// Two runs over the same inventory give identical bytes, whatever order the packages
// came in.
func TestDeterministic(t *testing.T) {
	for _, g := range goldenFormats {
		a := encode(t, sampleInventory(), g.format, Options{Files: true})
		inv := sampleInventory()
		for i, j := 0, len(inv.Packages)-1; i < j; i, j = i+1, j-1 {
			inv.Packages[i], inv.Packages[j] = inv.Packages[j], inv.Packages[i]
		}
		b := encode(t, inv, g.format, Options{Files: true})
		if !bytes.Equal(a, b) {
			t.Errorf("%s: output depends on package order", g.format)
		}
		if c := encode(t, sampleInventory(), g.format, Options{Files: true}); !bytes.Equal(a, c) {
			t.Errorf("%s: two runs differ", g.format)
		}
	}
}

// A different inventory or time gives a different serial number / namespace, so two
// documents never share one by accident.
func TestDocumentIdentity(t *testing.T) {
	id := func(b []byte) string {
		for _, key := range []string{`"serialNumber": "`, `"documentNamespace": "`} {
			if _, rest, ok := strings.Cut(string(b), key); ok {
				v, _, _ := strings.Cut(rest, `"`)
				return v
			}
		}
		t.Fatal("no serial number or namespace")
		return ""
	}
	for _, format := range []string{"cyclonedx-json", "spdx-json"} {
		base := id(encode(t, sampleInventory(), format, Options{}))
		other := sampleInventory()
		other.Packages = other.Packages[1:]
		later := func() time.Time { return fixedClock().Add(time.Hour) }
		if id(encode(t, other, format, Options{})) == base {
			t.Errorf("%s: another inventory got the same identifier", format)
		}
		if id(encode(t, sampleInventory(), format, Options{Now: later})) == base {
			t.Errorf("%s: another time got the same identifier", format)
		}
	}
}

func TestNowFromEnv(t *testing.T) {
	env := func(v string) func(string) string {
		return func(k string) string {
			if k == "SOURCE_DATE_EPOCH" {
				return v
			}
			return ""
		}
	}
	now, err := NowFromEnv(env("1700000000"))
	if err != nil || !now().Equal(time.Unix(1700000000, 0)) {
		t.Fatalf("SOURCE_DATE_EPOCH=1700000000: err %v", err)
	}
	out := encode(t, sampleInventory(), "cyclonedx-json", Options{Now: now})
	if !bytes.Contains(out, []byte(`"timestamp": "2023-11-14T22:13:20Z"`)) {
		t.Error("the timestamp does not come from SOURCE_DATE_EPOCH")
	}
	for _, bad := range []string{"yesterday", "-5", "1e9"} {
		if _, err := NowFromEnv(env(bad)); err == nil {
			t.Errorf("SOURCE_DATE_EPOCH=%q accepted", bad)
		}
	}
	if now, err := NowFromEnv(env("")); err != nil || time.Since(now()) > time.Minute {
		t.Errorf("no SOURCE_DATE_EPOCH: want the wall clock (err %v)", err)
	}
}

func TestParseFormat(t *testing.T) {
	for in, want := range map[string]string{
		"cyclonedx-json": "cyclonedx-json@1.6", "cyclonedx": "cyclonedx-json@1.6",
		"CycloneDX-XML@1.5": "cyclonedx-xml@1.5", "spdx-json": "spdx-json@2.3",
		"spdx-tag-value@2.3": "spdx-tag-value@2.3",
	} {
		f, err := ParseFormat(in)
		if err != nil || f.String() != want {
			t.Errorf("ParseFormat(%q) = %v, %v; want %s", in, f, err, want)
		}
	}
	for _, bad := range []string{"", "table", "cyclonedx-json@1.2", "spdx-json@2.2", "syft-json"} {
		if _, err := ParseFormat(bad); !errors.Is(err, ErrUnknownFormat) {
			t.Errorf("ParseFormat(%q) = %v; want ErrUnknownFormat", bad, err)
		}
	}
}

// The image's purl follows the purl spec's oci type; references that are not registry
// references get none.
func TestOCIPURL(t *testing.T) {
	d := "sha256:314b5c956ef3745e8db2422964f16d402824a3a8f69ca8c88072d2ec6a014d45"
	for ref, want := range map[string]string{
		"debian:12":                      "pkg:oci/debian@" + d + "?repository_url=index.docker.io%2Flibrary%2Fdebian&tag=12",
		"registry:ghcr.io/acme/api@" + d: "pkg:oci/api@" + d + "?repository_url=ghcr.io%2Facme%2Fapi",
		"oci-dir:build/oci":              "",
		"dir:/srv/rootfs":                "",
		"docker-archive:img.tar":         "",
	} {
		if got := ociPURL(ref, d); got != want {
			t.Errorf("ociPURL(%q) = %q; want %q", ref, got, want)
		}
	}
	if got := ociPURL("debian:12", ""); got != "" {
		t.Errorf("no digest: got %q", got)
	}
}

func TestSplitAnd(t *testing.T) {
	for in, want := range map[string]string{
		"MIT":                                  "MIT",
		"MIT AND Apache-2.0":                   "MIT|Apache-2.0",
		"(MIT OR Apache-2.0) AND GPL-2.0-only": "MIT OR Apache-2.0|GPL-2.0-only",
		"((A AND B))":                          "A AND B",
		"(A) OR (B)":                           "(A) OR (B)",
		"LicenseRef-x AND (B WITH C)":          "LicenseRef-x|B WITH C",
	} {
		if got := strings.Join(splitAnd(in), "|"); got != want {
			t.Errorf("splitAnd(%q) = %q; want %q", in, got, want)
		}
	}
}
