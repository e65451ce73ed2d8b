package monitor

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func mkfifo(p string) error { return unix.Mkfifo(p, 0o600) }

// testdata/state is shaped like a node's runtime state: containerd's shim bundles
// (run/containerd/io.containerd.runtime.v2.task/NS/ID/config.json), CRI-O's storage
// (run/ and var/lib/containers/storage/overlay-containers/ID/userdata/config.json) and
// runc's state (run/runc/ID/state.json, with bundles below srv/).
func TestKubeNames(t *testing.T) {
	const (
		ctrdCtr = "3f1c9d2e7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d"
		ctrdSbx = "9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c8b7a6f5e4d3c2b1a0f9e8d"
		crioCtr = "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90"
		crioSbx = "0f9e8d7c6b5a49382716f5e4d3c2b1a00f9e8d7c6b5a49382716f5e4d3c2b1a0"
	)
	cases := []struct {
		name   string
		in     Container
		parent string
		want   Container
		found  bool
	}{
		{"containerd container", Container{Runtime: "containerd", ID: ctrdCtr, PodUID: "5f0c2e1a-9b7d-4c3e-8f21-6a4d3b2c1e0f"}, "",
			Container{Runtime: "containerd", ID: ctrdCtr, PodUID: "5f0c2e1a-9b7d-4c3e-8f21-6a4d3b2c1e0f", Name: "nginx",
				Image: "registry.example.com/shop/web:1.25.3", PodName: "web-7d9f8c6b5-x2x4q", Namespace: "shop"}, true},
		{"containerd sandbox", Container{Runtime: "containerd", ID: ctrdSbx}, "",
			Container{Runtime: "containerd", ID: ctrdSbx, PodUID: "5f0c2e1a-9b7d-4c3e-8f21-6a4d3b2c1e0f", Name: "POD",
				Image: "registry.k8s.io/pause:3.9", PodName: "web-7d9f8c6b5-x2x4q", Namespace: "shop", Sandbox: true}, true},
		{"cgroupfs driver, containerd", Container{Runtime: "kubernetes", ID: ctrdCtr}, "",
			Container{Runtime: "containerd", ID: ctrdCtr, PodUID: "5f0c2e1a-9b7d-4c3e-8f21-6a4d3b2c1e0f", Name: "nginx",
				Image: "registry.example.com/shop/web:1.25.3", PodName: "web-7d9f8c6b5-x2x4q", Namespace: "shop"}, true},
		{"cri-o container", Container{Runtime: "cri-o", ID: crioCtr}, "",
			Container{Runtime: "cri-o", ID: crioCtr, PodUID: "7c2d9e4f-1a3b-4c5d-9e8f-0a1b2c3d4e5f", Name: "api",
				Image: "quay.io/billing/api:2.4.1", PodName: "api-5b6c7d8e9f-q7w8e", Namespace: "billing"}, true},
		{"cri-o sandbox, persistent storage", Container{Runtime: "cri-o", ID: crioSbx}, "",
			Container{Runtime: "cri-o", ID: crioSbx, PodUID: "7c2d9e4f-1a3b-4c5d-9e8f-0a1b2c3d4e5f", Name: "POD",
				Image: "registry.k8s.io/pause:3.9", PodName: "api-5b6c7d8e9f-q7w8e", Namespace: "billing", Sandbox: true}, true},
		{"cgroupfs driver, cri-o", Container{Runtime: "kubernetes", ID: crioCtr}, "",
			Container{Runtime: "cri-o", ID: crioCtr, PodUID: "7c2d9e4f-1a3b-4c5d-9e8f-0a1b2c3d4e5f", Name: "api",
				Image: "quay.io/billing/api:2.4.1", PodName: "api-5b6c7d8e9f-q7w8e", Namespace: "billing"}, true},
		{"runc, annotations in its state", Container{Runtime: "runc", ID: "etl-1"}, "",
			Container{Runtime: "runc", ID: "etl-1", Name: "extract", Image: "registry.example.com/batch/etl:7",
				PodName: "etl-28391040-kq5zt", Namespace: "batch"}, true},
		{"runc, annotations in the bundle", Container{Runtime: "runc", ID: "etl-2"}, "",
			Container{Runtime: "runc", ID: "etl-2", Name: "load", Image: "registry.example.com/batch/etl:7",
				PodName: "etl-28391040-kq5zt", Namespace: "batch"}, true},
		{"runc without annotations", Container{Runtime: "runc", ID: "web-1"}, "", Container{Runtime: "runc", ID: "web-1"}, false},
		{"containerd with its state elsewhere: the shim's runc state", Container{Runtime: "containerd", ID: "job-8"}, "default",
			Container{Runtime: "containerd", ID: "job-8", Name: "render", Image: "registry.example.com/batch/report:3",
				PodName: "report-28391100-ab3cd", Namespace: "batch"}, true},
		{"containerd outside Kubernetes", Container{Runtime: "containerd", ID: "job-7"}, "default",
			Container{Runtime: "containerd", ID: "job-7"}, false},
		{"unknown container", Container{Runtime: "cri-o", ID: strings.Repeat("ab", 32)}, "",
			Container{Runtime: "cri-o", ID: strings.Repeat("ab", 32)}, false},
		{"an ID that is not a name", Container{Runtime: "runc", ID: ".."}, "", Container{Runtime: "runc", ID: ".."}, false},
		{"docker is the engine's", Container{Runtime: "docker", ID: ctrdCtr}, "", Container{Runtime: "docker", ID: ctrdCtr}, false},
	}
	for _, c := range cases {
		got := c.in
		found := kubeNames("testdata/state", &got, c.parent)
		if found != c.found || got != c.want {
			t.Errorf("%s: got %+v, %v\nwant %+v, %v", c.name, got, found, c.want, c.found)
		}
	}
}

func TestKubeNamesRefusesOddFiles(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "run", "containers", "storage", "overlay-containers", "big", "userdata")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	// Larger than a runtime's state ever is.
	big := `{"annotations":{"io.kubernetes.pod.name":"p"},"pad":"` + strings.Repeat("x", maxSpecSize) + `"}`
	if err := os.WriteFile(filepath.Join(dir, "config.json"), []byte(big), 0o600); err != nil {
		t.Fatal(err)
	}
	c := Container{Runtime: "cri-o", ID: "big"}
	if kubeNames(root, &c, "") || c.PodName != "" {
		t.Errorf("read a config.json over the size cap: %+v", c)
	}
	// A FIFO in its place is not opened for a blocking read, nor a link followed.
	fifoDir := filepath.Join(root, "run", "runc", "fifo")
	if err := os.MkdirAll(fifoDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := mkfifo(filepath.Join(fifoDir, "state.json")); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	c = Container{Runtime: "runc", ID: "fifo"}
	if kubeNames(root, &c, "") {
		t.Errorf("read a FIFO: %+v", c)
	}
	linkDir := filepath.Join(root, "run", "runc", "link")
	if err := os.MkdirAll(linkDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(dir, "config.json"), filepath.Join(linkDir, "state.json")); err != nil {
		t.Fatal(err)
	}
	if _, err := readCapped(filepath.Join(linkDir, "state.json")); err == nil {
		t.Error("followed a symbolic link")
	}
}

func TestKubeNamesSelectAndMatch(t *testing.T) {
	c := Container{Runtime: "containerd", ID: strings.Repeat("3f", 32), Name: "nginx", PodName: "web-7d9f8c6b5-x2x4q", Namespace: "shop"}
	for _, want := range []string{"shop/web-7d9f8c6b5-x2x4q/nginx", "web-7d9f8c6b5-x2x4q/nginx", "nginx", "3f3f3f3f"} {
		m := &Monitor{opts: Options{Containers: []string{want}}}
		if !m.selected(&c) {
			t.Errorf("--container %s did not select %+v", want, c)
		}
	}
	for _, other := range []string{"shop/web-7d9f8c6b5-x2x4q", "web-7d9f8c6b5-x2x4q", "billing/web-7d9f8c6b5-x2x4q/nginx", "shop/nginx"} {
		m := &Monitor{opts: Options{Containers: []string{other}}}
		if m.selected(&c) {
			t.Errorf("--container %s selected %+v", other, c)
		}
	}
	ex := exception{ruleID: RT001}
	ex.Container = "shop/web-*/nginx"
	if !ex.matches(RT001, &Event{Kind: KindExec}, &c) {
		t.Error("an exception by namespace/pod/container did not match")
	}
	ex.Container = "billing/*"
	if ex.matches(RT001, &Event{Kind: KindExec}, &c) {
		t.Error("an exception for another namespace matched")
	}
	f := fields(&Event{Kind: KindExec}, &c)
	if f["k8s.pod.name"] != "web-7d9f8c6b5-x2x4q" || f["k8s.ns.name"] != "shop" || f["container.name"] != "nginx" {
		t.Errorf("fields %v", f)
	}
	if out := describe(RT001, &Event{Kind: KindExec}, &c, ""); !strings.Contains(out, "name=nginx pod=web-7d9f8c6b5-x2x4q namespace=shop") {
		t.Errorf("output %q", out)
	}
}

func TestEngineLabelsNameKubernetesContainers(t *testing.T) {
	c := Container{Runtime: "docker", ID: strings.Repeat("ab", 32), Name: "k8s_app_web-1_shop_0a1b_0", Image: "web:1"}
	applyAnnotations(&c, map[string]string{
		"io.kubernetes.pod.name": "web-1", "io.kubernetes.pod.namespace": "shop",
		"io.kubernetes.container.name": "app", "io.kubernetes.pod.uid": "0a1b",
	})
	if c.PodName != "web-1" || c.Namespace != "shop" || c.Name != "app" || c.Image != "web:1" || c.PodUID != "0a1b" {
		t.Errorf("%+v", c)
	}
}

// FuzzApplyAnnotations feeds a runtime spec's annotations, as the runtime's state holds
// them, to the name reader: whatever they hold, the names that come out are printable.
func FuzzApplyAnnotations(f *testing.F) {
	for _, file := range []string{
		"testdata/state/run/containerd/io.containerd.runtime.v2.task/k8s.io/3f1c9d2e7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d/config.json",
		"testdata/state/run/containers/storage/overlay-containers/a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90/userdata/config.json",
	} {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"annotations":{"io.kubernetes.pod.name":"a\u0000b\nc","io.kubernetes.cri-o.ContainerType":"sandbox"}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var spec struct {
			Annotations map[string]string `json:"annotations"`
		}
		if json.Unmarshal(b, &spec) != nil {
			return
		}
		var c Container
		found := applyAnnotations(&c, spec.Annotations)
		if found != (c.PodName != "") {
			t.Fatalf("found %v, pod %q", found, c.PodName)
		}
		for _, s := range []string{c.PodName, c.Namespace, c.Name, c.Image, c.PodUID} {
			if len(s) > 253 || strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
				t.Fatalf("name %q", s)
			}
		}
	})
}
