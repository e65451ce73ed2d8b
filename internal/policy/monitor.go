package policy

import (
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Monitor is charter.yaml's monitor section: how the runtime monitor reports and which
// events are accepted.
type Monitor struct {
	// Exceptions are the events accepted: an alert that matches every field an entry
	// sets is counted but not reported.
	Exceptions []MonitorException `yaml:"exceptions,omitempty"`
}

// MonitorException accepts the alerts of one rule (or of every rule) for a container,
// an image, a process or a path, and says why.
type MonitorException struct {
	// Rule is an RT rule ID or one of its aliases (Falco's rule names); empty: every rule.
	Rule string `yaml:"rule,omitempty"`
	// Container is a glob matched against the container's name, full ID and short ID, and for
	// a Kubernetes container against namespace/pod/container and pod/container too.
	Container string `yaml:"container,omitempty"`
	// Image is a glob matched against the image reference the container was started
	// from and against its image ID.
	Image string `yaml:"image,omitempty"`
	// Process is a glob matched against the process name and its executable's path.
	Process string `yaml:"process,omitempty"`
	// Path is a glob matched against the file (RT004, RT005), the executable (RT001,
	// RT002) or the destination "addr:port" (RT003).
	Path    string `yaml:"path,omitempty"`
	Reason  string `yaml:"reason"`
	Expires string `yaml:"expires,omitempty"`

	line int
}

// Line is where the entry starts in the charter file.
func (e MonitorException) Line() int { return e.line }

func (d *decoder) monitor(n *yaml.Node, m *Monitor) error {
	return d.mapping(n, "monitor", []string{"exceptions"}, func(_ string, _, v *yaml.Node) error {
		m.Exceptions = []MonitorException{}
		return d.list(v, "monitor.exceptions", func(i int, item *yaml.Node) error {
			ex, err := d.monitorException(item, fmt.Sprintf("monitor.exceptions[%d]", i))
			m.Exceptions = append(m.Exceptions, ex)
			return err
		})
	})
}

var monitorExceptionKeys = []string{"rule", "container", "image", "process", "path", "reason", "expires"}

func (d *decoder) monitorException(n *yaml.Node, where string) (MonitorException, error) {
	ex := MonitorException{line: n.Line}
	if n.Kind != yaml.MappingNode {
		return ex, d.errf(n, "%s: want a mapping with a rule, container, image, process or path and a reason, got %s",
			where, describe(n))
	}
	err := d.mapping(n, where, monitorExceptionKeys, func(key string, _, v *yaml.Node) error {
		at := where + "." + key
		if key == "expires" {
			var err error
			ex.Expires, err = d.date(v, at)
			return err
		}
		s, err := d.str(v, at)
		if err != nil {
			return err
		}
		switch key {
		case "rule":
			ex.Rule = s
			if strings.TrimSpace(s) == "" {
				return d.errf(v, "%s: empty rule (write an RT rule ID like RT001, or leave the key out for every rule)", at)
			}
			return nil
		case "reason":
			ex.Reason = s
			return nil
		case "container":
			ex.Container = s
		case "image":
			ex.Image = s
		case "process":
			ex.Process = s
		default:
			ex.Path = s
		}
		return d.check(v, at, validGlob(s))
	})
	if err != nil {
		return ex, err
	}
	if ex.Rule == "" && ex.Container == "" && ex.Image == "" && ex.Process == "" && ex.Path == "" {
		return ex, d.errf(n, "%s: an exception needs at least one of rule, container, image, process or path", where)
	}
	if strings.TrimSpace(ex.Reason) == "" {
		return ex, d.errf(n, "%s: exception has no reason; say why these events are accepted", where)
	}
	return ex, nil
}
