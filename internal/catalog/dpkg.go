package catalog

import (
	"bytes"
	"path"
	"regexp"
	"sort"
	"strings"

	"github.com/charterhq/charter/internal/image"
)

// dpkgCataloger reads Debian's package database: /var/lib/dpkg/status, distroless's
// one-file-per-package /var/lib/dpkg/status.d/, the owned-file lists and md5sums in
// /var/lib/dpkg/info, and the licences in /usr/share/doc/*/copyright.
type dpkgCataloger struct{}

func (dpkgCataloger) Name() string { return "dpkg" }
func (dpkgCataloger) Version() int { return 2 }

const (
	dpkgStatus     = "/var/lib/dpkg/status"
	dpkgStatusD    = "/var/lib/dpkg/status.d/"
	dpkgInfo       = "/var/lib/dpkg/info/"
	dpkgListMax    = 8 << 20
	dpkgCopyMax    = 512 << 10
	dpkgStatusMax  = 64 << 20 // capped further by the walk's Limits.MaxContent
	dpkgDocPattern = "/usr/share/doc/*/copyright"
)

func (dpkgCataloger) Need(f *image.File) (bool, int64) {
	if !f.Regular() {
		return false, 0
	}
	p := f.Path
	switch {
	case p == dpkgStatus:
		return true, dpkgStatusMax
	case strings.HasPrefix(p, dpkgStatusD) && path.Dir(p)+"/" == dpkgStatusD:
		return true, dpkgStatusMax
	case strings.HasPrefix(p, dpkgInfo) && path.Dir(p)+"/" == dpkgInfo:
		if strings.HasSuffix(p, ".list") || strings.HasSuffix(p, ".md5sums") {
			return true, dpkgListMax
		}
	case strings.HasPrefix(p, "/usr/share/doc/") && strings.HasSuffix(p, "/copyright"):
		if ok, _ := path.Match(dpkgDocPattern, p); ok {
			return true, dpkgCopyMax
		}
	}
	return false, 0
}

func (dpkgCataloger) Parse(f *image.File, content []byte) []Found {
	p := f.Path
	base := path.Base(p)
	switch {
	case p == dpkgStatus:
		return parseDpkgStatus(content, true)
	case strings.HasPrefix(p, dpkgStatusD):
		if name, ok := strings.CutSuffix(base, ".md5sums"); ok {
			return []Found{{Owns: &Ownership{Manager: "dpkg", Package: name, Digests: parseMD5Sums(content)}}}
		}
		return parseDpkgStatus(content, false)
	case strings.HasSuffix(p, ".list"):
		return []Found{{Owns: &Ownership{Manager: "dpkg", Package: strings.TrimSuffix(base, ".list"), Files: parseDpkgList(content)}}}
	case strings.HasSuffix(p, ".md5sums"):
		return []Found{{Owns: &Ownership{Manager: "dpkg", Package: strings.TrimSuffix(base, ".md5sums"), Digests: parseMD5Sums(content)}}}
	case strings.HasSuffix(p, "/copyright"):
		if lics := parseCopyright(content); len(lics) > 0 {
			return []Found{{Owns: &Ownership{Manager: "dpkg", Package: path.Base(path.Dir(p)), Licenses: lics}}}
		}
	}
	return nil
}

// controlStanzas splits a deb822 file into stanzas of field → value; continuation lines
// are joined with "\n".
func controlStanzas(b []byte, each func(map[string]string)) {
	fields := map[string]string{}
	last := ""
	flush := func() {
		if len(fields) > 0 {
			each(fields)
		}
		fields, last = map[string]string{}, ""
	}
	for len(b) > 0 {
		var line []byte
		line, b, _ = bytes.Cut(b, []byte{'\n'})
		line = bytes.TrimRight(line, "\r")
		switch {
		case len(bytes.TrimSpace(line)) == 0:
			flush()
		case line[0] == ' ' || line[0] == '\t':
			if last != "" && len(fields[last]) < 1<<20 {
				fields[last] += "\n" + string(bytes.TrimSpace(line))
			}
		default:
			k, v, ok := bytes.Cut(line, []byte{':'})
			if !ok {
				continue
			}
			last = string(k)
			fields[last] = string(bytes.TrimSpace(v))
		}
	}
	flush()
}

// parseDpkgStatus reads status (or a status.d file). Entries that are not installed
// (removed with their config files left, half-installed) are skipped when requireStatus
// is set; distroless status.d entries carry no Status field.
func parseDpkgStatus(b []byte, requireStatus bool) []Found {
	var out []Found
	controlStanzas(b, func(s map[string]string) {
		name, version := s["Package"], s["Version"]
		if name == "" {
			return
		}
		if version == "" {
			out = append(out, Found{Warning: "dpkg entry " + clipString(name) + " has no Version"})
			return
		}
		if st := s["Status"]; st != "" || requireStatus {
			if w := strings.Fields(st); len(w) != 3 || w[2] != "installed" {
				return
			}
		}
		p := &Package{Name: name, Version: version, Ecosystem: Deb, Arch: s["Architecture"]}
		if src := s["Source"]; src != "" {
			sn, sv, _ := strings.Cut(src, " ")
			sv = strings.Trim(strings.TrimSpace(sv), "()")
			if sv == "" {
				sv = version
			}
			p.Source = &Source{Name: sn, Version: sv}
		}
		if cf := s["Conffiles"]; cf != "" {
			p.Meta = map[string]string{"conffiles": cf}
		}
		out = append(out, Found{Package: p})
	})
	return out
}

// parseDpkgList reads info/NAME.list: one rooted path per line, directories included.
func parseDpkgList(b []byte) []string {
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		l = strings.TrimSpace(l)
		if l == "" || l == "/." || !strings.HasPrefix(l, "/") {
			continue
		}
		out = append(out, path.Clean(l))
	}
	return out
}

// parseMD5Sums reads "HEX  path" lines (paths relative to the root).
func parseMD5Sums(b []byte) map[string]string {
	out := map[string]string{}
	for _, l := range strings.Split(string(b), "\n") {
		sum, p, ok := strings.Cut(strings.TrimRight(l, "\r"), " ")
		if !ok || len(sum) != 32 || !isHex(sum) {
			continue
		}
		p = strings.TrimLeft(p, " *")
		if p == "" {
			continue
		}
		out[path.Clean("/"+p)] = "md5:" + strings.ToLower(sum)
	}
	return out
}

// parseCopyright reads the licence names of a Debian copyright file: DEP-5 `License:`
// fields, and references to /usr/share/common-licenses/NAME in free-form ones.
func parseCopyright(b []byte) []string {
	seen := map[string]bool{}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "License:"); ok {
			// "GPL-3+ and BSD-4-clause-UC", "GPL-3+ with Bison exception": the
			// licence names, one by one.
			for _, part := range licenceSplit.Split(strings.TrimSpace(v), -1) {
				part, _, _ = strings.Cut(part, " with ")
				part = strings.Trim(part, " ,;(){}[]")
				if part != "" && part != "none" && len(part) < 128 && !strings.ContainsAny(part, "\t ") {
					seen[part] = true
				}
			}
			continue
		}
		if _, rest, ok := strings.Cut(l, "/usr/share/common-licenses/"); ok {
			words := strings.FieldsFunc(rest, func(r rune) bool {
				return r == ' ' || r == '\'' || r == '"' || r == ')' || r == ',' || r == '\t' || r == '’' || r == '`' || r == '>'
			})
			if len(words) == 0 {
				continue
			}
			if n := strings.TrimRight(words[0], ".;:"); n != "" && len(n) < 64 {
				seen[n] = true
			}
		}
	}
	out := make([]string, 0, len(seen))
	for k := range seen {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

var licenceSplit = regexp.MustCompile(`\s+(?:and|or|AND|OR)\s+`)

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') && (c < 'A' || c > 'F') {
			return false
		}
	}
	return true
}

// clipString bounds a string taken from input before it lands in a warning.
func clipString(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}
