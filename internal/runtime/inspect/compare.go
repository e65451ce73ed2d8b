// Package inspect compares how a container really runs (a Docker container, or the pods
// a Kubernetes manifest describes) with the runtime profile its charter asks for, and
// reports every difference as a finding of the PRF rules.
package inspect

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/charterhq/charter/internal/report"
	"github.com/charterhq/charter/internal/runtime/profile"
)

// Settings are one container's effective runtime settings, read from a runtime.
type Settings struct {
	// Location names the container in findings.
	Location report.Location
	// User is "user[:group]" as the runtime has it; "" when none is set.
	User string
	// RunAsNonRoot means the runtime refuses to start the container as root (Kubernetes).
	RunAsNonRoot bool
	Privileged   bool
	ReadOnlyRoot bool
	// Caps is the effective capability set (upper-case, without CAP_).
	Caps            []string
	NoNewPrivileges bool
	// Seccomp is "default" (the runtime's), "custom" (a profile of its own) or
	// "unconfined".
	Seccomp string
	// SeccompProfile is the custom profile's content, when the runtime shows it (Docker
	// keeps the JSON it was given); nil otherwise.
	SeccompProfile *profile.Seccomp
	// MemoryBytes, MilliCPU and Pids are the limits; 0 means none. Pids is -1 where the
	// runtime cannot express one per container (Kubernetes).
	MemoryBytes, MilliCPU, Pids int64
	// HostNamespaces lists the namespaces shared with the host: network, pid, ipc, uts, user.
	HostNamespaces []string
	// WritableMounts are the destinations of writable mounts that are not tmpfs.
	WritableMounts []string
	// Networked is whether the container has a network; NetworkKnown whether the runtime says.
	Networked, NetworkKnown bool
}

// Seccomp modes of Settings.Seccomp.
const (
	SeccompDefault    = "default"
	SeccompCustom     = "custom"
	SeccompUnconfined = "unconfined"
)

// DefaultCaps is the capability set Docker and containerd give a container that drops
// none.
var DefaultCaps = []string{
	"AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD",
	"NET_BIND_SERVICE", "NET_RAW", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT",
}

// EffectiveCaps computes the capabilities a container keeps from the runtime's add and
// drop lists: the default set (or none, when ALL is dropped), plus add, minus drop.
func EffectiveCaps(add, drop []string) []string {
	norm := func(l []string) []string {
		out := make([]string, 0, len(l))
		for _, c := range l {
			out = append(out, strings.TrimPrefix(strings.ToUpper(strings.TrimSpace(c)), "CAP_"))
		}
		return out
	}
	add, drop = norm(add), norm(drop)
	var caps []string
	if !slices.Contains(drop, "ALL") {
		caps = slices.Clone(DefaultCaps)
	}
	if slices.Contains(add, "ALL") {
		return []string{"ALL"}
	}
	for _, c := range add {
		if !slices.Contains(caps, c) {
			caps = append(caps, c)
		}
	}
	caps = slices.DeleteFunc(caps, func(c string) bool { return slices.Contains(drop, c) })
	slices.Sort(caps)
	return caps
}

// Compare reports where s differs from the profile p, each difference once.
func Compare(p *profile.Profile, s Settings) []report.Finding {
	var out []report.Finding
	// A manifest's findings sit at the line where its object starts: the message names
	// the container, as a file may hold several.
	prefix := ""
	if s.Location.Path != "" && s.Location.Container != "" {
		prefix = s.Location.Resource + " [" + s.Location.Container + "]: "
	}
	add := func(r report.Rule, format string, args ...any) {
		out = append(out, r.Finding(s.Location, prefix+fmt.Sprintf(format, args...)))
	}
	if s.Privileged {
		add(rulePRF011, "runs privileged: every capability and device, no seccomp")
	}
	compareUser(p, s, add)
	if !s.ReadOnlyRoot {
		add(rulePRF003, "the root filesystem is writable; the profile mounts it read-only")
	}
	if extra := extraCaps(p, s); len(extra) > 0 {
		add(rulePRF004, "keeps capabilities %s; the charter allows %s", strings.Join(extra, ", "), orNone(p.CapAdd))
	}
	if !s.NoNewPrivileges && !s.Privileged {
		add(rulePRF005, "no-new-privileges is not set (allowPrivilegeEscalation is not false)")
	}
	switch {
	case s.Privileged:
	case s.Seccomp == SeccompUnconfined || s.Seccomp == "":
		add(rulePRF006, "runs without a seccomp filter")
	case s.Seccomp == SeccompDefault && len(p.SeccompDeny) > 0:
		add(rulePRF006, "runs the runtime's default seccomp profile; the charter's profile also denies %s", strings.Join(p.SeccompDeny, ", "))
	case s.SeccompProfile != nil:
		compareSeccomp(p, s.SeccompProfile, add)
	}
	compareLimits(p, s, add)
	for _, ns := range s.HostNamespaces {
		add(rulePRF010, "shares the host's %s namespace", ns)
	}
	for _, m := range s.WritableMounts {
		if !hasTmpfs(p, m) {
			add(rulePRF012, "%s is mounted writable; runtime.writable does not list it", m)
		}
	}
	if s.NetworkKnown && s.Networked && p.NoNetwork() {
		add(rulePRF013, "has a network; the charter allows no egress and the image serves no port")
	}
	return out
}

func orNone(l []string) string {
	if len(l) == 0 {
		return "none"
	}
	return strings.Join(l, ", ")
}

func hasTmpfs(p *profile.Profile, dst string) bool {
	for _, t := range p.Tmpfs {
		if t.Path == dst {
			return true
		}
	}
	return false
}

func extraCaps(p *profile.Profile, s Settings) []string {
	if s.Privileged {
		return nil // PRF011 says it
	}
	var extra []string
	for _, c := range s.Caps {
		if !slices.Contains(p.CapAdd, c) {
			extra = append(extra, c)
		}
	}
	return extra
}

type addFunc func(r report.Rule, format string, args ...any)

func compareUser(p *profile.Profile, s Settings, add addFunc) {
	userPart, groupPart, hasGroup := strings.Cut(s.User, ":")
	switch {
	case s.User == "" && s.RunAsNonRoot:
	case s.User == "":
		add(rulePRF001, "no user is set: the process runs as the image's user, root unless the image says otherwise")
		return
	case userPart == "0" || userPart == "root":
		add(rulePRF001, "runs as %s", userPart)
		return
	}
	if p.User.Source != "charter" {
		return
	}
	want := p.User
	if s.User == "" {
		add(rulePRF002, "sets no user (only runAsNonRoot); the charter's runtime.user is %s", want)
		return
	}
	uid, err := strconv.Atoi(userPart)
	if want.UID < 0 && err == nil {
		return // runtime.user is a name, and no image says which uid it has
	}
	sameUser := err == nil && uid == want.UID || err != nil && userPart == want.Name && want.Name != ""
	gid, gerr := strconv.Atoi(groupPart)
	sameGroup := !hasGroup || want.GID < 0 || gerr == nil && gid == want.GID
	if !sameUser || !sameGroup {
		add(rulePRF002, "runs as %s; the charter's runtime.user is %s", s.User, want)
	}
}

func compareLimits(p *profile.Profile, s Settings, add addFunc) {
	switch {
	case s.MemoryBytes <= 0:
		add(rulePRF007, "no memory limit; the profile sets %s", profile.FormatMemory(p.Limits.MemoryBytes))
	case s.MemoryBytes > p.Limits.MemoryBytes:
		add(rulePRF007, "memory limit %s is above the profile's %s", profile.FormatMemory(s.MemoryBytes), profile.FormatMemory(p.Limits.MemoryBytes))
	}
	switch {
	case s.MilliCPU <= 0:
		add(rulePRF008, "no CPU limit; the profile sets %s", profile.FormatCPU(p.Limits.MilliCPU))
	case s.MilliCPU > p.Limits.MilliCPU:
		add(rulePRF008, "CPU limit %s is above the profile's %s", profile.FormatCPU(s.MilliCPU), profile.FormatCPU(p.Limits.MilliCPU))
	}
	switch {
	case s.Pids < 0:
	case s.Pids == 0:
		add(rulePRF009, "no process limit; the profile sets %d", p.Limits.Pids)
	case s.Pids > p.Limits.Pids:
		add(rulePRF009, "process limit %d is above the profile's %d", s.Pids, p.Limits.Pids)
	}
}

// compareSeccomp checks a custom seccomp profile's content: it must deny by default, and
// allow none of the syscalls the charter denies.
func compareSeccomp(p *profile.Profile, sc *profile.Seccomp, add addFunc) {
	switch sc.DefaultAction {
	case "SCMP_ACT_ALLOW", "SCMP_ACT_LOG", "SCMP_ACT_TRACE", "SCMP_ACT_NOTIFY":
		add(rulePRF006, "runs a custom seccomp profile whose default action is %s: every syscall it does not list is allowed", sc.DefaultAction)
		return
	}
	var allowed []string
	for _, r := range sc.Syscalls {
		if r.Action != "SCMP_ACT_ALLOW" && r.Action != "SCMP_ACT_LOG" {
			continue
		}
		for _, n := range r.Names {
			if slices.Contains(p.SeccompDeny, n) && !slices.Contains(allowed, n) {
				allowed = append(allowed, n)
			}
		}
	}
	if len(allowed) > 0 {
		add(rulePRF006, "runs a custom seccomp profile that allows %s, which the charter denies", strings.Join(allowed, ", "))
	}
}
