package sbom

import (
	"sort"
	"strings"
	"time"

	"github.com/charterhq/charter/internal/report"
)

func intp(n int) *int { return &n }

// fixedClock is the creation time of every document the tests write.
func fixedClock() time.Time { return time.Date(2026, 1, 31, 12, 0, 0, 0, time.UTC) }

const (
	diff0 = "sha256:68bc6b09dbf48222a5efa7df69f13f874ba31b4959cfaa9905c46523368d5974"
	diff1 = "sha256:271193f864f81af07179fa96c949f7b286821667fa7a786fd0852dcf0b40def3"
	diff2 = "sha256:4f2d1a0c3b8e9d7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f"
	ins0  = "ADD rootfs.tar.xz / # buildkit"
	ins1  = "RUN /bin/sh -c set -eux; \\\n\tapt-get update && apt-get install -y --no-install-recommends python3-yaml # buildkit"
	ins2  = "COPY /app /app # buildkit"
)

// sampleInventory is a realistic image: a Debian base layer, an apt layer and an
// application layer with Python, npm, Maven, Go and Rust content and an unmanaged node.
func sampleInventory() *Inventory {
	deb := func(name, version, arch, srcName, srcVersion string, layer int, lic []string, files map[string]string) Package {
		p := Package{Package: report.Package{
			Name: name, Version: version, Ecosystem: "deb", Arch: arch,
			PURL:       "pkg:deb/debian/" + name + "@" + escapePURLVersion(version) + "?arch=" + arch + "&distro=debian-12",
			Layer:      []string{diff0, diff1, diff2}[layer],
			LayerIndex: intp(layer), Base: layer == 0, Locations: []string{"/var/lib/dpkg/status"},
			Licenses: lic, Instruction: []string{ins0, ins1, ins2}[layer],
		}}
		if srcName != "" {
			p.Source = &report.PackageSource{Name: srcName, Version: srcVersion}
			up := srcName
			if srcVersion != version {
				up += "%40" + escapePURLVersion(srcVersion)
			}
			p.PURL += "&upstream=" + up
		}
		for f, d := range files {
			p.Files = append(p.Files, f)
			if p.Digests == nil {
				p.Digests = map[string]string{}
			}
			p.Digests[f] = d
		}
		sort.Strings(p.Files)
		return p
	}
	lang := func(eco, name, version, purl string, layer int, loc string, lic ...string) Package {
		return Package{Package: report.Package{
			Name: name, Version: version, Ecosystem: eco, PURL: purl,
			Layer: []string{diff0, diff1, diff2}[layer], LayerIndex: intp(layer), Base: layer == 0,
			Locations: []string{loc}, Licenses: lic, Instruction: []string{ins0, ins1, ins2}[layer],
		}}
	}
	libssl := deb("libssl3", "3.0.15-1~deb12u1", "amd64", "openssl", "3.0.15-1~deb12u1", 0, []string{"Apache-2.0"}, map[string]string{
		"/usr/lib/x86_64-linux-gnu/libssl.so.3":    "md5:3c6f8f0a5e0d9b8c7a6f5e4d3c2b1a09",
		"/usr/lib/x86_64-linux-gnu/libcrypto.so.3": "md5:9a8b7c6d5e4f30211f0e0d0c0b0a0908",
	})
	libssl.ChangedLayerIndex = intp(1)
	bash := deb("bash", "5.2.15-2+b7", "amd64", "bash", "5.2.15-2", 0, []string{"GPL-3.0-or-later", "BSD-like"}, map[string]string{
		"/bin/bash": "md5:1f3870be274f6c49b3e31a0c6728957f",
	})
	zlib := deb("zlib1g", "1:1.2.13.dfsg-1", "amd64", "zlib", "1:1.2.13.dfsg-1", 0, []string{"Zlib"}, nil)
	tz := deb("tzdata", "2024a-0+deb12u1", "all", "", "", 0, nil, nil)
	pyyamlDeb := deb("python3-yaml", "6.0-3+b2", "amd64", "pyyaml", "6.0-3", 1, []string{"MIT"}, map[string]string{
		"/usr/lib/python3/dist-packages/yaml/__init__.py": "md5:0f343b0931126a20f133d67c2b018a3b",
	})
	node := lang("generic", "node", "20.11.1", "pkg:generic/node@20.11.1", 2, "/usr/local/bin/node", "MIT")
	node.Unmanaged = true
	node.CPEs = []string{"cpe:2.3:a:nodejs:node.js:20.11.1:*:*:*:*:*:*:*"}
	stdlib := lang("golang", "stdlib", "go1.22.5", "pkg:golang/stdlib@go1.22.5", 2, "/app/server", "BSD-3-Clause")
	stdlib.CPEs = []string{"cpe:2.3:a:golang:go:1.22.5:*:*:*:*:*:*:*"}
	return &Inventory{
		Tool:   report.Tool{Name: "charter", Version: "0.3.0"},
		Image:  Image{Ref: "registry.example.com/shop/api:1.4.2", Digest: "sha256:314b5c956ef3745e8db2422964f16d402824a3a8f69ca8c88072d2ec6a014d45", ID: "sha256:dda1a08845aaceb7d5a44eeb4a611ed6a0d5e1d6492c948c432c6238ee509d7a"},
		Distro: &Distro{ID: "debian", VersionID: "12", Codename: "bookworm", Name: "Debian GNU/Linux 12 (bookworm)"},
		Layers: []Layer{{DiffID: diff0, CreatedBy: ins0, Base: true}, {DiffID: diff1, CreatedBy: ins1}, {DiffID: diff2, CreatedBy: ins2}},
		Packages: []Package{
			node, libssl, bash, zlib, tz, pyyamlDeb, stdlib,
			lang("pypi", "requests", "2.31.0", "pkg:pypi/requests@2.31.0", 2, "/app/venv/lib/python3.11/site-packages/requests-2.31.0.dist-info/METADATA", "Apache-2.0"),
			lang("npm", "@babel/core", "7.24.0", "pkg:npm/%40babel/core@7.24.0", 2, "/app/node_modules/@babel/core/package.json", "MIT"),
			// The same npm package twice, at two paths: the bom-refs must still differ.
			lang("npm", "ms", "2.1.3", "pkg:npm/ms@2.1.3", 2, "/app/node_modules/ms/package.json", "MIT"),
			lang("npm", "ms", "2.1.3", "pkg:npm/ms@2.1.3", 2, "/app/node_modules/debug/node_modules/ms/package.json", "MIT"),
			lang("maven", "commons-lang3", "3.14.0", "pkg:maven/org.apache.commons/commons-lang3@3.14.0", 2, "/app/lib/app.jar!/BOOT-INF/lib/commons-lang3-3.14.0.jar", "Apache-2.0"),
			lang("cargo", "serde", "1.0.197", "pkg:cargo/serde@1.0.197", 2, "/app/bin/indexer", "MIT OR Apache-2.0"),
			lang("golang", "github.com/spf13/cobra", "v1.8.0", "pkg:golang/github.com/spf13/cobra@v1.8.0", 2, "/app/server"),
		},
	}
}

func escapePURLVersion(v string) string {
	return strings.NewReplacer("+", "%2B", ":", "%3A").Replace(v)
}
