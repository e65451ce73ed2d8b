package admission

import (
	"encoding/json"
	"strings"
	"testing"

	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"
)

func TestSignedHardenedPodIsAdmitted(t *testing.T) {
	f := newFixture(t, "")
	ref := f.pushSigned("shop/web:1.0")
	resp := f.admit("/validate", reviewOf(t, hardenedPod(ref), podGVK, "shop"))
	if !resp.Allowed {
		t.Fatalf("denied: %s", message(resp))
	}
	if resp.Patch != nil {
		t.Errorf("/validate returned a patch: %s", resp.Patch)
	}
}

func TestUnsafePodsAreDeniedWithReasonAndFix(t *testing.T) {
	f := newFixture(t, "")
	signed := f.pushSigned("shop/web:1.0")
	unsigned := f.push("shop/unsigned:1.0")
	latest := f.pushSigned("shop/web:latest")

	root := hardenedPod(signed)
	root.Spec.SecurityContext.RunAsNonRoot = nil
	root.Spec.SecurityContext.RunAsUser = nil
	root.Spec.Containers[0].SecurityContext.RunAsNonRoot = nil

	socket := hardenedPod(signed)
	hp := corev1.HostPathSocket
	socket.Spec.Volumes = []corev1.Volume{{Name: "docker", VolumeSource: corev1.VolumeSource{
		HostPath: &corev1.HostPathVolumeSource{Path: "/var/run/docker.sock", Type: &hp}}}}
	socket.Spec.Containers[0].VolumeMounts = []corev1.VolumeMount{{Name: "docker", MountPath: "/var/run/docker.sock"}}

	cases := []struct {
		name string
		pod  *corev1.Pod
		want []string
	}{
		{"unsigned image", hardenedPod(unsigned), []string{
			"image " + unsigned + " is not signed by any key in charter.yaml signing.keys",
			"sign it with `charter sign --key cosign.key " + unsigned + "`"}},
		{":latest tag", hardenedPod(latest), []string{"MAN008 in container c0", "fix:"}},
		{"root", root, []string{"MAN003 in container c0", "runAsNonRoot"}},
		{"docker socket", socket, []string{"MAN001", "/var/run/docker.sock", "fix:"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			resp := f.admit("/validate", reviewOf(t, c.pod, podGVK, "shop"))
			if resp.Allowed {
				t.Fatal("admitted")
			}
			if resp.Result == nil || resp.Result.Code != 403 {
				t.Errorf("result %+v, want code 403", resp.Result)
			}
			msg := message(resp)
			for _, w := range c.want {
				if !strings.Contains(msg, w) {
					t.Errorf("message %q\ndoes not say %q", msg, w)
				}
			}
		})
	}
}

func TestMutatePinsVerifiedDigests(t *testing.T) {
	f := newFixture(t, "")
	ref := f.pushSigned("shop/web:1.0")
	pinnedRef := ref + "@sha256:"
	rev := reviewOf(t, deployment(hardenedSpec(ref, ref)), deploymentGVK, "shop")
	resp := f.admit("/mutate", rev)
	if !resp.Allowed {
		t.Fatalf("denied: %s", message(resp))
	}
	if resp.PatchType == nil || *resp.PatchType != admissionv1.PatchTypeJSONPatch {
		t.Fatalf("patch type %v", resp.PatchType)
	}
	var ops []patchOp
	if err := json.Unmarshal(resp.Patch, &ops); err != nil {
		t.Fatal(err)
	}
	if len(ops) != 2 {
		t.Fatalf("patch %s: want one op per container", resp.Patch)
	}
	for i, op := range ops {
		wantPath := "/spec/template/spec/containers/" + string(rune('0'+i)) + "/image"
		if op.Op != "replace" || op.Path != wantPath || !strings.HasPrefix(op.Value, pinnedRef) {
			t.Errorf("op %d = %+v, want replace %s with %s…", i, op, wantPath, pinnedRef)
		}
	}
	// The pinned reference is what /validate then sees: admitted, from the cache.
	before := f.reg.requests.Load()
	pinned := hardenedPod(ops[0].Value)
	if resp := f.admit("/validate", reviewOf(t, pinned, podGVK, "shop")); !resp.Allowed {
		t.Fatalf("pinned pod denied: %s", message(resp))
	}
	if n := f.reg.requests.Load() - before; n != 0 {
		t.Errorf("validating the pinned digest made %d registry requests; the mutate lookup should have cached it", n)
	}
	// An already pinned image is left alone.
	resp = f.admit("/mutate", reviewOf(t, pinned, podGVK, "shop"))
	if !resp.Allowed || len(resp.Patch) != 0 {
		t.Errorf("pinned pod: allowed %v, patch %s", resp.Allowed, resp.Patch)
	}
}

func TestEveryWorkloadKind(t *testing.T) {
	f := newFixture(t, "")
	signed := f.pushSigned("shop/web:1.0")
	unsigned := f.push("shop/other:1.0")
	for _, w := range workloads() {
		t.Run(w.gvk.Kind, func(t *testing.T) {
			ok := f.admit("/validate", reviewOf(t, w.make(hardenedSpec(signed)), w.gvk, "shop"))
			if !ok.Allowed {
				t.Errorf("signed %s denied: %s", w.gvk.Kind, message(ok))
			}
			bad := f.admit("/validate", reviewOf(t, w.make(hardenedSpec(signed, unsigned)), w.gvk, "shop"))
			if bad.Allowed || !strings.Contains(message(bad), unsigned+" is not signed") {
				t.Errorf("%s with an unsigned image: allowed %v, %q", w.gvk.Kind, bad.Allowed, message(bad))
			}
			m := f.admit("/mutate", reviewOf(t, w.make(hardenedSpec(signed)), w.gvk, "shop"))
			var ops []patchOp
			if err := json.Unmarshal(m.Patch, &ops); err != nil || len(ops) != 1 || ops[0].Path != w.specPath+"/containers/0/image" {
				t.Errorf("%s patch %s, want %s/containers/0/image", w.gvk.Kind, m.Patch, w.specPath)
			}
		})
	}
}

func TestInitAndEphemeralContainersAreChecked(t *testing.T) {
	f := newFixture(t, "")
	signed := f.pushSigned("shop/web:1.0")
	unsigned := f.push("shop/debug:1.0")
	pod := hardenedPod(signed)
	init := pod.Spec.Containers[0]
	init.Name, init.Image = "init", unsigned
	pod.Spec.InitContainers = []corev1.Container{init}
	resp := f.admit("/validate", reviewOf(t, pod, podGVK, "shop"))
	if resp.Allowed || !strings.Contains(message(resp), unsigned) {
		t.Errorf("unsigned init container: allowed %v, %q", resp.Allowed, message(resp))
	}
	pod = hardenedPod(signed)
	pod.Spec.EphemeralContainers = []corev1.EphemeralContainer{{EphemeralContainerCommon: corev1.EphemeralContainerCommon{
		Name: "debug", Image: unsigned, SecurityContext: pod.Spec.Containers[0].SecurityContext}}}
	rev := reviewOf(t, pod, podGVK, "shop")
	rev.Request.Operation, rev.Request.SubResource = admissionv1.Update, "ephemeralcontainers"
	resp = f.admit("/validate", rev)
	if resp.Allowed || !strings.Contains(message(resp), unsigned) {
		t.Errorf("unsigned ephemeral container: allowed %v, %q", resp.Allowed, message(resp))
	}
}

func TestUnsignedMessageSaysNoneFoundOnce(t *testing.T) {
	got := mergeReasons([]string{"no signatures found (no sha256-ab.sig tag)"}, []string{"no signatures found (no bundle referrers)"})
	if len(got) != 1 || got[0] != "no signatures found (no sha256-ab.sig tag, no bundle referrers)" {
		t.Errorf("merged %q", got)
	}
	got = mergeReasons([]string{"signature does not verify"}, []string{"no signatures found (no bundle referrers)"})
	if len(got) != 2 {
		t.Errorf("merged %q", got)
	}
}
