package manifest

import (
	"fmt"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/charterhq/charter/internal/report"
)

// Resource names a Kubernetes object: Kind/namespace/name.
type Resource struct{ Kind, Namespace, Name string }

// String renders the resource as findings name it, "Kind/namespace/name"; an object
// without a namespace (as rendered charts often are) reads "Kind/name".
func (r Resource) String() string {
	if r.Namespace == "" {
		return r.Kind + "/" + r.Name
	}
	return r.Kind + "/" + r.Namespace + "/" + r.Name
}

// CheckPod runs every MAN and Pod Security Standards "restricted" (and so "baseline")
// check on one pod spec: its containers, initContainers and ephemeralContainers. meta may
// be nil. Findings have Location.Resource "Kind/namespace/name" and Location.Container
// set, and no file or line.
//
// Settings are read as the kubelet applies them: a container's securityContext field
// overrides the pod's. A bad value is reported once, where it is written (the pod or the
// container); a required value that is missing is reported for each container that
// ends up without it.
func CheckPod(res Resource, meta *metav1.ObjectMeta, spec *corev1.PodSpec) []report.Finding {
	issues := checkPod(res, meta, spec)
	if len(issues) == 0 {
		return nil
	}
	out := make([]report.Finding, len(issues))
	for i, is := range issues {
		out[i] = is.finding
	}
	return out
}

// issue is a finding with the field it is about, as a path from the pod template's root
// ("spec", "containers", "0", "securityContext", "privileged"), so that a caller holding
// the source document can give it a line.
type issue struct {
	finding report.Finding
	path    []string
}

// podCheck holds one pod's evaluation.
type podCheck struct {
	res     Resource
	meta    *metav1.ObjectMeta
	spec    *corev1.PodSpec
	psc     *corev1.PodSecurityContext // never nil
	windows bool                       // spec.os.name: windows: Linux-only checks do not apply
	userns  bool                       // hostUsers: false: root in the pod is not root on the node
	out     []issue
}

func checkPod(res Resource, meta *metav1.ObjectMeta, spec *corev1.PodSpec) []issue {
	if spec == nil {
		return nil
	}
	c := &podCheck{res: res, meta: meta, spec: spec, psc: spec.SecurityContext}
	if c.psc == nil {
		c.psc = &corev1.PodSecurityContext{}
	}
	c.windows = spec.OS != nil && spec.OS.Name == corev1.Windows
	c.userns = spec.HostUsers != nil && !*spec.HostUsers
	c.hostNamespaces()
	c.volumes()
	c.podSecurityContext()
	c.appArmorAnnotations()
	for _, ct := range containersOf(spec) {
		c.container(ct)
	}
	return c.out
}

// container is the part of Container and EphemeralContainer the checks read.
type container struct {
	field     string // containers, initContainers, ephemeralContainers
	index     int
	name      string
	image     string
	sc        *corev1.SecurityContext // never nil
	ports     []corev1.ContainerPort
	env       []corev1.EnvVar
	limits    corev1.ResourceList
	hasLimits bool
	probes    map[string]*corev1.Probe
	lifecycle *corev1.Lifecycle
}

func (ct container) path(elems ...string) []string {
	return append([]string{"spec", ct.field, strconv.Itoa(ct.index)}, elems...)
}

func containersOf(spec *corev1.PodSpec) []container {
	var out []container
	add := func(field string, i int, c *corev1.Container) {
		ct := container{
			field: field, index: i, name: c.Name, image: c.Image, sc: c.SecurityContext,
			ports: c.Ports, env: c.Env, limits: c.Resources.Limits, hasLimits: field != "ephemeralContainers",
			probes:    map[string]*corev1.Probe{"livenessProbe": c.LivenessProbe, "readinessProbe": c.ReadinessProbe, "startupProbe": c.StartupProbe},
			lifecycle: c.Lifecycle,
		}
		if ct.sc == nil {
			ct.sc = &corev1.SecurityContext{}
		}
		out = append(out, ct)
	}
	for i := range spec.InitContainers {
		add("initContainers", i, &spec.InitContainers[i])
	}
	for i := range spec.Containers {
		add("containers", i, &spec.Containers[i])
	}
	for i := range spec.EphemeralContainers {
		c := corev1.Container(spec.EphemeralContainers[i].EphemeralContainerCommon)
		add("ephemeralContainers", i, &c)
	}
	return out
}

// report records a finding. pss are the Pod Security Standards checks it fails; the
// rule's other peer aliases are kept, its pss: aliases replaced by those.
func (c *podCheck) report(rule report.Rule, ctr string, path []string, pss []string, msg string) *report.Finding {
	f := rule.Finding(report.Location{Resource: c.res.String(), Container: ctr}, msg)
	aliases := make([]string, 0, len(pss)+len(rule.Aliases))
	aliases = append(aliases, pss...) // a copy: callers reuse pss
	for _, a := range rule.Aliases {
		if !strings.HasPrefix(a, "pss:") {
			aliases = append(aliases, a)
		}
	}
	f.Aliases = nil
	if len(aliases) > 0 {
		f.Aliases = aliases
	}
	c.out = append(c.out, issue{finding: f, path: path})
	return &c.out[len(c.out)-1].finding
}

func (c *podCheck) hostNamespaces() {
	var set []string
	var path []string
	for _, ns := range []struct {
		on   bool
		name string
	}{{c.spec.HostNetwork, "hostNetwork"}, {c.spec.HostPID, "hostPID"}, {c.spec.HostIPC, "hostIPC"}} {
		if ns.on {
			set = append(set, ns.name)
			if path == nil {
				path = []string{"spec", ns.name}
			}
		}
	}
	if len(set) > 0 {
		c.report(ruleHostNamespaces, "", path, []string{pssHostNamespaces},
			"pod shares the node's namespaces: "+strings.Join(set, ", ")+" set to true")
	}
}

// podSecurityContext reports bad values written in the pod's securityContext. Missing
// values are reported per container, where inheritance leaves them missing.
func (c *podCheck) podSecurityContext() {
	psc := c.psc
	at := func(elems ...string) []string { return append([]string{"spec", "securityContext"}, elems...) }
	if psc.RunAsNonRoot != nil && !*psc.RunAsNonRoot {
		c.report(ruleRoot, "", at("runAsNonRoot"), c.rootPSS(pssRunAsNonRoot),
			"pod securityContext sets runAsNonRoot: false: containers that do not override it may run as root")
	}
	if psc.RunAsUser != nil && *psc.RunAsUser == 0 {
		c.report(ruleRoot, "", at("runAsUser"), c.rootPSS(pssRunAsUser),
			"pod securityContext sets runAsUser: 0 (root)")
	}
	if psc.SeccompProfile != nil && !validSeccomp(psc.SeccompProfile.Type) {
		c.report(ruleSeccomp, "", at("seccompProfile", "type"), []string{pssSeccompBaseline, pssSeccompRestricted},
			fmt.Sprintf("pod seccompProfile type %s turns system call filtering off", describeType(string(psc.SeccompProfile.Type))))
	}
	if w := psc.WindowsOptions; w != nil && w.HostProcess != nil && *w.HostProcess {
		c.report(ruleHostProcess, "", at("windowsOptions", "hostProcess"), []string{pssHostProcess},
			"pod runs as a Windows HostProcess")
	}
	if msg := badSELinux(psc.SELinuxOptions); msg != "" {
		c.report(ruleSELinux, "", at("seLinuxOptions"), []string{pssSELinux}, "pod "+msg)
	}
	if p := psc.AppArmorProfile; p != nil && !validAppArmor(p.Type) {
		c.report(ruleAppArmor, "", at("appArmorProfile", "type"), []string{pssAppArmor},
			fmt.Sprintf("pod AppArmor profile %s disables AppArmor", describeType(string(p.Type))))
	}
	for i, s := range psc.Sysctls {
		if !safeSysctls[s.Name] {
			c.report(ruleSysctls, "", at("sysctls", strconv.Itoa(i), "name"), []string{pssSysctls},
				fmt.Sprintf("sysctl %s is not in the safe set", s.Name))
		}
	}
}

// rootPSS returns the PSS check a root setting fails, or none in a user-namespaced pod
// (hostUsers: false), which the standards exempt.
func (c *podCheck) rootPSS(check string) []string {
	if c.userns {
		return nil
	}
	return []string{check}
}

func (c *podCheck) appArmorAnnotations() {
	if c.meta == nil {
		return
	}
	const prefix = "container.apparmor.security.beta.kubernetes.io/"
	for k, v := range c.meta.Annotations {
		name, ok := strings.CutPrefix(k, prefix)
		if !ok || v == "" || v == "runtime/default" || strings.HasPrefix(v, "localhost/") {
			continue
		}
		c.report(ruleAppArmor, name, []string{"metadata", "annotations", k}, []string{pssAppArmor},
			fmt.Sprintf("annotation %s sets AppArmor profile %q", k, v))
	}
}

func validSeccomp(t corev1.SeccompProfileType) bool {
	return t == corev1.SeccompProfileTypeRuntimeDefault || t == corev1.SeccompProfileTypeLocalhost
}

func validAppArmor(t corev1.AppArmorProfileType) bool {
	return t == corev1.AppArmorProfileTypeRuntimeDefault || t == corev1.AppArmorProfileTypeLocalhost
}

func describeType(t string) string {
	if t == "" {
		return `""`
	}
	return t
}

// selinuxTypes are the SELinux types the baseline profile allows.
var selinuxTypes = map[string]bool{
	"": true, "container_t": true, "container_init_t": true, "container_kvm_t": true, "container_engine_t": true,
}

func badSELinux(o *corev1.SELinuxOptions) string {
	switch {
	case o == nil:
		return ""
	case !selinuxTypes[o.Type]:
		return fmt.Sprintf("sets SELinux type %s", o.Type)
	case o.User != "":
		return fmt.Sprintf("sets SELinux user %s", o.User)
	case o.Role != "":
		return fmt.Sprintf("sets SELinux role %s", o.Role)
	}
	return ""
}

// safeSysctls are the sysctls the baseline profile allows (the Kubernetes 1.32 set).
var safeSysctls = map[string]bool{
	"kernel.shm_rmid_forced": true, "net.ipv4.ip_local_port_range": true, "net.ipv4.tcp_syncookies": true,
	"net.ipv4.ping_group_range": true, "net.ipv4.ip_unprivileged_port_start": true,
	"net.ipv4.ip_local_reserved_ports": true, "net.ipv4.tcp_keepalive_time": true,
	"net.ipv4.tcp_fin_timeout": true, "net.ipv4.tcp_keepalive_intvl": true,
	"net.ipv4.tcp_keepalive_probes": true, "net.ipv4.tcp_rmem": true, "net.ipv4.tcp_wmem": true,
}
