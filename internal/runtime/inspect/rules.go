package inspect

import "github.com/charterhq/charter/internal/report"

const (
	category   = "runtime"
	refProfile = "https://docs.docker.com/engine/security/"
	refK8s     = "https://kubernetes.io/docs/tasks/configure-pod-container/security-context/"
	refPSS     = "https://kubernetes.io/docs/concepts/security/pod-security-standards/"
	fixProfile = "Deploy with the settings `charter profile IMAGE` prints for this runtime (--format docker, compose or kubernetes), or change the charter's runtime section if the contract is what is wrong."
)

func rule(id string, sev report.Severity, title, desc, fix string, refs ...string) report.Rule {
	return report.Rule{
		ID: id, Severity: sev, Title: title, Description: desc,
		Remediation: fix + " " + fixProfile, References: append(refs, refProfile), Category: category,
	}
}

var (
	rulePRF001 = rule("PRF001", report.High, "Container may run as root",
		"The container runs as root: no user is set (so the image's, which may be root, applies), "+
			"or the user is root or UID 0. The charter's profile runs every image as a non-root user.",
		"Set the user (docker run --user UID:GID; Kubernetes runAsUser and runAsNonRoot: true).", refK8s)
	rulePRF002 = rule("PRF002", report.Medium, "User differs from the charter",
		"The container runs as another user than the charter's runtime.user, so files and "+
			"permissions the contract was written for do not apply.",
		"Run as runtime.user.", refK8s)
	rulePRF003 = rule("PRF003", report.Medium, "Root filesystem writable",
		"The container's root filesystem is writable, while the profile mounts it read-only: "+
			"an intruder can drop tools and change binaries, and the image no longer says what runs.",
		"Mount the root read-only (docker run --read-only; readOnlyRootFilesystem: true) with tmpfs at runtime.writable.", refK8s)
	rulePRF004 = rule("PRF004", report.High, "Capabilities beyond the charter",
		"The container keeps Linux capabilities the charter does not list in "+
			"runtime.capabilities.add (the runtime's default set when ALL is not dropped).",
		"Drop ALL capabilities and add back only runtime.capabilities.add.", refK8s)
	rulePRF005 = rule("PRF005", report.Medium, "Privilege escalation allowed",
		"no-new-privileges is not set (allowPrivilegeEscalation is not false): a setuid binary or "+
			"file capabilities can give the process more privileges than it started with.",
		"Set no-new-privileges (docker run --security-opt no-new-privileges=true; allowPrivilegeEscalation: false).", refK8s)
	rulePRF006 = rule("PRF006", report.Medium, "Seccomp not applied",
		"The container runs without a seccomp filter (unconfined, or Kubernetes with no "+
			"seccompProfile, which the kubelet treats as unconfined unless SeccompDefault is on), "+
			"or with the runtime's default where the charter narrows it, or with a custom "+
			"profile (its content as Docker keeps it) that allows every syscall by default or "+
			"one runtime.seccomp.deny lists: syscalls the contract rules out are reachable.",
		"Use the runtime's default profile (RuntimeDefault) or the charter's narrowed one (Localhost, --security-opt seccomp=FILE).", refPSS)
	rulePRF007 = rule("PRF007", report.Medium, "Memory limit missing or above the charter",
		"The container has no memory limit, or a higher one than the profile: one leaking "+
			"process can take the node's memory.",
		"Set the memory limit (docker run --memory, with --memory-swap equal; resources.limits.memory).")
	rulePRF008 = rule("PRF008", report.Low, "CPU limit missing or above the charter",
		"The container has no CPU limit, or a higher one than the profile.",
		"Set the CPU limit (docker run --cpus; resources.limits.cpu).")
	rulePRF009 = rule("PRF009", report.Low, "Process limit missing or above the charter",
		"The container has no limit on processes and threads, or a higher one than the profile: a fork bomb reaches the node.",
		"Set the process limit (docker run --pids-limit; the kubelet's podPidsLimit).")
	rulePRF010 = rule("PRF010", report.High, "Host namespace shared",
		"The container shares a namespace with the host (network, PID, IPC, UTS or user): it "+
			"sees the host's processes or interfaces and can reach what only the host should.",
		"Remove --network/--pid/--ipc/--uts/--userns host (hostNetwork, hostPID, hostIPC).", refPSS)
	rulePRF011 = rule("PRF011", report.Critical, "Privileged container",
		"A privileged container has every capability, every device and no seccomp or AppArmor "+
			"confinement: root in it is root on the host.",
		"Remove --privileged (privileged: true).", refPSS)
	rulePRF012 = rule("PRF012", report.Medium, "Writable mount outside runtime.writable",
		"A writable bind mount, volume or host path is mounted where the charter declares no "+
			"writable path: data can be changed, or persisted, beyond what the contract allows.",
		"Mount it read-only, or declare the path in runtime.writable (a tmpfs) if the process must write there.", refK8s)
	rulePRF013 = rule("PRF013", report.Low, "Network attached though no egress is allowed",
		"The charter allows no egress and the image serves no port, so the profile runs the "+
			"container without a network; this one has one.",
		"Run with --network none, or declare the destinations in runtime.egress.")
)

// Rules lists the runtime profile drift rules, PRF001–PRF013.
func Rules() []report.Rule {
	return []report.Rule{
		rulePRF001, rulePRF002, rulePRF003, rulePRF004, rulePRF005, rulePRF006, rulePRF007,
		rulePRF008, rulePRF009, rulePRF010, rulePRF011, rulePRF012, rulePRF013,
	}
}
