package monitor

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestContainerOf(t *testing.T) {
	id := strings.Repeat("ab12", 16)
	cases := []struct {
		leaf, parent string
		want         Container
		ok           bool
	}{
		{id, "docker", Container{Runtime: "docker", ID: id}, true},
		{"docker-" + id + ".scope", "system.slice", Container{Runtime: "docker", ID: id}, true},
		{"libpod-" + id + ".scope", "machine.slice", Container{Runtime: "podman", ID: id}, true},
		{"libpod-" + id, "libpod_parent", Container{Runtime: "podman", ID: id}, true},
		{"cri-containerd-" + id + ".scope", "kubepods-burstable-pod0a1b2c3d_4e5f_6789_abcd_ef0123456789.slice",
			Container{Runtime: "containerd", ID: id, PodUID: "0a1b2c3d-4e5f-6789-abcd-ef0123456789"}, true},
		{"crio-" + id + ".scope", "kubepods-pod0a1b2c3d_4e5f_6789_abcd_ef0123456789.slice",
			Container{Runtime: "cri-o", ID: id, PodUID: "0a1b2c3d-4e5f-6789-abcd-ef0123456789"}, true},
		{id, "pod0a1b2c3d-4e5f-6789-abcd-ef0123456789",
			Container{Runtime: "kubernetes", ID: id, PodUID: "0a1b2c3d-4e5f-6789-abcd-ef0123456789"}, true},
		// Plain runc (/ID) and containerd namespaces (/NAMESPACE/ID): the runtime is
		// told later, from its state directory.
		{"web-1", "", Container{ID: "web-1"}, true},
		{"web-1", "default", Container{ID: "web-1"}, true},
		// The host.
		{"", "", Container{}, false},
		{"/", "", Container{}, false},
		{"init.scope", "", Container{}, false},
		{"sshd.service", "system.slice", Container{}, false},
		{"session-3.scope", "user-1000.slice", Container{}, false},
		{"kubepods-burstable-pod0a1b2c3d_4e5f_6789_abcd_ef0123456789.slice", "kubepods-burstable.slice", Container{}, false},
		{"libpod-conmon-" + id + ".scope", "machine.slice", Container{}, false},
		{"docker", "", Container{}, false},
	}
	for _, c := range cases {
		got, ok := containerOf(c.leaf, c.parent)
		if ok != c.ok || got != c.want {
			t.Errorf("containerOf(%q, %q) = %+v, %v; want %+v, %v", c.leaf, c.parent, got, ok, c.want, c.ok)
		}
	}
}

func TestRuntimeOf(t *testing.T) {
	root := t.TempDir()
	for _, d := range []string{"runc/web-1", "containerd/runc/default/job-7"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct{ id, parent, want string }{
		{"web-1", "", "runc"}, {"job-7", "default", "containerd"}, {"other", "x", "container"},
	} {
		if got := runtimeOf(root, c.id, c.parent); got != c.want {
			t.Errorf("runtimeOf(%q, %q) = %q, want %q", c.id, c.parent, got, c.want)
		}
	}
}

func TestShort(t *testing.T) {
	id := strings.Repeat("0123456789abcdef", 4)
	if got := (&Container{ID: id}).Short(); got != id[:12] {
		t.Errorf("Short = %q", got)
	}
	if got := (&Container{ID: "web-1"}).Short(); got != "web-1" {
		t.Errorf("Short = %q", got)
	}
}

func FuzzContainerOf(f *testing.F) {
	f.Add("docker-"+strings.Repeat("a", 64)+".scope", "system.slice")
	f.Add(strings.Repeat("a", 64), "docker")
	f.Add("cri-containerd-x.scope", "kubepods-pod0a1b2c3d_4e5f_6789_abcd_ef0123456789.slice")
	f.Fuzz(func(t *testing.T, leaf, parent string) {
		c, ok := containerOf(leaf, parent)
		if !ok && c != (Container{}) {
			t.Fatalf("not a container, yet %+v", c)
		}
		if ok && c.ID == "" {
			t.Fatal("a container without an ID")
		}
	})
}
