package cli

import (
	"strings"
	"testing"
)

const leakyPod = `apiVersion: v1
kind: Pod
metadata: { name: web, namespace: shop }
spec:
  containers:
    - name: app
      image: nginx
      securityContext: { privileged: true }
      env:
        - { name: DB_PASSWORD, value: "Tr0ub4dor-and-3-horses" }
`

func TestLintManifestsEndToEnd(t *testing.T) {
	// Standard input: detected as Kubernetes, exit 1, one report with the finding's
	// place, and the secret redacted in every format.
	for _, format := range []string{"table", "json", "sarif"} {
		code, out, errOut := run(t, "", leakyPod, "lint", "-", "-o", format, "--no-progress")
		if code != 1 {
			t.Fatalf("%s: exit %d, stderr %q", format, code, errOut)
		}
		if strings.Contains(out+errOut, "Tr0ub4dor") {
			t.Errorf("%s: the secret reached the output", format)
		}
		if !strings.Contains(out, "MAN002") || !strings.Contains(out, "MAN011") {
			t.Errorf("%s: MAN002/MAN011 missing:\n%s", format, out)
		}
	}
	_, out, _ := run(t, "", leakyPod, "lint", "-", "-o", "json")
	r := decodeReport(t, out)
	if r.Target.Kind != "manifest" || r.Findings[0].Location.Resource != "Pod/shop/web" {
		t.Errorf("target %+v, first location %+v", r.Target, r.Findings[0].Location)
	}

	// A directory: the charter file turns rules off and ignores by PSS check name.
	dir := project(t, map[string]string{
		"k8s/pod.yaml": leakyPod,
		"charter.yaml": "version: 1\npolicy:\n  rules: { MAN009: off }\n  ignore:\n" +
			"    - { id: pss:privileged, reason: debug pod }\n" +
			"    - { id: MAN011, reason: rotated }\n",
	})
	code, out, errOut := run(t, dir, "", "lint", ".", "-o", "json", "--fail-on", "critical")
	if code != 0 {
		t.Fatalf("exit %d, stderr %q\n%s", code, errOut, out)
	}
	r = decodeReport(t, out)
	if hasRule(r, "MAN009") || r.Summary.Suppressed != 2 || r.Target.Kind != "repo" {
		t.Errorf("summary %+v, target %+v", r.Summary, r.Target)
	}

	// A broken manifest is exit 2 with its file and line.
	dir = project(t, map[string]string{"pod.yaml": leakyPod + "      ports: [\n"})
	code, _, errOut = run(t, dir, "", "lint", "pod.yaml")
	if code != 2 || !strings.Contains(errOut, "pod.yaml:12: ") {
		t.Errorf("broken manifest: exit %d, stderr %q", code, errOut)
	}
}
