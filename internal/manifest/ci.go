package manifest

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/charterhq/charter/internal/report"
)

// ciCheck collects one CI file's findings.
type ciCheck struct {
	path string
	out  []report.Finding
}

func (c *ciCheck) report(rule report.Rule, line int, resource, container, msg string) {
	f := rule.Finding(report.Location{Path: c.path, Line: line, Resource: resource, Container: container}, strings.Replace(resource, "/", " ", 1)+": "+msg)
	f.Aliases = nil
	c.out = append(c.out, f)
}

var (
	// reDockerRun finds a container started by a CLI: docker run, docker create,
	// docker container run, podman run, nerdctl run.
	reDockerRun = regexp.MustCompile(`\b(?:docker|podman|nerdctl)\s+(?:container\s+)?(?:run|create)\b`)
	rePrivFlag  = regexp.MustCompile(`(?:^|\s)--privileged(?:=true)?(?:\s|$)`)
	reSockMount = regexp.MustCompile(`(?:^|[\s=,:"'])(/(?:var/)?run/docker\.sock)\b`)
)

// scanScript reports docker commands in a shell script that run privileged or mount the
// Docker socket. base is the line of the script's first line.
func (c *ciCheck) scanScript(script string, base int, resource, where string) {
	lines := strings.Split(script, "\n")
	for i := 0; i < len(lines); i++ {
		start := i
		cmd := lines[i]
		for strings.HasSuffix(strings.TrimRight(cmd, " \t"), "\\") && i+1 < len(lines) {
			i++
			cmd = strings.TrimSuffix(strings.TrimRight(cmd, " \t"), "\\") + " " + lines[i]
		}
		if !reDockerRun.MatchString(cmd) {
			continue
		}
		if rePrivFlag.MatchString(cmd) {
			c.report(rulePrivileged, base+start, resource, "",
				fmt.Sprintf("%s starts a privileged container (docker run --privileged)", where))
		}
		if m := reSockMount.FindStringSubmatch(cmd); m != nil {
			c.report(ruleDockerSocket, base+start, resource, "",
				fmt.Sprintf("%s mounts the Docker socket %s into a container", where, m[1]))
		}
	}
}

// scriptBase returns the line a scalar's text starts on: the line after a | or >
// indicator, else the scalar's own line.
func scriptBase(n *yaml.Node) int {
	if n.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0 {
		return n.Line + 1
	}
	return n.Line
}

// LintGitHubActions checks a GitHub Actions workflow: job containers and service
// containers that run privileged or mount the Docker socket, and run: steps that start
// such containers.
func LintGitHubActions(path string, data []byte) (*Result, error) {
	docs, err := decodeDocuments(data)
	if err != nil {
		return nil, err
	}
	c := &ciCheck{path: path}
	r := &Result{}
	for _, doc := range docs {
		jobs, _ := child(doc, "jobs")
		if jobs == nil || jobs.Kind != yaml.MappingNode {
			continue
		}
		for i := 0; i+1 < len(jobs.Content); i += 2 {
			r.Objects++
			c.githubJob(jobs.Content[i].Value, resolve(jobs.Content[i+1]))
		}
	}
	r.Findings = c.out
	parsePragmas(data, docLines(docs)).apply(r.Findings)
	return r, nil
}

func (c *ciCheck) githubJob(id string, job *yaml.Node) {
	res := "job/" + id
	if ct, _ := child(job, "container"); ct != nil {
		c.githubContainer(ct, res, "container", "the job container")
	}
	if svcs, _ := child(job, "services"); svcs != nil && svcs.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(svcs.Content); i += 2 {
			name := svcs.Content[i].Value
			c.githubContainer(resolve(svcs.Content[i+1]), res, name, "service "+name)
		}
	}
	steps, _ := child(job, "steps")
	if steps == nil || steps.Kind != yaml.SequenceNode {
		return
	}
	for i, step := range steps.Content {
		run, _ := child(step, "run")
		if run == nil || run.Kind != yaml.ScalarNode {
			continue
		}
		where := fmt.Sprintf("step %d", i+1)
		if name := scalar(step, "name"); name != "" {
			where = fmt.Sprintf("step %q", name)
		}
		c.scanScript(run.Value, scriptBase(run), res, where)
	}
}

// githubContainer checks a job container or service container: options and volumes.
func (c *ciCheck) githubContainer(n *yaml.Node, res, name, label string) {
	if n == nil || n.Kind != yaml.MappingNode {
		return // container: IMAGE, nothing more to say
	}
	if opts, _ := child(n, "options"); opts != nil && opts.Kind == yaml.ScalarNode {
		if rePrivFlag.MatchString(" " + opts.Value + " ") {
			c.report(rulePrivileged, opts.Line, res, name, fmt.Sprintf("%s runs privileged (options: --privileged)", label))
		}
		if m := reSockMount.FindStringSubmatch(opts.Value); m != nil {
			c.report(ruleDockerSocket, opts.Line, res, name, fmt.Sprintf("%s mounts the Docker socket %s (options)", label, m[1]))
		}
	}
	if vols, _ := child(n, "volumes"); vols != nil && vols.Kind == yaml.SequenceNode {
		for _, v := range vols.Content {
			if v = resolve(v); v.Kind != yaml.ScalarNode {
				continue
			}
			src, _, _ := strings.Cut(v.Value, ":")
			switch hostPathKind(src) {
			case "socket":
				c.report(ruleDockerSocket, v.Line, res, name, fmt.Sprintf("%s mounts the container runtime socket %s", label, src))
			case "sensitive":
				c.report(ruleSensitiveHostPath, v.Line, res, name, fmt.Sprintf("%s mounts sensitive host path %s", label, src))
			}
		}
	}
}

func docLines(docs []*yaml.Node) []int {
	out := make([]int, len(docs))
	for i, d := range docs {
		out[i] = d.Line
	}
	return out
}

// gitlabReserved are .gitlab-ci.yml's top-level keys that are not jobs.
var gitlabReserved = []string{"stages", "variables", "include", "workflow", "cache", "before_script", "after_script", "spec", "image", "services"}

// LintGitLabCI checks a .gitlab-ci.yml: docker:dind services (which need a privileged
// runner, worse without TLS), jobs that use the runner's Docker socket, and script lines
// that start privileged containers or mount the socket.
func LintGitLabCI(path string, data []byte) (*Result, error) {
	docs, err := decodeDocuments(data)
	if err != nil {
		return nil, err
	}
	c := &ciCheck{path: path}
	r := &Result{}
	for _, doc := range docs {
		if doc.Kind != yaml.MappingNode {
			continue
		}
		globalVars, _ := child(doc, "variables")
		if svcs, _ := child(doc, "services"); svcs != nil && svcs.Kind == yaml.SequenceNode {
			// top-level services: (the older spelling of default: services:)
			c.gitlabJob("default", &yaml.Node{Kind: yaml.MappingNode, Content: []*yaml.Node{{Kind: yaml.ScalarNode, Value: "services"}, svcs}}, globalVars)
		}
		for i := 0; i+1 < len(doc.Content); i += 2 {
			key, job := doc.Content[i].Value, resolve(doc.Content[i+1])
			if slices.Contains(gitlabReserved, key) || job == nil || job.Kind != yaml.MappingNode {
				continue
			}
			r.Objects++
			res := "job/" + key
			if key == "default" {
				res = "default"
			}
			c.gitlabJob(res, job, globalVars)
		}
	}
	r.Findings = c.out
	parsePragmas(data, docLines(docs)).apply(r.Findings)
	return r, nil
}

func (c *ciCheck) gitlabJob(res string, job, globalVars *yaml.Node) {
	vars, _ := child(job, "variables")
	lookup := func(name string) (string, *yaml.Node) {
		for _, vs := range []*yaml.Node{vars, globalVars} {
			if v, k := child(vs, name); v != nil {
				if val, _ := child(v, "value"); val != nil { // variables: {X: {value: ..., description: ...}}
					v = val
				}
				return v.Value, k
			}
		}
		return "", nil
	}
	if host, k := lookup("DOCKER_HOST"); k != nil && strings.Contains(host, "docker.sock") {
		c.report(ruleDockerSocket, k.Line, res, "", fmt.Sprintf("DOCKER_HOST=%s: the job drives the runner host's Docker daemon through its socket", host))
	}
	if svcs, _ := child(job, "services"); svcs != nil && svcs.Kind == yaml.SequenceNode {
		for _, s := range svcs.Content {
			s = resolve(s)
			image := s.Value
			if s.Kind == yaml.MappingNode {
				image = scalar(s, "name")
			}
			if !strings.Contains(image, "dind") {
				continue
			}
			msg := fmt.Sprintf("service %s runs docker-in-docker, which needs a privileged runner: any job on it is root on the runner host", image)
			if tls, k := lookup("DOCKER_TLS_CERTDIR"); k != nil && tls == "" {
				msg += "; DOCKER_TLS_CERTDIR is empty, so the daemon also listens without TLS"
			}
			c.report(rulePrivileged, s.Line, res, image, msg)
		}
	}
	for _, key := range []string{"before_script", "script", "after_script"} {
		sc, _ := child(job, key)
		if sc == nil {
			continue
		}
		items := []*yaml.Node{sc}
		if sc.Kind == yaml.SequenceNode {
			items = sc.Content
		}
		for _, it := range items {
			if it = resolve(it); it.Kind == yaml.ScalarNode {
				c.scanScript(it.Value, scriptBase(it), res, key)
			}
		}
	}
}
