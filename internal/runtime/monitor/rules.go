package monitor

import (
	"path"
	"strings"

	"github.com/charterhq/charter/internal/report"
)

// Rule IDs.
const (
	RT001 = "RT001"
	RT002 = "RT002"
	RT003 = "RT003"
	RT004 = "RT004"
	RT005 = "RT005"
)

const falcoRules = "https://github.com/falcosecurity/rules/blob/main/rules/falco_rules.yaml"

// Rules lists the runtime rules for `charter rules`. Aliases are Falco's rule names with
// the same meaning, so a team moving from Falco finds its alerts and exceptions again.
func Rules() []report.Rule {
	return []report.Rule{
		{ID: RT001, Aliases: []string{"Terminal shell in container"},
			Severity: report.High, Category: "runtime", Title: "Shell spawned in a container",
			Description: "A shell started inside a running container. Images built for one service rarely need " +
				"one after start-up; a shell is how an intruder or a debugging session explores. The container's " +
				"entrypoint (pid 1 in the container) is not counted.",
			Remediation: "Find who ran it (proc.cmdline, parent pid). If the service legitimately runs shell " +
				"scripts, add a monitor exception for that process with its reason; better, remove the shell from the image.",
			References: []string{falcoRules}},
		{ID: RT002, Aliases: []string{"Drop and execute new binary in container"},
			Severity: report.High, Category: "runtime", Title: "Executable that was not in the image ran (drift)",
			Description: "A process ran a file that is not in the container's image, or one the image holds but that " +
				"was written over or replaced after the container started: it was downloaded, written or copied in. " +
				"The alert's evt.drift says which (new or modified). Immutable containers never do this; attackers' " +
				"tooling usually does.",
			Remediation: "Rebuild the image with the tool in it if it is needed, make the root filesystem " +
				"read-only, and find how the file got there.",
			References: []string{falcoRules}},
		{ID: RT003, Aliases: []string{"Unexpected outbound connection destination"},
			Severity: report.High, Category: "runtime", Title: "Outbound connection outside the egress allowlist",
			Description: "A process in a container connected to an address and port that charter.yaml's " +
				"runtime.egress does not list. Data leaves through such connections, and command-and-control " +
				"channels come in through them.",
			Remediation: "Add the destination to runtime.egress if the service needs it; otherwise find the " +
				"process and block the destination with a NetworkPolicy.",
			References: []string{falcoRules}},
		{ID: RT004, Aliases: []string{"Write below etc"},
			Severity: report.High, Category: "runtime", Title: "Write below a system directory",
			Description: "A process in a container opened a file below /etc, /usr, /bin, /sbin, /lib or /boot for " +
				"writing: configuration or binaries changing at run time, the usual step after a break-in.",
			Remediation: "Run with a read-only root filesystem (runtime.readOnlyRootFilesystem) and writable tmpfs " +
				"mounts only where the service writes.",
			References: []string{falcoRules}},
		{ID: RT005, Aliases: []string{"Read sensitive file untrusted"},
			Severity: report.High, Category: "runtime", Title: "Read of a sensitive file",
			Description: "A process in a container opened /etc/shadow, /etc/gshadow, sudoers, SSH private keys or a " +
				"Kubernetes service-account token: credentials an attacker reads first.",
			Remediation: "If the service needs the token, add an exception for that process with its reason; " +
				"otherwise set automountServiceAccountToken: false and keep keys out of the image.",
			References: []string{falcoRules}},
	}
}

// moreFalcoNames are Falco's other rule names that mean the same as an RT rule: an
// exception may name them too. The catalog carries one alias per rule to stay readable.
var moreFalcoNames = map[string]string{
	"Run shell untrusted":                       RT001,
	"Container Drift Detected (open+create)":    RT002,
	"Container Drift Detected (chmod)":          RT002,
	"Outbound Connection to C2 Servers":         RT003,
	"Write below binary dir":                    RT004,
	"Write below root":                          RT004,
	"Read sensitive file trusted after startup": RT005,
}

var shells = map[string]bool{
	"sh": true, "bash": true, "ash": true, "dash": true, "zsh": true, "ksh": true, "mksh": true,
	"csh": true, "tcsh": true, "fish": true, "hush": true,
}

// isShell reports whether an exec started a shell, by the file's name or the new
// process's name (busybox's applets keep the name they were called by).
func isShell(e *Event) bool {
	return shells[path.Base(e.Path)] || shells[e.Comm]
}

// systemDirs are the directories RT004 guards.
var systemDirs = []string{"/etc", "/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/boot"}

func belowSystemDir(p string) bool {
	for _, d := range systemDirs {
		if strings.HasPrefix(p, d+"/") {
			return true
		}
	}
	return false
}

// sensitive reports whether p is a file RT005 guards.
func sensitive(p string) bool {
	switch p {
	case "/etc/shadow", "/etc/gshadow", "/etc/shadow-", "/etc/gshadow-", "/etc/sudoers",
		"/var/run/secrets/kubernetes.io/serviceaccount/token", "/run/secrets/kubernetes.io/serviceaccount/token":
		return true
	}
	if strings.HasPrefix(p, "/etc/sudoers.d/") || strings.HasPrefix(p, "/root/.ssh/") {
		return true
	}
	if strings.HasPrefix(p, "/etc/ssh/ssh_host_") && strings.HasSuffix(p, "_key") {
		return true
	}
	if rest, ok := strings.CutPrefix(p, "/home/"); ok {
		_, after, found := strings.Cut(rest, "/")
		return found && strings.HasPrefix(after, ".ssh/")
	}
	return false
}
