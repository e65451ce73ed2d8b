package catalog

import (
	"bytes"
	"debug/buildinfo"
	"encoding/binary"
	"regexp"
	"runtime/debug"
	"strings"

	"github.com/charterhq/charter/internal/image"
)

// goCataloger reads the build information the Go linker embeds in every binary since
// Go 1.13 (debug/buildinfo): the main module, each dependency with its version and
// replacement, and the toolchain, reported as the package "stdlib".
type goCataloger struct{}

func (goCataloger) Name() string { return "go-binary" }
func (goCataloger) Version() int { return 2 }

func (goCataloger) Need(f *image.File) (bool, int64) { return wantExecutable(f) }

// wantExecutable selects the files binary catalogers read: regular, executable by
// someone, and big enough to be a program. The whole file is asked for; the walk caps
// it at Limits.MaxContent.
func wantExecutable(f *image.File) (bool, int64) {
	if !f.Regular() || f.Hardlink || f.Mode.Perm()&0o111 == 0 || f.Size < 1024 {
		return false, 0
	}
	return true, f.Size
}

var goBuildInfoMagic = []byte("\xff Go buildinf:")

func (goCataloger) Parse(f *image.File, content []byte) []Found {
	if !isBinary(content) || !bytes.Contains(content, goBuildInfoMagic) {
		return nil
	}
	var bi *debug.BuildInfo
	var err error
	if int64(len(content)) == f.Size {
		bi, err = buildinfo.Read(bytes.NewReader(content))
	}
	if bi == nil {
		// A file capped by the walk has lost its section headers, but since Go 1.18
		// the build information sits inline after the magic.
		bi, err = inlineBuildInfo(content)
	}
	if err != nil || bi == nil {
		return nil
	}
	return goPackages(bi)
}

// isBinary reports whether b starts like an ELF, PE or Mach-O file.
func isBinary(b []byte) bool {
	if len(b) < 4 {
		return false
	}
	switch {
	case bytes.HasPrefix(b, []byte("\x7fELF")), bytes.HasPrefix(b, []byte("MZ")):
		return true
	}
	m := binary.LittleEndian.Uint32(b)
	return m == 0xfeedface || m == 0xfeedfacf || m == 0xcefaedfe || m == 0xcffaedfe
}

// inlineBuildInfo decodes the Go 1.18+ layout: a 32-byte header (magic, pointer size,
// flags with bit 2 set for inline strings), then two varint-prefixed strings: the Go
// version and the module information.
func inlineBuildInfo(b []byte) (*debug.BuildInfo, error) {
	for off := 0; ; {
		i := bytes.Index(b[off:], goBuildInfoMagic)
		if i < 0 {
			return nil, errNoBuildInfo
		}
		start := off + i
		off = start + len(goBuildInfoMagic)
		if start%16 != 0 || len(b) < start+32 || b[start+15]&2 == 0 {
			continue
		}
		rest := b[start+32:]
		vers, rest, ok := readVarString(rest)
		if !ok {
			continue
		}
		mod, _, ok := readVarString(rest)
		if !ok {
			continue
		}
		if len(mod) >= 33 && mod[len(mod)-17] == '\n' {
			mod = mod[16 : len(mod)-16]
		} else {
			mod = ""
		}
		bi, err := debug.ParseBuildInfo(mod)
		if err != nil {
			continue
		}
		bi.GoVersion = vers
		return bi, nil
	}
}

type buildInfoError string

func (e buildInfoError) Error() string { return string(e) }

const errNoBuildInfo = buildInfoError("no Go build information")

func readVarString(b []byte) (string, []byte, bool) {
	n, w := binary.Uvarint(b)
	if w <= 0 || n > 1<<30 {
		return "", nil, false
	}
	size := int(n) //nolint:gosec // G115: n is at most 1<<30
	if size > len(b)-w {
		return "", nil, false
	}
	return string(b[w : w+size]), b[w+size:], true
}

func goPackages(bi *debug.BuildInfo) []Found {
	var out []Found
	main := bi.Main.Path
	meta := func() map[string]string {
		m := map[string]string{}
		if main != "" {
			m["main"] = main
		}
		for _, s := range bi.Settings {
			if s.Key == "GOOS" || s.Key == "GOARCH" {
				m[strings.ToLower(s.Key)] = s.Value
			}
		}
		return m
	}
	add := func(m *debug.Module) {
		p := &Package{Name: m.Path, Version: m.Version, Ecosystem: Golang, Meta: meta()}
		if r := m.Replace; r != nil {
			p.Meta["replace"] = r.Path + " " + r.Version
			p.Name = r.Path
			if r.Version != "" {
				p.Version = r.Version
			}
		}
		if p.Version == "" {
			p.Version = "(devel)"
		}
		if p.Name == "" { // a damaged record (a module or its replacement without a path)
			return
		}
		out = append(out, Found{Package: p})
	}
	switch {
	case bi.Main.Path != "":
		m := bi.Main
		if m.Version == "" || m.Version == "(devel)" {
			if v := ldflagsVersion(bi); v != "" {
				m.Version = v
			}
		}
		add(&m)
	case bi.Path != "":
		// Built from a package outside any module (the toolchain's cmd/go, `go run`
		// files): the package path stands in for the module.
		main = bi.Path
		add(&debug.Module{Path: bi.Path})
	}
	for _, d := range bi.Deps {
		add(d)
	}
	if v, _, _ := strings.Cut(bi.GoVersion, " "); strings.HasPrefix(v, "go") {
		m := meta()
		m["toolchain"] = bi.GoVersion
		out = append(out, Found{Package: &Package{Name: "stdlib", Version: v, Ecosystem: Golang, Meta: m}})
		if bi.Path == "cmd/go" && v != "go" {
			// The go command itself: a Go toolchain installed in the image.
			ver := strings.TrimPrefix(v, "go")
			out = append(out, Found{Package: &Package{Name: "go", Version: ver, Ecosystem: Generic, Unmanaged: true,
				CPEs: []string{cpe("golang", "go", ver)}}})
		}
	}
	return out
}

// ldflagsVersion finds the version a release build stamps into the main package with
// -ldflags "-X main.version=v1.2.3" (or .../version.Version=…), when the module
// itself says "(devel)".
func ldflagsVersion(bi *debug.BuildInfo) string {
	for _, s := range bi.Settings {
		if s.Key != "-ldflags" {
			continue
		}
		for _, f := range strings.Fields(s.Value) {
			k, v, ok := strings.Cut(strings.TrimPrefix(strings.Trim(f, `'"`), "-X="), "=")
			if !ok || !strings.Contains(k, ".") {
				continue
			}
			name := strings.ToLower(k[strings.LastIndex(k, ".")+1:])
			if (name == "version" || name == "gitversion" || name == "buildversion") && ldflagsVersionRe.MatchString(v) {
				return v
			}
		}
	}
	return ""
}

var ldflagsVersionRe = regexp.MustCompile(`^v?\d+\.\d+(\.\d+)?([-+.][0-9A-Za-z.+-]*)?$`)
