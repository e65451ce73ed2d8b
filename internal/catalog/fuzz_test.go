package catalog

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// Every parser of image content is fuzzed: none may panic, and every package it
// returns has a name and a version and survives the layer cache's JSON round trip.

func seed(f *testing.F, globs ...string) {
	f.Helper()
	for _, g := range globs {
		ms, _ := filepath.Glob(filepath.Join("testdata", g))
		for _, m := range ms {
			b, err := os.ReadFile(m)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(b)
		}
	}
}

func checkFound(t *testing.T, fs []Found) {
	t.Helper()
	for _, x := range fs {
		if p := x.Package; p != nil && (p.Name == "" || p.Version == "") {
			t.Fatalf("package without name or version: %+v", p)
		}
		b, err := json.Marshal(x)
		if err != nil {
			t.Fatal(err)
		}
		var back Found
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatalf("record does not survive the cache: %v", err)
		}
	}
}

func fuzzCataloger(f *testing.F, c Cataloger, path string) {
	f.Fuzz(func(t *testing.T, b []byte) {
		file := fileOf(path, b).File
		checkFound(t, c.Parse(&file, b))
	})
}

func FuzzDpkgStatus(f *testing.F) {
	seed(f, "dpkg/status")
	f.Add([]byte("Package: a\nVersion: 1\nSource: b (2)\n\n"))
	fuzzCataloger(f, dpkgCataloger{}, dpkgStatus)
}

func FuzzDpkgMD5Sums(f *testing.F) {
	seed(f, "dpkg/*.md5sums")
	fuzzCataloger(f, dpkgCataloger{}, "/var/lib/dpkg/info/x.md5sums")
}

func FuzzDpkgCopyright(f *testing.F) {
	seed(f, "dpkg/copyright-*")
	f.Add([]byte("see /usr/share/common-licenses/GPL-2.\nLicense: MIT\n"))
	fuzzCataloger(f, dpkgCataloger{}, "/usr/share/doc/x/copyright")
}

func FuzzApkInstalled(f *testing.F) {
	seed(f, "apk/installed")
	fuzzCataloger(f, apkCataloger{}, apkInstalled)
}

func FuzzOSRelease(f *testing.F) {
	f.Add([]byte(debOSRelease))
	fuzzCataloger(f, distroCataloger{}, "/etc/os-release")
}

func FuzzPythonMetadata(f *testing.F) {
	seed(f, "python/*")
	fuzzCataloger(f, pythonCataloger{}, "/usr/lib/python3/site-packages/x-1.dist-info/METADATA")
}

func FuzzPackageJSON(f *testing.F) {
	seed(f, "npm/package.json")
	f.Add([]byte(`{"name":"@a/b","version":"1","license":{"type":"MIT"}}`))
	fuzzCataloger(f, npmCataloger{}, "/app/node_modules/x/package.json")
}

func FuzzPackageLock(f *testing.F) {
	f.Add([]byte(`{"lockfileVersion":3,"packages":{"node_modules/a":{"version":"1"}}}`))
	f.Add([]byte(`{"lockfileVersion":1,"dependencies":{"a":{"version":"1","dependencies":{"b":{"version":"2"}}}}}`))
	fuzzCataloger(f, npmCataloger{}, "/app/package-lock.json")
}

func FuzzRPMDatabase(f *testing.F) {
	seed(f, "rpm/rpmdb.sqlite")
	fuzzCataloger(f, rpmCataloger{}, "/var/lib/rpm/rpmdb.sqlite")
}

func FuzzRPMBerkeleyDB(f *testing.F) {
	seed(f, "rpm/Packages")
	fuzzCataloger(f, rpmCataloger{}, "/var/lib/rpm/Packages")
}

func FuzzRPMNDB(f *testing.F) {
	if b, err := os.ReadFile("testdata/rpm/rpmdb.sqlite"); err == nil {
		if blobs, err := sqliteRPMBlobs(b); err == nil {
			f.Add(ndbOf(blobs))
		}
	}
	fuzzCataloger(f, rpmCataloger{}, "/var/lib/rpm/Packages.db")
}

func FuzzRPMHeader(f *testing.F) {
	if b, err := os.ReadFile("testdata/rpm/rpmdb.sqlite"); err == nil {
		if blobs, err := sqliteRPMBlobs(b); err == nil {
			for _, bl := range blobs {
				f.Add(bl)
			}
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := parseRPMHeader(b)
		if err == nil && p != nil {
			checkFound(t, []Found{{Package: p}})
		}
	})
}

func FuzzJavaArchive(f *testing.F) {
	f.Add(zipOfF(f, map[string][]byte{"META-INF/MANIFEST.MF": []byte("Implementation-Title: a\nImplementation-Version: 1\n"),
		"META-INF/maven/g/a/pom.properties": []byte("groupId=g\nartifactId=a\nversion=1\n")}))
	fuzzCataloger(f, javaCataloger{}, "/app/x-1.0.jar")
}

func FuzzGoBuildInfo(f *testing.F) {
	f.Add(append([]byte("\x7fELF"), inlineBuildInfoSample()...))
	f.Fuzz(func(t *testing.T, b []byte) {
		file := fileOf("/app", b).File
		file.Size++ // as if capped: exercises the inline decoder
		checkFound(t, goCataloger{}.Parse(&file, b))
	})
}

func FuzzRustAudit(f *testing.F) {
	f.Add([]byte{0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01})
	f.Fuzz(func(t *testing.T, b []byte) { checkFound(t, parseRustAudit(b)) })
}

func FuzzGemspec(f *testing.F) {
	f.Add([]byte("Gem::Specification.new do |s|\n  s.name = \"rack\"\n  s.version = \"3\"\n  s.licenses = [\"MIT\"]\nend\n"))
	fuzzCataloger(f, rubyCataloger{}, "/gems/specifications/rack-3.gemspec")
}

func FuzzComposerInstalled(f *testing.F) {
	f.Add([]byte(`{"packages":[{"name":"a/b","version":"v1","license":["MIT"]}]}`))
	fuzzCataloger(f, phpCataloger{}, "/app/vendor/composer/installed.json")
}

func FuzzDepsJSON(f *testing.F) {
	f.Add([]byte(`{"libraries":{"A/1":{"type":"package"}}}`))
	fuzzCataloger(f, dotnetCataloger{}, "/app/a.deps.json")
}

func FuzzUnmanaged(f *testing.F) {
	f.Add([]byte("\x7fELF BusyBox v1.36.1 (x)"))
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, p := range []string{"/bin/busybox", "/usr/local/bin/python3.12", "/usr/lib/libcrypto.so.3", "/opt/jdk/release", "/usr/bin/node"} {
			file := fileOf(p, b).File
			checkFound(t, unmanagedCataloger{}.Parse(&file, b))
		}
	})
}

func FuzzPythonRecord(f *testing.F) {
	f.Add([]byte("a/__init__.py,sha256=47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU,0\n\"b,c.py\",,\n../../../bin/x,,\n"))
	fuzzCataloger(f, pythonCataloger{}, "/usr/lib/python3/site-packages/x-1.dist-info/RECORD")
}
