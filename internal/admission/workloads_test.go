package admission

import (
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

var deploymentGVK = metav1.GroupVersionKind{Group: "apps", Version: "v1", Kind: "Deployment"}

type workload struct {
	gvk      metav1.GroupVersionKind
	specPath string
	make     func(corev1.PodSpec) runtime.Object
}

func objectMeta() metav1.ObjectMeta { return metav1.ObjectMeta{Name: "web", Namespace: "shop"} }

func template(spec corev1.PodSpec) corev1.PodTemplateSpec {
	return corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}}, Spec: spec}
}

func deployment(spec corev1.PodSpec) runtime.Object {
	return &appsv1.Deployment{TypeMeta: metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
		ObjectMeta: objectMeta(), Spec: appsv1.DeploymentSpec{Template: template(spec)}}
}

// workloads builds each kind the webhook reads around a pod spec.
func workloads() []workload {
	apps := func(kind string) metav1.GroupVersionKind {
		return metav1.GroupVersionKind{Group: "apps", Version: "v1", Kind: kind}
	}
	batch := func(kind string) metav1.GroupVersionKind {
		return metav1.GroupVersionKind{Group: "batch", Version: "v1", Kind: kind}
	}
	tm := func(gv, kind string) metav1.TypeMeta { return metav1.TypeMeta{APIVersion: gv, Kind: kind} }
	return []workload{
		{podGVK, "/spec", func(s corev1.PodSpec) runtime.Object {
			return &corev1.Pod{TypeMeta: tm("v1", "Pod"), ObjectMeta: objectMeta(), Spec: s}
		}},
		{deploymentGVK, "/spec/template/spec", deployment},
		{apps("StatefulSet"), "/spec/template/spec", func(s corev1.PodSpec) runtime.Object {
			return &appsv1.StatefulSet{TypeMeta: tm("apps/v1", "StatefulSet"), ObjectMeta: objectMeta(), Spec: appsv1.StatefulSetSpec{Template: template(s)}}
		}},
		{apps("DaemonSet"), "/spec/template/spec", func(s corev1.PodSpec) runtime.Object {
			return &appsv1.DaemonSet{TypeMeta: tm("apps/v1", "DaemonSet"), ObjectMeta: objectMeta(), Spec: appsv1.DaemonSetSpec{Template: template(s)}}
		}},
		{apps("ReplicaSet"), "/spec/template/spec", func(s corev1.PodSpec) runtime.Object {
			return &appsv1.ReplicaSet{TypeMeta: tm("apps/v1", "ReplicaSet"), ObjectMeta: objectMeta(), Spec: appsv1.ReplicaSetSpec{Template: template(s)}}
		}},
		{batch("Job"), "/spec/template/spec", func(s corev1.PodSpec) runtime.Object {
			return &batchv1.Job{TypeMeta: tm("batch/v1", "Job"), ObjectMeta: objectMeta(), Spec: batchv1.JobSpec{Template: template(s)}}
		}},
		{batch("CronJob"), "/spec/jobTemplate/spec/template/spec", func(s corev1.PodSpec) runtime.Object {
			return &batchv1.CronJob{TypeMeta: tm("batch/v1", "CronJob"), ObjectMeta: objectMeta(),
				Spec: batchv1.CronJobSpec{Schedule: "@hourly", JobTemplate: batchv1.JobTemplateSpec{Spec: batchv1.JobSpec{Template: template(s)}}}}
		}},
		{metav1.GroupVersionKind{Version: "v1", Kind: "ReplicationController"}, "/spec/template/spec", func(s corev1.PodSpec) runtime.Object {
			t := template(s)
			return &corev1.ReplicationController{TypeMeta: tm("v1", "ReplicationController"), ObjectMeta: objectMeta(),
				Spec: corev1.ReplicationControllerSpec{Template: &t}}
		}},
	}
}
