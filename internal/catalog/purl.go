package catalog

import (
	"strings"

	packageurl "github.com/package-url/packageurl-go"
)

// purlOf builds the package URL: the identity vulnerability matching and SBOMs use.
// OS packages carry the distro as namespace and `distro` qualifier
// (pkg:deb/debian/openssl@3.0.11-1~deb12u2?arch=amd64&distro=debian-12).
func purlOf(p *Package, d *Distro) string {
	var q packageurl.Qualifiers
	add := func(k, v string) {
		if v != "" {
			q = append(q, packageurl.Qualifier{Key: k, Value: v})
		}
	}
	typ, ns, name, version := p.Ecosystem, p.Namespace, p.Name, p.Version
	switch p.Ecosystem {
	case Deb, Apk, RPM:
		ns = osNamespace(p.Ecosystem, d)
		add("arch", p.Arch)
		if p.Ecosystem == RPM {
			if e, v, ok := strings.Cut(version, ":"); ok {
				add("epoch", e)
				version = v
			}
		}
		add("distro", d.Qualifier())
		if s := p.Source; s != nil && (s.Name != p.Name || (s.Version != p.Version && p.Ecosystem == Deb)) {
			up := s.Name
			if p.Ecosystem == Deb && s.Version != p.Version {
				up += "@" + s.Version
			}
			add("upstream", up)
		}
	case Golang:
		if ns == "" {
			if i := strings.LastIndex(name, "/"); i > 0 {
				ns, name = name[:i], name[i+1:]
			}
		}
	case PyPI:
		name = strings.ToLower(strings.ReplaceAll(name, "_", "-"))
	case Generic, "":
		typ = Generic
	}
	if typ == "" || name == "" {
		return ""
	}
	return packageurl.NewPackageURL(typ, ns, name, version, q, "").ToString()
}

func osNamespace(eco string, d *Distro) string {
	if d != nil && d.ID != "" {
		return d.ID
	}
	switch eco {
	case Deb:
		return "debian"
	case Apk:
		return "alpine"
	}
	return ""
}

// cpesOf gives CPE 2.3 names where advisories key by CPE rather than by package name:
// the Go toolchain and Java archives without Maven coordinates. Unmanaged binaries set
// their own.
func cpesOf(p *Package) []string {
	switch {
	case p.Ecosystem == Golang && p.Name == "stdlib":
		return []string{cpe("golang", "go", strings.TrimPrefix(p.Version, "go"))}
	case p.Ecosystem == Maven && p.Namespace == "":
		return []string{cpe(p.Name, p.Name, p.Version)}
	}
	return nil
}

// cpe formats a CPE 2.3 application name, escaping what the binding requires.
func cpe(vendor, product, version string) string {
	esc := func(s string) string {
		if s == "" {
			return "*"
		}
		var b strings.Builder
		for _, r := range strings.ToLower(s) {
			if (r < 'a' || r > 'z') && (r < '0' || r > '9') && r != '_' && r != '.' && r != '-' {
				b.WriteByte('\\')
			}
			b.WriteRune(r)
		}
		return b.String()
	}
	return "cpe:2.3:a:" + esc(vendor) + ":" + esc(product) + ":" + esc(version) + ":*:*:*:*:*:*:*"
}
