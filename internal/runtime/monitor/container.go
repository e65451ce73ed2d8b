package monitor

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// Container is what the cgroup of a process says about the container it runs in.
type Container struct {
	// Runtime names the engine whose cgroup layout matched: docker, podman, containerd,
	// cri-o, kubernetes (a pod's cgroup whose runtime the path does not tell), runc.
	Runtime string `json:"runtime"`
	// ID is the container ID as its runtime knows it.
	ID string `json:"id"`
	// PodUID is the Kubernetes pod's UID when the cgroup is below a pod's.
	PodUID string `json:"podUID,omitempty"`
	// Name, Image and ImageID come from the engine's API (Docker, Podman) when charter can
	// reach it; for a container in a Kubernetes pod, Name is the container's name in the
	// pod and Image the image it was created from, as the runtime's state records them.
	Name    string `json:"name,omitempty"`
	Image   string `json:"image,omitempty"`
	ImageID string `json:"imageID,omitempty"`
	// PodName and Namespace name the Kubernetes pod, from the runtime's state (kube.go).
	PodName   string `json:"podName,omitempty"`
	Namespace string `json:"namespace,omitempty"`
	// Sandbox is true for a pod's sandbox (pause) container; its Name is "POD".
	Sandbox bool `json:"sandbox,omitempty"`
}

// Short is the ID as `docker ps` prints it.
func (c *Container) Short() string {
	if len(c.ID) == 64 && isHex(c.ID) {
		return c.ID[:12]
	}
	return c.ID
}

// KubeNames are the names --container and exceptions match a container in a pod by:
// "namespace/pod/container" and "pod/container"; none outside a pod.
func (c *Container) KubeNames() []string {
	if c.PodName == "" {
		return nil
	}
	return []string{c.Namespace + "/" + c.PodName + "/" + c.Name, c.PodName + "/" + c.Name}
}

var (
	hex64       = regexp.MustCompile(`^[0-9a-f]{64}$`)
	scopeID     = regexp.MustCompile(`^(docker|libpod|cri-containerd|crio)-([0-9a-f]{64})\.scope$`)
	podSlice    = regexp.MustCompile(`pod([0-9a-f]{8}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{12})(\.slice)?$`)
	runcIDShape = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.+-]{0,127}$`)
)

var scopeRuntime = map[string]string{
	"docker": "docker", "libpod": "podman", "cri-containerd": "containerd", "crio": "cri-o",
}

// hostCgroups are cgroup names a process outside any container sits in.
var hostCgroups = map[string]bool{
	"": true, "/": true, "init.scope": true, "system.slice": true, "user.slice": true,
	"machine.slice": true, "docker": true, "kubepods": true, "libpod_parent": true,
}

// containerOf reads the container from a cgroup's last two path elements, the layouts of
// Docker (cgroupfs: /docker/ID; systemd: docker-ID.scope), Podman (libpod-ID.scope,
// /libpod_parent/libpod-ID), containerd under Kubernetes (cri-containerd-ID.scope below
// kubepods-…-podUID.slice), CRI-O (crio-ID.scope), Kubernetes' cgroupfs driver
// (/kubepods/burstable/podUID/ID), containerd's own namespaces (/NAMESPACE/ID) and a
// plain runc container (/ID). ok is false for a process on the host.
func containerOf(leaf, parent string) (c Container, ok bool) {
	pod := ""
	if m := podSlice.FindStringSubmatch(parent); m != nil {
		pod = strings.ReplaceAll(m[1], "_", "-")
	}
	if m := scopeID.FindStringSubmatch(leaf); m != nil {
		rt := scopeRuntime[m[1]]
		return Container{Runtime: rt, ID: m[2], PodUID: pod}, true
	}
	if strings.HasPrefix(leaf, "libpod-") && hex64.MatchString(strings.TrimPrefix(leaf, "libpod-")) {
		return Container{Runtime: "podman", ID: strings.TrimPrefix(leaf, "libpod-")}, true
	}
	if hostCgroups[leaf] || strings.HasSuffix(leaf, ".slice") || strings.HasSuffix(leaf, ".scope") || strings.HasSuffix(leaf, ".service") ||
		strings.HasPrefix(leaf, "pod") && podSlice.MatchString(leaf) {
		return Container{}, false
	}
	switch {
	case pod != "":
		return Container{Runtime: "kubernetes", ID: leaf, PodUID: pod}, true
	case parent == "docker" && hex64.MatchString(leaf):
		return Container{Runtime: "docker", ID: leaf}, true
	case parent == "libpod_parent":
		return Container{Runtime: "podman", ID: leaf}, true
	case runcIDShape.MatchString(leaf):
		// A plain runc container (/ID), containerd without Kubernetes (/NAMESPACE/ID), or
		// any other runtime: the runtime's state directory tells them apart (runtimeOf).
		return Container{ID: leaf}, true
	}
	return Container{}, false
}

// runtimeOf names the runtime of a container whose cgroup did not: runc and containerd
// keep a state directory per container. stateRoot is "/run" outside tests.
func runtimeOf(stateRoot, id, parent string) string {
	if _, err := os.Stat(filepath.Join(stateRoot, "runc", id)); err == nil {
		return "runc"
	}
	if parent != "" && runcIDShape.MatchString(parent) {
		if _, err := os.Stat(filepath.Join(stateRoot, "containerd", "runc", parent, id)); err == nil {
			return "containerd"
		}
	}
	return "container"
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}
