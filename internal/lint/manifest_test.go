package lint

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/charterhq/charter/internal/manifest"
	"github.com/charterhq/charter/internal/policy"
	"github.com/charterhq/charter/internal/report"
)

const podYAML = `apiVersion: v1
kind: Pod
metadata: { name: web, namespace: shop }
spec:
  containers:
    - name: app
      image: nginx
`

// paths returns the distinct finding paths of a report.
func paths(r *report.Report) []string {
	var out []string
	for _, f := range r.Findings {
		out = append(out, f.Location.Path)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func TestRunDiscoversDeploymentFiles(t *testing.T) {
	dir := writeTree(t, map[string]string{
		"Dockerfile":                     "FROM alpine:3.20\nUSER 10001\n",
		"k8s/pod.yaml":                   podYAML,
		"k8s/list.json":                  `{"apiVersion":"v1","kind":"List","items":[{"apiVersion":"v1","kind":"Pod","metadata":{"name":"j"},"spec":{"containers":[{"name":"a","image":"a"}]}}]}`,
		"docker-compose.yml":             "services:\n  web:\n    image: nginx\n    privileged: true\n",
		"deploy/stack.yaml":              "services:\n  api:\n    image: api:1\n",
		".github/workflows/ci.yml":       "on: push\njobs:\n  b:\n    runs-on: x\n    steps:\n      - run: docker run --privileged x\n",
		".gitlab-ci.yml":                 "build:\n  services: [docker:dind]\n  script: [make]\n",
		".golangci.yml":                  "linters:\n  enable: [errcheck]\n",
		"docs/openapi.yaml":              "openapi: 3.0.0\ninfo: { title: x }\n",
		"package.json":                   `{"name": "x", "version": "1.0.0"}`,
		"chart/Chart.yaml":               "apiVersion: v2\nname: chart\nversion: 0.1.0\n",
		"chart/templates/deploy.yaml":    "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Release.Name }}\n",
		"vendor/example.com/x/pod.yaml":  podYAML,
		"node_modules/x/deployment.yaml": podYAML,
	})
	r, err := Run(context.Background(), dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{".github/workflows/ci.yml", ".gitlab-ci.yml", "deploy/stack.yaml", "docker-compose.yml", "k8s/list.json", "k8s/pod.yaml"}
	got := slices.DeleteFunc(paths(r), func(p string) bool { return p == "Dockerfile" })
	if !slices.Equal(got, want) {
		t.Errorf("finding paths = %v, want %v", got, want)
	}
	if r.Target.Kind != "repo" {
		t.Errorf("target kind %q", r.Target.Kind)
	}
	if !slices.ContainsFunc(r.Warnings, func(w string) bool {
		return strings.Contains(w, "chart/templates/deploy.yaml") && strings.Contains(w, "helm template")
	}) {
		t.Errorf("no warning for the unrendered template: %v", r.Warnings)
	}
}

func TestRunManifestFileAndStdin(t *testing.T) {
	dir := writeTree(t, map[string]string{"pod.yaml": podYAML, "values.yaml": "replicas: 2\n"})
	r, err := Run(context.Background(), filepath.Join(dir, "pod.yaml"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if r.Target.Kind != "manifest" || len(r.Findings) == 0 || r.Findings[0].Location.Line == 0 {
		t.Fatalf("pod.yaml: kind %q, findings %v", r.Target.Kind, r.Findings)
	}
	_, err = Run(context.Background(), filepath.Join(dir, "values.yaml"), Options{})
	var le *Error
	if !errors.As(err, &le) || !strings.Contains(err.Error(), "not a Kubernetes manifest") {
		t.Errorf("values.yaml: err = %v", err)
	}

	r, err = Run(context.Background(), "-", Options{Stdin: strings.NewReader("---\n# Source: chart/templates/pod.yaml\n" + podYAML)})
	if err != nil {
		t.Fatal(err)
	}
	if r.Target.Kind != "manifest" || paths(r)[0] != "<stdin>" {
		t.Errorf("stdin manifest: kind %q paths %v", r.Target.Kind, paths(r))
	}
	r, err = Run(context.Background(), "-", Options{Stdin: strings.NewReader("FROM alpine:3.20\nRUN apk add curl\n")})
	if err != nil {
		t.Fatal(err)
	}
	if r.Target.Kind != "dockerfile" {
		t.Errorf("stdin Dockerfile read as %q", r.Target.Kind)
	}
	_, err = Run(context.Background(), "-", Options{Stdin: strings.NewReader(podYAML + "      securityContext: [\n")})
	if !errors.As(err, &le) || !strings.HasPrefix(err.Error(), "<stdin>:9:") {
		t.Errorf("broken stdin manifest: err = %v, want <stdin>:9:", err)
	}
}

func TestRunManifestPolicy(t *testing.T) {
	dir := writeTree(t, map[string]string{"k8s/pod.yaml": podYAML, "other/pod.yaml": podYAML})
	pf, err := policy.Parse("charter.yaml", []byte(`version: 1
policy:
  rules: { MAN009: off, MAN005: low }
  ignore:
    - { id: pss:runAsNonRoot, path: k8s/*, reason: "runs as the image's non-root USER" }
    - { id: MAN008, reason: "dev cluster", expires: 2099-01-01 }
`))
	if err != nil {
		t.Fatal(err)
	}
	cat := report.NewCatalog(manifest.Rules())
	if err := pf.Validate(cat); err != nil {
		t.Fatal(err)
	}
	r, err := Run(context.Background(), dir, Options{Charter: pf})
	if err != nil {
		t.Fatal(err)
	}
	pf.Apply(r, cat, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	for _, f := range r.Findings {
		switch {
		case f.Rule == "MAN009":
			t.Errorf("MAN009 is off but reported at %s", f.Location)
		case f.Rule == "MAN005" && f.Severity != report.Low:
			t.Errorf("MAN005 severity %s, want LOW", f.Severity)
		case f.Rule == "MAN008" && f.Suppressed == nil:
			t.Errorf("MAN008 not ignored at %s", f.Location)
		case f.Rule == "MAN003" && (f.Suppressed != nil) != strings.HasPrefix(f.Location.Path, "k8s/"):
			t.Errorf("MAN003 at %s: suppressed=%v, want only under k8s/", f.Location, f.Suppressed != nil)
		}
	}
}

func TestRunKustomizePatchesAndPartialObjects(t *testing.T) {
	dir := writeTree(t, map[string]string{
		"overlays/prod/kustomization.yaml": "resources: [../../base]\npatches:\n  - path: resources.yaml\npatchesStrategicMerge: [replicas.yaml]\n",
		"overlays/prod/resources.yaml":     "apiVersion: apps/v1\nkind: Deployment\nmetadata: { name: web }\nspec:\n  template:\n    spec:\n      containers: [{ name: app, resources: { limits: { cpu: 1 } } }]\n",
		"overlays/prod/replicas.yaml":      "apiVersion: apps/v1\nkind: Deployment\nmetadata: { name: web }\nspec: { replicas: 3 }\n",
		"other/scale.yaml":                 "apiVersion: apps/v1\nkind: Deployment\nmetadata: { name: api }\nspec: { replicas: 2 }\n",
	})
	r, err := Run(context.Background(), dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Findings) != 0 {
		t.Errorf("patches linted on their own: %v", paths(r))
	}
	for _, want := range []string{"resources.yaml: a kustomize patch", "replicas.yaml: a kustomize patch", "other/scale.yaml: line 1: Deployment api has no spec.template"} {
		if !slices.ContainsFunc(r.Warnings, func(w string) bool { return strings.Contains(w, want) }) {
			t.Errorf("no warning %q in %v", want, r.Warnings)
		}
	}
}
