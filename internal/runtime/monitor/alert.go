package monitor

import (
	"fmt"
	"strings"
	"time"

	"github.com/charterhq/charter/internal/report"
)

// Alert is one rule that fired on one event. Its JSON form follows Falco's output so that
// the tools reading Falco's alerts (falcosidekick, log pipelines) read these too.
type Alert struct {
	Time     time.Time `json:"time"`
	Rule     string    `json:"rule"`
	Aliases  []string  `json:"aliases,omitempty"`
	Severity string    `json:"severity"`
	// Priority is Falco's word for the severity.
	Priority string `json:"priority"`
	Title    string `json:"title"`
	// Output is the one-line message a person reads.
	Output string `json:"output"`
	Source string `json:"source"`
	// Hostname is the machine the monitor runs on.
	Hostname string `json:"hostname,omitempty"`
	// Fields are the event's details under Falco's field names (proc.name, container.id, fd.name…).
	Fields map[string]any `json:"output_fields"`
	// Enforced says what the monitor did about it ("killed"), when enforcement is on.
	Enforced string `json:"enforced,omitempty"`
}

// priority maps charter's severities to Falco's priorities.
func priority(s report.Severity) string {
	switch s {
	case report.Critical:
		return "Critical"
	case report.High:
		return "Error"
	case report.Medium:
		return "Warning"
	case report.Low:
		return "Notice"
	}
	return "Informational"
}

// fields are an event's details as Falco names them.
func fields(e *Event, c *Container) map[string]any {
	f := map[string]any{
		"evt.type":     evtType(e),
		"proc.pid":     e.PID,
		"proc.ppid":    e.PPID,
		"proc.vpid":    e.VPID,
		"proc.name":    e.Comm,
		"user.uid":     e.UID,
		"container.id": c.Short(),
	}
	if e.Kind == KindExec {
		f["proc.exepath"] = e.Path
		f["proc.cmdline"] = cmdline(e)
	}
	if c.Name != "" {
		f["container.name"] = c.Name
	}
	if c.Image != "" {
		repo, tag := splitImage(c.Image)
		f["container.image.repository"] = repo
		if tag != "" {
			f["container.image.tag"] = tag
		}
	}
	if c.ImageID != "" {
		f["container.image.id"] = c.ImageID
	}
	f["container.runtime"] = c.Runtime
	if c.PodUID != "" {
		f["k8s.pod.uid"] = c.PodUID
	}
	if c.PodName != "" {
		f["k8s.pod.name"] = c.PodName
	}
	if c.Namespace != "" {
		f["k8s.ns.name"] = c.Namespace
	}
	switch e.Kind {
	case KindOpen:
		f["fd.name"] = e.Path
		f["evt.arg.flags"] = openFlags(e.Flags)
	case KindConnect:
		f["fd.name"] = e.Dest.String()
		f["fd.sip"] = e.Dest.Addr().String()
		f["fd.sport"] = e.Dest.Port()
	}
	return f
}

func evtType(e *Event) string {
	switch e.Kind {
	case KindExec:
		return "execve"
	case KindConnect:
		return "connect"
	}
	return "openat"
}

// cmdline is the command line as Falco prints it: the process name, then its arguments.
func cmdline(e *Event) string {
	if len(e.Args) == 0 {
		return e.Comm
	}
	return strings.Join(append([]string{e.Comm}, e.Args[1:]...), " ")
}

// splitImage splits "repo:tag" (a registry port is not a tag); a digest stays in repo.
func splitImage(ref string) (repo, tag string) {
	if strings.Contains(ref, "@") {
		return ref, ""
	}
	i := strings.LastIndexByte(ref, ':')
	if i < 0 || strings.Contains(ref[i:], "/") {
		return ref, ""
	}
	return ref[:i], ref[i+1:]
}

func openFlags(f uint32) string {
	var parts []string
	switch f & 3 {
	case 0:
		parts = append(parts, "O_RDONLY")
	case 1:
		parts = append(parts, "O_WRONLY")
	case 2:
		parts = append(parts, "O_RDWR")
	}
	for _, fl := range []struct {
		bit  uint32
		name string
	}{{0o100, "O_CREAT"}, {0o1000, "O_TRUNC"}, {0o2000, "O_APPEND"}} {
		if f&fl.bit != 0 {
			parts = append(parts, fl.name)
		}
	}
	return strings.Join(parts, "|")
}

// describe is the alert's one-line output; drift is RT002's kind.
func describe(rule string, e *Event, c *Container, drift string) string {
	who := fmt.Sprintf("container=%s", c.Short())
	if c.Name != "" {
		who += " name=" + c.Name
	}
	if c.PodName != "" {
		who += " pod=" + c.PodName
		if c.Namespace != "" {
			who += " namespace=" + c.Namespace
		}
	}
	if c.Image != "" {
		who += " image=" + c.Image
	}
	proc := fmt.Sprintf("proc=%s pid=%d", e.Comm, e.PID)
	switch rule {
	case RT001:
		return fmt.Sprintf("Shell spawned in a container (%s shell=%s cmdline=%q parent_pid=%d %s)",
			proc, e.Path, cmdline(e), e.PPID, who)
	case RT002:
		what := "Executable not in the image ran"
		if drift == driftModified {
			what = "Executable of the image modified since the container started ran"
		}
		return fmt.Sprintf("%s (%s exe=%s drift=%s cmdline=%q %s)", what, proc, e.Path, drift, cmdline(e), who)
	case RT003:
		return fmt.Sprintf("Outbound connection outside the egress allowlist (%s connection=%s %s)", proc, e.Dest, who)
	case RT004:
		return fmt.Sprintf("Write below a system directory (%s file=%s flags=%s %s)", proc, e.Path, openFlags(e.Flags), who)
	}
	return fmt.Sprintf("Sensitive file opened for reading (%s file=%s %s)", proc, e.Path, who)
}
