package manifest

import "github.com/charterhq/charter/internal/report"

const (
	category = "manifest"
	pssRef   = "https://kubernetes.io/docs/concepts/security/pod-security-standards/"
	scRef    = "https://kubernetes.io/docs/tasks/configure-pod-container/security-context/"
)

// Pod Security Standards check names, as the Pod Security admission controller reports
// them, prefixed "pss:" to form finding aliases.
const (
	pssHostProcess         = "pss:hostProcess"
	pssHostNamespaces      = "pss:hostNamespaces"
	pssPrivileged          = "pss:privileged"
	pssCapsBaseline        = "pss:capabilities_baseline"
	pssHostPathVolumes     = "pss:hostPathVolumes"
	pssHostPorts           = "pss:hostPorts"
	pssAppArmor            = "pss:appArmorProfile"
	pssSELinux             = "pss:seLinuxOptions"
	pssProcMount           = "pss:procMount"
	pssProcMountRestricted = "pss:procMount_restricted"
	pssSeccompBaseline     = "pss:seccompProfile_baseline"
	pssSysctls             = "pss:sysctls"
	pssHostProbes          = "pss:hostProbesAndHostLifecycle"
	pssRestrictedVolumes   = "pss:restrictedVolumes"
	pssPrivilegeEscalation = "pss:allowPrivilegeEscalation"
	pssRunAsNonRoot        = "pss:runAsNonRoot"
	pssRunAsUser           = "pss:runAsUser"
	pssSeccompRestricted   = "pss:seccompProfile_restricted"
	pssCapsRestricted      = "pss:capabilities_restricted"
)

// baselineChecks are the PSS checks of the "baseline" profile; every other pss: alias
// belongs to "restricted" only (which includes baseline).
var baselineChecks = map[string]bool{
	pssHostProcess: true, pssHostNamespaces: true, pssPrivileged: true, pssCapsBaseline: true,
	pssHostPathVolumes: true, pssHostPorts: true, pssAppArmor: true, pssSELinux: true,
	pssProcMount: true, pssSeccompBaseline: true, pssSysctls: true, pssHostProbes: true,
}

// ViolatesPSS reports whether a finding is a violation of the Pod Security Standards
// profile named ("baseline" or "restricted"; "restricted" includes "baseline"). A MAN
// finding that means the same as a PSS check carries that check's pss: alias, so one
// finding answers both questions.
func ViolatesPSS(f report.Finding, profile string) bool {
	for _, a := range f.Aliases {
		switch {
		case len(a) < 4 || a[:4] != "pss:":
		case profile == "restricted":
			return true
		case profile == "baseline" && baselineChecks[a]:
			return true
		}
	}
	return false
}

// Rule variables: the checks build findings from them.
var (
	ruleDockerSocket = report.Rule{
		ID: "MAN001", Severity: report.Critical,
		Aliases: []string{"KSV006"},
		Title:   "Docker socket mounted",
		Description: "A container that can reach the Docker (or containerd, CRI-O, Podman) socket " +
			"can start a privileged container with the host's root filesystem mounted: it is root " +
			"on the node. Reported for Kubernetes hostPath volumes, compose volumes and CI jobs. " +
			"A Kubernetes finding also carries the Pod Security Standards checks it fails " +
			"(pss:hostPathVolumes, pss:restrictedVolumes).",
		Remediation: "Do not mount the runtime socket. Build images with a daemonless builder " +
			"(BuildKit rootless, kaniko, charter pack) and talk to the cluster API with a scoped " +
			"service account instead.",
		References: []string{pssRef, "https://docs.docker.com/engine/security/#docker-daemon-attack-surface"},
		Category:   category,
		Example:    "volumes:\n  - name: docker\n    hostPath: { path: /var/run/docker.sock }   # MAN001",
	}
	rulePrivileged = report.Rule{
		ID: "MAN002", Severity: report.Critical,
		Aliases: []string{pssPrivileged, "KSV017"},
		Title:   "Privileged container",
		Description: "A privileged container has every capability, every host device and no " +
			"seccomp, AppArmor or SELinux confinement: escaping to the node is trivial. Covers " +
			"securityContext.privileged, compose privileged: true, and CI jobs running " +
			"docker-in-docker privileged.",
		Remediation: "Remove privileged: true. Add only the one capability the process needs " +
			"(and drop ALL others); for docker-in-docker in CI use a daemonless builder.",
		References: []string{pssRef, scRef},
		Category:   category,
		Example:    "securityContext:\n  privileged: false",
	}
	ruleRoot = report.Rule{
		ID: "MAN003", Severity: report.High,
		Aliases: []string{pssRunAsNonRoot, pssRunAsUser, "KSV012"},
		Title:   "Container may run as root",
		Description: "Without runAsNonRoot: true the image's USER decides, and most images run " +
			"as root; runAsUser: 0 asks for root outright. Root in a container is root on the " +
			"host's kernel, one bug away from the node. Container settings override the pod's, " +
			"as Kubernetes applies them. In compose, a service without user: (or with user: root " +
			"or 0) runs as the image's user, usually root.",
		Remediation: "Set securityContext.runAsNonRoot: true and a numeric runAsUser (e.g. 65532) " +
			"on the pod or on each container; in compose set user: \"65532:65532\".",
		References: []string{pssRef, scRef},
		Category:   category,
		Example:    "securityContext:\n  runAsNonRoot: true\n  runAsUser: 65532",
	}
	ruleEscalation = report.Rule{
		ID: "MAN004", Severity: report.Medium,
		Aliases: []string{pssPrivilegeEscalation, "KSV001"},
		Title:   "allowPrivilegeEscalation not false",
		Description: "Unless allowPrivilegeEscalation is false, a setuid binary or file " +
			"capability in the image can give a process more privileges than its parent " +
			"(no_new_privs is not set). Kubernetes defaults it to true. In compose the same is " +
			"security_opt: [no-new-privileges:true].",
		Remediation: "Set securityContext.allowPrivilegeEscalation: false on every container.",
		References:  []string{pssRef, scRef},
		Category:    category,
		Example:     "securityContext:\n  allowPrivilegeEscalation: false",
	}
	ruleReadOnlyRoot = report.Rule{
		ID: "MAN005", Severity: report.Medium,
		Aliases: []string{"KSV014"},
		Title:   "Root filesystem not read-only",
		Description: "A writable root filesystem lets an attacker drop tools, change binaries " +
			"and persist inside the container; drift is also harder to see.",
		Remediation: "Set securityContext.readOnlyRootFilesystem: true (compose: read_only: true) " +
			"and mount an emptyDir (tmpfs) where the program must write.",
		References: []string{scRef},
		Category:   category,
		Example:    "securityContext:\n  readOnlyRootFilesystem: true",
	}
	ruleCapabilities = report.Rule{
		ID: "MAN006", Severity: report.High,
		Aliases: []string{pssCapsRestricted, pssCapsBaseline, "KSV003", "KSV022"},
		Title:   "Capabilities not dropped",
		Description: "Containers start with a default set of Linux capabilities (NET_RAW, " +
			"CHOWN, SETUID, ...) that most programs never use; adding more (SYS_ADMIN, " +
			"NET_ADMIN, SYS_PTRACE) opens kernel attack surface and container escapes. The " +
			"restricted profile requires drop: [ALL] and allows adding only NET_BIND_SERVICE; " +
			"baseline forbids adding anything beyond the default set.",
		Remediation: "Set capabilities: { drop: [ALL] } and add back only NET_BIND_SERVICE if " +
			"the program binds a port below 1024 (compose: cap_drop: [ALL]).",
		References: []string{pssRef, scRef},
		Category:   category,
		Example:    "securityContext:\n  capabilities:\n    drop: [ALL]",
	}
	ruleHostNamespaces = report.Rule{
		ID: "MAN007", Severity: report.High,
		Aliases: []string{pssHostNamespaces, "KSV008", "KSV009", "KSV010"},
		Title:   "Host namespaces shared",
		Description: "hostNetwork lets the pod sniff and bind the node's interfaces and reach " +
			"services bound to localhost; hostPID lets it see and signal every process on the " +
			"node; hostIPC lets it read other processes' shared memory. Compose's " +
			"network_mode: host, pid: host and ipc: host do the same.",
		Remediation: "Remove hostNetwork, hostPID and hostIPC (compose: network_mode, pid, ipc: host).",
		References:  []string{pssRef},
		Category:    category,
		Example:     "spec:\n  hostNetwork: false",
	}
	ruleImageTag = report.Rule{
		ID: "MAN008", Severity: report.High,
		Aliases: []string{"KSV013"},
		Title:   "Image not pinned",
		Description: "An image by :latest or with no tag changes under the workload whenever " +
			"someone pushes, and nodes may run different images for one spec. A tag without a " +
			"digest can also be moved (MEDIUM). Only a digest names exactly what was reviewed, " +
			"scanned and signed.",
		Remediation: "Reference images by digest: registry/app:1.4.2@sha256:<digest> " +
			"(charter admission's mutating endpoint can pin tags to the digests it verified).",
		References: []string{"https://kubernetes.io/docs/concepts/containers/images/#image-names"},
		Category:   category,
		Example:    "image: registry.example.com/app:1.4.2@sha256:…",
	}
	ruleLimits = report.Rule{
		ID: "MAN009", Severity: report.Medium,
		Aliases: []string{"KSV011", "KSV018"},
		Title:   "No CPU or memory limit",
		Description: "A container without limits can use all of its node's memory or CPU: one " +
			"leak or one busy loop starves its neighbours, and the kernel's OOM killer picks " +
			"victims that are not the culprit.",
		Remediation: "Set resources.limits.memory and resources.limits.cpu (and requests) on " +
			"every container and init container.",
		References: []string{"https://kubernetes.io/docs/concepts/configuration/manage-resources-containers/"},
		Category:   category,
		Example:    "resources:\n  limits: { cpu: 500m, memory: 256Mi }",
	}
	ruleSeccomp = report.Rule{
		ID: "MAN010", Severity: report.Medium,
		Aliases: []string{pssSeccompRestricted, pssSeccompBaseline, "KSV030"},
		Title:   "Seccomp not RuntimeDefault or Localhost",
		Description: "Without a seccomp profile a container may call every system call, " +
			"including the rarely used ones most kernel exploits need. The restricted profile " +
			"requires RuntimeDefault or Localhost (on the pod, or on every container); " +
			"baseline forbids Unconfined. Compose: security_opt seccomp:unconfined.",
		Remediation: "Set securityContext.seccompProfile.type: RuntimeDefault on the pod.",
		References:  []string{pssRef, "https://kubernetes.io/docs/tutorials/security/seccomp/"},
		Category:    category,
		Example:     "securityContext:\n  seccompProfile: { type: RuntimeDefault }",
	}
	ruleSecretEnv = report.Rule{
		ID: "MAN011", Severity: report.High,
		Title: "Secret literal in environment",
		Description: "A password, token or key written into a manifest, compose file or CI " +
			"variable sits in version control, in every rendered copy and in the API server's " +
			"object for anyone who can read the workload. The evidence is redacted.",
		Remediation: "Move the value into a Secret and reference it with valueFrom.secretKeyRef " +
			"(compose: secrets:, or an env_file kept out of version control), then rotate it.",
		References: []string{"https://kubernetes.io/docs/concepts/configuration/secret/"},
		Category:   category,
		Example:    "env:\n  - name: DB_PASSWORD\n    valueFrom: { secretKeyRef: { name: db, key: password } }",
	}
	ruleSensitiveHostPath = report.Rule{
		ID: "MAN012", Severity: report.High,
		Title: "Sensitive host path mounted",
		Description: "Mounting /, /etc, /proc, /sys, /var/run, /root, /home (or the kubelet's " +
			"and container runtime's state) exposes host credentials, other pods' secrets and " +
			"kernel knobs; a writable mount is a direct path to the node. A Kubernetes finding " +
			"also carries pss:hostPathVolumes and pss:restrictedVolumes.",
		Remediation: "Use a ConfigMap, Secret, projected or emptyDir volume; if a host path is " +
			"unavoidable (a node agent), mount the narrowest file read-only.",
		References: []string{pssRef},
		Category:   category,
		Example:    "volumes:\n  - name: config\n    configMap: { name: app }",
	}
)

// Pod Security Standards checks that no MAN rule covers.
var (
	ruleHostProcess = report.Rule{
		ID: "PSS001", Severity: report.High, Aliases: []string{pssHostProcess},
		Title:       "Windows HostProcess container",
		Description: "A HostProcess container runs directly on the Windows node with host privileges.",
		Remediation: "Remove securityContext.windowsOptions.hostProcess.",
		References:  []string{pssRef}, Category: category,
	}
	ruleHostPath = report.Rule{
		ID: "PSS002", Severity: report.Medium, Aliases: []string{pssHostPathVolumes, "KSV023"},
		Title: "hostPath volume",
		Description: "A hostPath volume gives the pod a piece of the node's filesystem: it " +
			"survives the pod, is shared with other pods on the node, and is forbidden by " +
			"both Pod Security Standards profiles. Sensitive paths are MAN012; the Docker " +
			"socket is MAN001.",
		Remediation: "Use an emptyDir, ConfigMap, Secret, or a PersistentVolumeClaim.",
		References:  []string{pssRef}, Category: category,
	}
	ruleHostPorts = report.Rule{
		ID: "PSS003", Severity: report.Medium, Aliases: []string{pssHostPorts},
		Title: "hostPort used",
		Description: "A hostPort binds the node's address, bypassing network policy and " +
			"limiting where the pod can be scheduled.",
		Remediation: "Remove hostPort; expose the port with a Service.",
		References:  []string{pssRef}, Category: category,
	}
	ruleAppArmor = report.Rule{
		ID: "PSS004", Severity: report.Medium, Aliases: []string{pssAppArmor},
		Title:       "AppArmor profile disabled",
		Description: "An Unconfined AppArmor profile (field or annotation) removes the runtime's default confinement.",
		Remediation: "Leave appArmorProfile unset, or set type RuntimeDefault or Localhost.",
		References:  []string{pssRef}, Category: category,
	}
	ruleSELinux = report.Rule{
		ID: "PSS005", Severity: report.Medium, Aliases: []string{pssSELinux},
		Title: "Custom SELinux options",
		Description: "Setting an SELinux user or role, or a type other than container_t, " +
			"container_init_t, container_kvm_t or container_engine_t, can lift the " +
			"container's confinement.",
		Remediation: "Remove seLinuxOptions.user and .role; use one of the container types.",
		References:  []string{pssRef}, Category: category,
	}
	ruleProcMount = report.Rule{
		ID: "PSS006", Severity: report.High, Aliases: []string{pssProcMount, pssProcMountRestricted},
		Title: "Unmasked /proc",
		Description: "procMount: Unmasked exposes /proc paths the runtime masks (kernel memory, keys, timers). " +
			"The baseline profile allows it in a user-namespaced pod (hostUsers: false); restricted never does.",
		Remediation: "Remove securityContext.procMount or set it to Default.",
		References:  []string{pssRef}, Category: category,
	}
	ruleSysctls = report.Rule{
		ID: "PSS007", Severity: report.Medium, Aliases: []string{pssSysctls},
		Title: "Unsafe sysctl",
		Description: "Only namespaced, isolated sysctls are safe to set from a pod; others " +
			"change the node's kernel for every pod on it.",
		Remediation: "Remove the sysctl, or set it on the node instead.",
		References:  []string{pssRef, "https://kubernetes.io/docs/tasks/administer-cluster/sysctl-cluster/"},
		Category:    category,
	}
	ruleVolumeTypes = report.Rule{
		ID: "PSS008", Severity: report.Low, Aliases: []string{pssRestrictedVolumes},
		Title: "Volume type outside the restricted set",
		Description: "The restricted profile allows only configMap, csi, downwardAPI, emptyDir, " +
			"ephemeral, image, persistentVolumeClaim, projected and secret volumes; other " +
			"in-tree types (nfs, iscsi, rbd, ...) are mounted by the node with its privileges. " +
			"hostPath is PSS002, MAN012 or MAN001.",
		Remediation: "Use a PersistentVolumeClaim backed by a CSI driver.",
		References:  []string{pssRef}, Category: category,
	}
	ruleHostProbes = report.Rule{
		ID: "PSS009", Severity: report.Medium, Aliases: []string{pssHostProbes},
		Title: "Probe or lifecycle hook targets another host",
		Description: "A probe or lifecycle handler with host: set makes the kubelet connect " +
			"to that address from the node's network, reaching what the pod itself cannot.",
		Remediation: "Remove host: from httpGet and tcpSocket probes and hooks.",
		References:  []string{pssRef}, Category: category,
	}
)

// Rules lists every rule of this package: MAN001–MAN012 and the Pod Security Standards
// checks (PSS001–PSS009) that no MAN rule already covers.
func Rules() []report.Rule {
	return []report.Rule{
		ruleDockerSocket, rulePrivileged, ruleRoot, ruleEscalation, ruleReadOnlyRoot,
		ruleCapabilities, ruleHostNamespaces, ruleImageTag, ruleLimits, ruleSeccomp,
		ruleSecretEnv, ruleSensitiveHostPath,
		ruleHostProcess, ruleHostPath, ruleHostPorts, ruleAppArmor, ruleSELinux,
		ruleProcMount, ruleSysctls, ruleVolumeTypes, ruleHostProbes,
	}
}
