package manifest

import (
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/charterhq/charter/internal/report"
)

func ptr[T any](v T) *T { return &v }

// hardened returns a pod spec that passes every check.
func hardened() *corev1.PodSpec {
	return &corev1.PodSpec{
		SecurityContext: &corev1.PodSecurityContext{
			RunAsNonRoot:   ptr(true),
			RunAsUser:      ptr(int64(65532)),
			SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
		},
		Containers: []corev1.Container{{
			Name:  "app",
			Image: "registry.example.com/app:1.0@sha256:" + strings.Repeat("a", 64),
			SecurityContext: &corev1.SecurityContext{
				AllowPrivilegeEscalation: ptr(false),
				ReadOnlyRootFilesystem:   ptr(true),
				Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
			},
			Resources: corev1.ResourceRequirements{Limits: corev1.ResourceList{
				corev1.ResourceCPU:    resource.MustParse("500m"),
				corev1.ResourceMemory: resource.MustParse("128Mi"),
			}},
			Env: []corev1.EnvVar{{Name: "DB_PASSWORD", ValueFrom: &corev1.EnvVarSource{}}, {Name: "MODE", Value: "prod"}},
		}},
		Volumes: []corev1.Volume{{Name: "tmp", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}},
	}
}

var web = Resource{Kind: "Deployment", Namespace: "default", Name: "web"}

func rulesOf(fs []report.Finding) []string {
	var ids []string
	for _, f := range fs {
		ids = append(ids, f.Rule)
	}
	slices.Sort(ids)
	return slices.Compact(ids)
}

func TestCheckPodHardenedIsClean(t *testing.T) {
	if got := CheckPod(web, nil, hardened()); len(got) != 0 {
		t.Fatalf("hardened pod has findings: %+v", got)
	}
	if got := CheckPod(web, nil, nil); got != nil {
		t.Fatalf("nil spec: %v", got)
	}
}

func TestCheckPodEmptyContainer(t *testing.T) {
	spec := &corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "nginx"}}}
	got := CheckPod(web, &metav1.ObjectMeta{}, spec)
	want := []string{"MAN003", "MAN004", "MAN005", "MAN006", "MAN008", "MAN009", "MAN010"}
	if ids := rulesOf(got); !slices.Equal(ids, want) {
		t.Fatalf("rules = %v, want %v", ids, want)
	}
	for _, f := range got {
		if f.Location.Resource != "Deployment/default/web" || f.Location.Container != "app" {
			t.Errorf("%s: location %+v", f.Rule, f.Location)
		}
		if f.Location.Path != "" || f.Location.Line != 0 {
			t.Errorf("%s: CheckPod sets a file location", f.Rule)
		}
	}
}
