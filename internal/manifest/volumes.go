package manifest

import (
	"fmt"
	"path"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// runtimeSockets are the container runtime sockets whose mount gives root on the host.
var runtimeSockets = []string{
	"/var/run/docker.sock", "/run/docker.sock",
	"/var/run/containerd/containerd.sock", "/run/containerd/containerd.sock",
	"/var/run/crio/crio.sock", "/run/crio/crio.sock",
	"/var/run/podman/podman.sock", "/run/podman/podman.sock",
	"/var/run/cri-dockerd.sock", "/run/cri-dockerd.sock",
}

// sensitiveHostPaths are host folders whose mount (or any file below) exposes the node.
var sensitiveHostPaths = []string{
	"/etc", "/proc", "/sys", "/var/run", "/run", "/root", "/home", "/boot", "/dev",
	"/var/lib/kubelet", "/var/lib/docker", "/var/lib/containerd", "/var/lib/etcd", "/etc/kubernetes",
}

// hostPathKind classifies a host path: "socket" for a container runtime socket,
// "sensitive" for a sensitive host folder, "" for any other.
func hostPathKind(p string) string {
	if p == "" {
		return ""
	}
	clean := path.Clean("/" + strings.TrimSpace(p))
	for _, s := range runtimeSockets {
		if clean == s {
			return "socket"
		}
	}
	if strings.HasSuffix(clean, "/docker.sock") {
		return "socket"
	}
	if clean == "/" {
		return "sensitive"
	}
	for _, s := range sensitiveHostPaths {
		if clean == s || strings.HasPrefix(clean, s+"/") {
			return "sensitive"
		}
	}
	return ""
}

// allowedVolume reports whether a volume's type is in the restricted profile's set.
func allowedVolume(v *corev1.Volume) bool {
	s := v.VolumeSource
	return s.ConfigMap != nil || s.CSI != nil || s.DownwardAPI != nil || s.EmptyDir != nil ||
		s.Ephemeral != nil || s.PersistentVolumeClaim != nil || s.Projected != nil ||
		s.Secret != nil || s.Image != nil
}

func volumeType(v *corev1.Volume) string {
	s := v.VolumeSource
	switch {
	case s.NFS != nil:
		return "nfs"
	case s.ISCSI != nil:
		return "iscsi"
	case s.RBD != nil:
		return "rbd"
	case s.FlexVolume != nil:
		return "flexVolume"
	case s.Glusterfs != nil:
		return "glusterfs"
	case s.CephFS != nil:
		return "cephfs"
	case s.GitRepo != nil:
		return "gitRepo"
	}
	return "an in-tree type"
}

// volumes reports hostPath volumes (MAN001, MAN012, PSS002) and volume types outside the
// restricted set (PSS008). A hostPath finding is made for each container that mounts the
// volume, or once for the pod when none does.
func (c *podCheck) volumes() {
	mounts := c.mounters()
	for i := range c.spec.Volumes {
		v := &c.spec.Volumes[i]
		idx := strconv.Itoa(i)
		if v.HostPath == nil {
			if !allowedVolume(v) {
				c.report(ruleVolumeTypes, "", []string{"spec", "volumes", idx}, []string{pssRestrictedVolumes},
					fmt.Sprintf("volume %s is %s, outside the restricted profile's volume types", v.Name, volumeType(v)))
			}
			continue
		}
		rule, msg := ruleHostPath, fmt.Sprintf("volume %s mounts host path %s", v.Name, v.HostPath.Path)
		switch hostPathKind(v.HostPath.Path) {
		case "socket":
			rule, msg = ruleDockerSocket, fmt.Sprintf("volume %s mounts the container runtime socket %s: root on the node", v.Name, v.HostPath.Path)
		case "sensitive":
			rule, msg = ruleSensitiveHostPath, fmt.Sprintf("volume %s mounts sensitive host path %s", v.Name, v.HostPath.Path)
		}
		p := []string{"spec", "volumes", idx, "hostPath", "path"}
		pss := []string{pssHostPathVolumes, pssRestrictedVolumes}
		names := mounts[v.Name]
		if len(names) == 0 {
			c.report(rule, "", p, pss, msg+" (not mounted by any container)")
		}
		for _, m := range names {
			text := msg
			if m.readOnly {
				text += " (read-only)"
			}
			c.report(rule, m.container, p, pss, text)
		}
	}
}

type mounter struct {
	container string
	readOnly  bool
}

// mounters maps each volume name to the containers that mount it.
func (c *podCheck) mounters() map[string][]mounter {
	out := map[string][]mounter{}
	add := func(name string, ms []corev1.VolumeMount) {
		seen := map[string]bool{}
		for _, m := range ms {
			if seen[m.Name] {
				continue
			}
			seen[m.Name] = true
			out[m.Name] = append(out[m.Name], mounter{container: name, readOnly: m.ReadOnly})
		}
	}
	for _, ct := range c.spec.InitContainers {
		add(ct.Name, ct.VolumeMounts)
	}
	for _, ct := range c.spec.Containers {
		add(ct.Name, ct.VolumeMounts)
	}
	for _, ct := range c.spec.EphemeralContainers {
		add(ct.Name, ct.VolumeMounts)
	}
	return out
}
