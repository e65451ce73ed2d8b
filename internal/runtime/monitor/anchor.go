package monitor

import (
	"bufio"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// A container's processes that ran a program are often gone by the time the monitor
// looks at them (a `docker exec` of a short command), yet RT002 needs one that still
// runs to read the container's root mount from and to look through. The container's
// cgroup lists them all: it is found by its name and its parent's, the two the event
// carries, with a bounded walk of the cgroup hierarchy.

// Bounds of a search for a container's cgroup directory.
const (
	maxCgroupDepth = 8
	maxCgroupDirs  = 20000
	maxCgroupPIDs  = 64
	// searchEvery is how often one container's cgroup may be searched for.
	searchEvery = time.Second
)

// cgroupRoot is where the hierarchy that names containers is mounted (see cgroupV1).
func cgroupRoot() string {
	if cgroupV1() {
		return "/sys/fs/cgroup/memory"
	}
	return "/sys/fs/cgroup"
}

// findCgroup walks the hierarchy at root, breadth first, for a directory named leaf
// whose parent is named parent ("" for a directory at the root) and returns its path.
func findCgroup(root, parent, leaf string) string {
	if leaf == "" || leaf == "/" {
		return ""
	}
	type dir struct {
		path  string
		depth int
	}
	queue := []dir{{root, 0}}
	seen := 0
	for len(queue) > 0 && seen < maxCgroupDirs {
		d := queue[0]
		queue = queue[1:]
		entries, err := os.ReadDir(d.path)
		if err != nil {
			continue
		}
		base := filepath.Base(d.path)
		if d.path == root {
			base = ""
		}
		for _, ent := range entries {
			if !ent.IsDir() {
				continue
			}
			seen++
			p := filepath.Join(d.path, ent.Name())
			if ent.Name() == leaf && base == parent {
				return p
			}
			if d.depth+1 < maxCgroupDepth {
				queue = append(queue, dir{p, d.depth + 1})
			}
		}
	}
	return ""
}

// cgroupPIDs reads up to maxCgroupPIDs process IDs from a cgroup directory.
func cgroupPIDs(dir string) []uint32 {
	f, err := os.Open(filepath.Join(dir, "cgroup.procs"))
	if err != nil {
		return nil
	}
	defer func() { _ = f.Close() }()
	var pids []uint32
	sc := bufio.NewScanner(io.LimitReader(f, 64<<10))
	for sc.Scan() && len(pids) < maxCgroupPIDs {
		if n, err := strconv.ParseUint(sc.Text(), 10, 32); err == nil && n > 0 {
			pids = append(pids, uint32(n))
		}
	}
	return pids
}

// learnFromCgroup learns the container's root from the processes its cgroup lists now,
// at most once per searchEvery. Only processes in a pid namespace other than the
// monitor's count: a runtime's helper joins the cgroup before the container's namespaces.
func (r *rootFS) learnFromCgroup(procDir, root, parent, leaf string, now time.Time) {
	if now.Sub(r.searched) < searchEvery {
		return
	}
	r.searched = now
	if r.cgroup == "" {
		r.cgroup = findCgroup(root, parent, leaf)
		if r.cgroup == "" {
			return
		}
	}
	self, _ := os.Readlink(procDir + "/self/ns/pid")
	for _, pid := range cgroupPIDs(r.cgroup) {
		ns, err := os.Readlink(procDir + "/" + strconv.FormatUint(uint64(pid), 10) + "/ns/pid")
		if err != nil || ns == self {
			continue
		}
		r.learn(procDir, pid, 0)
		if r.learnt && r.pid != 0 && r.inRoot(procDir, r.pid) {
			return
		}
	}
}
