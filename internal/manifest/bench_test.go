package manifest

import (
	"bytes"
	"fmt"
	"os"
	"testing"
)

// stream builds a rendered-chart-like stream of n objects: four in ten Deployments,
// one StatefulSet, one CronJob, two Services and two ConfigMaps, workloads taken from
// the insecure and hardened fixtures' shapes.
func stream(b *testing.B, n int) []byte {
	b.Helper()
	insecure, err := os.ReadFile("testdata/kube/insecure.yaml")
	if err != nil {
		b.Fatal(err)
	}
	hardenedDoc, err := os.ReadFile("testdata/kube/hardened.yaml")
	if err != nil {
		b.Fatal(err)
	}
	var buf bytes.Buffer
	for i := 0; i < n; i++ {
		fmt.Fprintf(&buf, "---\n# Source: chart/templates/obj-%d.yaml\n", i)
		switch i % 10 {
		case 0, 1, 2:
			buf.Write(bytes.ReplaceAll(hardenedDoc, []byte("name: api"), []byte(fmt.Sprintf("name: api-%d", i))))
		case 3:
			buf.Write(bytes.SplitN(insecure, []byte("\n---\n"), 2)[0])
			buf.WriteString("\n")
		case 4:
			fmt.Fprintf(&buf, "apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: db-%d}\nspec:\n  serviceName: db\n  selector: {matchLabels: {app: db}}\n  template:\n    metadata: {labels: {app: db}}\n    spec:\n      containers:\n        - name: db\n          image: postgres:16\n          env: [{name: POSTGRES_PASSWORD, valueFrom: {secretKeyRef: {name: db, key: pw}}}]\n          volumeMounts: [{name: data, mountPath: /var/lib/postgresql/data}]\n", i)
		case 5:
			fmt.Fprintf(&buf, "apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: job-%d}\nspec:\n  schedule: \"@hourly\"\n  jobTemplate:\n    spec:\n      template:\n        spec:\n          restartPolicy: Never\n          containers: [{name: job, image: \"busybox:1.36\", args: [\"true\"]}]\n", i)
		case 6, 7:
			fmt.Fprintf(&buf, "apiVersion: v1\nkind: Service\nmetadata: {name: svc-%d}\nspec:\n  selector: {app: api}\n  ports: [{port: 80, targetPort: 8080}]\n", i)
		default:
			fmt.Fprintf(&buf, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm-%d}\ndata:\n  config.yaml: |\n    level: info\n    listen: :8080\n", i)
		}
	}
	return buf.Bytes()
}

// BenchmarkLintKubernetes1000 lints a 1,000-object stream, as `helm template | charter
// lint -` would.
func BenchmarkLintKubernetes1000(b *testing.B) {
	data := stream(b, 1000)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	var findings int
	for b.Loop() {
		res, err := LintKubernetes("stream.yaml", data)
		if err != nil {
			b.Fatal(err)
		}
		findings = len(res.Findings)
	}
	b.ReportMetric(float64(findings), "findings")
}

// BenchmarkCheckPod is the admission webhook's per-pod cost.
func BenchmarkCheckPod(b *testing.B) {
	kr, err := DecodeKubernetes(stream(b, 4))
	if err != nil {
		b.Fatal(err)
	}
	o := kr.Objects[3] // the insecure Deployment: many findings
	b.ReportAllocs()
	for b.Loop() {
		_ = CheckPod(o.Resource, &o.Template.ObjectMeta, &o.Template.Spec)
	}
}

// BenchmarkLintCompose lints the many-services compose fixture.
func BenchmarkLintCompose(b *testing.B) {
	data, err := os.ReadFile("testdata/compose/many-services.yaml")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := LintCompose("compose.yaml", data); err != nil {
			b.Fatal(err)
		}
	}
}
