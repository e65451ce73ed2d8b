package catalog

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"path"
	"strconv"

	"github.com/charterhq/charter/internal/image"
)

// rpmCataloger reads the rpm database in its three formats: Berkeley DB (Packages,
// RHEL ≤ 8, CentOS, Amazon Linux 2), NDB (Packages.db, SUSE) and SQLite (rpmdb.sqlite,
// Fedora ≥ 33, RHEL 9), under /var/lib/rpm or /usr/lib/sysimage/rpm. Each holds one
// rpm header per package, with its files and their digests.
type rpmCataloger struct{}

func (rpmCataloger) Name() string { return "rpm" }
func (rpmCataloger) Version() int { return 2 }

const rpmDBMax = 512 << 20 // capped further by the walk's Limits.MaxContent

func (rpmCataloger) Need(f *image.File) (bool, int64) {
	if !f.Regular() {
		return false, 0
	}
	switch path.Dir(f.Path) {
	case "/var/lib/rpm", "/usr/lib/sysimage/rpm", "/usr/share/rpm":
		switch path.Base(f.Path) {
		case "Packages", "Packages.db", "rpmdb.sqlite":
			return true, rpmDBMax
		}
	}
	return false, 0
}

func (rpmCataloger) Parse(f *image.File, content []byte) []Found {
	if int64(len(content)) < f.Size {
		return []Found{{Warning: "rpm database larger than the content limit; not read"}}
	}
	var blobs [][]byte
	var err error
	switch path.Base(f.Path) {
	case "Packages":
		blobs, err = bdbValues(content)
	case "Packages.db":
		blobs, err = ndbBlobs(content)
	case "rpmdb.sqlite":
		blobs, err = sqliteRPMBlobs(content)
	}
	if err != nil {
		return []Found{{Warning: "rpm database: " + clipString(err.Error())}}
	}
	var out []Found
	for _, b := range blobs {
		p, err := parseRPMHeader(b)
		if err != nil {
			out = append(out, Found{Warning: "rpm header: " + err.Error()})
			continue
		}
		if p != nil {
			out = append(out, Found{Package: p})
		}
	}
	return out
}

// rpm header tags and types charter reads.
const (
	rpmTagName        = 1000
	rpmTagVersion     = 1001
	rpmTagRelease     = 1002
	rpmTagEpoch       = 1003
	rpmTagLicense     = 1014
	rpmTagArch        = 1022
	rpmTagFileModes   = 1030
	rpmTagFileDigests = 1035
	rpmTagFileFlags   = 1037
	rpmTagSourceRPM   = 1044
	rpmTagDirIndexes  = 1116
	rpmTagBaseNames   = 1117
	rpmTagDirNames    = 1118
	rpmTagDigestAlgo  = 5011

	rpmInt16       = 3
	rpmInt32       = 4
	rpmString      = 6
	rpmStringArray = 8
	rpmI18NString  = 9

	rpmMaxEntries = 1 << 16
)

var errRPMHeader = errors.New("malformed header")

// rpmHeader is a parsed header blob: the index entries and the data store they point in.
type rpmHeader struct {
	entries map[int32][4]uint32 // tag -> type, offset, count, (unused)
	data    []byte
}

func newRPMHeader(b []byte) (*rpmHeader, error) {
	if len(b) < 8 {
		return nil, errRPMHeader
	}
	il, dl := binary.BigEndian.Uint32(b), binary.BigEndian.Uint32(b[4:])
	if il == 0 || il > rpmMaxEntries || uint64(dl) > uint64(len(b)) || 8+uint64(il)*16+uint64(dl) > uint64(len(b)) {
		return nil, errRPMHeader
	}
	h := &rpmHeader{entries: make(map[int32][4]uint32, il)}
	h.data = b[8+il*16 : 8+il*16+dl]
	for i := uint32(0); i < il; i++ {
		e := b[8+i*16:]
		tag := int32(binary.BigEndian.Uint32(e)) //nolint:gosec // G115: tags are signed 32-bit in rpm's format
		h.entries[tag] = [4]uint32{binary.BigEndian.Uint32(e[4:]), binary.BigEndian.Uint32(e[8:]), binary.BigEndian.Uint32(e[12:])}
	}
	return h, nil
}

func (h *rpmHeader) strings(tag int32) []string {
	e, ok := h.entries[tag]
	if !ok || (e[0] != rpmString && e[0] != rpmStringArray && e[0] != rpmI18NString) || uint64(e[1]) >= uint64(len(h.data)) {
		return nil
	}
	n := e[2]
	if e[0] == rpmString {
		n = 1
	}
	if uint64(n) > uint64(len(h.data)) {
		return nil
	}
	out := make([]string, 0, n)
	rest := h.data[e[1]:]
	for i := uint32(0); i < n; i++ {
		s, r, ok := bytes.Cut(rest, []byte{0})
		if !ok {
			return nil
		}
		out = append(out, string(s))
		rest = r
	}
	return out
}

func (h *rpmHeader) str(tag int32) string {
	if s := h.strings(tag); len(s) > 0 {
		return s[0]
	}
	return ""
}

func (h *rpmHeader) ints(tag int32) []uint32 {
	e, ok := h.entries[tag]
	if !ok {
		return nil
	}
	size := uint64(4)
	if e[0] == rpmInt16 {
		size = 2
	} else if e[0] != rpmInt32 {
		return nil
	}
	if uint64(e[1])+uint64(e[2])*size > uint64(len(h.data)) {
		return nil
	}
	out := make([]uint32, e[2])
	for i := range out {
		o := uint64(e[1]) + uint64(i)*size
		if size == 2 {
			out[i] = uint32(binary.BigEndian.Uint16(h.data[o:]))
		} else {
			out[i] = binary.BigEndian.Uint32(h.data[o:])
		}
	}
	return out
}

// parseRPMHeader turns one header into a package with its files and digests. The
// gpg-pubkey pseudo-packages (imported signing keys) are not packages.
func parseRPMHeader(b []byte) (*Package, error) {
	h, err := newRPMHeader(b)
	if err != nil {
		return nil, err
	}
	name, version, release := h.str(rpmTagName), h.str(rpmTagVersion), h.str(rpmTagRelease)
	if name == "" || version == "" {
		return nil, errors.New("no name or version")
	}
	if name == "gpg-pubkey" {
		return nil, nil
	}
	v := version
	if release != "" {
		v += "-" + release
	}
	if ep := h.ints(rpmTagEpoch); len(ep) == 1 && ep[0] != 0 {
		v = strconv.FormatUint(uint64(ep[0]), 10) + ":" + v
	}
	p := &Package{Name: name, Version: v, Ecosystem: RPM, Arch: h.str(rpmTagArch)}
	if l := h.str(rpmTagLicense); l != "" {
		p.Licenses = []string{l}
	}
	if src := h.str(rpmTagSourceRPM); src != "" {
		p.Source = sourceRPM(src)
	}
	rpmFiles(h, p)
	return p, nil
}

// sourceRPM splits "openssl-3.0.7-24.el9.src.rpm" into name and version-release.
func sourceRPM(s string) *Source {
	s = trimSuffixes(s, ".rpm", ".src", ".nosrc")
	i := bytes.LastIndexByte([]byte(s), '-')
	if i <= 0 {
		return &Source{Name: s}
	}
	j := bytes.LastIndexByte([]byte(s[:i]), '-')
	if j <= 0 {
		return &Source{Name: s}
	}
	return &Source{Name: s[:j], Version: s[j+1:]}
}

func trimSuffixes(s string, suf ...string) string {
	for _, x := range suf {
		if len(s) > len(x) && s[len(s)-len(x):] == x {
			s = s[:len(s)-len(x)]
		}
	}
	return s
}

var rpmDigestAlgos = map[uint32]string{1: "md5", 2: "sha1", 8: "sha256", 9: "sha384", 10: "sha512"}

// rpmFiles fills the owned files (dirnames[dirindex] + basename) and, for regular
// files, their digests.
func rpmFiles(h *rpmHeader, p *Package) {
	base, dirs, idx := h.strings(rpmTagBaseNames), h.strings(rpmTagDirNames), h.ints(rpmTagDirIndexes)
	if len(base) == 0 || len(idx) != len(base) {
		return
	}
	digests, modes, flags := h.strings(rpmTagFileDigests), h.ints(rpmTagFileModes), h.ints(rpmTagFileFlags)
	algo := "md5"
	if a := h.ints(rpmTagDigestAlgo); len(a) == 1 {
		algo = rpmDigestAlgos[a[0]]
	}
	p.Files = make([]string, 0, len(base))
	for i, b := range base {
		if int(idx[i]) >= len(dirs) {
			continue
		}
		f := path.Clean("/" + dirs[idx[i]] + b)
		p.Files = append(p.Files, f)
		regular := len(modes) == len(base) && modes[i]&0o170000 == 0o100000
		// %config files are meant to be edited and %ghost files are not shipped:
		// neither has a digest worth checking.
		const rpmFileConfig, rpmFileGhost = 1 << 0, 1 << 6
		if len(flags) == len(base) && flags[i]&(rpmFileConfig|rpmFileGhost) != 0 {
			regular = false
		}
		if regular && len(digests) == len(base) && digests[i] != "" && algo != "" && isHex(digests[i]) {
			if p.Digests == nil {
				p.Digests = map[string]string{}
			}
			d, _ := hex.DecodeString(digests[i])
			p.Digests[f] = algo + ":" + hex.EncodeToString(d)
		}
	}
}
