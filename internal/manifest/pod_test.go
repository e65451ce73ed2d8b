package manifest

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/charterhq/charter/internal/report"
)

func ptr[T any](v T) *T { return &v }

// hardened returns a pod spec that passes every check.
func hardened() *corev1.PodSpec {
	return &corev1.PodSpec{
		SecurityContext: &corev1.PodSecurityContext{
			RunAsNonRoot:   ptr(true),
			RunAsUser:      ptr(int64(65532)),
			SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
		},
		Containers: []corev1.Container{{
			Name:  "app",
			Image: "registry.example.com/app:1.0@sha256:" + strings.Repeat("a", 64),
			SecurityContext: &corev1.SecurityContext{
				AllowPrivilegeEscalation: ptr(false),
				ReadOnlyRootFilesystem:   ptr(true),
				Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
			},
			Resources: corev1.ResourceRequirements{Limits: corev1.ResourceList{
				corev1.ResourceCPU:    resource.MustParse("500m"),
				corev1.ResourceMemory: resource.MustParse("128Mi"),
			}},
			Env: []corev1.EnvVar{{Name: "DB_PASSWORD", ValueFrom: &corev1.EnvVarSource{}}, {Name: "MODE", Value: "prod"}},
		}},
		Volumes: []corev1.Volume{{Name: "tmp", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}},
	}
}

var web = Resource{Kind: "Deployment", Namespace: "default", Name: "web"}

func rulesOf(fs []report.Finding) []string {
	var ids []string
	for _, f := range fs {
		ids = append(ids, f.Rule)
	}
	slices.Sort(ids)
	return slices.Compact(ids)
}

func TestCheckPodHardenedIsClean(t *testing.T) {
	if got := CheckPod(web, nil, hardened()); len(got) != 0 {
		t.Fatalf("hardened pod has findings: %+v", got)
	}
	if got := CheckPod(web, nil, nil); got != nil {
		t.Fatalf("nil spec: %v", got)
	}
}

func TestCheckPodEmptyContainer(t *testing.T) {
	spec := &corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "nginx"}}}
	got := CheckPod(web, &metav1.ObjectMeta{}, spec)
	want := []string{"MAN003", "MAN004", "MAN005", "MAN006", "MAN008", "MAN009", "MAN010"}
	if ids := rulesOf(got); !slices.Equal(ids, want) {
		t.Fatalf("rules = %v, want %v", ids, want)
	}
	for _, f := range got {
		if f.Location.Resource != "Deployment/default/web" || f.Location.Container != "app" {
			t.Errorf("%s: location %+v", f.Rule, f.Location)
		}
		if f.Location.Path != "" || f.Location.Line != 0 {
			t.Errorf("%s: CheckPod sets a file location", f.Rule)
		}
	}
}

// mutate returns the hardened spec changed by f.
func mutate(f func(s *corev1.PodSpec)) *corev1.PodSpec {
	s := hardened()
	f(s)
	return s
}

func app(s *corev1.PodSpec) *corev1.Container { return &s.Containers[0] }

// find returns the findings of rule.
func find(fs []report.Finding, rule string) []report.Finding {
	var out []report.Finding
	for _, f := range fs {
		if f.Rule == rule {
			out = append(out, f)
		}
	}
	return out
}

func TestCheckPodRules(t *testing.T) {
	for _, tc := range []struct {
		name    string
		rule    string // "" expects no finding at all
		aliases []string
		spec    func(s *corev1.PodSpec)
	}{
		{"socket", "MAN001", []string{pssHostPathVolumes, pssRestrictedVolumes}, func(s *corev1.PodSpec) {
			s.Volumes = append(s.Volumes, corev1.Volume{Name: "d", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/run/containerd/containerd.sock"}}})
		}},
		{"privileged", "MAN002", []string{pssPrivileged}, func(s *corev1.PodSpec) { app(s).SecurityContext.Privileged = ptr(true) }},
		{"privileged false", "", nil, func(s *corev1.PodSpec) { app(s).SecurityContext.Privileged = ptr(false) }},
		{"pod runAsNonRoot false", "MAN003", []string{pssRunAsNonRoot}, func(s *corev1.PodSpec) { s.SecurityContext.RunAsNonRoot = ptr(false) }},
		{"container runAsUser 0", "MAN003", []string{pssRunAsUser}, func(s *corev1.PodSpec) { app(s).SecurityContext.RunAsUser = ptr(int64(0)) }},
		{"pod runAsNonRoot unset", "MAN003", []string{pssRunAsNonRoot}, func(s *corev1.PodSpec) { s.SecurityContext.RunAsNonRoot = nil }},
		{"container sets runAsNonRoot", "", nil, func(s *corev1.PodSpec) {
			s.SecurityContext.RunAsNonRoot = nil
			app(s).SecurityContext.RunAsNonRoot = ptr(true)
		}},
		{"escalation unset", "MAN004", []string{pssPrivilegeEscalation}, func(s *corev1.PodSpec) { app(s).SecurityContext.AllowPrivilegeEscalation = nil }},
		{"writable root", "MAN005", nil, func(s *corev1.PodSpec) { app(s).SecurityContext.ReadOnlyRootFilesystem = ptr(false) }},
		{"no drop ALL", "MAN006", []string{pssCapsRestricted}, func(s *corev1.PodSpec) { app(s).SecurityContext.Capabilities = nil }},
		{"add CHOWN", "MAN006", []string{pssCapsRestricted}, func(s *corev1.PodSpec) {
			app(s).SecurityContext.Capabilities.Add = []corev1.Capability{"CHOWN"}
		}},
		{"add NET_ADMIN", "MAN006", []string{pssCapsBaseline, pssCapsRestricted}, func(s *corev1.PodSpec) {
			app(s).SecurityContext.Capabilities.Add = []corev1.Capability{"NET_ADMIN"}
		}},
		{"add NET_BIND_SERVICE", "", nil, func(s *corev1.PodSpec) {
			app(s).SecurityContext.Capabilities.Add = []corev1.Capability{"NET_BIND_SERVICE"}
		}},
		{"hostIPC", "MAN007", []string{pssHostNamespaces}, func(s *corev1.PodSpec) { s.HostIPC = true }},
		{"tag only", "MAN008", nil, func(s *corev1.PodSpec) { app(s).Image = "registry.example.com:5000/app:1.0" }},
		{"no limits", "MAN009", nil, func(s *corev1.PodSpec) { app(s).Resources = corev1.ResourceRequirements{} }},
		{"pod seccomp unset", "MAN010", []string{pssSeccompRestricted}, func(s *corev1.PodSpec) { s.SecurityContext.SeccompProfile = nil }},
		{"container seccomp set", "", nil, func(s *corev1.PodSpec) {
			s.SecurityContext.SeccompProfile = nil
			app(s).SecurityContext.SeccompProfile = &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeLocalhost}
		}},
		{"container seccomp unconfined", "MAN010", []string{pssSeccompBaseline, pssSeccompRestricted}, func(s *corev1.PodSpec) {
			app(s).SecurityContext.SeccompProfile = &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeUnconfined}
		}},
		{"secret env", "MAN011", nil, func(s *corev1.PodSpec) {
			app(s).Env = append(app(s).Env, corev1.EnvVar{Name: "STRIPE_KEY", Value: "sk_live_" + strings.Repeat("4eC39HqLyjWDarjtT1zdp7dc", 1)})
		}},
		{"placeholder env", "", nil, func(s *corev1.PodSpec) {
			app(s).Env = append(app(s).Env, corev1.EnvVar{Name: "DB_PASSWORD", Value: "$(DB_PASSWORD_FROM_FILE)"})
		}},
		{"sensitive hostPath", "MAN012", []string{pssHostPathVolumes, pssRestrictedVolumes}, func(s *corev1.PodSpec) {
			s.Volumes = append(s.Volumes, corev1.Volume{Name: "kubelet", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/var/lib/kubelet/pods"}}})
		}},
		{"hostProcess", "PSS001", []string{pssHostProcess}, func(s *corev1.PodSpec) {
			app(s).SecurityContext.WindowsOptions = &corev1.WindowsSecurityContextOptions{HostProcess: ptr(true)}
		}},
		{"hostPath", "PSS002", []string{pssHostPathVolumes, pssRestrictedVolumes}, func(s *corev1.PodSpec) {
			s.Volumes = append(s.Volumes, corev1.Volume{Name: "data", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/data/app"}}})
		}},
		{"hostPort", "PSS003", []string{pssHostPorts}, func(s *corev1.PodSpec) {
			app(s).Ports = []corev1.ContainerPort{{ContainerPort: 80, HostPort: 8080}}
		}},
		{"apparmor field", "PSS004", []string{pssAppArmor}, func(s *corev1.PodSpec) {
			s.SecurityContext.AppArmorProfile = &corev1.AppArmorProfile{Type: corev1.AppArmorProfileTypeUnconfined}
		}},
		{"apparmor runtime default", "", nil, func(s *corev1.PodSpec) {
			app(s).SecurityContext.AppArmorProfile = &corev1.AppArmorProfile{Type: corev1.AppArmorProfileTypeRuntimeDefault}
		}},
		{"selinux type", "PSS005", []string{pssSELinux}, func(s *corev1.PodSpec) {
			s.SecurityContext.SELinuxOptions = &corev1.SELinuxOptions{Type: "spc_t"}
		}},
		{"selinux level only", "", nil, func(s *corev1.PodSpec) {
			app(s).SecurityContext.SELinuxOptions = &corev1.SELinuxOptions{Level: "s0:c123,c456", Type: "container_t"}
		}},
		{"procMount", "PSS006", []string{pssProcMount}, func(s *corev1.PodSpec) {
			app(s).SecurityContext.ProcMount = ptr(corev1.UnmaskedProcMount)
		}},
		{"sysctl unsafe", "PSS007", []string{pssSysctls}, func(s *corev1.PodSpec) {
			s.SecurityContext.Sysctls = []corev1.Sysctl{{Name: "net.core.somaxconn", Value: "1024"}}
		}},
		{"sysctl safe", "", nil, func(s *corev1.PodSpec) {
			s.SecurityContext.Sysctls = []corev1.Sysctl{{Name: "net.ipv4.ip_unprivileged_port_start", Value: "0"}}
		}},
		{"volume type", "PSS008", []string{pssRestrictedVolumes}, func(s *corev1.PodSpec) {
			s.Volumes = append(s.Volumes, corev1.Volume{Name: "src", VolumeSource: corev1.VolumeSource{GitRepo: &corev1.GitRepoVolumeSource{Repository: "x"}}})
		}},
		{"probe host", "PSS009", []string{pssHostProbes}, func(s *corev1.PodSpec) {
			app(s).ReadinessProbe = &corev1.Probe{ProbeHandler: corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Host: "10.0.0.1"}}}
		}},
		{"lifecycle host", "PSS009", []string{pssHostProbes}, func(s *corev1.PodSpec) {
			app(s).Lifecycle = &corev1.Lifecycle{PreStop: &corev1.LifecycleHandler{HTTPGet: &corev1.HTTPGetAction{Host: "example.com"}}}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := CheckPod(web, nil, mutate(tc.spec))
			if tc.rule == "" {
				if len(got) != 0 {
					t.Fatalf("want no finding, got %v", rulesOf(got))
				}
				return
			}
			if ids := rulesOf(got); !slices.Equal(ids, []string{tc.rule}) {
				t.Fatalf("rules = %v, want [%s]", ids, tc.rule)
			}
			f := got[0]
			var pss []string
			for _, a := range f.Aliases {
				if strings.HasPrefix(a, "pss:") {
					pss = append(pss, a)
				}
			}
			if !slices.Equal(pss, tc.aliases) {
				t.Errorf("pss aliases = %v, want %v", pss, tc.aliases)
			}
		})
	}
}

func TestCheckPodInheritance(t *testing.T) {
	// The pod says non-root; one container overrides it with false: that container
	// alone is reported, at its own field.
	spec := mutate(func(s *corev1.PodSpec) {
		second := s.Containers[0]
		second.Name = "sidecar"
		second.SecurityContext = second.SecurityContext.DeepCopy()
		second.SecurityContext.RunAsNonRoot = ptr(false)
		s.Containers = append(s.Containers, second)
	})
	got := find(checkPodFindings(spec), "MAN003")
	if len(got) != 1 || got[0].Location.Container != "sidecar" {
		t.Fatalf("MAN003 = %+v, want one for sidecar", got)
	}
	// The pod runs as root; every container overrides it: the pod's own setting is still
	// reported once (the Pod Security Standards reject it), and no container is.
	spec = mutate(func(s *corev1.PodSpec) {
		s.SecurityContext.RunAsUser = ptr(int64(0))
		app(s).SecurityContext.RunAsUser = ptr(int64(1000))
	})
	got = find(checkPodFindings(spec), "MAN003")
	if len(got) != 1 || got[0].Location.Container != "" || !slices.Contains(got[0].Aliases, pssRunAsUser) {
		t.Fatalf("MAN003 = %+v, want one pod-level finding", got)
	}
	// Init and ephemeral containers are checked like the others.
	spec = mutate(func(s *corev1.PodSpec) {
		s.InitContainers = []corev1.Container{{Name: "init", Image: s.Containers[0].Image, SecurityContext: &corev1.SecurityContext{Privileged: ptr(true)}}}
		s.EphemeralContainers = []corev1.EphemeralContainer{{EphemeralContainerCommon: corev1.EphemeralContainerCommon{Name: "debug", Image: "busybox:1.36"}}}
	})
	fs := checkPodFindings(spec)
	if p := find(fs, "MAN002"); len(p) != 1 || p[0].Location.Container != "init" {
		t.Errorf("MAN002 = %+v, want init", p)
	}
	for _, f := range find(fs, "MAN009") {
		if f.Location.Container == "debug" {
			t.Errorf("ephemeral containers take no resources, yet MAN009 for debug")
		}
	}
	if len(find(fs, "MAN008")) == 0 {
		t.Errorf("the ephemeral container's tag-only image is not reported")
	}
}

func TestCheckPodUserNamespaces(t *testing.T) {
	spec := mutate(func(s *corev1.PodSpec) {
		s.HostUsers = ptr(false)
		s.SecurityContext.RunAsNonRoot = nil
		s.SecurityContext.RunAsUser = ptr(int64(0))
	})
	for _, f := range checkPodFindings(spec) {
		if ViolatesPSS(f, "restricted") {
			t.Errorf("user-namespaced pod: %s %v should not violate the PSS", f.Rule, f.Aliases)
		}
	}
}

func TestProcMountWithUserNamespaces(t *testing.T) {
	spec := mutate(func(s *corev1.PodSpec) {
		s.HostUsers = ptr(false)
		app(s).SecurityContext.ProcMount = ptr(corev1.UnmaskedProcMount)
	})
	got := find(checkPodFindings(spec), "PSS006")
	if len(got) != 1 || ViolatesPSS(got[0], "baseline") || !ViolatesPSS(got[0], "restricted") {
		t.Fatalf("PSS006 = %+v: want a restricted-only violation", got)
	}
}

func TestViolatesPSS(t *testing.T) {
	base := report.Finding{Aliases: []string{pssHostNamespaces, "KSV008"}}
	restrictedOnly := report.Finding{Aliases: []string{pssRunAsNonRoot}}
	none := report.Finding{Aliases: []string{"KSV014"}}
	switch {
	case !ViolatesPSS(base, "baseline") || !ViolatesPSS(base, "restricted"):
		t.Error("hostNamespaces is a baseline check")
	case ViolatesPSS(restrictedOnly, "baseline") || !ViolatesPSS(restrictedOnly, "restricted"):
		t.Error("runAsNonRoot is restricted only")
	case ViolatesPSS(none, "restricted") || ViolatesPSS(base, "none"):
		t.Error("no PSS alias, or profile none, violates nothing")
	}
}

func checkPodFindings(spec *corev1.PodSpec) []report.Finding { return CheckPod(web, nil, spec) }

func TestRulesAreWellFormed(t *testing.T) {
	seen := map[string]bool{}
	for _, r := range Rules() {
		if seen[r.ID] || r.Title == "" || r.Description == "" || r.Remediation == "" || r.Category != category || r.Severity == report.SeverityNone {
			t.Errorf("rule %s is incomplete or duplicated", r.ID)
		}
		seen[r.ID] = true
	}
	_ = report.NewCatalog(Rules()) // panics on a duplicate ID
}

// TestCheckPodConcurrent is the webhook's use: many pods checked at once (run with -race).
func TestCheckPodConcurrent(t *testing.T) {
	spec := mutate(func(s *corev1.PodSpec) { app(s).SecurityContext.Privileged = ptr(true) })
	want := len(CheckPod(web, nil, spec))
	errs := make(chan string, 8)
	for range 8 {
		go func() {
			got := CheckPod(web, nil, spec)
			if len(got) != want || got[0].Aliases[0] != pssPrivileged {
				errs <- fmt.Sprintf("%d findings, aliases %v", len(got), got[0].Aliases)
				return
			}
			errs <- ""
		}()
	}
	for range 8 {
		if e := <-errs; e != "" {
			t.Error(e)
		}
	}
}
