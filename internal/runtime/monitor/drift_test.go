package monitor

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/charterhq/charter/internal/image"
)

func TestRootMount(t *testing.T) {
	cases := []struct {
		file, fstype, upper string
	}{
		// Docker's overlay2 with a data root whose name holds a space (\040 in mountinfo).
		{"docker-overlay", "overlay", "/var/lib/docker data/overlay2/0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d/diff"},
		// A runc bundle's root directory, bind-mounted.
		{"runc-bind", "ext4", ""},
		// Two mounts at "/": the last one is what the process sees; a comma is \054.
		{"stacked", "overlay", "/up,per"},
	}
	for _, c := range cases {
		f, err := os.Open(filepath.Join("testdata", "mountinfo", c.file))
		if err != nil {
			t.Fatal(err)
		}
		mt := parseMountinfo(f)
		_ = f.Close()
		if !mt.ok || mt.fstype != c.fstype || upperOf(mt.superOpts) != c.upper {
			t.Errorf("%s: %+v, upper %q", c.file, mt, upperOf(mt.superOpts))
		}
	}
	mt := parseMountinfo(strings.NewReader("21 26 0:20 / /proc rw - proc proc rw\n22 26 0:21 / /mnt/a\\040b rw - tmpfs tmpfs rw\n"))
	if mt.ok || len(mt.others) != 2 || mt.others[1] != "/mnt/a b" {
		t.Errorf("%+v", mt)
	}
}

// testIndex is an image's file index: /bin → usr/bin, busybox with applet links, a
// script, and /etc.
func testIndex() *fileIndex {
	fi := &fileIndex{files: map[string]*image.File{}}
	add := func(p string, mode fs.FileMode, size int64, link string) {
		fi.files[p] = &image.File{Path: p, Mode: mode, Size: size, Link: link}
	}
	add("/", fs.ModeDir|0o755, 0, "")
	add("/bin", fs.ModeSymlink|0o777, 0, "usr/bin")
	add("/usr", fs.ModeDir|0o755, 0, "")
	add("/usr/bin", fs.ModeDir|0o755, 0, "")
	add("/usr/bin/busybox", 0o755, 1000, "")
	add("/usr/bin/ls", fs.ModeSymlink|0o777, 0, "busybox")
	add("/usr/bin/greet", 0o755, 20, "")
	add("/usr/bin/setuid-tool", fs.ModeSetuid|0o755, 30, "")
	add("/etc", fs.ModeDir|0o755, 0, "")
	return fi
}

// upperLayer makes an overlay upper directory as a container that wrote to its root
// leaves it.
func upperLayer(t *testing.T) string {
	t.Helper()
	up := t.TempDir()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(filepath.Join(up, "usr/bin"), 0o755))
	must(os.MkdirAll(filepath.Join(up, "tmp"), 0o755))
	must(os.WriteFile(filepath.Join(up, "usr/bin/greet"), []byte("#!/bin/sh\necho pwned\n"), 0o755)) // replaced in place
	must(os.WriteFile(filepath.Join(up, "usr/bin/miner"), []byte("\x7fELF"), 0o755))                 // new, next to the image's
	must(os.WriteFile(filepath.Join(up, "tmp/dropper"), []byte("\x7fELF"), 0o755))
	must(os.Symlink("/tmp/dropper", filepath.Join(up, "usr/bin/busybox-link"))) // a link the container made
	must(os.WriteFile(filepath.Join(up, "etc-not-dir"), nil, 0o644))
	return up
}

func TestMergedDrift(t *testing.T) {
	idx := testIndex()
	up := upperLayer(t)
	cases := map[string]string{
		"/usr/bin/busybox":      "",            // the image's, untouched
		"/bin/ls":               "",            // through the image's links
		"/bin/greet":            driftModified, // /bin → usr/bin in the image, the file in the upper layer
		"/usr/bin/greet":        driftModified,
		"/usr/bin/miner":        driftNew,
		"/tmp/dropper":          driftNew,
		"/usr/bin/busybox-link": driftNew, // the link leads to a file the container wrote
		"/opt/not-anywhere":     driftNew, // on a volume or tmpfs: not the image's either
		"/etc-not-dir/x":        driftNew,
	}
	for p, want := range cases {
		if got := mergedDrift(up, idx, p); got != want {
			t.Errorf("mergedDrift(%s) = %q, want %q", p, got, want)
		}
	}
}

func TestMergedDriftWhiteoutAndMetacopy(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("whiteouts (character devices 0/0) and trusted.* attributes need root")
	}
	idx := testIndex()
	up := upperLayer(t)
	if err := unix.Mknod(filepath.Join(up, "usr/bin/busybox"), unix.S_IFCHR, 0); err != nil {
		t.Fatal(err)
	}
	if got := mergedDrift(up, idx, "/usr/bin/busybox"); got != driftModified {
		t.Errorf("a deleted image file = %q, want modified", got)
	}
	// chmod on an image file with metacopy=on copies up only the attributes.
	tool := filepath.Join(up, "usr/bin/setuid-tool")
	if err := os.WriteFile(tool, nil, 0o755); err != nil {
		t.Fatal(err)
	}
	if got := mergedDrift(up, idx, "/usr/bin/setuid-tool"); got != driftModified {
		t.Errorf("a copied-up file = %q, want modified", got)
	}
	if err := unix.Setxattr(tool, "trusted.overlay.metacopy", nil, 0); err != nil {
		t.Skipf("trusted.* attributes on %s: %v", up, err)
	}
	if got := mergedDrift(up, idx, "/usr/bin/setuid-tool"); got != "" {
		t.Errorf("a metacopy-only file = %q, want the image's", got)
	}
}

func TestMergedDriftLinkLoop(t *testing.T) {
	up := t.TempDir()
	if err := os.Symlink("b", filepath.Join(up, "a")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("a", filepath.Join(up, "b")); err != nil {
		t.Fatal(err)
	}
	if got := mergedDrift(up, testIndex(), "/a"); got != driftNew {
		t.Errorf("a link loop = %q", got)
	}
}

// fakeProc is a /proc with one process: its mountinfo and its root directory.
func fakeProc(t *testing.T, pid, mountinfo, root string) string {
	t.Helper()
	proc := t.TempDir()
	dir := filepath.Join(proc, pid)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "mountinfo"), []byte(mountinfo), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(root, filepath.Join(dir, "root")); err != nil {
		t.Fatal(err)
	}
	return proc
}

func TestRootFSLearnsOverlay(t *testing.T) {
	up := upperLayer(t)
	mi := "812 640 0:91 / / rw,relatime - overlay overlay rw,lowerdir=/l,upperdir=" +
		strings.ReplaceAll(up, " ", `\040`) + ",workdir=/w\n"
	proc := fakeProc(t, "4242", mi, t.TempDir())
	var r rootFS
	r.learn(proc, 4242, 1)
	if !r.learnt || !r.overlay || r.upper != up || r.pid != 4242 {
		t.Fatalf("learnt %+v", r)
	}
	if got := r.driftOf(testIndex(), proc, "/bin/greet", 4242); got != driftModified {
		t.Errorf("driftOf = %q", got)
	}
	// An upper directory this host cannot reach (the runtime in another mount
	// namespace): the size comparison takes over.
	proc = fakeProc(t, "7", "1 0 0:9 / / rw - overlay overlay rw,upperdir=/nonexistent/diff\n", t.TempDir())
	var r2 rootFS
	r2.learn(proc, 7, 1)
	if !r2.overlay || r2.upper != "" {
		t.Errorf("learnt %+v", r2)
	}
	// A process already gone teaches nothing; the next one does.
	var r3 rootFS
	r3.learn(proc, 8, 3)
	if r3.learnt {
		t.Errorf("learnt from a missing process: %+v", r3)
	}
}

// TestRootFSSizeFallback: a root that is not overlay (a runc bundle's directory) is
// compared file by file with the image, through the process's root.
func TestRootFSSizeFallback(t *testing.T) {
	root := t.TempDir()
	for _, d := range []string{"usr/bin", "tmp"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write := func(p string, size int, mode os.FileMode) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(root, p), []byte(strings.Repeat("x", size)), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(filepath.Join(root, p), mode); err != nil {
			t.Fatal(err)
		}
	}
	write("usr/bin/busybox", 1000, 0o755)
	write("usr/bin/greet", 21, 0o755) // one byte more than the image's
	write("usr/bin/setuid-tool", 30, 0o755)
	write("tmp/dropper", 4, 0o755)
	// Absolute links resolve inside the container's root, not the host's.
	for link, target := range map[string]string{"bin": "usr/bin", "usr/bin/ls": "/usr/bin/busybox"} {
		if err := os.Symlink(target, filepath.Join(root, link)); err != nil {
			t.Fatal(err)
		}
	}
	proc := fakeProc(t, "4242", "68 44 254:0 /srv/bundles/web-1/rootfs / ro - ext4 /dev/vda rw\n", root)
	var r rootFS
	r.learn(proc, 4242, 1)
	if !r.learnt || r.overlay {
		t.Fatalf("learnt %+v", r)
	}
	idx := testIndex()
	cases := map[string]string{
		"/bin/ls":              "",
		"/usr/bin/busybox":     "",
		"/bin/greet":           driftModified, // size
		"/usr/bin/setuid-tool": driftModified, // the setuid bit is gone
		"/tmp/dropper":         driftNew,
	}
	for p, want := range cases {
		if got := r.driftOf(idx, proc, p, 99999, 4242); got != want {
			t.Errorf("driftOf(%s) = %q, want %q", p, got, want)
		}
	}
	// No process of the container left: it cannot tell, and says nothing.
	var gone rootFS
	if got := gone.driftOf(idx, proc, "/bin/greet", 99999); got != "" {
		t.Errorf("without a process: %q", got)
	}
}

// FuzzMountinfo parses mountinfo text (a container's own mount names end up in it): no
// panic, and an upper directory comes only from an overlay root.
func FuzzMountinfo(f *testing.F) {
	for _, name := range []string{"docker-overlay", "runc-bind", "stacked"} {
		b, err := os.ReadFile(filepath.Join("testdata", "mountinfo", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("1 0 0:1 / / rw - overlay x upperdir=\\\\0\\1\\77,upperdir=\\0777\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		mt := parseMountinfo(strings.NewReader(string(b)))
		if !mt.ok && (mt.fstype != "" || mt.superOpts != "") {
			t.Fatalf("no root mount, yet %+v", mt)
		}
		up, lowers := overlayDirs(mt.superOpts)
		if len(up) > len(mt.superOpts) || len(lowers) > len(mt.superOpts) {
			t.Fatalf("unescaping grew %q into %q %q", mt.superOpts, up, lowers)
		}
		for _, m := range mt.others {
			if m == "/" || !strings.HasPrefix(m, "/") || len(mt.others) > maxMounts {
				t.Fatalf("mount point %q", m)
			}
		}
	})
}

func upperOf(opts string) string {
	up, _ := overlayDirs(opts)
	return up
}

func TestOverlayDirs(t *testing.T) {
	up, lowers := overlayDirs(`rw,lowerdir=/l/a\040b:/l/c,upperdir=/u,workdir=/w`)
	if up != "/u" || len(lowers) != 2 || lowers[0] != "/l/a b" || lowers[1] != "/l/c" {
		t.Errorf("%q %q", up, lowers)
	}
	// Mounted through the new mount API, one layer per option.
	up, lowers = overlayDirs(`rw,lowerdir+=/l/1,lowerdir+=/l/2,datadir+=/d,upperdir=/u,workdir=/w`)
	if up != "/u" || len(lowers) != 2 || lowers[0] != "/l/1" || lowers[1] != "/l/2" {
		t.Errorf("%q %q", up, lowers)
	}
}

// TestMergedDriftOverLowerDirs: with no index of the image, the overlay's own lower
// directories (the image's layers as the runtime unpacked them) stand in for it.
func TestMergedDriftOverLowerDirs(t *testing.T) {
	top, bottom := t.TempDir(), t.TempDir()
	write := func(dir, p string, data string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, p)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, p), []byte(data), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write(bottom, "usr/bin/busybox", "\x7fELF")
	write(bottom, "usr/bin/greet", "#!/bin/sh\necho hello\n")
	write(bottom, "usr/bin/old", "#!/bin/sh\n")
	if err := os.Symlink("usr/bin", filepath.Join(bottom, "bin")); err != nil {
		t.Fatal(err)
	}
	// The top layer links /etc out to the host's /etc: a lookup must not follow it
	// on the host.
	if err := os.Symlink("/etc", filepath.Join(top, "etc")); err != nil {
		t.Fatal(err)
	}
	write(top, "usr/bin/tool", "\x7fELF")
	up := upperLayer(t)
	below := lowerDirs{top, bottom}
	cases := map[string]string{
		"/bin/busybox":   "",
		"/usr/bin/tool":  "",
		"/bin/greet":     driftModified,
		"/usr/bin/miner": driftNew,
		"/tmp/dropper":   driftNew,
		"/etc/passwd":    driftNew, // the link loops back to /etc inside the container
	}
	for p, want := range cases {
		if got := mergedDrift(up, below, p); got != want {
			t.Errorf("mergedDrift(%s) = %q, want %q", p, got, want)
		}
	}
	if os.Geteuid() == 0 {
		// The top layer deleted usr/bin/old: a file written there now is new.
		if err := unix.Mknod(filepath.Join(top, "usr/bin/old"), unix.S_IFCHR, 0); err != nil {
			t.Fatal(err)
		}
		write(up, "usr/bin/old", "#!/bin/sh\necho again\n")
		if got := mergedDrift(up, below, "/usr/bin/old"); got != driftNew {
			t.Errorf("a file the image deleted, written again = %q, want new", got)
		}
	}
	// learn finds the same directories in the mountinfo.
	mi := "1 0 0:9 / / rw - overlay overlay rw,lowerdir=" + top + ":" + bottom + ",upperdir=" + up + ",workdir=/w\n"
	proc := fakeProc(t, "5", mi, t.TempDir())
	var r rootFS
	r.learn(proc, 5, 1)
	if r.upper != up || len(r.lowers) != 2 {
		t.Fatalf("learnt %+v", r)
	}
	if got := r.driftOf(nil, proc, "/bin/greet", 5); got != driftModified {
		t.Errorf("driftOf without an index = %q", got)
	}
	// A lower directory this host cannot reach: no comparison at all without an index.
	proc = fakeProc(t, "6", "1 0 0:9 / / rw - overlay overlay rw,lowerdir=/nonexistent:"+bottom+",upperdir="+up+"\n", t.TempDir())
	var r2 rootFS
	r2.learn(proc, 6, 1)
	if r2.lowers != nil || r2.driftOf(nil, proc, "/bin/greet", 6) != "" {
		t.Errorf("learnt %+v", r2)
	}
}

// BenchmarkDrift is RT002's cost per exec in a container, beyond the index lookup it
// always did: the overlay walk (upper directory over the index), and the size check
// through a process's root.
func BenchmarkDrift(b *testing.B) {
	idx := testIndex()
	up := b.TempDir()
	if err := os.MkdirAll(filepath.Join(up, "usr/bin"), 0o755); err != nil {
		b.Fatal(err)
	}
	b.Run("overlay", func(b *testing.B) {
		for b.Loop() {
			if mergedDrift(up, idx, "/bin/ls") != "" {
				b.Fatal("drift")
			}
		}
	})
	b.Run("size", func(b *testing.B) {
		var r rootFS
		r.learn("/proc", uint32(os.Getpid()), 0)
		host := &fileIndex{files: map[string]*image.File{}}
		exe, err := os.Executable()
		if err != nil {
			b.Fatal(err)
		}
		fi, err := os.Stat(exe)
		if err != nil {
			b.Fatal(err)
		}
		host.files[exe] = &image.File{Path: exe, Mode: fi.Mode(), Size: fi.Size()}
		for d := filepath.Dir(exe); ; d = filepath.Dir(d) {
			host.files[d] = &image.File{Path: d, Mode: fs.ModeDir | 0o755}
			if d == "/" {
				break
			}
		}
		for b.Loop() {
			if r.driftOf(host, "/proc", exe, uint32(os.Getpid())) != "" {
				b.Fatal("drift")
			}
		}
	})
}

// TestRootFSVolumeOverImage: a volume mounted over a directory of the image hides the
// image's files from the upper directory; what the container sees there is compared by
// size instead.
func TestRootFSVolumeOverImage(t *testing.T) {
	idx := testIndex()
	for _, d := range []string{"/usr/local", "/usr/local/bin"} {
		idx.files[d] = &image.File{Path: d, Mode: fs.ModeDir | 0o755}
	}
	idx.files["/usr/local/bin/tool"] = &image.File{Path: "/usr/local/bin/tool", Mode: 0o755, Size: 5}
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "usr/local/bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "usr/local/bin/tool"), []byte("123456789"), 0o755); err != nil {
		t.Fatal(err)
	}
	mi := "1 0 0:9 / / rw - overlay overlay rw,lowerdir=/l,upperdir=" + upperLayer(t) + ",workdir=/w\n" +
		"2 1 254:0 /volumes/tools /usr/local/bin rw - ext4 /dev/vda rw\n"
	proc := fakeProc(t, "9", mi, root)
	var r rootFS
	r.learn(proc, 9, 1)
	if len(r.mounts) != 1 || r.upper == "" {
		t.Fatalf("learnt %+v", r)
	}
	if got := r.driftOf(idx, proc, "/usr/local/bin/tool", 9); got != driftModified {
		t.Errorf("a file on a volume over the image = %q, want modified", got)
	}
	if got := r.driftOf(idx, proc, "/usr/bin/greet", 9); got != driftModified {
		t.Errorf("a file of the root's upper layer = %q, want modified", got)
	}
}
