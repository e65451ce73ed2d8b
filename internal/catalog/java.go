package catalog

import (
	"archive/zip"
	"bufio"
	"bytes"
	"io"
	"path"
	"regexp"
	"sort"
	"strings"

	"github.com/charterhq/charter/internal/image"
)

// javaCataloger reads Java archives (jar, war, ear and their kin), nested archives
// included: every META-INF/maven/**/pom.properties is a package; an archive without
// Maven metadata for itself (Debian's jars, many OSGi bundles) is named from its
// MANIFEST.MF (Implementation-*, Bundle-*, Specification-*) and its file name.
type javaCataloger struct{}

func (javaCataloger) Name() string { return "java" }
func (javaCataloger) Version() int { return 2 }

var javaExts = map[string]bool{".jar": true, ".war": true, ".ear": true, ".par": true, ".sar": true,
	".jpi": true, ".hpi": true, ".nar": true, ".kar": true, ".rar": true}

// Bounds on what one archive can make the cataloger read.
const (
	javaNestedMax   = 64 << 20 // one nested archive, decompressed
	javaBudget      = 256 << 20
	javaDepthMax    = 4
	javaSmallMax    = 1 << 20 // a manifest or pom.properties
	javaEntriesMax  = 100_000
	javaPackagesMax = 10_000
)

func (javaCataloger) Need(f *image.File) (bool, int64) {
	if !f.Regular() || f.Size < 22 || !javaExts[strings.ToLower(path.Ext(f.Path))] {
		return false, 0
	}
	return true, f.Size
}

func (javaCataloger) Parse(f *image.File, content []byte) []Found {
	if int64(len(content)) < f.Size {
		return []Found{{Warning: "Java archive larger than the content limit; not read"}}
	}
	j := &javaWalk{budget: javaBudget}
	j.archive(f.Path, content, 0)
	return j.out
}

type javaWalk struct {
	out    []Found
	budget int64
}

type pomProps struct{ group, artifact, version string }

func (j *javaWalk) archive(loc string, b []byte, depth int) {
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		j.out = append(j.out, Found{Warning: clipString(loc) + ": not a readable zip archive"})
		return
	}
	if len(zr.File) > javaEntriesMax {
		j.out = append(j.out, Found{Warning: clipString(loc) + ": too many entries"})
		return
	}
	var poms []pomProps
	var manifest map[string]string
	var nested []*zip.File
	for _, zf := range zr.File {
		name := zf.Name
		switch {
		case strings.HasPrefix(name, "META-INF/maven/") && strings.HasSuffix(name, "/pom.properties"):
			if data := j.read(zf, javaSmallMax); data != nil {
				if p := parsePomProperties(data); p.artifact != "" && p.version != "" {
					poms = append(poms, p)
				}
			}
		case strings.EqualFold(name, "META-INF/MANIFEST.MF"):
			if data := j.read(zf, javaSmallMax); data != nil {
				manifest = parseManifest(data)
			}
		case depth < javaDepthMax && javaExts[strings.ToLower(path.Ext(name))] && !strings.HasSuffix(name, "/"):
			nested = append(nested, zf)
		}
	}
	j.emit(loc, poms, manifest)
	for _, zf := range nested {
		if data := j.read(zf, javaNestedMax); data != nil {
			j.archive(loc+"!/"+zf.Name, data, depth+1)
		}
	}
}

// read decompresses one entry within the per-entry cap and the archive's budget.
func (j *javaWalk) read(zf *zip.File, max int64) []byte {
	if zf.UncompressedSize64 > uint64(min(max, j.budget)) { //nolint:gosec // G115: both bounds are positive
		return nil
	}
	rc, err := zf.Open()
	if err != nil {
		return nil
	}
	defer func() { _ = rc.Close() }()
	data, err := io.ReadAll(io.LimitReader(rc, min(max, j.budget)+1))
	if err != nil || int64(len(data)) > min(max, j.budget) {
		return nil
	}
	j.budget -= int64(len(data))
	return data
}

// emit adds the archive's packages: every pom.properties, and, when none of them is
// the archive itself, one named from the manifest and file name.
func (j *javaWalk) emit(loc string, poms []pomProps, manifest map[string]string) {
	fileName, fileVersion := javaFileName(loc)
	self := false
	sort.Slice(poms, func(a, b int) bool { return poms[a].group+poms[a].artifact < poms[b].group+poms[b].artifact })
	for _, p := range poms {
		if len(j.out) >= javaPackagesMax {
			return
		}
		if isArchiveOf(p.artifact, loc, fileName) {
			self = true
		}
		j.out = append(j.out, Found{Package: &Package{Name: p.artifact, Namespace: p.group, Version: p.version,
			Ecosystem: Maven, Location: loc, Licenses: manifestLicenses(manifest), Meta: map[string]string{"origin": "pom.properties"}}})
	}
	if self {
		return
	}
	// The file name's version beats the OSGi and specification versions, which often
	// differ from the release's ("1.0.0" for atinject-jsr330-api-1.0.jar).
	name, version, origin := fileName, fileVersion, "filename"
	if v := firstOf(manifest, "Implementation-Version"); v != "" {
		version, origin = v, "manifest"
	} else if v := firstOf(manifest, "Bundle-Version", "Specification-Version"); v != "" && version == "" {
		version, origin = v, "manifest"
	}
	if name == "" {
		name = firstOf(manifest, "Implementation-Title", "Bundle-SymbolicName", "Specification-Title")
	}
	if name == "" || version == "" {
		return
	}
	j.out = append(j.out, Found{Package: &Package{Name: name, Version: version, Ecosystem: Maven, Location: loc,
		Licenses: manifestLicenses(manifest), Meta: map[string]string{"origin": origin}}})
}

// isArchiveOf reports whether a pom.properties describes the archive itself: its
// artifactId is the file's name, with or without the version, or ends it
// ("org.mortbay.jasper.apache-el-9.0.96.jar" holds apache-el), separators aside
// ("geronimo-annotation_1.3_spec" is geronimo-annotation-1.3-spec.jar).
func isArchiveOf(artifact, loc, fileName string) bool {
	norm := func(s string) string {
		return strings.Map(func(r rune) rune {
			if r == '_' || r == '.' {
				return '-'
			}
			return r
		}, strings.ToLower(s))
	}
	base := loc[strings.LastIndex(loc, "/")+1:]
	base = strings.TrimSuffix(base, path.Ext(base))
	a, n, b := norm(artifact), norm(fileName), norm(base)
	return a == n || a == b || strings.HasSuffix(n, "-"+a)
}

var javaFileVersion = regexp.MustCompile(`^(.+?)[-_](\d[0-9A-Za-z.+_~-]*)$`)

// javaFileName splits "commons-io-2.11.0.jar" into "commons-io" and "2.11.0".
func javaFileName(loc string) (name, version string) {
	base := loc
	if i := strings.LastIndex(loc, "/"); i >= 0 {
		base = loc[i+1:]
	}
	base = strings.TrimSuffix(base, path.Ext(base))
	if m := javaFileVersion.FindStringSubmatch(base); m != nil {
		return m[1], m[2]
	}
	return base, ""
}

func parsePomProperties(b []byte) pomProps {
	var p pomProps
	for _, l := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(l), "=")
		if !ok || strings.HasPrefix(k, "#") {
			continue
		}
		switch strings.TrimSpace(k) {
		case "groupId":
			p.group = strings.TrimSpace(v)
		case "artifactId":
			p.artifact = strings.TrimSpace(v)
		case "version":
			p.version = strings.TrimSpace(v)
		}
	}
	return p
}

// parseManifest reads MANIFEST.MF's main section; lines starting with a space continue
// the previous one.
func parseManifest(b []byte) map[string]string {
	m := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, javaSmallMax)
	last := ""
	for sc.Scan() {
		l := strings.TrimRight(sc.Text(), "\r")
		if l == "" {
			break // the main section ends; per-entry sections follow
		}
		if l[0] == ' ' && last != "" {
			m[last] += l[1:]
			continue
		}
		k, v, ok := strings.Cut(l, ":")
		if !ok {
			continue
		}
		last = strings.TrimSpace(k)
		m[last] = strings.TrimSpace(v)
	}
	return m
}

func firstOf(m map[string]string, keys ...string) string {
	for _, k := range keys {
		if v := m[k]; v != "" {
			if k == "Bundle-SymbolicName" {
				v, _, _ = strings.Cut(v, ";")
			}
			return v
		}
	}
	return ""
}

func manifestLicenses(m map[string]string) []string {
	if v := m["Bundle-License"]; v != "" && len(v) < 256 {
		v, _, _ = strings.Cut(v, ";")
		return []string{strings.TrimSpace(v)}
	}
	return nil
}
