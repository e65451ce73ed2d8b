package report

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// golden compares got with testdata/name, or rewrites it under -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("%s differs (go test -update rewrites it):\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

func table(t *testing.T, r *Report) string {
	t.Helper()
	var buf bytes.Buffer
	if err := EncodeTable(&buf, r, Options{}); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

// TestTableManifestObjects renders a real `charter lint -o json` report of a repository
// with a Dockerfile, a compose file and Kubernetes manifests (from internal/manifest's
// fixtures): each object and container gets its own heading under the file, and the
// messages lose the opening that names them.
func TestTableManifestObjects(t *testing.T) {
	data, err := os.ReadFile("testdata/lint-repo.json")
	if err != nil {
		t.Fatal(err)
	}
	var r Report
	if err := json.Unmarshal(data, &r); err != nil {
		t.Fatal(err)
	}
	out := table(t, &r)
	golden(t, "lint-repo.table", out)
	for _, want := range []string{
		"k8s/web.yaml\n  Deployment/shop/web\n     17  HIGH     MAN007",
		"  Deployment/shop/web, container init\n     25  HIGH     MAN003 (pss:runAsNonRoot,KSV012)  may run as root: it inherits",
		"compose.yaml\n     18  HIGH     CTX002", // a finding about the file itself comes first
		"  service/db\n     15  HIGH     MAN003  no user is set",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q", want)
		}
	}
	if strings.Contains(out, "Deployment web, container") || strings.Contains(out, "service db:") {
		t.Errorf("a message still names the object its heading shows:\n%s", out)
	}
}

// TestTableWithoutObjects pins the table for findings that name no object in a file
// (Dockerfiles, images) and for objects without a file (a running container): exactly
// the layout charter printed before objects had headings.
func TestTableWithoutObjects(t *testing.T) {
	r := sample()
	layer := 2
	r.Findings = append(r.Findings,
		Rule{ID: "IMG003", Severity: Critical}.Finding(Location{Image: "registry.example/app:1", Path: "/root/.ssh/id_rsa", Layer: "sha256:abc", LayerIndex: &layer}, "private key file"),
		Rule{ID: "IMG008", Severity: Info}.Finding(Location{Image: "registry.example/app:1"}, "/bin/sh is present"),
		Rule{ID: "RT001", Severity: High}.Finding(Location{Resource: "container/web", Container: "web"}, "container/web [web]: shell /bin/sh started"),
	)
	r.Finalize(High)
	golden(t, "no-objects.table", table(t, r))
}

func TestTrimSubject(t *testing.T) {
	for _, tc := range []struct{ msg, resource, container, want string }{
		{"Deployment web, container app: readOnlyRootFilesystem is not set", "Deployment/shop/web", "app", "readOnlyRootFilesystem is not set"},
		{"Deployment web: pod shares the node's namespaces", "Deployment/shop/web", "", "pod shares the node's namespaces"},
		{"Pod debug: hostPID", "Pod/debug", "", "hostPID"},
		{"service db: no user is set", "service/db", "", "no user is set"},
		{"job build: the job container runs privileged", "job/build", "container", "the job container runs privileged"},
		{"Deployment/shop/web [app]: runs as root", "Deployment/shop/web", "app", "runs as root"},
		// Another object's name, another container, or nothing after the colon: kept.
		{"Deployment api, container app: x", "Deployment/shop/web", "app", "Deployment api, container app: x"},
		{"Deployment web, container init: x", "Deployment/shop/web", "app", "Deployment web, container init: x"},
		{"Deployment web: ", "Deployment/shop/web", "", "Deployment web: "},
		{"image nginx:1.16 is not pinned", "Deployment/shop/web", "app", "image nginx:1.16 is not pinned"},
	} {
		if got := trimSubject(tc.msg, tc.resource, tc.container); got != tc.want {
			t.Errorf("trimSubject(%q, %q, %q) = %q, want %q", tc.msg, tc.resource, tc.container, got, tc.want)
		}
	}
}
