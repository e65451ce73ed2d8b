package monitor

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/charterhq/charter/internal/image"
)

// The two kinds of drift RT002 reports (the alert's evt.drift field).
const (
	driftNew      = "new"      // a file the image does not hold
	driftModified = "modified" // a file the image holds, written or replaced since the container started
)

// rootFS is what the monitor knows of one container's root filesystem, learnt from the
// first of its processes it could look at and kept for the container's life.
type rootFS struct {
	// learnt is set once the root mount was read (overlay or not).
	learnt bool
	// overlay is set when the root is an overlay mount; upper is then its upper
	// directory as this host sees it ("" when that directory cannot be reached).
	overlay bool
	upper   string
	// lowers are the overlay's lower directories, when all of them can be reached: the
	// image's layers, compared with when no file index of the image is at hand.
	lowers lowerDirs
	// mounts are the container's other mount points: a file below one of them is not on
	// the root filesystem.
	mounts []string
	// pid is the last process of the container whose /proc/PID/root was usable;
	// rootDev and rootIno identify the container's root, so that a PID reused by another
	// process is not looked through.
	pid       uint32
	rootKnown bool
	rootDev   uint64
	rootIno   uint64
	// cgroup is the container's cgroup directory once found, searched is when it was
	// last looked for processes (anchor.go).
	cgroup   string
	searched time.Time
}

// inRoot reports whether pid still runs with the container's root.
func (r *rootFS) inRoot(procDir string, pid uint32) bool {
	var st unix.Stat_t
	return unix.Stat(fmt.Sprintf("%s/%d/root", procDir, pid), &st) == nil && st.Dev == r.rootDev && st.Ino == r.rootIno
}

// maxMountinfo bounds a mountinfo read; the root mount comes first in a container's.
const maxMountinfo = 1 << 20

// learn reads the container's root mount from pid's mountinfo, once it succeeds, and
// keeps a process to look through later: the container's init (vpid 1) when it is seen,
// else the latest process while the one kept has exited. The first process seen names
// the container's root; a process with another root (a reused PID) teaches nothing.
func (r *rootFS) learn(procDir string, pid, vpid uint32) {
	if pid == 0 || r.learnt && vpid != 1 && r.pid != 0 && r.inRoot(procDir, r.pid) {
		return
	}
	dir := fmt.Sprintf("%s/%d/", procDir, pid)
	var st unix.Stat_t
	if unix.Stat(dir+"root", &st) != nil {
		return // the process is gone: the next one will tell
	}
	if !r.rootKnown {
		r.rootKnown, r.rootDev, r.rootIno = true, st.Dev, st.Ino
	}
	if st.Dev != r.rootDev || st.Ino != r.rootIno {
		return
	}
	r.pid = pid
	if r.learnt {
		return
	}
	f, err := os.Open(dir + "mountinfo")
	if err != nil {
		return
	}
	defer func() { _ = f.Close() }()
	mt := parseMountinfo(io.LimitReader(f, maxMountinfo))
	if !mt.ok {
		return
	}
	r.learnt = true
	r.mounts = mt.others
	if mt.fstype != "overlay" {
		return
	}
	r.overlay = true
	up, lowers := overlayDirs(mt.superOpts)
	if !isDir(up) {
		return
	}
	r.upper = up
	for _, l := range lowers {
		if !isDir(l) {
			return
		}
	}
	r.lowers = lowers
}

func isDir(p string) bool {
	fi, err := os.Stat(p)
	return p != "" && err == nil && fi.IsDir()
}

// mountTable is what a container's mountinfo says: its root mount's filesystem type and
// super-block options, and the other mount points (volumes, /proc, /dev…).
type mountTable struct {
	fstype, superOpts string
	ok                bool // a mount at "/" was found
	others            []string
}

// maxMounts bounds the mount points kept per container.
const maxMounts = 4096

// parseMountinfo reads a mountinfo listing; of mounts stacked at "/", the last one is the
// one the process sees.
func parseMountinfo(r io.Reader) mountTable {
	var mt mountTable
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 64<<10)
	for sc.Scan() {
		// ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL…] - FSTYPE SOURCE SUPEROPTIONS
		f := strings.Fields(sc.Text())
		if len(f) < 10 {
			continue
		}
		sep := -1
		for i := 6; i < len(f); i++ {
			if f[i] == "-" {
				sep = i
				break
			}
		}
		if sep < 0 || sep+3 >= len(f) {
			continue
		}
		if f[4] != "/" {
			if m := path.Clean("/" + unescapeOctal(f[4])); m != "/" && len(mt.others) < maxMounts {
				mt.others = append(mt.others, m)
			}
			continue
		}
		mt.fstype, mt.superOpts, mt.ok = f[sep+1], f[sep+3], true
	}
	return mt
}

// overlayDirs returns the upper directory and the lower ones (topmost first) named by an
// overlay mount's super-block options (upperdir=, lowerdir=A:B, or one lowerdir+= each),
// with the kernel's octal escapes (\040 for a space, \054 for a comma…) undone.
func overlayDirs(opts string) (upper string, lowers lowerDirs) {
	for _, o := range strings.Split(opts, ",") {
		switch k, v, _ := strings.Cut(o, "="); k {
		case "upperdir":
			upper = unescapeOctal(v)
		case "lowerdir":
			for _, l := range strings.Split(v, ":") {
				lowers = append(lowers, unescapeOctal(l))
			}
		case "lowerdir+":
			lowers = append(lowers, unescapeOctal(v))
		}
	}
	return upper, lowers
}

func unescapeOctal(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) && isOctal(s[i+1]) && isOctal(s[i+2]) && isOctal(s[i+3]) {
			b.WriteByte((s[i+1]-'0')<<6 | (s[i+2]-'0')<<3 | (s[i+3] - '0'))
			i += 3
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func isOctal(c byte) bool { return c >= '0' && c <= '7' }

// driftOf says whether the file executed at p (a clean absolute path inside the
// container) is drift, and which kind: "" when it is the image's own.
//
// On an overlay root with a reachable upper directory, p is resolved as overlayfs would
// resolve it, the upper directory over the image (its index, else the overlay's lower
// directories), symbolic links followed in either: a file found in the upper directory
// was written in the container (modified when the image holds that path, new when not),
// one found only in the image is the image's. On any other root, p is resolved in the
// image's index and its size, type and permissions compared with the file the
// container's root holds now, through /proc/PID/root. idx may be nil (no image known).
func (r *rootFS) driftOf(idx *fileIndex, procDir string, p string, pids ...uint32) string {
	var below layers
	switch {
	case idx != nil:
		below = idx
	case r.upper != "" && r.lowers != nil:
		below = r.lowers
	default:
		return ""
	}
	f := resolveIn(below, p, 0)
	if r.upper != "" && !r.onOtherMount(p) && (f == nil || !r.onOtherMount(f.Path)) {
		return mergedDrift(r.upper, below, p)
	}
	// Not an overlay root, or a file on a volume mounted in the container: compare what
	// the container sees with the image's entry.
	if f == nil || f.Mode.IsDir() {
		return driftNew
	}
	if !f.Mode.IsRegular() {
		return "" // a device or FIFO the image holds: nothing to compare
	}
	st, err := r.statInRoot(procDir, p, pids)
	if err != nil {
		return "" // no process of the container left to look through: cannot tell
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG || st.Mode&0o7777 != unixPerm(f.Mode) {
		return driftModified
	}
	if (f.Size != 0 || !f.Hardlink) && st.Size != f.Size {
		return driftModified
	}
	return ""
}

// onOtherMount reports whether p lies below one of the container's mount points other
// than its root.
func (r *rootFS) onOtherMount(p string) bool {
	for _, m := range r.mounts {
		if p == m || strings.HasPrefix(p, m+"/") {
			return true
		}
	}
	return false
}

// resolveIn finds what the layers hold at p, following symbolic links in every path
// element as the kernel would, within the image's own tree; nil when they hold nothing.
func resolveIn(below layers, p string, depth int) *image.File {
	for ; depth <= 40; depth++ {
		parts := strings.Split(strings.Trim(path.Clean("/"+p), "/"), "/")
		cur, next := "", ""
		for i, part := range parts {
			if part == "" {
				continue
			}
			cur += "/" + part
			f := below.entry(cur)
			if f == nil {
				return nil
			}
			if f.Mode&fs.ModeSymlink != 0 {
				next = linkTarget(cur, f.Link, parts[i+1:])
				break
			}
			if i == len(parts)-1 {
				return f
			}
		}
		if next == "" {
			return below.entry("/")
		}
		p = next
	}
	return nil
}

// statInRoot stats p inside the container's root, following its symbolic links as the
// container would (RESOLVE_IN_ROOT), through the first of pids (the process, its parent)
// that still runs in the container, else through the last one learnt.
func (r *rootFS) statInRoot(procDir, p string, pids []uint32) (unix.Stat_t, error) {
	var st unix.Stat_t
	err := errors.New("no process of the container left")
	for _, cand := range append(pids, r.pid) {
		if cand == 0 {
			continue
		}
		root, oerr := unix.Open(fmt.Sprintf("%s/%d/root", procDir, cand), unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if oerr != nil {
			err = oerr
			continue
		}
		// A PID the container no longer owns, or a parent outside it, shows another root.
		var rst unix.Stat_t
		if unix.Fstat(root, &rst) != nil || rst.Dev != r.rootDev || rst.Ino != r.rootIno {
			_ = unix.Close(root)
			continue
		}
		fd, oerr := unix.Openat2(root, strings.TrimPrefix(p, "/"), &unix.OpenHow{
			Flags:   unix.O_PATH | unix.O_CLOEXEC,
			Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS,
		})
		_ = unix.Close(root)
		if oerr != nil {
			err = oerr
			continue
		}
		err = unix.Fstat(fd, &st)
		_ = unix.Close(fd)
		if err == nil {
			return st, nil
		}
	}
	return st, err
}

// unixPerm is a file mode's permission and special bits as stat(2) reports them.
func unixPerm(m fs.FileMode) uint32 {
	p := uint32(m.Perm())
	if m&fs.ModeSetuid != 0 {
		p |= unix.S_ISUID
	}
	if m&fs.ModeSetgid != 0 {
		p |= unix.S_ISGID
	}
	if m&fs.ModeSticky != 0 {
		p |= unix.S_ISVTX
	}
	return p
}

// layers are what lies below a container's writable layer: the image's file index, or
// an overlay's lower directories as the runtime unpacked the image on the host.
type layers interface {
	// entry is what the layers hold at p, whose directories are resolved; nil: nothing.
	entry(p string) *image.File
}

func (fi *fileIndex) entry(p string) *image.File { return fi.files[p] }

// lowerDirs are an overlay's lower directories, the topmost first.
type lowerDirs []string

// entry looks p up layer by layer: the first that holds it decides, and a whiteout there
// means the image deleted it.
func (l lowerDirs) entry(p string) *image.File {
	for _, dir := range l {
		st, link, err := lstatBeneath(dir, p)
		if err != nil {
			continue // not in this layer (or behind a link of its own, which a layer above hides)
		}
		if st.Mode&unix.S_IFMT == unix.S_IFCHR && st.Rdev == 0 {
			return nil
		}
		return &image.File{Path: p, Mode: statMode(st), Size: st.Size, Link: link}
	}
	return nil
}

// statMode converts stat(2)'s mode to the fs.FileMode an image index carries.
func statMode(st unix.Stat_t) fs.FileMode {
	m := fs.FileMode(st.Mode & 0o777)
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFDIR:
		m |= fs.ModeDir
	case unix.S_IFLNK:
		m |= fs.ModeSymlink
	case unix.S_IFCHR:
		m |= fs.ModeDevice | fs.ModeCharDevice
	case unix.S_IFBLK:
		m |= fs.ModeDevice
	case unix.S_IFIFO:
		m |= fs.ModeNamedPipe
	case unix.S_IFSOCK:
		m |= fs.ModeSocket
	}
	return m
}

// lstatBeneath stats p below dir without following any symbolic link, the last element's
// included (whose target it returns): what a container wrote into its layer cannot lead
// the lookup elsewhere on the host.
func lstatBeneath(dir, p string) (unix.Stat_t, string, error) {
	dfd, err := openDir(dir)
	if err != nil {
		return unix.Stat_t{}, "", err
	}
	defer func() { _ = unix.Close(dfd) }()
	return lstatAt(dfd, p)
}

func openDir(dir string) (int, error) {
	return unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
}

// lstatAt is lstatBeneath below an open directory.
func lstatAt(dfd int, p string) (unix.Stat_t, string, error) {
	var st unix.Stat_t
	fd, err := unix.Openat2(dfd, strings.TrimPrefix(p, "/"), &unix.OpenHow{
		Flags:   unix.O_PATH | unix.O_NOFOLLOW | unix.O_CLOEXEC,
		Resolve: unix.RESOLVE_BENEATH | unix.RESOLVE_NO_SYMLINKS,
	})
	if err != nil {
		return st, "", err
	}
	defer func() { _ = unix.Close(fd) }()
	if err := unix.Fstat(fd, &st); err != nil {
		return st, "", err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFLNK {
		return st, "", nil
	}
	buf := make([]byte, 4096)
	n, err := unix.Readlinkat(fd, "", buf)
	if err != nil {
		return st, "", err
	}
	return st, string(buf[:n]), nil
}

// mergedDrift resolves p through an overlay's upper directory over the layers below it.
// Each element is looked up in the upper directory first: a whiteout there hides the
// layers' entry, a symbolic link there is followed, and a regular file there as the last
// element is drift.
func mergedDrift(upper string, below layers, p string) string {
	ufd, err := openDir(upper)
	if err != nil {
		return "" // the upper directory is gone: the container with it
	}
	defer func() { _ = unix.Close(ufd) }()
	for depth := 0; depth <= 40; depth++ {
		next, kind, done := mergedStep(upper, ufd, below, p)
		if done {
			return kind
		}
		p = next
	}
	return driftNew // a loop of links: nothing an image holds
}

// mergedStep walks p until it ends or meets a symbolic link; on a link it returns the
// path to walk next.
func mergedStep(upper string, ufd int, below layers, p string) (next, kind string, done bool) {
	parts := strings.Split(strings.Trim(path.Clean("/"+p), "/"), "/")
	cur := ""
	for i, part := range parts {
		if part == "" {
			continue
		}
		cur += "/" + part
		last := i == len(parts)-1
		if st, link, err := lstatAt(ufd, cur); err == nil {
			switch st.Mode & unix.S_IFMT {
			case unix.S_IFCHR:
				if st.Rdev == 0 && last {
					// A whiteout: the image's file was deleted since it ran, so what ran
					// may not have been the image's.
					return "", modifiedIfBelow(below, cur), true
				}
				return "", driftNew, true
			case unix.S_IFLNK:
				return linkTarget(cur, link, parts[i+1:]), "", false
			case unix.S_IFDIR:
				if last {
					return "", "", true
				}
				continue
			case unix.S_IFREG:
				if !last {
					return "", driftNew, true // not a directory: the exec could not have found it
				}
				if metacopy(upper + cur) {
					// Only the attributes were copied up (chmod, chown): the content is
					// still the image's.
					if modifiedIfBelow(below, cur) == driftModified {
						return "", "", true
					}
					return "", driftNew, true
				}
				return "", modifiedIfBelow(below, cur), true
			}
			return "", driftNew, true
		}
		f := below.entry(cur)
		switch {
		case f == nil:
			return "", driftNew, true
		case f.Mode&fs.ModeSymlink != 0:
			return linkTarget(cur, f.Link, parts[i+1:]), "", false
		case last:
			return "", "", true // the image's own file (or directory), untouched
		case !f.Mode.IsDir():
			return "", driftNew, true
		}
	}
	return "", "", true // "/" itself
}

// modifiedIfBelow is modified when the layers below hold a file at p, else new.
func modifiedIfBelow(below layers, p string) string {
	if f := below.entry(p); f != nil && !f.Mode.IsDir() {
		return driftModified
	}
	return driftNew
}

// linkTarget is where a symbolic link at cur pointing to target leads, with the rest of
// the path after it.
func linkTarget(cur, target string, rest []string) string {
	if !strings.HasPrefix(target, "/") {
		target = path.Dir(cur) + "/" + target
	}
	if len(rest) > 0 {
		target += "/" + strings.Join(rest, "/")
	}
	return path.Clean(target)
}

// metacopy reports whether an upper-layer file holds only attributes, its data still in
// a lower layer (overlayfs' metacopy feature; "user." for unprivileged mounts).
func metacopy(file string) bool {
	for _, name := range []string{"trusted.overlay.metacopy", "user.overlay.metacopy"} {
		if _, err := unix.Lgetxattr(file, name, nil); err == nil {
			return true
		}
	}
	return false
}
