package admission

import (
	"encoding/json"
	"fmt"
	"strings"

	admissionv1 "k8s.io/api/admission/v1"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// podObject is the pod a request would run: the Pod itself or a workload's pod
// template, with where its spec sits in the object (for JSON patches).
type podObject struct {
	Kind, Namespace, Name string
	// Meta is the pod's metadata (the template's, for a workload): its labels select
	// namespaces entries.
	Meta *metav1.ObjectMeta
	// Object is the object's own metadata (the Pod's, the Deployment's…): its owner
	// references name the workload a pod belongs to.
	Object *metav1.ObjectMeta
	Spec   *corev1.PodSpec
	// SpecPath is the JSON pointer to the pod spec: /spec for a Pod,
	// /spec/template/spec for a Deployment…
	SpecPath string

	typeMeta metav1.TypeMeta // as the object states it
}

// container is one container of a pod spec, of any of its three lists.
type container struct {
	Name, Image string
	// Path is the JSON pointer to its image field.
	Path string
}

// Kinds the webhook reads, by group/version/kind.
var podKinds = map[metav1.GroupVersionKind]func([]byte) (*podObject, error){
	{Group: "", Version: "v1", Kind: "Pod"}:                   decodePod,
	{Group: "", Version: "v1", Kind: "ReplicationController"}: decodeRC,
	{Group: "apps", Version: "v1", Kind: "Deployment"}: templateOf(func(o *appsv1.Deployment) (*metav1.TypeMeta, *metav1.ObjectMeta, *corev1.PodTemplateSpec) {
		return &o.TypeMeta, &o.ObjectMeta, &o.Spec.Template
	}),
	{Group: "apps", Version: "v1", Kind: "StatefulSet"}: templateOf(func(o *appsv1.StatefulSet) (*metav1.TypeMeta, *metav1.ObjectMeta, *corev1.PodTemplateSpec) {
		return &o.TypeMeta, &o.ObjectMeta, &o.Spec.Template
	}),
	{Group: "apps", Version: "v1", Kind: "DaemonSet"}: templateOf(func(o *appsv1.DaemonSet) (*metav1.TypeMeta, *metav1.ObjectMeta, *corev1.PodTemplateSpec) {
		return &o.TypeMeta, &o.ObjectMeta, &o.Spec.Template
	}),
	{Group: "apps", Version: "v1", Kind: "ReplicaSet"}: templateOf(func(o *appsv1.ReplicaSet) (*metav1.TypeMeta, *metav1.ObjectMeta, *corev1.PodTemplateSpec) {
		return &o.TypeMeta, &o.ObjectMeta, &o.Spec.Template
	}),
	{Group: "batch", Version: "v1", Kind: "Job"}: templateOf(func(o *batchv1.Job) (*metav1.TypeMeta, *metav1.ObjectMeta, *corev1.PodTemplateSpec) {
		return &o.TypeMeta, &o.ObjectMeta, &o.Spec.Template
	}),
	{Group: "batch", Version: "v1", Kind: "CronJob"}: decodeCronJob,
}

// Kinds lists the kinds the webhook can check, for messages and docs.
func Kinds() []string {
	return []string{"Pod", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob", "ReplicationController"}
}

// podFromRequest decodes the object of a CREATE or UPDATE request into the pod it would
// run. The object's own apiVersion and kind must agree with the request's.
func podFromRequest(req *admissionv1.AdmissionRequest) (*podObject, error) {
	decode, ok := podKinds[req.Kind]
	if !ok {
		return nil, fmt.Errorf("charter does not check %s; the webhook's rules should list only %s",
			gvkString(req.Kind), strings.Join(Kinds(), ", "))
	}
	raw := req.Object.Raw
	if len(raw) == 0 || string(raw) == "null" {
		return nil, fmt.Errorf("the %s request for %s carries no object to check", req.Operation, gvkString(req.Kind))
	}
	p, err := decode(raw)
	if err != nil {
		return nil, fmt.Errorf("the %s object cannot be read: %s", req.Kind.Kind, clip(err.Error(), 200))
	}
	if tm := p.typeMeta; tm.Kind != "" && (tm.Kind != req.Kind.Kind || tm.APIVersion != groupVersion(req.Kind)) {
		return nil, fmt.Errorf("the object is a %s %s, but the request says %s", clip(tm.APIVersion, 60), clip(tm.Kind, 60), gvkString(req.Kind))
	}
	p.Kind = req.Kind.Kind
	// The request's namespace is the one the object will live in (the API server
	// refuses an object whose own namespace disagrees).
	if req.Namespace != "" {
		p.Namespace = req.Namespace
	}
	if p.Name == "" {
		p.Name = req.Name
	}
	return p, nil
}

func decodePod(raw []byte) (*podObject, error) {
	var o corev1.Pod
	if err := json.Unmarshal(raw, &o); err != nil {
		return nil, err
	}
	return &podObject{typeMeta: o.TypeMeta, Namespace: o.Namespace, Name: objectName(&o.ObjectMeta), Meta: &o.ObjectMeta, Object: &o.ObjectMeta,
		Spec: &o.Spec, SpecPath: "/spec"}, nil
}

func decodeRC(raw []byte) (*podObject, error) {
	var o corev1.ReplicationController
	if err := json.Unmarshal(raw, &o); err != nil {
		return nil, err
	}
	if o.Spec.Template == nil {
		return nil, fmt.Errorf("spec.template is missing")
	}
	return &podObject{typeMeta: o.TypeMeta, Namespace: o.Namespace, Name: objectName(&o.ObjectMeta), Meta: &o.Spec.Template.ObjectMeta,
		Object: &o.ObjectMeta, Spec: &o.Spec.Template.Spec, SpecPath: "/spec/template/spec"}, nil
}

func decodeCronJob(raw []byte) (*podObject, error) {
	var o batchv1.CronJob
	if err := json.Unmarshal(raw, &o); err != nil {
		return nil, err
	}
	t := &o.Spec.JobTemplate.Spec.Template
	return &podObject{typeMeta: o.TypeMeta, Namespace: o.Namespace, Name: objectName(&o.ObjectMeta), Meta: &t.ObjectMeta, Object: &o.ObjectMeta,
		Spec: &t.Spec, SpecPath: "/spec/jobTemplate/spec/template/spec"}, nil
}

// templateOf decodes a workload whose pod template sits at spec.template.
func templateOf[T any](parts func(*T) (*metav1.TypeMeta, *metav1.ObjectMeta, *corev1.PodTemplateSpec)) func([]byte) (*podObject, error) {
	return func(raw []byte) (*podObject, error) {
		var o T
		if err := json.Unmarshal(raw, &o); err != nil {
			return nil, err
		}
		tm, meta, t := parts(&o)
		return &podObject{typeMeta: *tm, Namespace: meta.Namespace, Name: objectName(meta), Meta: &t.ObjectMeta, Object: meta,
			Spec: &t.Spec, SpecPath: "/spec/template/spec"}, nil
	}
}

// objectName is the object's name, or its generateName prefix with a * for objects a
// controller is about to name.
func objectName(m *metav1.ObjectMeta) string {
	if m.Name == "" && m.GenerateName != "" {
		return m.GenerateName + "*"
	}
	return m.Name
}

// containers lists every container of the pod: init, regular and ephemeral.
func (p *podObject) containers() []container {
	var out []container
	for i, c := range p.Spec.InitContainers {
		out = append(out, container{Name: c.Name, Image: c.Image, Path: fmt.Sprintf("%s/initContainers/%d/image", p.SpecPath, i)})
	}
	for i, c := range p.Spec.Containers {
		out = append(out, container{Name: c.Name, Image: c.Image, Path: fmt.Sprintf("%s/containers/%d/image", p.SpecPath, i)})
	}
	for i, c := range p.Spec.EphemeralContainers {
		out = append(out, container{Name: c.Name, Image: c.Image, Path: fmt.Sprintf("%s/ephemeralContainers/%d/image", p.SpecPath, i)})
	}
	return out
}

func (p *podObject) resource() string { return p.Kind + "/" + p.Namespace + "/" + p.Name }

func groupVersion(gvk metav1.GroupVersionKind) string {
	if gvk.Group == "" {
		return gvk.Version
	}
	return gvk.Group + "/" + gvk.Version
}

func gvkString(gvk metav1.GroupVersionKind) string {
	return clip(groupVersion(gvk), 80) + " " + clip(gvk.Kind, 60)
}
