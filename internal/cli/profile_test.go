package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/charterhq/charter/internal/imagecheck/imagetest"
)

// profileImage is a service image whose USER is a name only its /etc/passwd resolves.
func profileImage(t *testing.T) string {
	t.Helper()
	img := imagetest.Image(t, v1.Config{User: "app", Entrypoint: []string{"/app"}, ExposedPorts: map[string]struct{}{"8080/tcp": {}}},
		imagetest.Step{CreatedBy: "COPY rootfs /", Layer: imagetest.Layer(t,
			imagetest.Dir("etc"),
			imagetest.File("etc/passwd", "root:x:0:0::/:/sbin/nologin\napp:x:10001:10001::/:/sbin/nologin\n"),
			imagetest.File("app", "binary"))})
	return imagetest.WriteOCI(t, filepath.Join(t.TempDir(), "oci"), "v1", img)
}

// runWith runs charter in-process with the given environment variables.
func runWith(t *testing.T, vars map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	env := Env{
		Stdout: &out, Stderr: &errb,
		Getenv: func(k string) string { return vars[k] },
		Now:    func() time.Time { return time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC) },
	}
	code := Run(context.Background(), args, env)
	return code, out.String(), errb.String()
}

func TestProfileFormats(t *testing.T) {
	ref := profileImage(t)
	vars := map[string]string{"CHARTER_CACHE_DIR": t.TempDir()}
	wants := map[string]string{
		"docker":     "--user 10001:10001 \\",
		"compose":    `user: "10001:10001"`,
		"kubernetes": "runAsUser: 10001",
		"oci":        `"uid": 10001`,
		"seccomp":    `"defaultAction": "SCMP_ACT_ERRNO"`,
	}
	for format, want := range wants {
		code, out, errOut := runWith(t, vars, "profile", ref, "--format", format, "--image-name", "registry.example.com/app:1")
		if code != 0 || !strings.Contains(out, want) {
			t.Errorf("%s: exit %d, stderr %q, output lacks %q:\n%s", format, code, errOut, want, out)
		}
		if format == "oci" || format == "seccomp" {
			if !json.Valid([]byte(out)) {
				t.Errorf("%s: not JSON", format)
			}
			if !strings.Contains(errOut, "charter: note: no runtime.writable") {
				t.Errorf("%s: notes not on stderr: %q", format, errOut)
			}
		}
	}
	dest := filepath.Join(t.TempDir(), "config.json")
	if code, _, errOut := runWith(t, vars, "profile", ref, "-o", "oci", "--output", dest, "-q"); code != 0 || errOut != "" {
		t.Errorf("--output: exit %d, stderr %q", code, errOut)
	}
	if b, err := os.ReadFile(dest); err != nil || !json.Valid(b) {
		t.Errorf("--output wrote %d bytes, %v", len(b), err)
	}
	code, out, errOut := runWith(t, vars, "profile", ref, "-o", "oci", "--userns", "200000")
	if code != 0 || !strings.Contains(out, `"hostID": 200000`) || !strings.Contains(out, `"type": "user"`) || !strings.Contains(errOut, "host IDs 200000-265535") {
		t.Errorf("--userns: exit %d, stderr %q:\n%s", code, errOut, out)
	}
}

func TestProfileErrors(t *testing.T) {
	ref := profileImage(t)
	dir := project(t, map[string]string{
		"root.yaml":  "version: 1\nruntime: { user: root }\n",
		"typo.yaml":  "version: 1\nruntime: { usr: app }\n",
		"ghost.yaml": "version: 1\nruntime: { user: ghost }\n",
	})
	vars := map[string]string{"CHARTER_CACHE_DIR": t.TempDir()}
	cases := map[string][]string{
		"format":          {"profile", ref, "--format", "helm"},
		"root":            {"profile", ref, "--charter", filepath.Join(dir, "root.yaml")},
		"typo":            {"profile", ref, "--charter", filepath.Join(dir, "typo.yaml")},
		"ghost":           {"profile", ref, "--charter", filepath.Join(dir, "ghost.yaml")},
		"image":           {"profile", "oci-dir:" + filepath.Join(dir, "nope")},
		"syscall":         {"profile", ref, "--seccomp-deny", "Ptrace!"},
		"userns docker":   {"profile", ref, "--userns", "100000"},
		"userns root":     {"profile", ref, "-o", "oci", "--userns", "0:65536"},
		"userns small":    {"profile", ref, "-o", "oci", "--userns", "100000:100"},
		"userns k8s ids":  {"profile", ref, "-o", "kubernetes", "--userns", "100000"},
		"userns oci auto": {"profile", ref, "-o", "oci", "--userns", "auto"},
		"userns compose":  {"profile", ref, "-o", "compose", "--userns", "auto"},
	}
	for name, args := range cases {
		code, out, errOut := runWith(t, vars, args...)
		if code != 2 || out != "" || strings.Count(strings.TrimSpace(errOut), "\n") != 0 {
			t.Errorf("%s: exit %d, stdout %q, stderr %q: want 2 and one line", name, code, out, errOut)
		}
	}
}

// TestInspectDocker talks to an Engine API that answers with a container captured from
// dockerd (--cap-add SYS_ADMIN --security-opt seccomp=unconfined).
func TestInspectDocker(t *testing.T) {
	bad, err := os.ReadFile(filepath.Join("..", "runtime", "inspect", "testdata", "docker-bad.json"))
	if err != nil {
		t.Fatal(err)
	}
	good, err := os.ReadFile(filepath.Join("..", "runtime", "inspect", "testdata", "docker-good.json"))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasSuffix(r.URL.Path, "/containers/bad/json"):
			_, _ = w.Write(bad)
		case strings.HasSuffix(r.URL.Path, "/containers/good/json"):
			_, _ = w.Write(good)
		case strings.Contains(r.URL.Path, "/images/"):
			_, _ = w.Write([]byte(`{"Config":{"User":"probe","Entrypoint":["/probe"]}}`))
		default:
			http.Error(w, `{"message":"No such container"}`, http.StatusNotFound)
		}
	}))
	defer srv.Close()
	dir := project(t, map[string]string{"charter.yaml": "version: 1\nruntime:\n  writable: [ /tmp ]\n  limits: { memory: 64Mi, cpu: \"0.5\", pids: 64 }\n"})
	vars := map[string]string{"DOCKER_HOST": "tcp://" + strings.TrimPrefix(srv.URL, "http://")}
	charter := filepath.Join(dir, "charter.yaml")

	code, out, errOut := runWith(t, vars, "inspect", "docker:bad", "--charter", charter, "-o", "json")
	r := decodeReport(t, out)
	if code != 1 || !hasRule(r, "PRF004") || !hasRule(r, "PRF006") || r.Target.Kind != "container" {
		t.Errorf("docker:bad: exit %d, stderr %q, %s", code, errOut, out)
	}
	if code, out, _ := runWith(t, vars, "inspect", "docker:good", "--charter", charter); code != 0 {
		t.Errorf("docker:good: exit %d\n%s", code, out)
	}
	if code, _, errOut := runWith(t, vars, "inspect", "docker:gone", "--charter", charter); code != 2 || !strings.Contains(errOut, "no such container") {
		t.Errorf("docker:gone: exit %d, %q", code, errOut)
	}
	if code, _, errOut := runWith(t, map[string]string{"DOCKER_HOST": "ssh://x"}, "inspect", "docker:bad"); code != 2 || !strings.Contains(errOut, "DOCKER_HOST") {
		t.Errorf("ssh DOCKER_HOST: exit %d, %q", code, errOut)
	}
}

func TestInspectManifest(t *testing.T) {
	risky := filepath.Join("..", "runtime", "inspect", "testdata", "risky.yaml")
	code, out, _ := runWith(t, nil, "inspect", risky, "-o", "json", "--fail-on", "critical")
	r := decodeReport(t, out)
	if code != 1 || !hasRule(r, "PRF011") || r.Target.Kind != "manifest" {
		t.Errorf("risky.yaml: exit %d\n%s", code, out)
	}
	dir := project(t, map[string]string{
		"charter.yaml": "version: 1\npolicy:\n  rules: { PRF011: off, PRF010: off, PRF001: low, PRF004: low }\n",
		"svc.yaml":     "apiVersion: v1\nkind: Service\nmetadata: {name: x}\n",
	})
	if code, out, _ := runWith(t, nil, "inspect", risky, "--charter", filepath.Join(dir, "charter.yaml")); code != 0 {
		t.Errorf("with every HIGH rule lowered: exit %d\n%s", code, out)
	}
	if code, _, errOut := runWith(t, nil, "inspect", filepath.Join(dir, "svc.yaml")); code != 2 || !strings.Contains(errOut, "no pod or workload") {
		t.Errorf("svc.yaml: exit %d %q", code, errOut)
	}
	ref := profileImage(t)
	vars := map[string]string{"CHARTER_CACHE_DIR": t.TempDir()}
	_, manifest, _ := runWith(t, vars, "profile", ref, "--format", "kubernetes")
	var out2, errb bytes.Buffer
	env := Env{Stdin: strings.NewReader(manifest), Stdout: &out2, Stderr: &errb}
	if code := Run(context.Background(), []string{"inspect", "-"}, env); code != 0 {
		t.Errorf("charter's own manifest from stdin: exit %d\n%s%s", code, out2.String(), errb.String())
	}
}

// TestProfileOutputsLintClean: charter's own manifest rules (MAN001–MAN012 and the Pod
// Security Standards) find nothing in the compose and Kubernetes outputs.
func TestProfileOutputsLintClean(t *testing.T) {
	ref := profileImage(t)
	vars := map[string]string{"CHARTER_CACHE_DIR": t.TempDir()}
	dir := t.TempDir()
	for name, args := range map[string][]string{
		"compose.yaml":       {"--format", "compose"},
		"deploy.yaml":        {"--format", "kubernetes"},
		"deploy-userns.yaml": {"--format", "kubernetes", "--userns", "auto"},
	} {
		format := args[1]
		code, out, errOut := runWith(t, vars, append([]string{"profile", ref, "--image-name", "registry.example.com/app:1"}, args...)...)
		if code != 0 {
			t.Fatalf("%s: exit %d %s", format, code, errOut)
		}
		if !strings.Contains(out, "registry.example.com/app:1@sha256:") {
			t.Errorf("%s: the image is not pinned by digest:\n%s", format, out)
		}
		if userns := slices.Contains(args, "--userns"); userns != strings.Contains(out, "hostUsers: false") {
			t.Errorf("%s %v: hostUsers: false present %v, want %v:\n%s", format, args, !userns, userns, out)
		}
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(out), 0o600); err != nil {
			t.Fatal(err)
		}
		if code, lint, _ := runWith(t, vars, "lint", path, "--fail-on", "info"); code != 0 {
			t.Errorf("charter lint of the %s output: exit %d\n%s", format, code, lint)
		}
	}
}
