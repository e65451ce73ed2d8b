package manifest

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/charterhq/charter/internal/report"
	"github.com/charterhq/charter/internal/secrets"
)

// container runs the per-container checks, reading pod-level settings where the
// container does not override them.
func (c *podCheck) container(ct container) {
	sc := ct.sc
	if sc.Privileged != nil && *sc.Privileged {
		c.report(rulePrivileged, ct.name, ct.path("securityContext", "privileged"), []string{pssPrivileged},
			"securityContext.privileged is true: the container has every capability and device of the node")
	}
	if w := sc.WindowsOptions; w != nil && w.HostProcess != nil && *w.HostProcess {
		c.report(ruleHostProcess, ct.name, ct.path("securityContext", "windowsOptions", "hostProcess"),
			[]string{pssHostProcess}, "runs as a Windows HostProcess")
	}
	if !c.windows {
		c.capabilities(ct)
		if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
			c.report(ruleEscalation, ct.name, c.scPath(ct, "allowPrivilegeEscalation"), []string{pssPrivilegeEscalation},
				"allowPrivilegeEscalation is "+boolWord(sc.AllowPrivilegeEscalation, "not set (it defaults to true)"))
		}
		if sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
			c.report(ruleReadOnlyRoot, ct.name, c.scPath(ct, "readOnlyRootFilesystem"), nil,
				"readOnlyRootFilesystem is "+boolWord(sc.ReadOnlyRootFilesystem, "not set"))
		}
		c.seccomp(ct)
	}
	c.root(ct)
	if msg := badSELinux(sc.SELinuxOptions); msg != "" {
		c.report(ruleSELinux, ct.name, ct.path("securityContext", "seLinuxOptions"), []string{pssSELinux}, msg)
	}
	if p := sc.AppArmorProfile; p != nil && !validAppArmor(p.Type) {
		c.report(ruleAppArmor, ct.name, ct.path("securityContext", "appArmorProfile", "type"), []string{pssAppArmor},
			fmt.Sprintf("AppArmor profile %s disables AppArmor", describeType(string(p.Type))))
	}
	if sc.ProcMount != nil && *sc.ProcMount != corev1.DefaultProcMount {
		pss := []string{pssProcMount}
		if c.userns {
			pss = []string{pssProcMountRestricted} // baseline allows it with user namespaces
		}
		c.report(ruleProcMount, ct.name, ct.path("securityContext", "procMount"), pss,
			fmt.Sprintf("procMount is %s", describeType(string(*sc.ProcMount))))
	}
	for i, p := range ct.ports {
		if p.HostPort != 0 {
			c.report(ruleHostPorts, ct.name, ct.path("ports", strconv.Itoa(i), "hostPort"), []string{pssHostPorts},
				fmt.Sprintf("port %d is bound to the node's port %d", p.ContainerPort, p.HostPort))
		}
	}
	c.hostProbes(ct)
	c.image(ct)
	c.limits(ct)
	c.env(ct)
}

// scPath is the path of a securityContext field, for a finding about its value or its
// absence (the caller falls back to the nearest existing parent for a line).
func (c *podCheck) scPath(ct container, field string) []string {
	return ct.path("securityContext", field)
}

func boolWord(b *bool, unset string) string {
	if b == nil {
		return unset
	}
	return strconv.FormatBool(*b)
}

// defaultCaps are the capabilities the baseline profile lets a container add: the
// runtime's default set.
var defaultCaps = map[string]bool{
	"AUDIT_WRITE": true, "CHOWN": true, "DAC_OVERRIDE": true, "FOWNER": true, "FSETID": true,
	"KILL": true, "MKNOD": true, "NET_BIND_SERVICE": true, "SETFCAP": true, "SETGID": true,
	"SETPCAP": true, "SETUID": true, "SYS_CHROOT": true,
}

func (c *podCheck) capabilities(ct container) {
	caps := ct.sc.Capabilities
	if caps == nil {
		caps = &corev1.Capabilities{}
	}
	var added []string
	pss := []string{pssCapsRestricted}
	for _, a := range caps.Add {
		if a == "NET_BIND_SERVICE" {
			continue
		}
		added = append(added, string(a))
		if !defaultCaps[string(a)] && !slices.Contains(pss, pssCapsBaseline) {
			pss = []string{pssCapsBaseline, pssCapsRestricted}
		}
	}
	if len(added) > 0 {
		c.report(ruleCapabilities, ct.name, ct.path("securityContext", "capabilities", "add"), pss,
			"capabilities added: "+strings.Join(added, ", "))
	}
	if !slices.Contains(caps.Drop, "ALL") {
		path := ct.path("securityContext", "capabilities", "drop")
		c.report(ruleCapabilities, ct.name, path, []string{pssCapsRestricted},
			"capabilities.drop does not include ALL: the runtime's default capabilities (NET_RAW, CHOWN, SETUID, ...) stay")
	}
}

func (c *podCheck) seccomp(ct container) {
	p := ct.sc.SeccompProfile
	switch {
	case p != nil && !validSeccomp(p.Type):
		c.report(ruleSeccomp, ct.name, ct.path("securityContext", "seccompProfile", "type"),
			[]string{pssSeccompBaseline, pssSeccompRestricted},
			fmt.Sprintf("seccompProfile type %s turns system call filtering off", describeType(string(p.Type))))
	case p == nil && c.psc.SeccompProfile == nil:
		c.report(ruleSeccomp, ct.name, c.scPath(ct, "seccompProfile"), []string{pssSeccompRestricted},
			"no seccompProfile on the container or the pod: the container runs Unconfined")
	}
}

// root reports, as one finding, the ways a container may end up running as root:
// runAsNonRoot false or unset after inheritance, runAsUser 0 written on the container.
func (c *podCheck) root(ct container) {
	sc, psc := ct.sc, c.psc
	var reasons, pss []string
	var path []string
	severity := ruleRoot.Severity
	if sc.RunAsUser != nil && *sc.RunAsUser == 0 {
		reasons = append(reasons, "runAsUser is 0 (root)")
		pss = append(pss, c.rootPSS(pssRunAsUser)...)
		path = ct.path("securityContext", "runAsUser")
	}
	switch {
	case sc.RunAsNonRoot != nil && !*sc.RunAsNonRoot:
		reasons = append(reasons, "runAsNonRoot is false")
		pss = append(c.rootPSS(pssRunAsNonRoot), pss...)
		path = ct.path("securityContext", "runAsNonRoot")
	case sc.RunAsNonRoot == nil && psc.RunAsNonRoot == nil:
		uid := sc.RunAsUser
		if uid == nil {
			uid = psc.RunAsUser
		}
		switch {
		case uid != nil && *uid != 0 && len(reasons) == 0:
			severity = report.Medium // a non-root UID is set: only the guarantee is missing
			reasons = append(reasons, fmt.Sprintf("runAsUser is %d but runAsNonRoot is not set, so nothing stops an override to root", *uid))
		case uid != nil && *uid == 0 && sc.RunAsUser == nil:
			reasons = append(reasons, "it inherits the pod's runAsUser: 0 and runAsNonRoot is not set")
		default:
			reasons = append(reasons, "runAsNonRoot is not set on the container or the pod, so the image's USER decides")
		}
		pss = append(c.rootPSS(pssRunAsNonRoot), pss...)
		if path == nil {
			path = c.scPath(ct, "runAsNonRoot")
		}
	}
	if len(reasons) > 0 {
		f := c.report(ruleRoot, ct.name, path, pss, "may run as root: "+strings.Join(reasons, "; "))
		f.Severity = severity
	}
}

func (c *podCheck) hostProbes(ct container) {
	check := func(h *corev1.ProbeHandler, lh *corev1.LifecycleHandler, where ...string) {
		var get *corev1.HTTPGetAction
		var tcp *corev1.TCPSocketAction
		if h != nil {
			get, tcp = h.HTTPGet, h.TCPSocket
		} else if lh != nil {
			get, tcp = lh.HTTPGet, lh.TCPSocket
		}
		if get != nil && get.Host != "" {
			c.report(ruleHostProbes, ct.name, ct.path(append(where, "httpGet", "host")...), []string{pssHostProbes},
				fmt.Sprintf("%s connects to host %s", strings.Join(where, "."), get.Host))
		}
		if tcp != nil && tcp.Host != "" {
			c.report(ruleHostProbes, ct.name, ct.path(append(where, "tcpSocket", "host")...), []string{pssHostProbes},
				fmt.Sprintf("%s connects to host %s", strings.Join(where, "."), tcp.Host))
		}
	}
	for _, name := range []string{"livenessProbe", "readinessProbe", "startupProbe"} {
		if p := ct.probes[name]; p != nil {
			check(&p.ProbeHandler, nil, name)
		}
	}
	if l := ct.lifecycle; l != nil {
		if l.PostStart != nil {
			check(nil, l.PostStart, "lifecycle", "postStart")
		}
		if l.PreStop != nil {
			check(nil, l.PreStop, "lifecycle", "preStop")
		}
	}
}

func (c *podCheck) image(ct container) {
	msg, sev := imageProblem(ct.image)
	if msg == "" {
		return
	}
	f := c.report(ruleImageTag, ct.name, ct.path("image"), nil, msg)
	f.Severity = sev
	f.Location.Image = ct.image
}

func (c *podCheck) limits(ct container) {
	if !ct.hasLimits {
		return // ephemeral containers take no resources
	}
	var missing []string
	if _, ok := ct.limits[corev1.ResourceCPU]; !ok {
		missing = append(missing, "cpu")
	}
	if _, ok := ct.limits[corev1.ResourceMemory]; !ok {
		missing = append(missing, "memory")
	}
	if len(missing) > 0 {
		c.report(ruleLimits, ct.name, ct.path("resources", "limits"), nil,
			"no resources.limits."+strings.Join(missing, " or "))
	}
}

func (c *podCheck) env(ct container) {
	for i, e := range ct.env {
		if e.ValueFrom != nil || e.Value == "" {
			continue
		}
		msg, evidence := secretEnv(e.Name, e.Value)
		if msg != "" {
			f := c.report(ruleSecretEnv, ct.name, ct.path("env", strconv.Itoa(i), "value"), nil, msg)
			f.Evidence = evidence
		}
	}
}

// secretEnv decides whether an environment variable holds a secret literal, by its name
// or by its value, and returns the message and redacted evidence.
func secretEnv(name, value string) (msg, evidence string) {
	if value == "" || strings.Contains(value, "$(") || strings.Contains(value, "${") {
		return "", "" // empty, or a reference to another variable
	}
	if secrets.IsSecretName(name) && !placeholder(value) {
		return fmt.Sprintf("env %s holds a secret literal", name), secrets.Redact(value)
	}
	if m := secrets.ScanString(value); len(m) > 0 {
		return fmt.Sprintf("env %s holds what looks like a %s", name, m[0].Title), secrets.Redact(m[0].Value)
	}
	return "", ""
}

// placeholder reports values that name a secret without being one (changeme, <token>,
// true, a file path).
func placeholder(v string) bool {
	lower := strings.ToLower(strings.TrimSpace(v))
	switch lower {
	case "", "true", "false", "yes", "no", "none", "null", "changeme", "change-me", "xxx", "secret", "password", "redacted":
		return true
	}
	return strings.HasPrefix(lower, "/") || strings.HasPrefix(lower, "<") || strings.HasPrefix(lower, "file:")
}

// imageProblem says what is wrong with an image reference's pinning: no tag or
// :latest (HIGH), a tag without a digest (MEDIUM), or nothing.
func imageProblem(ref string) (string, report.Severity) {
	if ref == "" {
		return "", 0
	}
	if strings.Contains(ref, "@sha256:") || strings.Contains(ref, "@sha512:") {
		return "", 0
	}
	name := ref
	tag := ""
	if i := strings.LastIndexByte(ref, ':'); i > strings.LastIndexByte(ref, '/') {
		name, tag = ref[:i], ref[i+1:]
	}
	switch tag {
	case "":
		return fmt.Sprintf("image %s has no tag: it runs whatever :latest is at pull time", name), ruleImageTag.Severity
	case "latest":
		return fmt.Sprintf("image %s uses :latest", ref), ruleImageTag.Severity
	}
	return fmt.Sprintf("image %s is tagged but not pinned by digest", ref), report.Medium
}
