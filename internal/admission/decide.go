package admission

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"

	admissionv1 "k8s.io/api/admission/v1"

	"github.com/charterhq/charter/internal/manifest"
	"github.com/charterhq/charter/internal/report"
)

// maxImageRef bounds an image reference: real ones are a host, a path and a tag or a
// digest, far below it, and every message quotes the reference.
const maxImageRef = 1024

// decision is the outcome of one request, before it is encoded.
type decision struct {
	resource string
	scope    string // the policy entry that applied
	images   []imageRecord
	reasons  []string // why it is denied; empty: allowed
	warnings []string
	patch    []patchOp
	// where the pod runs, for the inventory
	namespace, workload string
	// inventoryDropped counts the places the inventory's full queue dropped
	inventoryDropped int
}

// imageRecord is one image's line in the audit log.
type imageRecord struct {
	Container string `json:"container"`
	Image     string `json:"image"`
	Digest    string `json:"digest,omitempty"`
	Cached    bool   `json:"cached,omitempty"`
	Exempt    string `json:"exempt,omitempty"`
}

type patchOp struct {
	Op    string `json:"op"`
	Path  string `json:"path"`
	Value string `json:"value"`
}

func (d *decision) allowed() bool { return len(d.reasons) == 0 }

func (d *decision) deny(format string, args ...any) {
	d.reasons = append(d.reasons, fmt.Sprintf(format, args...))
}

// response encodes the decision for the API server.
func (d *decision) response() *admissionv1.AdmissionResponse {
	if !d.allowed() {
		msg := "charter: " + strings.Join(d.reasons, "\n")
		if len(d.reasons) > 1 {
			msg = fmt.Sprintf("charter: %d problems:\n- %s", len(d.reasons), strings.Join(d.reasons, "\n- "))
		}
		r := deny(msg)
		r.Warnings = d.warnings
		return r
	}
	r := &admissionv1.AdmissionResponse{Allowed: true, Warnings: d.warnings}
	if len(d.patch) > 0 {
		p, err := json.Marshal(d.patch)
		if err == nil {
			pt := admissionv1.PatchTypeJSONPatch
			r.Patch, r.PatchType = p, &pt
		}
	}
	return r
}

// decide checks one request. Every path that cannot tell ends in a denial, except
// registry failures in a namespace whose failure policy is open.
func (s *Server) decide(ctx context.Context, req *admissionv1.AdmissionRequest, mutate bool) *decision {
	d := &decision{resource: fmt.Sprintf("%s/%s/%s", clip(req.Kind.Kind, 60), clip(req.Namespace, 63), clip(req.Name, 253))}
	switch {
	case req.Operation == admissionv1.Delete || req.Operation == admissionv1.Connect:
		return d // nothing new will run
	case req.SubResource == "status":
		return d // a status update cannot change what runs
	}
	pod, err := podFromRequest(req)
	if err != nil {
		d.deny("%s", err)
		return d
	}
	d.resource = clip(pod.resource(), 600)
	d.namespace, d.workload = pod.Namespace, workloadOf(pod, s.now())
	reqs, err := s.policy.requirementsFor(ctx, pod.Namespace, pod.Meta.Labels, s.nsl)
	if err != nil {
		d.deny("cannot tell which policy applies: %s; charter denies what it cannot check", err)
		return d
	}
	d.scope = reqs.scope
	containers := pod.containers()
	s.checkManifest(d, pod, containers, &reqs)
	s.checkImages(ctx, d, pod, containers, &reqs, mutate)
	for i, r := range d.reasons {
		d.reasons[i] = s.redact.String(r)
	}
	return d
}

// checkManifest runs the MAN and Pod Security Standards checks and keeps the findings
// the requirements say deny.
func (s *Server) checkManifest(d *decision, pod *podObject, containers []container, r *requirements) {
	res := manifest.Resource{Kind: pod.Kind, Namespace: pod.Namespace, Name: pod.Name}
	imageOf := map[string]string{}
	for _, c := range containers {
		imageOf[c.Name] = c.Image
	}
	now := s.now()
	for _, f := range manifest.CheckPod(res, pod.Meta, pod.Spec) {
		if !r.denies(f) {
			continue
		}
		img := imageOf[f.Location.Container]
		ex, expired := s.policy.exemptRule(pod.Namespace, f, img, qualify(img), now)
		if ex != nil {
			d.warnings = append(d.warnings, fmt.Sprintf("charter: %s%s exempted (%s)", f.Rule, inContainer(f), ex.reason))
			continue
		}
		d.deny("%s", findingReason(f, expired))
	}
}

// findingReason words a manifest finding as a denial: what, where, and the fix.
func findingReason(f report.Finding, expired *exemption) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s%s: %s", f.Rule, inContainer(f), f.Message)
	if f.Remediation != "" {
		fmt.Fprintf(&b, "; fix: %s", f.Remediation)
	}
	if expired != nil {
		fmt.Fprintf(&b, " (its exemption expired on %s)", expired.expiresAt)
	}
	return b.String()
}

func inContainer(f report.Finding) string {
	if f.Location.Container == "" {
		return ""
	}
	return " in container " + f.Location.Container
}

// checkImages verifies every distinct image at once, so a pod with several images costs
// one timeout at most, and collects reasons, warnings and (for /mutate) the patch.
func (s *Server) checkImages(ctx context.Context, d *decision, pod *podObject, containers []container, r *requirements, mutate bool) {
	now := s.now()
	results := map[string]imageResult{}
	var todo []string
	for _, c := range containers {
		if _, seen := results[c.Image]; seen {
			continue
		}
		results[c.Image] = imageResult{}
		if c.Image == "" || len(c.Image) > maxImageRef {
			continue
		}
		if ex, _ := s.policy.exemptImage(pod.Namespace, c.Image, qualify(c.Image), now); ex != nil {
			continue
		}
		if r.signature || r.verdict != nil || mutate {
			todo = append(todo, c.Image)
		}
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, img := range todo {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res := s.images.check(ctx, img, r)
			mu.Lock()
			results[img] = res
			mu.Unlock()
		}()
	}
	wg.Wait()
	reported := map[string]bool{}
	for _, c := range containers {
		s.judgeImage(d, pod, c, results[c.Image], r, mutate, reported)
	}
}

// judgeImage turns one container's image result into audit, reasons and patch.
func (s *Server) judgeImage(d *decision, pod *podObject, c container, res imageResult, r *requirements, mutate bool, reported map[string]bool) {
	rec := imageRecord{Container: c.Name, Image: c.Image, Digest: res.Digest, Cached: res.Cached}
	first := !reported[c.Image]
	reported[c.Image] = true
	switch {
	case c.Image == "":
		d.deny("container %s has no image", clip(c.Name, 63))
		d.images = append(d.images, rec)
		return
	case len(c.Image) > maxImageRef:
		rec.Image = clip(c.Image, 100)
		d.deny("container %s: image reference is longer than %d bytes", clip(c.Name, 63), maxImageRef)
		d.images = append(d.images, rec)
		return
	}
	ex, expired := s.policy.exemptImage(pod.Namespace, c.Image, qualify(c.Image), s.now())
	if ex != nil {
		rec.Exempt = ex.reason
		d.images = append(d.images, rec)
		if first {
			d.warnings = append(d.warnings, fmt.Sprintf("charter: image %s admitted without checks by exemption (%s)", c.Image, ex.reason))
		}
		return
	}
	d.images = append(d.images, rec)
	note := ""
	if expired != nil {
		note = fmt.Sprintf(" (its exemption expired on %s)", expired.expiresAt)
	}
	switch {
	case res.Denied != "":
		if first {
			d.deny("%s%s", res.Denied, note)
		}
		return
	case res.Err != nil:
		if !first {
			return
		}
		if r.failOpen {
			d.warnings = append(d.warnings, fmt.Sprintf("charter: admitted unchecked (failurePolicy open): %s", res.Err))
			return
		}
		d.deny("%s; charter denies what it cannot check (failurePolicy closed): retry when the registry answers, or set failurePolicy: open for this namespace in charter.yaml", res.Err)
		return
	}
	if r.digest && !mutate && !isDigestRef(c.Image) && first {
		d.deny("image %s is not pinned by digest; write it as %s (or enable charter's mutating webhook, which pins verified tags)", c.Image, pinned(c.Image, res.Digest))
	}
	if mutate && res.Digest != "" && !isDigestRef(c.Image) {
		d.patch = append(d.patch, patchOp{Op: "replace", Path: c.Path, Value: pinned(c.Image, res.Digest)})
	}
}

// pinned writes image with the digest that was verified, keeping the tag for people:
// registry.example.com/app:1.4.2@sha256:…
func pinned(image, digest string) string {
	if digest == "" {
		digest = "sha256:…"
	}
	return image + "@" + digest
}
