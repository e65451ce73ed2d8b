package policy

import "go.yaml.in/yaml/v3"

// Admission is charter.yaml's admission section: what the Kubernetes admission webhook
// requires of the pods it admits.
type Admission struct{}

func (d *decoder) admission(n *yaml.Node, a *Admission) error {
	return d.mapping(n, "admission", nil, func(string, *yaml.Node, *yaml.Node) error { return nil })
}
