package catalog

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"path"
	"strings"

	"github.com/charterhq/charter/internal/image"
)

// apkCataloger reads Alpine's (and Wolfi's) /lib/apk/db/installed: every package with
// its origin, licence, owned files and their checksums.
type apkCataloger struct{}

func (apkCataloger) Name() string { return "apk" }
func (apkCataloger) Version() int { return 2 }

const apkInstalled = "/lib/apk/db/installed"

func (apkCataloger) Need(f *image.File) (bool, int64) {
	if f.Path == apkInstalled && f.Regular() {
		return true, 64 << 20
	}
	return false, 0
}

func (apkCataloger) Parse(_ *image.File, content []byte) []Found { return parseApkInstalled(content) }

// parseApkInstalled reads the "K:value" stanzas of apk's installed database. F: names a
// directory, the R: lines after it its files, and a Z: after an R: the file's checksum
// ("Q1" + base64 SHA-1).
func parseApkInstalled(b []byte) []Found {
	var out []Found
	var p *Package
	dir := ""
	lastFile := ""
	flush := func() {
		if p != nil && p.Name != "" && p.Version != "" {
			out = append(out, Found{Package: p})
		} else if p != nil && p.Name != "" {
			out = append(out, Found{Warning: "apk entry " + clipString(p.Name) + " has no version"})
		}
		p, dir, lastFile = nil, "", ""
	}
	for len(b) > 0 {
		var line []byte
		line, b, _ = bytes.Cut(b, []byte{'\n'})
		line = bytes.TrimRight(line, "\r")
		if len(line) == 0 {
			flush()
			continue
		}
		if len(line) < 2 || line[1] != ':' {
			continue
		}
		if p == nil {
			p = &Package{Ecosystem: Apk}
		}
		v := string(line[2:])
		switch line[0] {
		case 'P':
			p.Name = v
		case 'V':
			p.Version = v
		case 'A':
			p.Arch = v
		case 'L':
			if v != "" {
				p.Licenses = []string{v}
			}
		case 'o':
			p.Source = &Source{Name: v}
		case 'F':
			dir = path.Clean("/" + v)
			lastFile = ""
		case 'R':
			lastFile = path.Join(dir, v)
			if !strings.HasPrefix(lastFile, "/") {
				lastFile = "/" + lastFile
			}
			p.Files = append(p.Files, lastFile)
		case 'Z':
			// Files under /etc are configuration (apk keeps them as .apk-new on
			// upgrade); users edit them, so they get no digest to check.
			if lastFile != "" && !strings.HasPrefix(lastFile, "/etc/") {
				if d := apkChecksum(v); d != "" {
					if p.Digests == nil {
						p.Digests = map[string]string{}
					}
					p.Digests[lastFile] = d
				}
			}
		}
	}
	flush()
	for _, f := range out {
		if f.Package != nil && f.Package.Source != nil {
			f.Package.Source.Version = f.Package.Version
		}
	}
	return out
}

// apkChecksum turns "Q1<base64>" (SHA-1) or "Q2<base64>" (SHA-256) into "sha1:HEX".
func apkChecksum(z string) string {
	algo := ""
	switch {
	case strings.HasPrefix(z, "Q1"):
		algo = "sha1"
	case strings.HasPrefix(z, "Q2"):
		algo = "sha256"
	default:
		return ""
	}
	raw, err := base64.StdEncoding.DecodeString(z[2:])
	if err != nil || (algo == "sha1" && len(raw) != 20) || (algo == "sha256" && len(raw) != 32) {
		return ""
	}
	return algo + ":" + hex.EncodeToString(raw)
}
