package profile

import (
	"bytes"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// composeService is a compose service with the keys the profile sets, in the order a
// reader expects them.
type composeService struct {
	Image       string   `yaml:"image"`
	User        quoted   `yaml:"user"`
	ReadOnly    bool     `yaml:"read_only"`
	Tmpfs       []string `yaml:"tmpfs,omitempty"`
	CapDrop     []string `yaml:"cap_drop"`
	CapAdd      []string `yaml:"cap_add,omitempty"`
	SecurityOpt []string `yaml:"security_opt"`
	MemLimit    string   `yaml:"mem_limit"`
	MemSwap     string   `yaml:"memswap_limit"`
	CPUs        string   `yaml:"cpus"`
	PidsLimit   int64    `yaml:"pids_limit"`
	Privileged  bool     `yaml:"privileged"`
	NetworkMode string   `yaml:"network_mode,omitempty"`
	Expose      []string `yaml:"expose,omitempty"`
}

// quoted is a string YAML always writes in double quotes: "1000:1000" must not be read
// as a YAML 1.1 base-60 number.
type quoted string

// MarshalYAML implements yaml.Marshaler.
func (q quoted) MarshalYAML() (any, error) {
	return &yaml.Node{Kind: yaml.ScalarNode, Style: yaml.DoubleQuotedStyle, Value: string(q)}, nil
}

// Compose renders a compose file holding one service, after the notes as comments.
func (p *Profile) Compose(seccompPath string) ([]byte, error) {
	mem := dockerMemory(p.Limits.MemoryBytes)
	svc := composeService{
		Image: p.Image, User: quoted(p.User.String()), ReadOnly: true,
		CapDrop: []string{"ALL"}, CapAdd: p.CapAdd,
		SecurityOpt: []string{"no-new-privileges:true"},
		MemLimit:    mem, MemSwap: mem,
		CPUs:      decimalCPU(p.Limits.MilliCPU),
		PidsLimit: p.Limits.Pids,
	}
	for _, t := range p.Tmpfs {
		svc.Tmpfs = append(svc.Tmpfs, p.tmpfsSpec(t, dockerMemory(t.SizeBytes)))
	}
	if len(p.SeccompDeny) > 0 {
		svc.SecurityOpt = append(svc.SecurityOpt, "seccomp:"+seccompFile(seccompPath))
	}
	if p.NoNetwork() {
		svc.NetworkMode = "none"
	}
	for _, pt := range p.Ports {
		svc.Expose = append(svc.Expose, strconv.Itoa(pt.Number)+"/"+pt.Protocol)
	}
	doc := map[string]map[string]composeService{"services": {p.Name: svc}}
	var b strings.Builder
	p.header(&b, "#")
	if len(p.Egress) > 0 {
		b.WriteString("# compose cannot limit egress to runtime.egress (" + egressList(p.Egress) + "): enforce it in the network.\n")
	}
	var body bytes.Buffer
	enc := yaml.NewEncoder(&body)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return append([]byte(b.String()), body.Bytes()...), nil
}
