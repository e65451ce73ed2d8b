package catalog

import (
	"archive/zip"
	"bytes"
	"compress/zlib"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// hostFiles copies files of this machine matching the globs into test-layer files.
func hostFiles(t *testing.T, globs ...string) []file {
	t.Helper()
	var out []file
	for _, g := range globs {
		ms, _ := filepath.Glob(g)
		for _, m := range ms {
			st, err := os.Lstat(m)
			if err != nil || !st.Mode().IsRegular() {
				continue
			}
			b, err := os.ReadFile(m)
			if err != nil {
				continue
			}
			out = append(out, file{name: m, body: b, mode: int64(st.Mode().Perm())})
		}
	}
	return out
}

func zipOf(t *testing.T, files map[string][]byte) []byte { return zipOfF(t, files) }

func zipOfF(t testing.TB, files map[string][]byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, name := range sortedKeys(files) {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(files[name]); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j] < out[j-1]; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

func TestGoBinaryFromHost(t *testing.T) {
	gofmt := filepath.Join(goroot(t), "bin", "gofmt")
	b := readHost(t, gofmt)
	ref := buildImage(t, layer{"COPY gofmt", []file{bin("/usr/local/bin/gofmt", b), bin("/usr/local/bin/script", []byte(strings.Repeat("#!/bin/sh\n", 200)))}})
	r, _, _ := catalogOf(t, ref)
	std := one(t, r, Golang, "stdlib")
	if !strings.HasPrefix(std.Version, "go1.") || std.Location != "/usr/local/bin/gofmt" || len(std.CPEs) != 1 {
		t.Errorf("stdlib = %+v", std)
	}
	if !strings.HasPrefix(std.PURL, "pkg:golang/stdlib@go1.") {
		t.Errorf("stdlib purl = %s", std.PURL)
	}
}

func TestGoBinaryTruncated(t *testing.T) {
	gofmt := filepath.Join(goroot(t), "bin", "gofmt")
	b := readHost(t, gofmt)
	// What the walk hands over when a binary is larger than Limits.MaxContent: the
	// section headers at the end are lost, the inline build information is not.
	i := bytes.Index(b, goBuildInfoMagic)
	if i < 0 {
		t.Skip("gofmt has no build information")
	}
	f := fileOf("/bin/gofmt", b).File
	found := goCataloger{}.Parse(&f, b[:i+4096])
	if len(found) == 0 || found[len(found)-1].Package.Name != "stdlib" {
		t.Errorf("truncated binary: %+v", found)
	}
}

func TestPythonFromHost(t *testing.T) {
	files := hostFiles(t, "/usr/lib/python3/dist-packages/*.dist-info/METADATA",
		"/usr/lib/python3/dist-packages/*.egg-info/PKG-INFO", "/usr/lib/python3/dist-packages/*.egg-info")
	if len(files) == 0 {
		t.Skip("no Python distributions on this machine")
	}
	r, _, _ := catalogOf(t, buildImage(t, layer{"python", files}))
	if n := len(find2(r, PyPI)); n != len(files) {
		t.Errorf("%d Python packages from %d metadata files", n, len(files))
	}
	for _, p := range find2(r, PyPI) {
		if p.Version == "" || !strings.HasPrefix(p.PURL, "pkg:pypi/") {
			t.Errorf("python package %+v", p)
		}
	}
}

func TestJavaArchives(t *testing.T) {
	debianStyle := zipOf(t, map[string][]byte{"META-INF/MANIFEST.MF": []byte(
		"Manifest-Version: 1.0\r\nImplementation-Title: Foo Lib\r\nImplementation-Version: 4.5.6\r\nBundle-License: Apache-2.0;link=x\r\n\r\nName: x\r\nImplementation-Version: 9\r\n")})
	withPom := zipOf(t, map[string][]byte{
		"META-INF/maven/org.acme/core/pom.properties":  []byte("#x\ngroupId=org.acme\nartifactId=core\nversion=1.0.0\n"),
		"META-INF/maven/com.shaded/dep/pom.properties": []byte("groupId=com.shaded\nartifactId=dep\nversion=2.0\n"),
	})
	war := zipOf(t, map[string][]byte{"WEB-INF/lib/core-1.0.0.jar": withPom, "WEB-INF/lib/foo-4.5.6.jar": debianStyle})
	files := []file{reg("/usr/share/java/foo-4.5.6.jar", string(debianStyle)), reg("/app/app.war", string(war))}
	files = append(files, hostFiles(t, "/usr/share/java/commons-io.jar")...)
	r, _, _ := catalogOf(t, buildImage(t, layer{"java", files}))
	foo := find(r, Maven, "foo")
	if len(foo) != 2 || foo[0].Version != "4.5.6" || foo[0].Licenses[0] != "Apache-2.0" || foo[0].CPEs == nil {
		t.Errorf("manifest-named jars = %+v", foo)
	}
	core := one(t, r, Maven, "core")
	if core.Namespace != "org.acme" || core.Location != "/app/app.war!/WEB-INF/lib/core-1.0.0.jar" ||
		core.PURL != "pkg:maven/org.acme/core@1.0.0" {
		t.Errorf("nested pom package = %+v", core)
	}
	one(t, r, Maven, "dep")
	if len(files) == 3 {
		if cio := one(t, r, Maven, "commons-io"); cio.Namespace != "commons-io" {
			t.Errorf("Debian's commons-io = %+v", cio)
		}
	}
}

func TestNPM(t *testing.T) {
	files := []file{
		reg("/app/node_modules/left-pad/package.json", `{"name":"left-pad","version":"1.3.0","license":"WTFPL"}`),
		reg("/app/node_modules/@babel/core/package.json", `{"name":"@babel/core","version":"7.24.0","licenses":[{"type":"MIT"}]}`),
		reg("/app/package.json", `{"name":"app","private":true}`),
		reg("/app/package-lock.json", `{"lockfileVersion":3,"packages":{"":{"name":"app"},
			"node_modules/left-pad":{"version":"1.3.0"},"node_modules/only-locked":{"version":"2.0.0","license":"ISC"},
			"node_modules/a/node_modules/only-locked":{"version":"2.0.0"}}}`),
	}
	files = append(files, hostFiles(t, "/usr/lib/node_modules/npm/package.json")...)
	r, _, _ := catalogOf(t, buildImage(t, layer{"npm", files}))
	if p := one(t, r, NPM, "core"); p.Namespace != "@babel" || p.PURL != "pkg:npm/%40babel/core@7.24.0" || p.Licenses[0] != "MIT" {
		t.Errorf("scoped = %+v", p)
	}
	one(t, r, NPM, "left-pad") // installed and locked: once
	if p := one(t, r, NPM, "only-locked"); p.Meta["declared"] != "package-lock.json" {
		t.Errorf("locked only = %+v", p)
	}
	if len(find(r, NPM, "app")) != 0 {
		t.Error("a manifest without a version was reported")
	}
}

func TestApk(t *testing.T) {
	installed := "C:Q1abc=\nP:musl\nV:1.2.4-r2\nA:x86_64\nL:MIT\no:musl\nF:lib\nR:ld-musl-x86_64.so.1\na:0:0:755\nZ:Q1VaWTi3L6XHU3BGdSKpRThM62Q4s=\n\n" +
		"P:busybox\nV:1.36.1-r15\nA:x86_64\nL:GPL-2.0-only\no:busybox\nF:bin\nR:busybox\nZ:Q1Q5ZuH+yHMHkHmXHUGcSebmpyRwI=\n"
	ref := buildImage(t, layer{"alpine", []file{
		reg("/etc/os-release", "NAME=\"Alpine Linux\"\nID=alpine\nVERSION_ID=3.19.1\n"),
		reg("/lib/apk/db/installed", installed),
		bin("/bin/busybox", []byte("BusyBox v1.36.1 (2024-01-01) multi-call binary\x7fELF")),
	}})
	r, _, _ := catalogOf(t, ref)
	musl := one(t, r, Apk, "musl")
	if musl.PURL != "pkg:apk/alpine/musl@1.2.4-r2?arch=x86_64&distro=alpine-3.19.1" || musl.Digests["/lib/ld-musl-x86_64.so.1"] != "sha1:55a5938b72fa5c75370467522a945384ceb6438b" {
		t.Errorf("musl = %+v", musl)
	}
	if len(find(r, Generic, "busybox")) != 0 {
		t.Error("apk's own busybox reported as unmanaged")
	}
}

func TestUnmanagedFromHost(t *testing.T) {
	bb := readHost(t, "/usr/bin/busybox")
	ref := buildImage(t, layer{"COPY busybox", []file{
		bin("/bin/busybox", bb),
		reg("/opt/jdk/release", "IMPLEMENTOR=\"Eclipse Adoptium\"\nJAVA_VERSION=\"21.0.2\"\n"),
		bin("/usr/local/bin/node", append([]byte("\x7fELF"), []byte("xx https://nodejs.org/download/release/v20.11.1/node-v20.11.1-headers.tar.gz")...)),
	}})
	r, _, _ := catalogOf(t, ref)
	b := one(t, r, Generic, "busybox")
	if !b.Unmanaged || !strings.HasPrefix(b.Version, "1.") || !strings.HasPrefix(b.CPEs[0], "cpe:2.3:a:busybox:busybox:1.") {
		t.Errorf("busybox = %+v", b)
	}
	if j := one(t, r, Generic, "java"); j.Version != "21.0.2" {
		t.Errorf("java = %+v", j)
	}
	if n := one(t, r, Generic, "node"); n.Version != "20.11.1" || n.PURL != "pkg:generic/node@20.11.1" {
		t.Errorf("node = %+v", n)
	}
}

func TestRustAuditable(t *testing.T) {
	if _, err := exec.LookPath("objcopy"); err != nil {
		t.Skip("objcopy (binutils) is needed to add a .dep-v0 section")
	}
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	_, _ = zw.Write([]byte(`{"packages":[{"name":"app","version":"0.1.0","source":"local","root":true},
		{"name":"serde","version":"1.0.197","source":"crates.io"},{"name":"cc","version":"1.0.90","source":"crates.io","kind":"build"}]}`))
	_ = zw.Close()
	dir := t.TempDir()
	sec, out := filepath.Join(dir, "dep"), filepath.Join(dir, "app")
	if err := os.WriteFile(sec, z.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if msg, err := exec.Command("objcopy", "--add-section", ".dep-v0="+sec, "/usr/bin/true", out).CombinedOutput(); err != nil {
		t.Skipf("objcopy: %v %s", err, msg)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	r, _, _ := catalogOf(t, buildImage(t, layer{"COPY app", []file{bin("/usr/local/bin/app", b)}}))
	if p := one(t, r, Cargo, "serde"); p.PURL != "pkg:cargo/serde@1.0.197" {
		t.Errorf("serde = %+v", p)
	}
	one(t, r, Cargo, "app")
	if len(find(r, Cargo, "cc")) != 0 {
		t.Error("a build dependency was reported")
	}
}

func TestRubyPHPDotnet(t *testing.T) {
	ref := buildImage(t, layer{"apps", []file{
		reg("/usr/lib/ruby/gems/3.1.0/specifications/rack-3.0.8.gemspec", "# -*- encoding: utf-8 -*-\nGem::Specification.new do |s|\n  s.name = \"rack\".freeze\n  s.version = \"3.0.8\"\n  s.licenses = [\"MIT\".freeze]\nend\n"),
		reg("/srv/vendor/composer/installed.json", `{"packages":[{"name":"monolog/monolog","version":"3.5.0","license":["MIT"]},{"name":"bad"}]}`),
		reg("/old/vendor/composer/installed.json", `[{"name":"psr/log","version":"v1.1.4"}]`),
		reg("/app/App.deps.json", `{"libraries":{"App/1.0.0":{"type":"project"},"Newtonsoft.Json/13.0.3":{"type":"package"}}}`),
	}})
	r, _, _ := catalogOf(t, ref)
	if p := one(t, r, Gem, "rack"); p.Version != "3.0.8" || p.Licenses[0] != "MIT" {
		t.Errorf("rack = %+v", p)
	}
	if p := one(t, r, Composer, "monolog"); p.PURL != "pkg:composer/monolog/monolog@3.5.0" {
		t.Errorf("monolog = %+v", p)
	}
	if p := one(t, r, Composer, "log"); p.Version != "1.1.4" {
		t.Errorf("psr/log = %+v", p)
	}
	if p := one(t, r, NuGet, "Newtonsoft.Json"); p.PURL != "pkg:nuget/Newtonsoft.Json@13.0.3" {
		t.Errorf("nuget = %+v", p)
	}
	if len(find(r, NuGet, "App")) != 0 {
		t.Error("the project itself was reported")
	}
}

func TestWhiteoutHidesPackages(t *testing.T) {
	meta := "Metadata-Version: 2.1\nName: requests\nVersion: 2.31.0\nLicense: Apache 2.0\n\nbody"
	ref := buildImage(t,
		layer{"RUN pip install requests", []file{reg("/usr/lib/python3/site-packages/requests-2.31.0.dist-info/METADATA", meta)}},
		layer{"RUN pip uninstall -y requests", []file{whiteout("/usr/lib/python3/site-packages/requests-2.31.0.dist-info")}},
	)
	r, _, _ := catalogOf(t, ref)
	if len(find(r, PyPI, "requests")) != 0 {
		t.Error("a deleted package was reported")
	}
}

func TestBaseLayers(t *testing.T) {
	ref := buildImage(t,
		layer{"ADD rootfs.tar /", []file{reg("/etc/os-release", debOSRelease)}},
		hist(`/bin/sh -c #(nop)  CMD ["bash"]`),
		layer{"RUN apt-get install -y python3", []file{reg("/x", "1")}},
		hist(`CMD ["python3"]`),
		layer{"COPY app /app", []file{reg("/y", "1")}},
		hist(`ENTRYPOINT ["/app"]`),
	)
	_, _, img := catalogOf(t, ref)
	if n, how := BaseLayers(img.ConfigFile(), nil); n != 2 || how != BaseFromHistory {
		t.Errorf("base layers = %d (%s), want 2", n, how)
	}
	if n, how := BaseLayers(img.ConfigFile(), map[string]string{AnnotationBaseName: "scratch"}); n != 0 || how != BaseScratch {
		t.Errorf("scratch = %d %s", n, how)
	}
	if n, how := BaseLayers(nil, nil); n != 0 || how != BaseUnknown {
		t.Errorf("no config = %d %s", n, how)
	}
}

func goroot(t *testing.T) string {
	out, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		t.Skip("no go command")
	}
	return strings.TrimSpace(string(out))
}
