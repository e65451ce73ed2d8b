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

	"golang.org/x/sys/unix"
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
	// pid is the last process of the container whose /proc/PID/root was usable;
	// rootDev and rootIno identify the container's root, so that a PID reused by another
	// process is not looked through.
	pid     uint32
	rootDev uint64
	rootIno uint64
}

// maxMountinfo bounds a mountinfo read; the root mount comes first in a container's.
const maxMountinfo = 1 << 20

// learn reads the container's root mount from pid's mountinfo, once it succeeds.
func (r *rootFS) learn(procDir string, pid uint32) {
	if pid == 0 {
		return
	}
	dir := fmt.Sprintf("%s/%d/", procDir, pid)
	var st unix.Stat_t
	if unix.Stat(dir+"root", &st) == nil {
		if r.rootIno == 0 {
			r.rootDev, r.rootIno = st.Dev, st.Ino
		}
		if st.Dev == r.rootDev && st.Ino == r.rootIno {
			r.pid = pid
		}
	}
	if r.learnt {
		return
	}
	f, err := os.Open(dir + "mountinfo")
	if err != nil {
		return // the process is gone: the next one will tell
	}
	defer func() { _ = f.Close() }()
	fstype, opts, ok := rootMount(io.LimitReader(f, maxMountinfo))
	if !ok {
		return
	}
	r.learnt = true
	if fstype != "overlay" {
		return
	}
	r.overlay = true
	if up := upperDir(opts); up != "" {
		if fi, err := os.Stat(up); err == nil && fi.IsDir() {
			r.upper = up
		}
	}
}

// rootMount finds the mount at "/" in a mountinfo listing (the last one, if mounts are
// stacked) and returns its filesystem type and super-block options.
func rootMount(r io.Reader) (fstype, superOpts string, ok bool) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 64<<10)
	for sc.Scan() {
		// ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL…] - FSTYPE SOURCE SUPEROPTIONS
		f := strings.Fields(sc.Text())
		if len(f) < 10 || f[4] != "/" {
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
		fstype, superOpts, ok = f[sep+1], f[sep+3], true
	}
	return fstype, superOpts, ok
}

// upperDir returns the upperdir= option of an overlay mount's super-block options, with
// the kernel's octal escapes (\040 for a space, \054 for a comma…) undone.
func upperDir(opts string) string {
	for _, o := range strings.Split(opts, ",") {
		if v, ok := strings.CutPrefix(o, "upperdir="); ok {
			return unescapeOctal(v)
		}
	}
	return ""
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
// resolve it, the upper directory over the image (its symbolic links followed in either):
// a file found in the upper directory was written in the container (modified when the
// image holds that path, new when not), one found only in the image is the image's. On
// any other root, p is resolved in the image and its size, type and permissions compared
// with the file the container's root holds now, through /proc/PID/root.
func (r *rootFS) driftOf(idx *fileIndex, procDir string, p string, pids ...uint32) string {
	if r.upper != "" {
		return mergedDrift(r.upper, idx, p)
	}
	f := idx.resolve(p, 0)
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

// mergedDrift resolves p through an overlay's upper directory over the image's index.
// Each element is looked up in the upper directory first: a whiteout there hides the
// image's entry, a symbolic link there is followed, and a regular file there as the last
// element is drift. Elements are looked at one by one with lstat, never by a path that
// goes through a link the container made, so a link cannot lead the lookup out of the
// upper directory.
func mergedDrift(upper string, idx *fileIndex, p string) string {
	for depth := 0; depth <= 40; depth++ {
		next, kind, done := mergedStep(upper, idx, p)
		if done {
			return kind
		}
		p = next
	}
	return driftNew // a loop of links: nothing an image holds
}

// mergedStep walks p until it ends or meets a symbolic link; on a link it returns the
// path to walk next.
func mergedStep(upper string, idx *fileIndex, p string) (next, kind string, done bool) {
	parts := strings.Split(strings.Trim(path.Clean("/"+p), "/"), "/")
	cur := ""
	for i, part := range parts {
		if part == "" {
			continue
		}
		cur += "/" + part
		last := i == len(parts)-1
		var st unix.Stat_t
		if err := unix.Lstat(upper+cur, &st); err == nil {
			switch st.Mode & unix.S_IFMT {
			case unix.S_IFCHR:
				if st.Rdev == 0 && last {
					// A whiteout: the image's file was deleted since it ran, so what ran
					// may not have been the image's.
					return "", modifiedIfInImage(idx, cur), true
				}
				return "", driftNew, true
			case unix.S_IFLNK:
				target, err := os.Readlink(upper + cur)
				if err != nil {
					return "", driftNew, true
				}
				return linkTarget(cur, target, parts[i+1:]), "", false
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
					return "", inImage(idx, cur), true
				}
				return "", modifiedIfInImage(idx, cur), true
			}
			return "", driftNew, true
		}
		f := idx.files[cur]
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

// inImage is "" when the image holds a file at p, else new.
func inImage(idx *fileIndex, p string) string {
	if f := idx.files[p]; f != nil && !f.Mode.IsDir() {
		return ""
	}
	return driftNew
}

// modifiedIfInImage is modified when the image holds a file at p, else new.
func modifiedIfInImage(idx *fileIndex, p string) string {
	if f := idx.files[p]; f != nil && !f.Mode.IsDir() {
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
