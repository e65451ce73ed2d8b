package imagecheck

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/charterhq/charter/internal/image"
	"github.com/charterhq/charter/internal/secrets"
)

const (
	// secretScanBytes is how much of a file the content scan reads; secrets sit in
	// configuration and key files, which are far smaller.
	secretScanBytes = 4 << 20
	// binarySniff is how far into a file a NUL byte marks it as binary (git's heuristic).
	binarySniff = 8000
	// maxMatches bounds the matches one file's record keeps (the rest are counted).
	maxMatches = 8
)

// secretFileAnalyzer finds secret-bearing files in every layer, by name and by content.
// Its records hold redacted evidence only: the layer cache writes them to disk.
type secretFileAnalyzer struct{}

// secretRecord is the Data of a "secret-file" record.
type secretRecord struct {
	Name    string        `json:"name,omitempty"` // what secrets.ClassifyName says the file is
	Matches []secretMatch `json:"matches,omitempty"`
	More    int           `json:"more,omitempty"` // matches beyond maxMatches
}

type secretMatch struct {
	Rule     string `json:"rule"`
	Title    string `json:"title"`
	Line     int    `json:"line"`
	Evidence string `json:"evidence"` // redacted
}

func (secretFileAnalyzer) ID() string { return "imagecheck-secret/1" }

func (secretFileAnalyzer) Need(f *image.File) (bool, int64) {
	if !f.Regular() {
		return false, 0
	}
	if _, ok := secrets.ClassifyName(f.Path); ok {
		return !packageFixture(f.Path), secretScanBytes
	}
	if f.Size == 0 || f.Hardlink || !contentScanned(f.Path) {
		return false, 0
	}
	return true, secretScanBytes
}

func (secretFileAnalyzer) Analyze(f *image.File, content []byte) ([]image.Record, error) {
	kind, byName := secrets.ClassifyName(f.Path)
	var ms []secrets.Match
	switch {
	case kind == "shadow":
		// Every distribution ships /etc/shadow; it is a secret only with a password hash.
		if byName = false; len(content) > 0 {
			ms = shadowHashes(content)
		}
	case byName && f.Size == 0 && !f.Hardlink:
		return nil, nil // an empty key file gives nothing away
	case len(content) > 0 && !isBinary(content):
		ms = secrets.Scan(content)
	}
	if !byName && len(ms) == 0 {
		return nil, nil
	}
	rec := secretRecord{}
	if byName {
		rec.Name = kind
	}
	for i, m := range ms {
		if i == maxMatches {
			rec.More = len(ms) - maxMatches
			break
		}
		rec.Matches = append(rec.Matches, secretMatch{Rule: m.Rule, Title: m.Title, Line: m.Line, Evidence: secrets.Redact(m.Value)})
	}
	data, err := json.Marshal(rec)
	if err != nil {
		return nil, err
	}
	return []image.Record{{Kind: "secret-file", Data: data}}, nil
}

// shadowHashes returns the password hashes of a shadow(5) file. Locked ("!…") hashes
// count: the hash is still there to crack. "*", "!", "x" and empty fields hold none.
func shadowHashes(b []byte) []secrets.Match {
	var out []secrets.Match
	for i, line := range bytes.Split(b, []byte("\n")) {
		fields := strings.SplitN(string(line), ":", 3)
		if len(fields) < 3 {
			continue
		}
		h := strings.TrimLeft(fields[1], "!")
		if h == "" || h == "*" || h == "x" || strings.HasPrefix(h, "*") {
			continue
		}
		out = append(out, secrets.Match{Rule: "password-hash", Title: "password hash (user " + clipName(fields[0]) + ")", Line: i + 1, Value: h})
	}
	return out
}

func clipName(s string) string {
	if len(s) > 32 {
		return s[:32] + "…"
	}
	return s
}

func isBinary(b []byte) bool {
	return bytes.IndexByte(b[:min(len(b), binarySniff)], 0) >= 0
}

// managedPrefixes are trees that package managers and toolchains own: their files come
// from distributions and registries (libraries, documentation, locale data, package
// databases, caches), not from the image's builder, and their text is full of sample
// keys and tokens in documentation and tests. Contents there are not scanned; names are.
var managedPrefixes = []string{
	"/usr/share/", "/usr/include/", "/usr/lib/", "/usr/lib32/", "/usr/lib64/", "/usr/libexec/",
	"/lib/", "/lib32/", "/lib64/", "/usr/local/go/", "/var/lib/dpkg/", "/var/lib/apt/",
	"/var/lib/rpm/", "/var/lib/yum/", "/var/lib/dnf/", "/var/cache/", "/usr/src/",
}

// managedDirs are directory names that hold installed dependencies wherever they are.
var managedDirs = map[string]bool{
	"node_modules": true, "site-packages": true, "dist-packages": true, "bower_components": true,
	"vendor": true, "gems": true, ".m2": true, ".gradle": true, ".cargo": true, ".npm": true,
	".cache": true, ".nuget": true,
}

// fixtureDirs are directory names under which packages keep tests, examples and docs.
var fixtureDirs = map[string]bool{
	"test": true, "tests": true, "testdata": true, "testing": true, "__tests__": true,
	"fixture": true, "fixtures": true, "spec": true, "specs": true, "example": true,
	"examples": true, "sample": true, "samples": true, "demo": true, "doc": true, "docs": true,
}

// inManagedTree reports whether p is in a tree package managers own (see managedPrefixes
// and managedDirs; the Go module cache is any .../pkg/mod/...).
func inManagedTree(p string) bool {
	for _, pre := range managedPrefixes {
		if strings.HasPrefix(p, pre) {
			return true
		}
	}
	dirs := strings.Split(p, "/")
	dirs = dirs[:len(dirs)-1]
	for i, d := range dirs {
		if managedDirs[d] || d == "mod" && i > 0 && dirs[i-1] == "pkg" {
			return true
		}
	}
	return false
}

// packageFixture reports whether p is a test, example or documentation file of an
// installed package: a key there (twisted/test/server.pem, Go's crypto/tls/testdata) is
// a fixture everyone has, not the image's secret.
func packageFixture(p string) bool {
	if !inManagedTree(p) {
		return false
	}
	dirs := strings.Split(p, "/")
	for _, d := range dirs[:len(dirs)-1] {
		if fixtureDirs[strings.ToLower(d)] {
			return true
		}
	}
	return false
}

// binaryExts are extensions of formats that are never text: their content is not read.
var binaryExts = map[string]bool{
	".so": true, ".a": true, ".o": true, ".ko": true, ".dll": true, ".exe": true, ".dylib": true,
	".png": true, ".jpg": true, ".jpeg": true, ".gif": true, ".ico": true, ".webp": true, ".bmp": true,
	".tif": true, ".tiff": true, ".woff": true, ".woff2": true, ".ttf": true, ".otf": true, ".eot": true,
	".pdf": true, ".gz": true, ".tgz": true, ".bz2": true, ".xz": true, ".zst": true, ".lz4": true,
	".zip": true, ".jar": true, ".war": true, ".ear": true, ".whl": true, ".egg": true, ".deb": true,
	".rpm": true, ".pyc": true, ".pyo": true, ".class": true, ".mo": true, ".gmo": true, ".mp3": true,
	".mp4": true, ".ogg": true, ".wasm": true, ".node": true, ".pack": true, ".idx": true,
}

// contentScanned reports whether the content scan reads p: not in a managed tree, and
// not a binary format by its extension (".so.6" counts as ".so").
func contentScanned(p string) bool {
	if inManagedTree(p) {
		return false
	}
	base := p[strings.LastIndexByte(p, '/')+1:]
	if i := strings.Index(base, ".so."); i > 0 {
		return false
	}
	if i := strings.LastIndexByte(base, '.'); i > 0 {
		return !binaryExts[strings.ToLower(base[i:])]
	}
	return true
}

// secretFiles is IMG003 (a secret file the final filesystem shows) and IMG004 (a secret
// file a later layer deleted or replaced, still in its own layer).
func (c *checker) secretFiles() {
	if c.idx == nil {
		return
	}
	type key struct {
		layer int
		path  string
	}
	hidden := map[key]image.Hidden{}
	for _, h := range c.idx.Hidden {
		hidden[key{h.File.Layer, h.File.Path}] = h
	}
	var visible, gone []secretAt
	shown := map[string]bool{}
	for _, r := range c.idx.Records() {
		if r.Kind != "secret-file" {
			continue
		}
		var rec secretRecord
		if json.Unmarshal(r.Data, &rec) != nil {
			continue
		}
		s := secretAt{layer: r.Layer, path: r.Path, rec: rec}
		if c.idx.Visible(r.Layer, r.Path) {
			visible = append(visible, s)
			shown[r.Path] = true
		} else {
			s.hidden, s.known = hidden[key{r.Layer, r.Path}]
			gone = append(gone, s)
		}
	}
	for _, s := range visible {
		loc := c.layerLoc(s.layer, s.path)
		loc.Line = s.line()
		c.add(ruleIMG003, loc, fmt.Sprintf("%s: %s; from layer %d", s.path, s.describe(), s.layer), s.evidence())
	}
	for _, s := range gone {
		if s.known && s.hidden.How == image.HiddenByOverwrite && shown[s.path] {
			continue // replaced by another secret file: IMG003 reports the path
		}
		loc := c.layerLoc(s.layer, s.path)
		loc.Line = s.line()
		c.add(ruleIMG004, loc, fmt.Sprintf("%s: %s; %s, yet layer %d still holds it",
			s.path, s.describe(), c.howHidden(s), s.layer), s.evidence())
	}
}

// secretAt is one secret-file record and where it is.
type secretAt struct {
	layer  int
	path   string
	rec    secretRecord
	hidden image.Hidden
	known  bool
}

func (s secretAt) describe() string {
	var parts []string
	if s.rec.Name != "" {
		parts = append(parts, kindWords(s.rec.Name)+" file by its name")
	}
	if n := len(s.rec.Matches); n > 0 {
		m := s.rec.Matches[0]
		d := fmt.Sprintf("holds a secret: %s (line %d)", m.Title, m.Line)
		if more := n - 1 + s.rec.More; more > 0 {
			d += fmt.Sprintf(" and %d more", more)
		}
		parts = append(parts, d)
	}
	return strings.Join(parts, "; ")
}

func (s secretAt) line() int {
	if len(s.rec.Matches) > 0 {
		return s.rec.Matches[0].Line
	}
	return 0
}

func (s secretAt) evidence() string {
	if len(s.rec.Matches) > 0 {
		return s.rec.Matches[0].Evidence
	}
	return ""
}

func (c *checker) howHidden(s secretAt) string {
	if !s.known {
		return "a later layer hid it"
	}
	by := fmt.Sprintf("layer %d", s.hidden.By)
	if ins := c.idx.Layers[s.hidden.By].CreatedBy(); ins != "" {
		by += " (" + clipInstruction(ins) + ")"
	}
	switch s.hidden.How {
	case image.HiddenByWhiteout:
		return "deleted by " + by
	case image.HiddenByOpaque:
		return "hidden by an opaque directory of " + by
	case image.HiddenByOverwrite:
		return "replaced by " + by
	default:
		return "hidden when " + by + " replaced a parent directory"
	}
}

func clipInstruction(s string) string {
	s = strings.Join(strings.Fields(instructionOf(s)), " ")
	if rest, ok := strings.CutPrefix(s, "/bin/sh -c "); ok {
		s = "RUN " + rest // the classic builder's RUN
	}
	if r := []rune(s); len(r) > 80 {
		return string(r[:79]) + "…"
	}
	return s
}

// nameKinds turns secrets.ClassifyName's kinds into words.
var nameKinds = map[string]string{ //nolint:gosec // descriptions of file kinds, not credentials
	"ssh-private-key": "an SSH private key", "private-key": "a private key", "keystore": "a keystore",
	"dotenv": "a .env", "aws-credentials": "an AWS credentials", "docker-config": "a Docker registry credentials",
	"npmrc": "an .npmrc", "pypirc": "a .pypirc", "netrc": "a .netrc", "git-credentials": "a Git credentials",
	"pgpass": "a PostgreSQL password", "vault-token": "a Vault token", "kubeconfig": "a kubeconfig",
	"gcp-credentials": "a Google Cloud credentials", "gcp-service-account": "a Google service account key",
	"credentials-file": "a credentials", "htpasswd": "an htpasswd", "terraform-state": "a Terraform state",
	"terraform-vars": "a Terraform variables", "password-db": "a password database", "shadow": "a shadow password",
}

func kindWords(kind string) string {
	if w, ok := nameKinds[kind]; ok {
		return w
	}
	return "a " + kind
}
