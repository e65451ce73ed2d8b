package imagecheck

import (
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/charterhq/charter/internal/image"
)

// octal renders a mode the way chmod takes it: 4755, 2755, 1777, 0644.
func octal(m fs.FileMode) string {
	v := uint32(m.Perm())
	if m&fs.ModeSetuid != 0 {
		v |= 0o4000
	}
	if m&fs.ModeSetgid != 0 {
		v |= 0o2000
	}
	if m&fs.ModeSticky != 0 {
		v |= 0o1000
	}
	return fmt.Sprintf("%04o", v)
}

// setuid is IMG005: every setuid or setgid regular file of the final filesystem, one
// finding each.
func (c *checker) setuid() {
	if c.idx == nil {
		return
	}
	for _, f := range c.files() {
		if !f.Mode.IsRegular() || f.Mode&(fs.ModeSetuid|fs.ModeSetgid) == 0 {
			continue
		}
		var bits []string
		if f.Mode&fs.ModeSetuid != 0 {
			bits = append(bits, "setuid "+owner(f.UID, "root", "user "))
		}
		if f.Mode&fs.ModeSetgid != 0 {
			bits = append(bits, "setgid "+owner(f.GID, "group root", "group "))
		}
		c.add(ruleIMG005, c.layerLoc(f.Layer, f.Path),
			fmt.Sprintf("%s is %s (mode %s), from layer %d", f.Path, strings.Join(bits, " and "), octal(f.Mode), f.Layer), "")
	}
}

func owner(id int, zero, prefix string) string {
	if id == 0 {
		return zero
	}
	return prefix + strconv.Itoa(id)
}

// tmpDirs are where world-writable is the point.
var tmpDirs = []string{"/tmp", "/var/tmp", "/dev/shm"}

func underAny(p string, dirs []string) bool {
	for _, d := range dirs {
		if p == d || strings.HasPrefix(p, d+"/") {
			return true
		}
	}
	return false
}

// worldWritable is IMG006: world-writable entries outside the temporary directories.
// Entries below a reported directory are counted in that directory's finding.
func (c *checker) worldWritable() {
	if c.idx == nil {
		return
	}
	type group struct {
		file  *image.File
		below int
	}
	groups := map[string]*group{}
	var order []*group
	for _, f := range c.files() {
		if f.Mode.Perm()&0o002 == 0 || f.Mode&(fs.ModeSymlink|fs.ModeDevice|fs.ModeCharDevice) != 0 ||
			f.Mode.IsDir() && f.Mode&fs.ModeSticky != 0 || underAny(f.Path, tmpDirs) {
			continue
		}
		if g := ancestorGroup(groups, f.Path); g != nil {
			g.below++
			continue
		}
		g := &group{file: f}
		if f.Mode.IsDir() {
			groups[f.Path] = g
		}
		order = append(order, g)
	}
	for _, g := range order {
		f := g.file
		what := "file"
		if f.Mode.IsDir() {
			what = "directory"
		} else if f.Mode&fs.ModeNamedPipe != 0 {
			what = "named pipe"
		}
		msg := fmt.Sprintf("%s is a world-writable %s (mode %s), from layer %d", f.Path, what, octal(f.Mode), f.Layer)
		if g.below > 0 {
			msg += fmt.Sprintf(", and %d %s below it %s world-writable too", g.below, plural(g.below, "entry", "entries"), plural(g.below, "is", "are"))
		}
		c.add(ruleIMG006, c.layerLoc(f.Layer, f.Path), msg, "")
	}
}

func ancestorGroup[G any](groups map[string]*G, p string) *G {
	for d := path.Dir(p); ; d = path.Dir(d) {
		if g, ok := groups[d]; ok {
			return g
		}
		if d == "/" {
			return nil
		}
	}
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// binDirs are where a program on PATH lives.
var binDirs = map[string]bool{
	"/bin": true, "/sbin": true, "/usr/bin": true, "/usr/sbin": true,
	"/usr/local/bin": true, "/usr/local/sbin": true,
}

// programs returns the final filesystem's entries on PATH whose base name is in names
// (regular files, hard links and symlinks; directories and devices are not programs).
func (c *checker) programs(names map[string]bool) []*image.File {
	var out []*image.File
	for _, f := range c.files() {
		dir, base := path.Split(f.Path)
		if !names[base] || !binDirs[strings.TrimSuffix(dir, "/")] {
			continue
		}
		if f.Mode.IsRegular() || f.Mode&fs.ModeSymlink != 0 {
			out = append(out, f)
		}
	}
	return out
}

var sshServers = map[string]bool{"sshd": true, "dropbear": true}

// sshServer is IMG007's filesystem half: an SSH server on PATH.
func (c *checker) sshServer() {
	if c.idx == nil {
		return
	}
	for _, f := range c.programs(sshServers) {
		c.add(ruleIMG007, c.layerLoc(f.Layer, f.Path), fmt.Sprintf("the image ships an SSH server: %s, from layer %d", f.Path, f.Layer), "")
	}
}

var shells = map[string]bool{
	"sh": true, "bash": true, "dash": true, "ash": true, "zsh": true, "ksh": true, "mksh": true,
	"csh": true, "tcsh": true, "fish": true, "busybox": true, "rbash": true, "pwsh": true,
}

var packageManagers = map[string]bool{
	"apt": true, "apt-get": true, "dpkg": true, "apk": true, "yum": true, "dnf": true, "dnf5": true,
	"microdnf": true, "rpm": true, "zypper": true, "pacman": true, "opkg": true, "tdnf": true,
	"pip": true, "pip3": true, "npm": true, "yarn": true, "pnpm": true, "gem": true, "composer": true,
}

// shellsAndPackageManagers is IMG008: one INFO finding listing them, located at the
// layer that added the first one listed.
func (c *checker) shellsAndPackageManagers() {
	if c.idx == nil {
		return
	}
	sh := c.programs(shells)
	pm := c.programs(packageManagers)
	if len(sh) == 0 && len(pm) == 0 {
		return
	}
	var parts []string
	first := -1
	for _, set := range []struct {
		what  string
		files []*image.File
	}{{"shells", sh}, {"package managers", pm}} {
		if len(set.files) == 0 {
			continue
		}
		var paths []string
		for _, f := range set.files {
			paths = append(paths, f.Path)
			if first < 0 || f.Layer < first {
				first = f.Layer
			}
		}
		slices.Sort(paths)
		parts = append(parts, set.what+": "+strings.Join(paths, ", "))
	}
	loc := c.layerLoc(first, "")
	c.add(ruleIMG008, loc, "the image has "+strings.Join(parts, "; "), "")
}

// maxAnomalies bounds IMG010 findings per layer and kind; a hostile layer can hold
// millions of odd entries.
const maxAnomalies = 20

// anomalies is IMG010: every odd entry of every layer, up to maxAnomalies per layer and
// kind, then one finding that counts the rest.
func (c *checker) anomalies() {
	if c.idx == nil {
		return
	}
	for _, l := range c.idx.Layers {
		count := map[image.AnomalyKind]int{}
		for _, a := range l.Anomalies {
			if a.Kind == image.AnomalyDevice && standardDevice(l, a) {
				continue
			}
			count[a.Kind]++
			if n := count[a.Kind]; n > maxAnomalies {
				continue
			}
			c.add(ruleIMG010, c.layerLoc(l.Index, ""),
				fmt.Sprintf("layer %d: %s entry %q: %s", l.Index, a.Kind, a.Name, a.Detail), "")
		}
		kinds := make([]string, 0, len(count))
		for k := range count {
			kinds = append(kinds, string(k))
		}
		slices.Sort(kinds)
		for _, k := range kinds {
			if n := count[image.AnomalyKind(k)]; n > maxAnomalies {
				c.add(ruleIMG010, c.layerLoc(l.Index, ""),
					fmt.Sprintf("layer %d: %d more %s entries", l.Index, n-maxAnomalies, k), "")
			}
		}
	}
}

// standardDevices are the character devices every container runtime creates in /dev
// itself, with their Linux major:minor numbers. A root filesystem made with debootstrap
// or a tar of a real system carries them; they give a container nothing it does not
// already have.
var standardDevices = map[string][2]int{
	"/dev/null": {1, 3}, "/dev/zero": {1, 5}, "/dev/full": {1, 7}, "/dev/random": {1, 8},
	"/dev/urandom": {1, 9}, "/dev/tty": {5, 0}, "/dev/console": {5, 1}, "/dev/ptmx": {5, 2},
}

// standardDevice reports whether a device-node anomaly is one of standardDevices: the
// right path, a character device, and the right numbers (a "/dev/null" that is really
// block device 8:0 is exactly what IMG010 is for).
func standardDevice(l *image.Layer, a image.Anomaly) bool {
	p := "/" + strings.TrimLeft(path.Clean("/"+a.Name), "/")
	want, ok := standardDevices[p]
	if !ok {
		return false
	}
	var major, minor int
	if n, err := fmt.Sscanf(a.Detail, "device %d:%d", &major, &minor); err != nil || n != 2 || [2]int{major, minor} != want {
		return false
	}
	for i := range l.Files {
		if f := &l.Files[i]; f.Path == p {
			return f.Mode&fs.ModeCharDevice != 0
		}
	}
	return false
}
