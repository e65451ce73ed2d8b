package catalog

import (
	"crypto/md5"  //nolint:gosec // dpkg's md5sums use MD5; it is compared, not trusted for security
	"crypto/sha1" //nolint:gosec // apk's Q1 checksums use SHA-1
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"hash"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/charterhq/charter/internal/image"
)

// Hasher is an image.Analyzer that hashes, during the walk, the files package managers
// install (below /usr, /etc, /bin, /sbin, /lib*, /opt, /boot), so that Verify can
// compare them with the digests the package databases record (IMG009). It is apart
// from the catalogers because it reads far more content: add it when the check runs.
type Hasher struct {
	// Algorithms to compute: any of "md5" (dpkg), "sha1" (apk), "sha256" (rpm). Empty
	// means all three.
	Algorithms []string
}

// HashAnalyzerID is the ID of the Hasher's records.
const HashAnalyzerID = "catalog-hash/1"

// ID implements image.Analyzer. The algorithms are part of it: records made with
// other algorithms are cached apart.
func (h Hasher) ID() string {
	if len(h.Algorithms) == 0 {
		return HashAnalyzerID
	}
	a := append([]string(nil), h.Algorithms...)
	sort.Strings(a)
	return HashAnalyzerID + "-" + strings.Join(a, "-")
}

var hashedRoots = []string{"/usr/", "/etc/", "/bin/", "/sbin/", "/lib", "/opt/", "/boot/"}

// Need implements image.Analyzer: every regular file below the system directories.
func (h Hasher) Need(f *image.File) (bool, int64) {
	if !f.Regular() || f.Hardlink {
		return false, 0
	}
	for _, r := range hashedRoots {
		if strings.HasPrefix(f.Path, r) {
			return true, f.Size
		}
	}
	return false, 0
}

// fileHash is the record the Hasher keeps per file.
type fileHash struct {
	Digests   map[string]string `json:"d"`
	Truncated bool              `json:"t,omitempty"`
}

// Analyze implements image.Analyzer.
func (h Hasher) Analyze(f *image.File, content []byte) ([]image.Record, error) {
	algos := h.Algorithms
	if len(algos) == 0 {
		algos = []string{"md5", "sha1", "sha256"}
	}
	fh := fileHash{Digests: map[string]string{}, Truncated: int64(len(content)) < f.Size}
	if !fh.Truncated {
		for _, a := range algos {
			var hh hash.Hash
			switch a {
			case "md5":
				hh = md5.New() //nolint:gosec // see import
			case "sha1":
				hh = sha1.New() //nolint:gosec // see import
			case "sha256":
				hh = sha256.New()
			default:
				continue
			}
			_, _ = hh.Write(content)
			fh.Digests[a] = hex.EncodeToString(hh.Sum(nil))
		}
	}
	data, err := json.Marshal(fh)
	if err != nil {
		return nil, err
	}
	return []image.Record{{Kind: "hash", Data: data}}, nil
}

// Problem kinds Verify reports.
const (
	// Modified: the file's content does not match the package manager's digest.
	Modified = "modified"
	// Missing: the package manager lists a file the final filesystem does not have.
	Missing = "missing"
	// VersionRewritten: the package's version changed in a layer that touched none of
	// its files or its package-manager records: the database was edited, a known way
	// to make scanners report a fixed version.
	VersionRewritten = "version-rewritten"
)

// Problem is one integrity failure of one package.
type Problem struct {
	Kind    string   `json:"kind"`
	Package *Package `json:"-"`
	Path    string   `json:"path,omitempty"`
	// Expected and Actual are "ALGO:HEX" digests (Modified), or versions
	// (VersionRewritten: Expected is the earlier version).
	Expected string `json:"expected,omitempty"`
	Actual   string `json:"actual,omitempty"`
	// Layer holds the modified file, or rewrote the version.
	Layer int `json:"layer"`
}

// Verify compares the files of the final filesystem with the digests the package
// databases record, using the Hasher's records in idx. Files the Hasher could not read
// whole (larger than the walk's content limit, hard links) are skipped; Unverified
// counts them.
func Verify(idx *image.Index, res *Result) (problems []Problem, unverified int) {
	hashes := map[string]fileHash{} // "layer\x00path"
	for _, r := range idx.Records() {
		if !strings.HasPrefix(r.Analyzer, HashAnalyzerID) {
			continue
		}
		var fh fileHash
		if json.Unmarshal(r.Data, &fh) == nil {
			hashes[layerPath(r.Layer, r.Path)] = fh
		}
	}
	// A language package that an OS package installed (Debian's python3-yaml ships a
	// dist-info whose RECORD predates stripping) is checked by the OS package's digests.
	osOwned := map[string]bool{}
	for i := range res.Packages {
		if isOSEcosystem(res.Packages[i].Ecosystem) {
			for _, f := range res.Packages[i].Files {
				osOwned[f] = true
			}
		}
	}
	for i := range res.Packages {
		p := &res.Packages[i]
		if len(p.Digests) > 0 && (isOSEcosystem(p.Ecosystem) || !osOwned[p.Location]) {
			ps, u := verifyFiles(idx, p, hashes)
			problems = append(problems, ps...)
			unverified += u
		}
		if pr := versionRewrite(idx, p); pr != nil {
			problems = append(problems, *pr)
		}
	}
	return problems, unverified
}

func layerPath(l int, p string) string { return strconv.Itoa(l) + "\x00" + p }

func verifyFiles(idx *image.Index, p *Package, hashes map[string]fileHash) (out []Problem, unverified int) {
	paths := make([]string, 0, len(p.Digests))
	for f := range p.Digests {
		paths = append(paths, f)
	}
	sort.Strings(paths)
	for _, fp := range paths {
		want := p.Digests[fp]
		f := resolve(idx, fp)
		if f == nil {
			out = append(out, Problem{Kind: Missing, Package: p, Path: fp, Expected: want, Layer: -1})
			continue
		}
		algo, sum, _ := strings.Cut(want, ":")
		fh, ok := hashes[layerPath(f.Layer, f.Path)]
		got := fh.Digests[algo]
		if !ok || fh.Truncated || got == "" {
			unverified++
			continue
		}
		if got != sum {
			out = append(out, Problem{Kind: Modified, Package: p, Path: fp, Expected: want, Actual: algo + ":" + got, Layer: f.Layer})
		}
	}
	return out, unverified
}

// resolve finds a package's path in the final filesystem, following symlinked parent
// directories (a merged /usr makes /bin/ls live at /usr/bin/ls) and a symlink at the
// end; nil when it is not there.
func resolve(idx *image.Index, p string) *image.File {
	for hops := 0; hops < 40; hops++ {
		if f, ok := idx.Lookup(p); ok {
			if f.Mode&fs.ModeSymlink != 0 {
				p = linkTarget(f.Path, f.Link)
				continue
			}
			return f
		}
		parts := strings.Split(strings.TrimPrefix(p, "/"), "/")
		moved := false
		for i := 1; i < len(parts); i++ {
			dir := "/" + strings.Join(parts[:i], "/")
			if f, ok := idx.Lookup(dir); ok && f.Mode&fs.ModeSymlink != 0 {
				p = path.Join(linkTarget(dir, f.Link), strings.Join(parts[i:], "/"))
				moved = true
				break
			}
		}
		if !moved {
			return nil
		}
	}
	return nil
}

func linkTarget(from, target string) string {
	if strings.HasPrefix(target, "/") {
		return path.Clean(target)
	}
	return path.Join(path.Dir(from), target)
}

// versionRewrite reports an OS package whose version changed in a layer that changed
// none of its files and none of its package manager's per-package records.
func versionRewrite(idx *image.Index, p *Package) *Problem {
	if !isOSEcosystem(p.Ecosystem) || p.ChangedLayer == p.Layer || p.ChangedLayer >= len(idx.Layers) {
		return nil
	}
	owned := map[string]bool{}
	for _, f := range p.Files {
		owned[f] = true
	}
	for f := range p.Digests {
		owned[f] = true
	}
	info := []string{dpkgInfo + p.Name + ".", dpkgInfo + p.Name + ":" + p.Arch + "."}
	for _, f := range idx.Layers[p.ChangedLayer].Files {
		if owned[f.Path] || (p.Ecosystem == Deb && (strings.HasPrefix(f.Path, info[0]) || strings.HasPrefix(f.Path, info[1]))) {
			return nil
		}
	}
	if len(owned) == 0 && p.Ecosystem != Deb {
		return nil // nothing to compare with
	}
	return &Problem{Kind: VersionRewritten, Package: p, Expected: p.Meta["previousVersion"], Actual: p.Version, Layer: p.ChangedLayer}
}
