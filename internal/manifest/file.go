package manifest

import (
	"bytes"
	"path"
	"regexp"
	"strings"
)

// Kind is the kind of deployment file.
type Kind int

// Kinds of deployment files.
const (
	Unknown Kind = iota
	Kubernetes
	Compose
	GitHubActions
	GitLabCI
)

func (k Kind) String() string {
	switch k {
	case Kubernetes:
		return "kubernetes"
	case Compose:
		return "compose"
	case GitHubActions:
		return "github-actions"
	case GitLabCI:
		return "gitlab-ci"
	}
	return "unknown"
}

var (
	// A top-level apiVersion: and kind: (YAML), or "apiVersion": and "kind": (JSON).
	reAPIVersion = regexp.MustCompile(`(?m)^(?:apiVersion:\s*\S|\s*"apiVersion"\s*:\s*")`)
	reKind       = regexp.MustCompile(`(?m)^(?:kind:\s*\S|\s*"kind"\s*:\s*")`)
	reServices   = regexp.MustCompile(`(?m)^services:\s*(?:#.*)?$`)
	reComposeFn  = regexp.MustCompile(`^(?:docker-)?compose(?:[.-][^/]*)?\.ya?ml$`)
)

// Detect says what a file is from its slash-separated path and its content: a compose
// file by its name (compose*.yaml, docker-compose*.yml) or by a top-level services: key,
// a GitHub Actions workflow under .github/workflows/, a GitLab CI file by its name
// (.gitlab-ci.yml), a Kubernetes manifest by a top-level apiVersion and kind. Anything
// else is Unknown.
func Detect(p string, data []byte) Kind {
	name := strings.ToLower(path.Base(p))
	ext := path.Ext(name)
	yamlExt := ext == ".yaml" || ext == ".yml"
	switch {
	case !yamlExt && ext != ".json":
		return Unknown
	case yamlExt && reComposeFn.MatchString(name):
		return Compose
	case yamlExt && strings.Contains("/"+p, "/.github/workflows/"):
		return GitHubActions
	case name == ".gitlab-ci.yml" || name == ".gitlab-ci.yaml" || strings.HasSuffix(name, ".gitlab-ci.yml"):
		return GitLabCI
	}
	return Sniff(data)
}

// Sniff says what a stream is from its content alone: Kubernetes objects or a compose
// file; Unknown for anything else (a Dockerfile, say).
func Sniff(data []byte) Kind {
	head := bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")) // a UTF-8 byte order mark
	if len(head) > 1<<20 {
		head = head[:1<<20]
	}
	if reAPIVersion.Match(head) && reKind.Match(head) {
		return Kubernetes
	}
	if bytes.HasPrefix(bytes.TrimSpace(head), []byte("{")) || bytes.HasPrefix(bytes.TrimSpace(head), []byte("[")) {
		if bytes.Contains(head, []byte(`"apiVersion"`)) && bytes.Contains(head, []byte(`"kind"`)) {
			return Kubernetes
		}
		return Unknown
	}
	if reServices.Match(head) {
		return Compose
	}
	return Unknown
}

// IsTemplate reports whether a Kubernetes file is an unrendered template (Helm's {{ }}),
// which only its rendered output can be checked as.
func IsTemplate(data []byte) bool {
	return bytes.Contains(data, []byte("{{"))
}

// Lint checks one file of the given kind; path is how findings name it.
func Lint(kind Kind, path string, data []byte) (*Result, error) {
	switch kind {
	case Kubernetes:
		return LintKubernetes(path, data)
	case Compose:
		return LintCompose(path, data)
	case GitHubActions:
		return LintGitHubActions(path, data)
	case GitLabCI:
		return LintGitLabCI(path, data)
	}
	return &Result{}, nil
}
