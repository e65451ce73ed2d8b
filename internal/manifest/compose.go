package manifest

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/types"
	"go.yaml.in/yaml/v3"

	"github.com/charterhq/charter/internal/report"
)

// LintCompose checks a compose file's services. The file is read on its own: variables
// take their ${VAR:-default} defaults (else stay empty), and include, extends and
// env_file are not followed, so nothing outside the file is read.
func LintCompose(path string, data []byte) (*Result, error) {
	docs, err := decodeDocuments(data)
	if err != nil {
		return nil, err
	}
	if len(docs) == 0 {
		return &Result{}, nil
	}
	root := docs[0]
	proj, err := loadCompose(path, root)
	if err != nil {
		return nil, composeError(path, root, err)
	}
	services, _ := child(root, "services")
	r := &Result{}
	names := make([]string, 0, len(proj.Services))
	for name := range proj.Services {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		node, key := child(services, name)
		if node == nil {
			continue // a service from an anchor merge the loader resolved differently
		}
		c := composeCheck{path: path, name: name, node: node, keyLine: key.Line}
		c.service(proj.Services[name])
		r.Findings = append(r.Findings, c.out...)
		r.Objects++
	}
	starts := make([]int, len(docs))
	for i, d := range docs {
		starts[i] = d.Line
	}
	parsePragmas(data, starts).apply(r.Findings)
	return r, nil
}

// loadCompose loads the file's model with compose-go, reading nothing else. Variables
// are first all set and empty, so ${VAR:-default} takes its default and the loader
// has nothing to warn about; when that leaves a typed field empty (cpus: ${CPUS}) or
// trips ${VAR:?message}, every variable is set to "1" instead.
func loadCompose(path string, root *yaml.Node) (*types.Project, error) {
	proj, err := loadComposeWith(path, root, "")
	if err != nil {
		if p, err2 := loadComposeWith(path, root, "1"); err2 == nil {
			return p, nil
		}
	}
	return proj, err
}

func loadComposeWith(path string, root *yaml.Node, value string) (proj *types.Project, err error) {
	// The loader asserts the types of some fields it normalises (a null pid: panicked
	// in compose-go v2.16.2): a file it cannot read is an error, never a crash.
	defer func() {
		if r := recover(); r != nil {
			proj, err = nil, fmt.Errorf("the compose loader cannot read it (%v): look for a field left empty", r)
		}
	}()
	var model map[string]any
	if err := root.Decode(&model); err != nil {
		return nil, yamlError(err)
	}
	if model == nil {
		return nil, &ParseError{Line: root.Line, Err: errors.New("not a compose file: want a mapping with a services key")}
	}
	delete(model, "version") // obsolete; the loader would log about it
	details := types.ConfigDetails{
		WorkingDir:  "/nonexistent-charter-lint",
		ConfigFiles: []types.ConfigFile{{Filename: path, Config: model}},
		Environment: types.Mapping{},
	}
	return loader.LoadWithContext(context.Background(), details, func(o *loader.Options) {
		o.Interpolate.LookupValue = func(string) (string, bool) { return value, true }
		o.SetProjectName("charter-lint", true)
		o.SkipInclude = true
		o.SkipExtends = true
		o.SkipResolveEnvironment = true
		o.SkipResolveLabels = true
		o.SkipConsistencyCheck = true
		o.ResolvePaths = false
		o.Profiles = []string{"*"}
	})
}

var reComposePath = regexp.MustCompile(`(services(?:\.[^\s:]+)?)`)

// composeError places a loader error at the line of the field it names.
func composeError(path string, root *yaml.Node, err error) error {
	var pe *ParseError
	if errors.As(err, &pe) {
		return err
	}
	msg := err.Error()
	msg = strings.TrimPrefix(strings.TrimPrefix(msg, "validating "), path+": ")
	line := 0
	if m := reComposePath.FindString(msg); m != "" {
		line = lineOf(root, strings.Split(strings.TrimSuffix(m, "."), "."))
	}
	return &ParseError{Line: line, Err: errors.New(msg)}
}

// composeCheck holds one service's evaluation.
type composeCheck struct {
	path, name string
	node       *yaml.Node
	keyLine    int // the line of the service's name
	out        []report.Finding
}

func (c *composeCheck) report(rule report.Rule, line int, msg string) *report.Finding {
	f := rule.Finding(report.Location{Path: c.path, Line: line, Resource: "service/" + c.name}, "service "+c.name+": "+msg)
	f.Aliases = nil // the peer IDs and PSS checks name Kubernetes fields
	c.out = append(c.out, f)
	return &c.out[len(c.out)-1]
}

// line returns the line of a field of the service, or of the service's name when the
// field is not written.
func (c *composeCheck) line(path ...string) int {
	if v, _ := child(c.node, path[0]); v == nil {
		return c.keyLine
	}
	return lineOf(c.node, path)
}

func (c *composeCheck) service(s types.ServiceConfig) {
	if s.Privileged {
		c.report(rulePrivileged, c.line("privileged"), "privileged: true gives the container every capability and device of the host")
	}
	c.user(s.User)
	if !s.ReadOnly {
		c.report(ruleReadOnlyRoot, c.line("read_only"), "read_only is not true: the container's filesystem is writable")
	}
	c.capabilities(s)
	c.securityOpts(s.SecurityOpt)
	var host []string
	for _, ns := range []struct{ key, val string }{{"network_mode", s.NetworkMode}, {"pid", s.Pid}, {"ipc", s.Ipc}, {"userns_mode", s.UserNSMode}} {
		if ns.val == "host" {
			host = append(host, ns.key+": host")
		}
	}
	if len(host) > 0 {
		key := strings.SplitN(host[0], ":", 2)[0]
		c.report(ruleHostNamespaces, c.line(key), "shares the host's namespaces: "+strings.Join(host, ", "))
	}
	c.volumes(s.Volumes)
	c.limits(s)
	if s.Build == nil && s.Image != "" {
		if msg, sev := imageProblem(s.Image); msg != "" {
			if raw := scalar(c.node, "image"); strings.Contains(raw, "$") {
				msg = strings.Replace(msg, s.Image, raw, 1)
			}
			f := c.report(ruleImageTag, c.line("image"), msg)
			f.Severity = sev
			f.Location.Image = s.Image
		}
	}
	c.environment()
}

// limits reports a service with no memory or no CPU limit: mem_limit / cpus (or
// cpu_quota), or deploy.resources.limits, which Compose applies to a single host too.
func (c *composeCheck) limits(s types.ServiceConfig) {
	mem, cpu := s.MemLimit > 0, s.CPUS > 0 || s.CPUQuota > 0
	if d := s.Deploy; d != nil && d.Resources.Limits != nil {
		mem = mem || d.Resources.Limits.MemoryBytes > 0
		cpu = cpu || d.Resources.Limits.NanoCPUs > 0
	}
	var missing []string
	if !mem {
		missing = append(missing, "memory (mem_limit)")
	}
	if !cpu {
		missing = append(missing, "CPU (cpus)")
	}
	if len(missing) == 0 {
		return
	}
	line := c.keyLine
	for _, key := range []string{"deploy", "mem_limit", "cpus"} {
		if v, _ := child(c.node, key); v != nil {
			line = c.line(key)
			break
		}
	}
	f := c.report(ruleLimits, line, "no "+strings.Join(missing, " or ")+" limit: one leak or busy loop starves the host's other containers")
	f.Remediation = "Set mem_limit and cpus (or deploy.resources.limits.memory and .cpus) on every service: mem_limit: 256m, cpus: 0.5."
}

func (c *composeCheck) user(u string) {
	name, _, _ := strings.Cut(strings.TrimSpace(u), ":")
	switch {
	case u == "":
		c.report(ruleRoot, c.keyLine, "no user is set, so it runs as the image's user (root unless the image sets USER)")
	case name == "root" || name == "0":
		c.report(ruleRoot, c.line("user"), fmt.Sprintf("user: %s runs the service as root", u))
	}
}

func (c *composeCheck) capabilities(s types.ServiceConfig) {
	var added []string
	for _, a := range s.CapAdd {
		if n := strings.TrimPrefix(strings.ToUpper(a), "CAP_"); n != "NET_BIND_SERVICE" {
			added = append(added, a)
		}
	}
	if len(added) > 0 {
		c.report(ruleCapabilities, c.line("cap_add"), "cap_add adds "+strings.Join(added, ", "))
	}
	if !slices.ContainsFunc(s.CapDrop, func(d string) bool { return strings.EqualFold(d, "ALL") }) {
		c.report(ruleCapabilities, c.line("cap_drop"), "cap_drop does not include ALL: Docker's default capabilities (NET_RAW, CHOWN, SETUID, ...) stay")
	}
}

func (c *composeCheck) securityOpts(opts []string) {
	noNewPrivs := false
	for i, o := range opts {
		key, val, _ := strings.Cut(strings.ReplaceAll(o, "=", ":"), ":")
		line := c.line("security_opt", strconv.Itoa(i))
		switch strings.ToLower(key) {
		case "no-new-privileges":
			noNewPrivs = val == "" || strings.EqualFold(val, "true")
		case "seccomp":
			if strings.EqualFold(val, "unconfined") {
				c.report(ruleSeccomp, line, "security_opt seccomp:unconfined turns system call filtering off")
			}
		case "apparmor":
			if strings.EqualFold(val, "unconfined") {
				c.report(ruleAppArmor, line, "security_opt apparmor:unconfined turns AppArmor off")
			}
		case "label":
			if strings.EqualFold(val, "disable") {
				c.report(ruleSELinux, line, "security_opt label:disable turns SELinux labelling off")
			}
		}
	}
	if !noNewPrivs {
		c.report(ruleEscalation, c.line("security_opt"), "security_opt has no no-new-privileges:true: setuid binaries can raise privileges")
	}
}

func (c *composeCheck) volumes(vols []types.ServiceVolumeConfig) {
	for i, v := range vols {
		if v.Type != types.VolumeTypeBind {
			continue
		}
		line := c.line("volumes", strconv.Itoa(i))
		mode := ""
		if v.ReadOnly {
			mode = " (read-only)"
		}
		switch hostPathKind(v.Source) {
		case "socket":
			c.report(ruleDockerSocket, line, fmt.Sprintf("volume mounts the container runtime socket %s%s: root on the host", v.Source, mode))
		case "sensitive":
			c.report(ruleSensitiveHostPath, line, fmt.Sprintf("volume mounts sensitive host path %s%s", v.Source, mode))
		}
	}
}

// environment reads environment: from the source (a mapping or a list of KEY=VALUE), so
// that ${VAR} references are told from literals and each value has its line.
func (c *composeCheck) environment() {
	env, _ := child(c.node, "environment")
	if env == nil {
		return
	}
	check := func(name, value string, line int) {
		if msg, evidence := secretEnv(name, value); msg != "" {
			f := c.report(ruleSecretEnv, line, msg)
			f.Evidence = evidence
		}
	}
	switch env.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(env.Content); i += 2 {
			if v := resolve(env.Content[i+1]); v != nil && v.Kind == yaml.ScalarNode && v.Tag != "!!null" {
				check(env.Content[i].Value, v.Value, env.Content[i].Line)
			}
		}
	case yaml.SequenceNode:
		for _, item := range env.Content {
			if item = resolve(item); item != nil && item.Kind == yaml.ScalarNode {
				if k, v, ok := strings.Cut(item.Value, "="); ok {
					check(k, v, item.Line)
				}
			}
		}
	}
}
