package manifest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"
	corev1 "k8s.io/api/core/v1"

	"github.com/charterhq/charter/internal/report"
)

// templatePaths says where each workload kind keeps its pod template (a node with
// metadata and spec); nil means the object is the pod itself.
var templatePaths = map[string][]string{
	"Pod":                   nil,
	"PodTemplate":           {"template"},
	"Deployment":            {"spec", "template"},
	"StatefulSet":           {"spec", "template"},
	"DaemonSet":             {"spec", "template"},
	"ReplicaSet":            {"spec", "template"},
	"ReplicationController": {"spec", "template"},
	"Job":                   {"spec", "template"},
	"CronJob":               {"spec", "jobTemplate", "spec", "template"},
}

// Object is one Kubernetes object with a pod template, as found in a file.
type Object struct {
	Resource Resource
	// Line is the object's first line in its file.
	Line int
	// Template is the pod template: its metadata and spec.
	Template corev1.PodTemplateSpec
	// node is the template's YAML node, for field lines.
	node *yaml.Node
	// ignore is the object's charter.dev/ignore annotation, if any.
	ignore *pragma
}

// IgnoreAnnotation on a workload (or its pod template) suppresses rules for that
// object in `charter lint`: "MAN005,MAN009 reason". Unlike a comment, it survives
// kustomize build. The admission webhook does not honour it: a workload cannot exempt
// itself there; charter.yaml's admission exemptions do that.
const IgnoreAnnotation = "charter.dev/ignore"

// KubeResult is what decoding a Kubernetes stream found.
type KubeResult struct {
	// Objects are the workloads: every object with a pod template.
	Objects []Object
	// Count is the number of Kubernetes objects in the stream, workloads or not.
	Count int
	// Warnings are documents that are not Kubernetes objects, and the like.
	Warnings []string
	// docStarts are the documents' first lines, for pragmas.
	docStarts []int
	// visited counts objects, Lists included: aliases can make a small file name the
	// same List many times over.
	visited int
}

// DecodeKubernetes reads a stream of Kubernetes objects (multi-document YAML, JSON,
// `kubectl get -o yaml` Lists, `helm template` output) and returns the ones with a pod
// template. A malformed document is a *ParseError with its line.
func DecodeKubernetes(data []byte) (*KubeResult, error) {
	docs, err := decodeDocuments(data)
	if err != nil {
		return nil, err
	}
	res := &KubeResult{}
	for _, doc := range docs {
		res.docStarts = append(res.docStarts, doc.Line)
		if err := res.object(doc, 0); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// maxListDepth bounds Lists nested in Lists.
const maxListDepth = 8

func (res *KubeResult) object(n *yaml.Node, depth int) error {
	n = resolve(n)
	if res.visited++; res.visited > maxDocuments {
		return &ParseError{Line: n.Line, Err: fmt.Errorf("more than %d objects", maxDocuments)}
	}
	kind, apiVersion := scalar(n, "kind"), scalar(n, "apiVersion")
	if n.Kind != yaml.MappingNode || kind == "" || apiVersion == "" {
		res.Warnings = append(res.Warnings, fmt.Sprintf("line %d: not a Kubernetes object (no apiVersion and kind); skipped", n.Line))
		return nil
	}
	if items, _ := child(n, "items"); items != nil && strings.HasSuffix(kind, "List") {
		if depth >= maxListDepth {
			return &ParseError{Line: n.Line, Err: fmt.Errorf("%s nested in Lists more than %d deep", kind, maxListDepth)}
		}
		if items.Kind == yaml.ScalarNode && items.ShortTag() == "!!null" {
			return nil // an empty List
		}
		if items.Kind != yaml.SequenceNode {
			return &ParseError{Line: items.Line, Err: fmt.Errorf("%s items: want a list", kind)}
		}
		for _, it := range items.Content {
			if err := res.object(it, depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	res.Count++
	return res.workload(n, kind)
}

// workload records an object that has a pod template; other objects are left alone.
func (res *KubeResult) workload(n *yaml.Node, kind string) error {
	path, ok := templatePaths[kind]
	if !ok {
		// Other workload kinds (Argo Rollouts, Knative Services, OpenKruise CloneSets)
		// keep a pod template where Deployments do.
		spec, _ := child(n, "spec")
		tmpl, _ := child(spec, "template")
		tspec, _ := child(tmpl, "spec")
		if cs, _ := child(tspec, "containers"); cs == nil || cs.Kind != yaml.SequenceNode {
			return nil
		}
		path = []string{"spec", "template"}
	}
	meta, _ := child(n, "metadata")
	obj := Object{
		Resource: Resource{Kind: kind, Namespace: scalar(meta, "namespace"), Name: scalar(meta, "name")},
		Line:     n.Line,
		node:     n,
	}
	if obj.Resource.Name == "" {
		obj.Resource.Name = scalar(meta, "generateName")
	}
	for _, p := range path {
		if obj.node, _ = child(obj.node, p); obj.node == nil {
			// A partial object, as in a kustomize patch: nothing to check.
			res.Warnings = append(res.Warnings, fmt.Sprintf("line %d: %s %s has no %s; skipped", n.Line, kind, obj.Resource.Name, strings.Join(path, ".")))
			return nil
		}
	}
	if err := decodeTemplate(obj.node, &obj.Template); err != nil {
		return err
	}
	ann, _ := child(meta, "annotations")
	if v := scalar(ann, IgnoreAnnotation); v != "" {
		obj.ignore = parseIgnoreValue(v)
	} else if v := obj.Template.Annotations[IgnoreAnnotation]; v != "" {
		obj.ignore = parseIgnoreValue(v)
	}
	res.Objects = append(res.Objects, obj)
	return nil
}

// decodeTemplate decodes a pod template node into the Kubernetes type, by way of JSON, as
// the API server reads it. A field of the wrong type is reported at its line.
func decodeTemplate(n *yaml.Node, out *corev1.PodTemplateSpec) error {
	var buf bytes.Buffer
	budget := maxJSONNodes
	if err := nodeJSON(&buf, n, &budget); err != nil {
		var pe *ParseError
		if errors.As(err, &pe) {
			return err
		}
		return &ParseError{Line: n.Line, Err: err}
	}
	if err := json.Unmarshal(buf.Bytes(), out); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			line, ok := findField(n, strings.Split(te.Field, "."), jsonKind(te.Value))
			if !ok {
				line = lineOf(n, strings.Split(te.Field, "."))
			}
			return &ParseError{Line: line, Err: fmt.Errorf("%s: a %s is not a valid %s", te.Field, te.Value, te.Type)}
		}
		return &ParseError{Line: n.Line, Err: err}
	}
	return nil
}

// Check runs CheckPod on the object's template and places each finding at its field's
// line in path. The message names the object and container, since a file's findings
// are read by line, many objects to a file.
func (o *Object) Check(path string) []report.Finding {
	issues := checkPod(o.Resource, &o.Template.ObjectMeta, &o.Template.Spec)
	out := make([]report.Finding, 0, len(issues))
	for _, is := range issues {
		f := is.finding
		f.Location.Path = path
		f.Location.Line = lineOf(o.node, is.path)
		who := o.Resource.Kind + " " + o.Resource.Name
		if f.Location.Container != "" {
			who += ", container " + f.Location.Container
		}
		f.Message = who + ": " + f.Message
		out = append(out, f)
	}
	return out
}

// LintKubernetes decodes a Kubernetes stream and checks every workload in it, with inline
// pragmas applied. path is how findings name the file.
func LintKubernetes(path string, data []byte) (*Result, error) {
	kr, err := DecodeKubernetes(data)
	if err != nil {
		return nil, err
	}
	r := &Result{Objects: kr.Count}
	for i := range kr.Objects {
		fs := kr.Objects[i].Check(path)
		if pr := kr.Objects[i].ignore; pr != nil {
			for j := range fs {
				if pr.names(&fs[j]) {
					fs[j].Suppressed = &report.Suppression{By: "pragma", Reason: pr.reason}
				}
			}
		}
		r.Findings = append(r.Findings, fs...)
	}
	for _, w := range kr.Warnings {
		r.Warnings = append(r.Warnings, path+": "+w)
	}
	parsePragmas(data, kr.docStarts).apply(r.Findings)
	return r, nil
}

// Result is what linting one file found.
type Result struct {
	Findings []report.Finding
	Warnings []string
	// Objects counts what was checked: Kubernetes objects, compose services, CI jobs.
	Objects int
}

// KustomizePatches returns the files a kustomization.yaml names as patches
// (patchesStrategicMerge, patches[].path, patchesJson6902[].path), relative to its
// folder. Such a file holds part of an object, to be merged into a base: it is linted
// as part of `kustomize build` output, not on its own.
func KustomizePatches(data []byte) []string {
	docs, err := decodeDocuments(data)
	if err != nil || len(docs) == 0 {
		return nil
	}
	var out []string
	if l, _ := child(docs[0], "patchesStrategicMerge"); l != nil && l.Kind == yaml.SequenceNode {
		for _, it := range l.Content {
			if it.Kind == yaml.ScalarNode && !strings.Contains(it.Value, "\n") {
				out = append(out, it.Value)
			}
		}
	}
	for _, key := range []string{"patches", "patchesJson6902"} {
		if l, _ := child(docs[0], key); l != nil && l.Kind == yaml.SequenceNode {
			for _, it := range l.Content {
				if p := scalar(it, "path"); p != "" {
					out = append(out, p)
				}
			}
		}
	}
	return out
}
