package profile

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/yaml"
)

// LocalhostSeccompDir is where the Kubernetes output expects a narrowed seccomp profile,
// relative to the kubelet's seccomp directory (/var/lib/kubelet/seccomp).
const LocalhostSeccompDir = "charter"

// nameLabel selects the pods of the Deployment in its NetworkPolicy.
const nameLabel = "app.kubernetes.io/name"

// Kubernetes renders a Deployment whose pod runs with the profile's securityContext,
// resources and memory-backed volumes, and a NetworkPolicy allowing only
// runtime.egress, as one multi-document YAML file.
func (p *Profile) Kubernetes() ([]byte, error) {
	dep := p.deployment()
	np := p.networkPolicy()
	var b strings.Builder
	p.header(&b, "#")
	fmt.Fprintf(&b, "# Kubernetes has no per-pod process limit: the kubelet's podPidsLimit applies (this profile asks for %d).\n", p.Limits.Pids)
	if hosts := p.HostEgress(); len(hosts) > 0 {
		b.WriteString("# A NetworkPolicy matches addresses, not host names: " + egressList(hosts) + " cannot be\n" +
			"# expressed here. DNS to kube-dns is allowed so they resolve; allow their addresses with an\n" +
			"# FQDN-aware policy (Cilium toFQDNs, Calico DNS policy) or route them through an egress proxy.\n")
	}
	for i, obj := range []any{dep, np} {
		out, err := yaml.Marshal(obj)
		if err != nil {
			return nil, err
		}
		if i > 0 {
			b.WriteString("---\n")
		}
		b.Write(dropEmptyFields(out))
	}
	return []byte(b.String()), nil
}

// noise matches the fields Go's Kubernetes types always marshal, empty.
var noise = regexp.MustCompile(`(?m)^\s*(creationTimestamp: null|status: \{\}|strategy: \{\})\n`)

func dropEmptyFields(b []byte) []byte { return noise.ReplaceAll(b, nil) }

func (p *Profile) labels() map[string]string { return map[string]string{nameLabel: p.Name} }

func (p *Profile) deployment() *appsv1.Deployment {
	one := int32(1)
	no, yes := false, true
	uid, gid := int64(p.User.UID), int64(p.User.GID)
	seccomp := &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault}
	if len(p.SeccompDeny) > 0 {
		path := LocalhostSeccompDir + "/" + p.Name + ".json"
		seccomp = &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeLocalhost, LocalhostProfile: &path}
	}
	caps := &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}}
	for _, c := range p.CapAdd {
		caps.Add = append(caps.Add, corev1.Capability(c))
	}
	limits := corev1.ResourceList{
		corev1.ResourceCPU:    resource.MustParse(FormatCPU(p.Limits.MilliCPU)),
		corev1.ResourceMemory: resource.MustParse(FormatMemory(p.Limits.MemoryBytes)),
	}
	c := corev1.Container{
		Name:  p.Name,
		Image: p.Image,
		SecurityContext: &corev1.SecurityContext{
			Privileged: &no, AllowPrivilegeEscalation: &no, ReadOnlyRootFilesystem: &yes,
			RunAsNonRoot: &yes, RunAsUser: &uid, RunAsGroup: &gid,
			Capabilities: caps, SeccompProfile: seccomp,
		},
		Resources: corev1.ResourceRequirements{Limits: limits, Requests: limits.DeepCopy()},
	}
	for _, pt := range p.Ports {
		c.Ports = append(c.Ports, corev1.ContainerPort{ContainerPort: int32(pt.Number), Protocol: corev1.Protocol(strings.ToUpper(pt.Protocol))}) //nolint:gosec // ports are 1–65535
	}
	var vols []corev1.Volume
	for i, t := range p.Tmpfs {
		name := "tmpfs-" + strconv.Itoa(i)
		size := resource.MustParse(FormatMemory(t.SizeBytes))
		vols = append(vols, corev1.Volume{Name: name, VolumeSource: corev1.VolumeSource{
			EmptyDir: &corev1.EmptyDirVolumeSource{Medium: corev1.StorageMediumMemory, SizeLimit: &size}}})
		c.VolumeMounts = append(c.VolumeMounts, corev1.VolumeMount{Name: name, MountPath: t.Path})
	}
	return &appsv1.Deployment{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
		ObjectMeta: metav1.ObjectMeta{Name: p.Name, Labels: p.labels()},
		Spec: appsv1.DeploymentSpec{
			Replicas: &one,
			Selector: &metav1.LabelSelector{MatchLabels: p.labels()},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: p.labels()},
				Spec: corev1.PodSpec{
					HostUsers:                    hostUsers(p.PodUserNS),
					AutomountServiceAccountToken: &no,
					SecurityContext: &corev1.PodSecurityContext{
						RunAsNonRoot: &yes, RunAsUser: &uid, RunAsGroup: &gid, SeccompProfile: seccomp,
					},
					Containers: []corev1.Container{c},
					Volumes:    vols,
				},
			},
		},
	}
}

// hostUsers is the pod's hostUsers: false with a user namespace, else unset (the
// default, the node's users).
func hostUsers(userns bool) *bool {
	if !userns {
		return nil
	}
	no := false
	return &no
}

func (p *Profile) networkPolicy() *networkingv1.NetworkPolicy {
	np := &networkingv1.NetworkPolicy{
		TypeMeta:   metav1.TypeMeta{APIVersion: "networking.k8s.io/v1", Kind: "NetworkPolicy"},
		ObjectMeta: metav1.ObjectMeta{Name: p.Name + "-egress", Labels: p.labels()},
		Spec: networkingv1.NetworkPolicySpec{
			PodSelector: metav1.LabelSelector{MatchLabels: p.labels()},
			PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeEgress},
			Egress:      []networkingv1.NetworkPolicyEgressRule{},
		},
	}
	tcp := corev1.ProtocolTCP
	for _, e := range p.Egress {
		if e.CIDR == "" {
			continue
		}
		port := intstr.FromInt32(int32(e.Port)) //nolint:gosec // ports are 1–65535
		np.Spec.Egress = append(np.Spec.Egress, networkingv1.NetworkPolicyEgressRule{
			To:    []networkingv1.NetworkPolicyPeer{{IPBlock: &networkingv1.IPBlock{CIDR: e.CIDR}}},
			Ports: []networkingv1.NetworkPolicyPort{{Protocol: &tcp, Port: &port}},
		})
	}
	if len(p.HostEgress()) > 0 {
		udp, dns := corev1.ProtocolUDP, intstr.FromInt32(53)
		np.Spec.Egress = append(np.Spec.Egress, networkingv1.NetworkPolicyEgressRule{
			To: []networkingv1.NetworkPolicyPeer{{
				NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"kubernetes.io/metadata.name": "kube-system"}},
				PodSelector:       &metav1.LabelSelector{MatchLabels: map[string]string{"k8s-app": "kube-dns"}},
			}},
			Ports: []networkingv1.NetworkPolicyPort{{Protocol: &udp, Port: &dns}, {Protocol: &tcp, Port: &dns}},
		})
	}
	return np
}
