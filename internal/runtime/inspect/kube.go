package inspect

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"

	"go.yaml.in/yaml/v3"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/charterhq/charter/internal/report"
)

// maxManifest bounds a manifest file, and maxDocs the documents in it.
const (
	maxManifest = 8 << 20
	maxDocs     = 1000
)

// workload is the part of any pod-bearing object the comparison reads.
type workload struct {
	Kind     string `json:"kind"`
	Metadata struct {
		Name      string `json:"name"`
		Namespace string `json:"namespace"`
	} `json:"metadata"`
}

// ParseKubernetes reads a Kubernetes manifest (one or more YAML or JSON documents, a
// List too) and returns the settings of every container of every pod it describes:
// Pods, Deployments, StatefulSets, DaemonSets, ReplicaSets, ReplicationControllers,
// Jobs, CronJobs and PodTemplates. Other kinds are skipped. name is used in locations
// and errors.
func ParseKubernetes(name string, data []byte) ([]Settings, error) {
	if len(data) > maxManifest {
		return nil, fmt.Errorf("%s: larger than %d bytes", name, maxManifest)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var out []Settings
	for n := 0; ; n++ {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		if n >= maxDocs {
			return nil, fmt.Errorf("%s: more than %d documents", name, maxDocs)
		}
		line := doc.Line
		if len(doc.Content) > 0 {
			line = doc.Content[0].Line // the first key, not the "---" before it
		}
		if hasAlias(&doc, 0) {
			return nil, fmt.Errorf("%s:%d: YAML aliases are not accepted in manifests charter inspects", name, line)
		}
		var v any
		if err := doc.Decode(&v); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", name, line, err)
		}
		raw, err := json.Marshal(v)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", name, line, err)
		}
		ss, err := fromObject(name, line, raw, 0)
		if err != nil {
			return nil, err
		}
		out = append(out, ss...)
	}
	return out, nil
}

// hasAlias reports an alias anywhere below n; depth bounds the recursion.
func hasAlias(n *yaml.Node, depth int) bool {
	if n.Kind == yaml.AliasNode || depth > 200 {
		return true
	}
	for _, c := range n.Content {
		if hasAlias(c, depth+1) {
			return true
		}
	}
	return false
}

// fromObject decodes one object and returns its containers' settings.
func fromObject(file string, line int, raw []byte, depth int) ([]Settings, error) {
	var w workload
	if err := json.Unmarshal(raw, &w); err != nil {
		return nil, nil // not an object (a scalar, a list): nothing to inspect
	}
	at := func(err error) error { return fmt.Errorf("%s:%d: %s %s: %w", file, line, w.Kind, w.Metadata.Name, err) }
	var spec *corev1.PodSpec
	switch w.Kind {
	case "List":
		if depth > 0 {
			return nil, nil
		}
		var l struct {
			Items []json.RawMessage `json:"items"`
		}
		if err := json.Unmarshal(raw, &l); err != nil {
			return nil, at(err)
		}
		var out []Settings
		for _, it := range l.Items {
			ss, err := fromObject(file, line, it, depth+1)
			if err != nil {
				return nil, err
			}
			out = append(out, ss...)
		}
		return out, nil
	case "Pod":
		var o corev1.Pod
		if err := json.Unmarshal(raw, &o); err != nil {
			return nil, at(err)
		}
		spec = &o.Spec
	case "PodTemplate":
		var o corev1.PodTemplate
		if err := json.Unmarshal(raw, &o); err != nil {
			return nil, at(err)
		}
		spec = &o.Template.Spec
	case "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController", "Job":
		var o struct {
			Spec struct {
				Template corev1.PodTemplateSpec `json:"template"`
			} `json:"spec"`
		}
		if err := json.Unmarshal(raw, &o); err != nil {
			return nil, at(err)
		}
		spec = &o.Spec.Template.Spec
	case "CronJob":
		var o batchv1.CronJob
		if err := json.Unmarshal(raw, &o); err != nil {
			return nil, at(err)
		}
		spec = &o.Spec.JobTemplate.Spec.Template.Spec
	default:
		return nil, nil
	}
	res := w.Kind + "/" + w.Metadata.Namespace + "/" + w.Metadata.Name
	var out []Settings
	containers := append(append([]corev1.Container(nil), spec.InitContainers...), spec.Containers...)
	for _, ec := range spec.EphemeralContainers {
		containers = append(containers, corev1.Container(ec.EphemeralContainerCommon))
	}
	for _, c := range containers {
		loc := report.Location{Path: file, Line: line, Resource: res, Container: c.Name, Image: c.Image}
		out = append(out, podSettings(loc, spec, &c))
	}
	return out, nil
}

// podSettings merges the pod's and the container's security contexts as the kubelet does
// (the container's wins) into Settings.
func podSettings(loc report.Location, spec *corev1.PodSpec, c *corev1.Container) Settings {
	s := Settings{Location: loc, Pids: -1, Seccomp: SeccompUnconfined}
	psc := spec.SecurityContext
	if psc == nil {
		psc = &corev1.PodSecurityContext{}
	}
	sc := c.SecurityContext
	if sc == nil {
		sc = &corev1.SecurityContext{}
	}
	uid, gid := sc.RunAsUser, sc.RunAsGroup
	if uid == nil {
		uid = psc.RunAsUser
	}
	if gid == nil {
		gid = psc.RunAsGroup
	}
	if uid != nil {
		s.User = strconv.FormatInt(*uid, 10)
		if gid != nil {
			s.User += ":" + strconv.FormatInt(*gid, 10)
		}
	}
	nonRoot := sc.RunAsNonRoot
	if nonRoot == nil {
		nonRoot = psc.RunAsNonRoot
	}
	s.RunAsNonRoot = nonRoot != nil && *nonRoot
	s.Privileged = sc.Privileged != nil && *sc.Privileged
	s.ReadOnlyRoot = sc.ReadOnlyRootFilesystem != nil && *sc.ReadOnlyRootFilesystem
	s.NoNewPrivileges = sc.AllowPrivilegeEscalation != nil && !*sc.AllowPrivilegeEscalation
	var add, drop []string
	if sc.Capabilities != nil {
		for _, a := range sc.Capabilities.Add {
			add = append(add, string(a))
		}
		for _, d := range sc.Capabilities.Drop {
			drop = append(drop, string(d))
		}
	}
	s.Caps = EffectiveCaps(add, drop)
	sp := sc.SeccompProfile
	if sp == nil {
		sp = psc.SeccompProfile
	}
	if sp != nil {
		switch sp.Type {
		case corev1.SeccompProfileTypeRuntimeDefault:
			s.Seccomp = SeccompDefault
		case corev1.SeccompProfileTypeLocalhost:
			s.Seccomp = SeccompCustom
		}
	}
	if q, ok := c.Resources.Limits[corev1.ResourceMemory]; ok {
		s.MemoryBytes = q.Value()
	}
	if q, ok := c.Resources.Limits[corev1.ResourceCPU]; ok {
		s.MilliCPU = q.MilliValue()
	}
	for ns, on := range map[string]bool{"network": spec.HostNetwork, "pid": spec.HostPID, "ipc": spec.HostIPC} {
		if on {
			s.HostNamespaces = append(s.HostNamespaces, ns)
		}
	}
	slices.Sort(s.HostNamespaces)
	s.WritableMounts = writableMounts(spec, c)
	return s
}

// writableMounts lists the container's writable mounts other than memory-backed
// emptyDirs; secret, configMap, downwardAPI and projected volumes are read-only anyway.
func writableMounts(spec *corev1.PodSpec, c *corev1.Container) []string {
	vols := map[string]corev1.VolumeSource{}
	for _, v := range spec.Volumes {
		vols[v.Name] = v.VolumeSource
	}
	var out []string
	for _, m := range c.VolumeMounts {
		if m.ReadOnly {
			continue
		}
		v := vols[m.Name]
		switch {
		case v.Secret != nil, v.ConfigMap != nil, v.DownwardAPI != nil, v.Projected != nil:
			continue
		case v.EmptyDir != nil && v.EmptyDir.Medium == corev1.StorageMediumMemory:
			continue
		}
		out = append(out, m.MountPath)
	}
	slices.Sort(out)
	return out
}
