package monitor

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"golang.org/x/sys/unix"
)

// Kubernetes names come from the runtimes' own state on disk: containerd's shim and CRI-O
// each keep the OCI runtime spec (config.json) of every container they run, and the CRI
// writes the pod's and the container's names into its annotations. Reading one file is
// all it takes, so charter needs no CRI client, no kubelet and no API server credentials.

// The annotation keys containerd's CRI plugin writes.
const (
	annContainerdType      = "io.kubernetes.cri.container-type" // "sandbox" or "container"
	annContainerdPod       = "io.kubernetes.cri.sandbox-name"
	annContainerdNamespace = "io.kubernetes.cri.sandbox-namespace"
	annContainerdPodUID    = "io.kubernetes.cri.sandbox-uid"
	annContainerdName      = "io.kubernetes.cri.container-name"
	annContainerdImage     = "io.kubernetes.cri.image-name"
	annContainerdPauseImg  = "io.kubernetes.cri.podsandbox.image-name"
)

// The annotation keys CRI-O writes: the kubelet's labels, copied, and its own.
const (
	annCrioType      = "io.kubernetes.cri-o.ContainerType" // "sandbox" or "container"
	annCrioPod       = "io.kubernetes.pod.name"
	annCrioNamespace = "io.kubernetes.pod.namespace"
	annCrioPodUID    = "io.kubernetes.pod.uid"
	annCrioName      = "io.kubernetes.container.name"
	annCrioImageName = "io.kubernetes.cri-o.ImageName"
	annCrioImageRef  = "io.kubernetes.cri-o.ImageRef"
)

// sandboxName is what a pod's sandbox (its pause container) is called: the name the
// kubelet has always given it, and the one CRI-O's annotations carry.
const sandboxName = "POD"

// maxSpecSize bounds a config.json or state.json read: a real one is tens of kilobytes
// (mounts, a seccomp profile), so 4 MiB is generous and still bounded.
const maxSpecSize = 4 << 20

// maxNamespaces bounds the containerd namespaces tried for one container.
const maxNamespaces = 64

// kubeNames fills c's pod, namespace, container name and image from its runtime's state
// under root ("/" outside tests), and says whether it found them. parent is the
// container's parent cgroup name, the containerd namespace for a container outside
// Kubernetes. A container whose runtime keeps no such state is left as it is.
func kubeNames(root string, c *Container, parent string) bool {
	if !runcIDShape.MatchString(c.ID) {
		return false // not a name to join into a path
	}
	switch c.Runtime {
	case "containerd":
		return containerdNames(root, c, parent)
	case "cri-o":
		return specNames(c, crioSpecs(root, c.ID))
	case "kubernetes":
		// Kubernetes' cgroupfs driver does not say which runtime: try both.
		if containerdNames(root, c, "") {
			c.Runtime = "containerd"
			return true
		}
		if specNames(c, crioSpecs(root, c.ID)) {
			c.Runtime = "cri-o"
			return true
		}
		return false
	case "runc":
		return runcNames(root, filepath.Join(root, "run", "runc", c.ID, "state.json"), c)
	}
	return false
}

// specNames fills c from the first of files that names a pod.
func specNames(c *Container, files []string) bool {
	for _, f := range files {
		if ann, err := specAnnotations(f); err == nil && applyAnnotations(c, ann) {
			return true
		}
	}
	return false
}

// containerdNames reads a containerd container's names from its shim's bundle (below
// containerd's default state directory), else from the state its shim's runc keeps
// (/run/containerd/runc/NAMESPACE/ID, whatever containerd's own state directory).
func containerdNames(root string, c *Container, parent string) bool {
	namespaces := containerdNamespaces(root, parent)
	tasks := filepath.Join(root, "run", "containerd", "io.containerd.runtime.v2.task")
	files := make([]string, 0, len(namespaces))
	for _, ns := range namespaces {
		files = append(files, filepath.Join(tasks, ns, c.ID, "config.json"))
	}
	if specNames(c, files) {
		return true
	}
	for _, ns := range namespaces {
		if runcNames(root, filepath.Join(root, "run", "containerd", "runc", ns, c.ID, "state.json"), c) {
			return true
		}
	}
	return false
}

// containerdNamespaces are the containerd namespaces a container may be in: k8s.io (the
// CRI's), parent (a container outside Kubernetes is in /NAMESPACE/ID), then any other
// namespace the shims' state holds.
func containerdNamespaces(root, parent string) []string {
	namespaces := []string{"k8s.io"}
	if parent != "" && parent != "k8s.io" && runcIDShape.MatchString(parent) {
		namespaces = []string{parent, "k8s.io"}
	}
	for _, dir := range []string{
		filepath.Join(root, "run", "containerd", "io.containerd.runtime.v2.task"),
		filepath.Join(root, "run", "containerd", "runc"),
	} {
		d, err := os.Open(dir)
		if err != nil {
			continue
		}
		names, _ := d.Readdirnames(maxNamespaces)
		_ = d.Close()
		for _, n := range names {
			if runcIDShape.MatchString(n) && !slices.Contains(namespaces, n) {
				namespaces = append(namespaces, n)
			}
		}
	}
	return namespaces
}

// crioSpecs are the places CRI-O keeps a container's config.json: the run directory of
// its storage, then the persistent one.
func crioSpecs(root, id string) []string {
	rel := filepath.Join("containers", "storage", "overlay-containers", id, "userdata", "config.json")
	return []string{filepath.Join(root, "run", rel), filepath.Join(root, "var", "lib", rel)}
}

// runcState is the part of runc's state.json read here: runc records the spec's
// annotations as "key=value" labels, next to "bundle=DIR".
type runcState struct {
	Config struct {
		Labels []string `json:"labels"`
	} `json:"config"`
}

// runcNames reads a runc container's names from its state file: from the annotations
// runc recorded there, else from the bundle's config.json it names. A runc container
// started by a tool that writes the CRI's annotations carries the same keys.
func runcNames(root, stateFile string, c *Container) bool {
	b, err := readCapped(stateFile)
	if err != nil {
		return false
	}
	var st runcState
	if json.Unmarshal(b, &st) != nil {
		return false
	}
	ann := map[string]string{}
	bundle := ""
	for _, l := range st.Config.Labels {
		k, v, ok := strings.Cut(l, "=")
		if !ok {
			continue
		}
		if k == "bundle" {
			bundle = v
			continue
		}
		ann[k] = v
	}
	if applyAnnotations(c, ann) {
		return true
	}
	if bundle == "" || !path.IsAbs(bundle) {
		return false
	}
	ann, err = specAnnotations(filepath.Join(root, bundle, "config.json"))
	return err == nil && applyAnnotations(c, ann)
}

// specAnnotations reads the annotations of the OCI runtime spec at file.
func specAnnotations(file string) (map[string]string, error) {
	b, err := readCapped(file)
	if err != nil {
		return nil, err
	}
	var spec struct {
		Annotations map[string]string `json:"annotations"`
	}
	if err := json.Unmarshal(b, &spec); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return spec.Annotations, nil
}

var errNotRegular = errors.New("not a regular file")

// readCapped reads a regular file of at most maxSpecSize bytes. It never blocks on a
// FIFO or a device someone left in its place, and does not follow a final symbolic link.
func readCapped(file string) ([]byte, error) {
	fd, err := unix.Open(file, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: file, Err: err}
	}
	f := os.NewFile(uintptr(fd), file)
	defer func() { _ = f.Close() }()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: %w", file, errNotRegular)
	}
	if fi.Size() > maxSpecSize {
		return nil, fmt.Errorf("%s: %d bytes, more than the %d a runtime's state holds", file, fi.Size(), maxSpecSize)
	}
	return io.ReadAll(io.LimitReader(f, maxSpecSize))
}

// annotationKeys are the keys one runtime writes its names under.
type annotationKeys struct {
	kind, pod, namespace, podUID, name string
	images                             []string // the first one set names the image
	sandboxImages                      []string
}

var runtimeKeys = []annotationKeys{
	{annContainerdType, annContainerdPod, annContainerdNamespace, annContainerdPodUID, annContainerdName,
		[]string{annContainerdImage}, []string{annContainerdPauseImg}},
	// CRI-O's keys; also the labels the kubelet puts on containers it runs through a
	// Docker engine (cri-dockerd), which carry no type and no image.
	{annCrioType, annCrioPod, annCrioNamespace, annCrioPodUID, annCrioName,
		[]string{annCrioImageName, annCrioImageRef}, []string{annCrioImageName, annCrioImageRef}},
}

// applyAnnotations fills c from a runtime spec's annotations (containerd's keys, else
// CRI-O's) and reports whether they named a pod. A value they do not hold is left as
// it was.
func applyAnnotations(c *Container, ann map[string]string) bool {
	for _, k := range runtimeKeys {
		pod := clean(ann[k.pod])
		if pod == "" {
			continue
		}
		c.PodName = pod
		c.Namespace = clean(ann[k.namespace])
		if uid := clean(ann[k.podUID]); uid != "" && c.PodUID == "" {
			c.PodUID = uid
		}
		c.Sandbox = ann[k.kind] == "sandbox"
		images := k.images
		if c.Sandbox {
			c.Name = sandboxName
			images = k.sandboxImages
		} else if name := clean(ann[k.name]); name != "" {
			c.Name = name
		}
		for _, key := range images {
			if img := clean(ann[key]); img != "" {
				c.Image = img
				break
			}
		}
		return true
	}
	return false
}

// clean keeps a name printable and short: these values end up in alerts and terminals.
func clean(s string) string {
	if len(s) > 253 {
		s = strings.ToValidUTF8(s[:253], "")
	}
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, s)
}
