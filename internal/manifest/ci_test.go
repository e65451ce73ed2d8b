package manifest

import (
	"strings"
	"testing"
)

func TestGitLabTopLevelServicesAndHiddenJobs(t *testing.T) {
	res, err := LintGitLabCI(".gitlab-ci.yml", []byte(`image: docker:27
services:
  - name: docker:27-dind
    alias: docker
.docker:
  variables: { DOCKER_HOST: "unix:///var/run/docker.sock" }
build:
  extends: .docker
  script: [docker build .]
`))
	if err != nil {
		t.Fatal(err)
	}
	got := render(res.Findings)
	for _, want := range []string{
		".gitlab-ci.yml:3 default[docker:27-dind] MAN002",
		".gitlab-ci.yml:6 job/.docker MAN001",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in\n%s", want, got)
		}
	}
}

func TestGitHubCleanWorkflow(t *testing.T) {
	res, err := LintGitHubActions("ci.yml", []byte(`on: push
jobs:
  test:
    runs-on: ubuntu-latest
    container: { image: "golang:1.26", options: "--cpus 2" }
    services:
      db: { image: postgres:16, options: "--health-cmd pg_isready" }
    steps:
      - run: |
          echo "--privileged is only a word here"
          docker run --rm -v "$PWD:/src" golang:1.26 go test ./...
`))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Findings) != 0 || res.Objects != 1 {
		t.Errorf("clean workflow: %d objects, findings:\n%s", res.Objects, render(res.Findings))
	}
}

func TestComposeVariables(t *testing.T) {
	for _, tc := range []struct {
		name, yaml, want string
	}{
		{"default taken", "services:\n  a:\n    image: app:${TAG:-latest}\n", "image app:${TAG:-latest} uses :latest"},
		{"required variable", "services:\n  a:\n    image: app:${TAG:?set TAG}\n    cpus: ${CPUS}\n", "is tagged but not pinned"},
		{"env reference is no literal", "services:\n  a:\n    image: a@sha256:" + strings.Repeat("0", 64) + "\n    environment: { DB_PASSWORD: \"${DB_PASSWORD}\" }\n", ""},
		{"nothing outside the file", "services:\n  a:\n    image: a\n    env_file: [missing.env]\n    extends: { file: other.yml, service: base }\n", "image a has no tag"},
	} {
		res, err := LintCompose("compose.yaml", []byte(tc.yaml))
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		got := render(res.Findings)
		if tc.want == "" && strings.Contains(got, "MAN011") || tc.want != "" && !strings.Contains(got, tc.want) {
			t.Errorf("%s: want %q in\n%s", tc.name, tc.want, got)
		}
	}
}

// TestComposeLimits: MAN009 names what is missing, takes mem_limit/cpus, cpu_quota and
// deploy.resources.limits, and points at the line of the limit that is written.
func TestComposeLimits(t *testing.T) {
	const svc = "services:\n  a:\n    image: a@sha256:0000000000000000000000000000000000000000000000000000000000000000\n"
	for _, tc := range []struct {
		name, yaml, want string
	}{
		{"none", svc, "compose.yaml:2 service/a MAN009 MEDIUM service a: no memory (mem_limit) or CPU (cpus) limit"},
		{"memory only", svc + "    mem_limit: 256m\n", "compose.yaml:4 service/a MAN009 MEDIUM service a: no CPU (cpus) limit"},
		{"cpu only", svc + "    cpus: 0.5\n", "compose.yaml:4 service/a MAN009 MEDIUM service a: no memory (mem_limit) limit"},
		{"both", svc + "    mem_limit: 256m\n    cpus: 0.5\n", ""},
		{"cpu quota", svc + "    mem_limit: 256m\n    cpu_quota: 50000\n", ""},
		{"deploy", svc + "    deploy:\n      resources:\n        limits: { cpus: '0.5', memory: 256M }\n", ""},
		{"deploy reservations only", svc + "    deploy:\n      resources:\n        reservations: { memory: 256M }\n", "compose.yaml:4 service/a MAN009"},
	} {
		res, err := LintCompose("compose.yaml", []byte(tc.yaml))
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		got := render(res.Findings)
		if tc.want == "" && strings.Contains(got, "MAN009") || tc.want != "" && !strings.Contains(got, tc.want) {
			t.Errorf("%s: want %q in\n%s", tc.name, tc.want, got)
		}
	}
}

func TestSniff(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Kind
	}{
		{"\xef\xbb\xbfapiVersion: v1\r\nkind: Pod\r\n", Kubernetes},
		{"---\n# Source: x/templates/a.yaml\napiVersion: v1\nkind: Service\n", Kubernetes},
		{`{"kind": "List", "apiVersion": "v1", "items": []}`, Kubernetes},
		{"version: '3.8'\nservices:\n  web: {image: nginx}\n", Compose},
		{"FROM alpine:3.20\nRUN echo apiVersion: v1 kind: Pod\n", Unknown},
		{"# syntax=docker/dockerfile:1\nFROM scratch\n", Unknown},
		{`{"name": "pkg", "version": "1.0.0"}`, Unknown},
		{"linters:\n  enable: [errcheck]\n", Unknown},
	} {
		if got := Sniff([]byte(tc.in)); got != tc.want {
			t.Errorf("Sniff(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
	for _, tc := range []struct {
		path string
		want Kind
	}{
		{"deploy/docker-compose.prod.yml", Compose},
		{"compose.override.yaml", Compose},
		{"composer.yaml", Unknown},
		{"/src/.github/workflows/release.yaml", GitHubActions},
		{"ci/.gitlab-ci.yml", GitLabCI},
		{"Dockerfile", Unknown},
	} {
		if got := Detect(tc.path, []byte("a: 1\n")); got != tc.want {
			t.Errorf("Detect(%q) = %v, want %v", tc.path, got, tc.want)
		}
	}
}
