package monitor

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestLearnFromCgroup(t *testing.T) {
	cg := t.TempDir()
	ctr := filepath.Join(cg, "kubepods", "burstable", "pod0a1b", "3f1c")
	for _, d := range []string{ctr, filepath.Join(cg, "system.slice", "3f1c")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	// 100 is a runtime's helper, still in the host's pid namespace; 200 runs in the
	// container; 300 has exited.
	if err := os.WriteFile(filepath.Join(ctr, "cgroup.procs"), []byte("100\n300\n200\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := findCgroup(cg, "pod0a1b", "3f1c"); got != ctr {
		t.Fatalf("findCgroup = %q", got)
	}
	if got := findCgroup(cg, "", "kubepods"); got != filepath.Join(cg, "kubepods") {
		t.Errorf("findCgroup at the root = %q", got)
	}
	if got := findCgroup(cg, "nothere", "3f1c"); got != "" {
		t.Errorf("findCgroup = %q", got)
	}
	up := upperLayer(t)
	proc := t.TempDir()
	for pid, ns := range map[string]string{"self": "pid:[1]", "100": "pid:[1]", "200": "pid:[2]"} {
		dir := filepath.Join(proc, pid)
		if err := os.MkdirAll(filepath.Join(dir, "ns"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(ns, filepath.Join(dir, "ns", "pid")); err != nil {
			t.Fatal(err)
		}
		mi := "20 1 254:0 / / rw - ext4 /dev/vda rw\n" // the host's
		if pid == "200" {
			mi = "1 0 0:9 / / rw - overlay overlay rw,lowerdir=/l,upperdir=" + up + ",workdir=/w\n"
		}
		if err := os.WriteFile(filepath.Join(dir, "mountinfo"), []byte(mi), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(t.TempDir(), filepath.Join(dir, "root")); err != nil {
			t.Fatal(err)
		}
	}
	var r rootFS
	now := time.Now()
	r.learnFromCgroup(proc, cg, "pod0a1b", "3f1c", now)
	if !r.learnt || r.upper != up || r.pid != 200 {
		t.Fatalf("learnt %+v", r)
	}
	// At most one search a second.
	var r2 rootFS
	r2.searched = now
	r2.learnFromCgroup(proc, cg, "pod0a1b", "3f1c", now.Add(time.Second/2))
	if r2.learnt {
		t.Errorf("searched again within a second: %+v", r2)
	}
}
