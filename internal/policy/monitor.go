package policy

import "go.yaml.in/yaml/v3"

// Monitor is charter.yaml's monitor section: how the runtime monitor reports and which
// events are accepted.
type Monitor struct{}

func (d *decoder) monitor(n *yaml.Node, m *Monitor) error {
	return d.mapping(n, "monitor", nil, func(string, *yaml.Node, *yaml.Node) error { return nil })
}
