package catalog

import (
	"bufio"
	"bytes"
	"strconv"
	"strings"

	"github.com/charterhq/charter/internal/image"
)

// Distro is the operating system an image's os-release names.
type Distro struct {
	ID        string `json:"id"`                  // "debian", "alpine", "rhel"
	VersionID string `json:"versionId,omitempty"` // "12", "3.19.1", "9.3"
	Codename  string `json:"codename,omitempty"`  // "bookworm"
	Name      string `json:"name,omitempty"`      // PRETTY_NAME
	IDLike    string `json:"idLike,omitempty"`
	Path      string `json:"path,omitempty"` // the os-release file read
}

// Qualifier is the purl `distro` qualifier: "debian-12", "alpine-3.19.1".
func (d *Distro) Qualifier() string {
	if d == nil || d.ID == "" {
		return ""
	}
	if d.VersionID == "" {
		return d.ID
	}
	return d.ID + "-" + d.VersionID
}

const osReleaseMax = 64 << 10

// distroCataloger reads /etc/os-release and /usr/lib/os-release.
type distroCataloger struct{}

func (distroCataloger) Name() string { return "distro" }
func (distroCataloger) Version() int { return 1 }

func (distroCataloger) Need(f *image.File) (bool, int64) {
	if f.Path == "/etc/os-release" || f.Path == "/usr/lib/os-release" {
		return f.Regular(), osReleaseMax
	}
	return false, 0
}

func (distroCataloger) Parse(f *image.File, content []byte) []Found {
	d := parseOSRelease(content)
	if d == nil {
		return []Found{{Warning: "os-release names no ID"}}
	}
	d.Path = f.Path
	return []Found{{Distro: d}}
}

// parseOSRelease reads the shell-style KEY=value lines of os-release(5).
func parseOSRelease(b []byte) *Distro {
	d := &Distro{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, osReleaseMax)
	for sc.Scan() {
		k, v, ok := strings.Cut(strings.TrimSpace(sc.Text()), "=")
		if !ok || strings.HasPrefix(k, "#") {
			continue
		}
		v = unquoteShell(v)
		switch k {
		case "ID":
			d.ID = strings.ToLower(v)
		case "VERSION_ID":
			d.VersionID = v
		case "VERSION_CODENAME":
			d.Codename = v
		case "PRETTY_NAME":
			d.Name = v
		case "ID_LIKE":
			d.IDLike = v
		}
	}
	if d.ID == "" {
		return nil
	}
	return d
}

func unquoteShell(v string) string {
	v = strings.TrimSpace(v)
	if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
		if u, err := strconv.Unquote(v); err == nil {
			return u
		}
		return v[1 : len(v)-1]
	}
	if len(v) >= 2 && v[0] == '\'' && v[len(v)-1] == '\'' {
		return v[1 : len(v)-1]
	}
	return v
}

// pickDistro prefers /etc/os-release, which overrides /usr/lib/os-release.
func pickDistro(recs []record) *Distro {
	var best *Distro
	for _, r := range recs {
		if best == nil || r.Distro.Path == "/etc/os-release" {
			best = r.Distro
		}
	}
	return best
}
