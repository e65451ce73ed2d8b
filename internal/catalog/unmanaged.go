package catalog

import (
	"path"
	"regexp"
	"strings"

	"github.com/charterhq/charter/internal/image"
)

// unmanagedCataloger identifies software that may have been installed without a package
// manager (built from source, copied from another image, unpacked from a tarball) from
// its own files: node, python, busybox and openssl (the binary or libcrypto) from the
// version strings their binaries carry, and Java runtimes from their `release` file.
// Build drops what an OS package owns, so only unmanaged copies remain.
type unmanagedCataloger struct{}

func (unmanagedCataloger) Name() string { return "unmanaged" }
func (unmanagedCataloger) Version() int { return 1 }

// binaryClass recognises one program from its file name and a version pattern.
type binaryClass struct {
	product, vendor string
	name            *regexp.Regexp // matched against the file's base name
	version         *regexp.Regexp // first submatch is the version
	lib             bool           // a shared library: not necessarily executable
}

var binaryClasses = []binaryClass{
	{product: "node", vendor: "nodejs", name: regexp.MustCompile(`^node(js)?$`),
		version: regexp.MustCompile(`nodejs\.org/download/release/v(\d+\.\d+\.\d+)/`)},
	{product: "python", vendor: "python", name: regexp.MustCompile(`^(python[23](\.\d+)?|libpython[23]\.\d+\.so(\.[\d.]+)?)$`),
		version: regexp.MustCompile(`\x00([23]\.\d+\.\d+(?:(?:a|b|rc)\d+)?\+?)\x00`), lib: true},
	{product: "busybox", vendor: "busybox", name: regexp.MustCompile(`^busybox$`),
		version: regexp.MustCompile(`BusyBox v(\d+\.\d+\.\d+)`)},
	{product: "openssl", vendor: "openssl", name: regexp.MustCompile(`^(openssl|libcrypto\.so(\.[\d.]+)?)$`),
		version: regexp.MustCompile(`OpenSSL (\d+\.\d+\.\d+[a-z]?)(?:-[a-z0-9]+)? +\d{1,2} [A-Z][a-z]{2} \d{4}`), lib: true},
}

const javaReleaseMax = 64 << 10

func (unmanagedCataloger) Need(f *image.File) (bool, int64) {
	if !f.Regular() || f.Hardlink {
		return false, 0
	}
	base := path.Base(f.Path)
	if base == "release" && looksLikeJavaHome(f.Path) {
		return true, javaReleaseMax
	}
	switch base[0] { // cheap before the patterns: this runs for every file of every layer
	case 'n', 'p', 'l', 'b', 'o':
	default:
		return false, 0
	}
	for _, c := range binaryClasses {
		if c.name.MatchString(base) && (c.lib || f.Mode.Perm()&0o111 != 0) {
			return true, f.Size
		}
	}
	return false, 0
}

func looksLikeJavaHome(p string) bool {
	d := strings.ToLower(path.Dir(p))
	return strings.Contains(d, "java") || strings.Contains(d, "jdk") || strings.Contains(d, "jre") ||
		strings.Contains(d, "jvm") || strings.Contains(d, "openjdk")
}

func (unmanagedCataloger) Parse(f *image.File, content []byte) []Found {
	base := path.Base(f.Path)
	if base == "release" {
		if p := parseJavaRelease(content); p != nil {
			return []Found{{Package: p}}
		}
		return nil
	}
	if !isBinary(content) {
		return nil
	}
	for _, c := range binaryClasses {
		if !c.name.MatchString(base) {
			continue
		}
		m := c.version.FindSubmatch(content)
		if m == nil {
			continue
		}
		v := strings.TrimSuffix(string(m[1]), "+")
		return []Found{{Package: &Package{Name: c.product, Version: v, Ecosystem: Generic, Unmanaged: true,
			CPEs: []string{cpe(c.vendor, cpeProduct(c.product), v)}}}}
	}
	return nil
}

func cpeProduct(product string) string {
	if product == "node" {
		return "node.js"
	}
	return product
}

// parseJavaRelease reads a JDK's or JRE's `release` file (JAVA_VERSION, IMPLEMENTOR).
func parseJavaRelease(b []byte) *Package {
	var version, impl string
	for _, l := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(l), "=")
		if !ok {
			continue
		}
		switch k {
		case "JAVA_VERSION":
			version = unquoteShell(v)
		case "IMPLEMENTOR":
			impl = unquoteShell(v)
		}
	}
	if version == "" {
		return nil
	}
	p := &Package{Name: "java", Version: version, Ecosystem: Generic, Unmanaged: true,
		CPEs: []string{cpe("oracle", "openjdk", version)}}
	if impl != "" {
		p.Meta = map[string]string{"implementor": impl}
	}
	return p
}
