package admission

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/charterhq/charter/internal/inventory"
	"github.com/charterhq/charter/internal/sign"
	"github.com/charterhq/charter/internal/testutil"
)

// openInventory opens a SQLite inventory in a temporary directory.
func openInventory(t testing.TB) inventory.Store {
	t.Helper()
	s, err := inventory.Open(context.Background(), filepath.Join(t.TempDir(), "inventory.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// digestOf asks the registry for ref's digest.
func (f *fixture) digestOf(ref string) string {
	f.t.Helper()
	r, err := name.ParseReference(ref, name.Insecure)
	if err != nil {
		f.t.Fatal(err)
	}
	desc, err := remote.Head(r)
	if err != nil {
		f.t.Fatal(err)
	}
	return desc.Digest.String()
}

// ownedPod is a hardened pod as a controller makes it: named by generateName, owned by
// kind/owner, with extra labels.
func ownedPod(image, kind, owner string, labels map[string]string) *corev1.Pod {
	p := hardenedPod(image)
	p.Name, p.GenerateName = "", owner+"-"
	yes := true
	p.OwnerReferences = []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: kind, Name: owner, UID: "u1", Controller: &yes}}
	for k, v := range labels {
		p.Labels[k] = v
	}
	return p
}

// withUID gives a review its own uid.
func withUID(rev *admissionv1.AdmissionReview, uid string) *admissionv1.AdmissionReview {
	rev.Request.UID = types.UID("uid-" + uidSafe(uid))
	return rev
}

func uidSafe(s string) string { return strings.NewReplacer("/", "-", ":", "-", "*", "x").Replace(s) }

// metric returns the value of the metric line that starts with series, "" when absent.
func (f *fixture) metric(series string) string {
	f.t.Helper()
	resp, err := f.client.Get(f.ts.URL + "/metrics")
	if err != nil {
		f.t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		f.t.Fatal(err)
	}
	for _, line := range strings.Split(string(body), "\n") {
		if v, ok := strings.CutPrefix(line, series+" "); ok {
			return v
		}
	}
	return ""
}

// TestInventoryRecordsWhereAdmittedImagesRun admits pods and workloads through the HTTPS
// handler and finds them, by their workload, in a real SQLite inventory, where a query
// for a package of the image says where it runs.
func TestInventoryRecordsWhereAdmittedImagesRun(t *testing.T) {
	store := openInventory(t)
	f := newFixtureConfig(t, "", func(c *Config) { c.Inventory, c.Cluster = store, "prod-eu" })
	web := f.pushSigned("shop/web:1.0")
	webDigest := f.digestOf(web)
	batch := f.pushSigned("shop/batch:1.0")
	unsigned := f.push("shop/unsigned:1.0")

	// the image is in the inventory with a package, as charter inventory add records it
	if _, err := store.Add(context.Background(), &inventory.Image{Digest: webDigest, Reference: web, Packages: []inventory.Package{
		{Ecosystem: "maven", Name: "log4j-core", Version: "2.14.1", PURL: "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1", LayerIndex: 0},
	}}); err != nil {
		t.Fatal(err)
	}

	deploymentPod := ownedPod(web, "ReplicaSet", "web-5d4f8c7b9", map[string]string{"pod-template-hash": "5d4f8c7b9"})
	cronPod := ownedPod(batch, "Job", "nightly-29410560", nil)
	cronPod.OwnerReferences[0].APIVersion = "batch/v1"
	dryRun := withUID(reviewOf(t, hardenedPod(batch), podGVK, "dry"), "dry")
	yes := true
	dryRun.Request.DryRun = &yes
	for _, c := range []struct {
		path  string
		rev   *admissionv1.AdmissionReview
		allow bool
	}{
		{"/validate", withUID(reviewOf(t, deploymentPod, podGVK, "shop"), "rs-pod"), true},
		{"/mutate", withUID(reviewOf(t, deploymentPod, podGVK, "shop"), "rs-pod-mutate"), true},
		{"/mutate", withUID(reviewOf(t, deployment(hardenedSpec(web)), deploymentGVK, "shop"), "deploy"), true},
		{"/validate", withUID(reviewOf(t, hardenedPod(web), podGVK, "debug"), "bare"), true},
		{"/validate", withUID(reviewOf(t, cronPod, podGVK, "jobs"), "cron"), true},
		{"/validate", withUID(reviewOf(t, hardenedPod(unsigned), podGVK, "shop"), "denied"), false},
		{"/validate", dryRun, true},
	} {
		if resp := f.admit(c.path, c.rev); resp.Allowed != c.allow {
			t.Fatalf("%s %s: allowed %v (%s)", c.path, c.rev.Request.UID, resp.Allowed, message(resp))
		}
	}
	if err := f.srv.Close(); err != nil { // writes what is queued
		t.Fatal(err)
	}

	imgs, err := store.Images(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var where []string
	for _, im := range imgs {
		for _, d := range im.Deployments {
			where = append(where, d.Cluster+"/"+d.Namespace+"/"+d.Workload)
		}
	}
	want := []string{"prod-eu/debug/Pod/web", "prod-eu/shop/Deployment/web"}
	if fmt.Sprint(where) != fmt.Sprint(want) {
		t.Errorf("the added image runs in %v, want %v", where, want)
	}

	res, err := inventory.Search(context.Background(), store, inventory.Query{PURL: "pkg:maven/org.apache.logging.log4j/log4j-core"})
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 1 || len(res[0].Image.Deployments) != 2 {
		t.Fatalf("query found %+v, want the image with its two places", res)
	}

	// The batch image is not in the inventory, but where it ran is: adding it later shows it.
	batchDigest := f.digestOf(batch)
	if _, err := store.Add(context.Background(), &inventory.Image{Digest: batchDigest, Reference: batch}); err != nil {
		t.Fatal(err)
	}
	imgs, err = store.Images(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, im := range imgs {
		if im.Digest != batchDigest {
			continue
		}
		if len(im.Deployments) != 1 || im.Deployments[0].Workload != "CronJob/nightly" || im.Deployments[0].Namespace != "jobs" {
			t.Errorf("the batch image runs in %+v, want jobs/CronJob/nightly only (the dry run and the denied pod are not recorded)", im.Deployments)
		}
	}
	// five allowed requests, three of them for one place (the Deployment's pod on both
	// endpoints, and the Deployment itself): three writes
	if got := f.metric(`charter_admission_inventory_writes_total{result="ok"}`); got != "3" {
		t.Errorf("inventory writes %q, want 3", got)
	}
}

// writtenPlaces stops the webhook, which writes what is queued, and returns every place
// the inventory holds.
func writtenPlaces(t *testing.T, f *fixture, store inventory.Store) []inventory.Deployment {
	t.Helper()
	if err := f.srv.Close(); err != nil {
		t.Fatal(err)
	}
	deps, err := store.Deployments(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return deps
}

// TestInventoryRecordsContainers: each digest's place names the containers that run it,
// and a later spec's containers replace an earlier one's.
func TestInventoryRecordsContainers(t *testing.T) {
	store := openInventory(t)
	clock := &testClock{t: time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)}
	f := newFixtureConfig(t, "", func(c *Config) { c.Inventory, c.Now = store, clock.now })
	web := f.pushSigned("shop/web:1.0")
	batch := f.pushSigned("shop/batch:1.0")
	if resp := f.admit("/validate", reviewOf(t, hardenedPod(web, batch, web), podGVK, "shop")); !resp.Allowed {
		t.Fatalf("denied: %s", message(resp))
	}
	// after the refresh interval the pod comes back with web in one container only
	clock.add(DefaultInventoryRefresh + time.Minute)
	if resp := f.admit("/validate", withUID(reviewOf(t, hardenedPod(batch, web), podGVK, "shop"), "again")); !resp.Allowed {
		t.Fatalf("denied: %s", message(resp))
	}
	deps := writtenPlaces(t, f, store)
	got := map[string]string{}
	for _, d := range deps {
		got[d.Digest] = strings.Join(d.Containers, ",")
	}
	want := map[string]string{f.digestOf(web): "c1", f.digestOf(batch): "c0"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("containers by digest %v, want %v", got, want)
	}
}

// TestInventoryDedupesRepeats sends the same pod many times: one write per place per
// refresh interval, and another once the interval has passed.
func TestInventoryDedupesRepeats(t *testing.T) {
	store := openInventory(t)
	clock := &testClock{t: time.Now()}
	f := newFixtureConfig(t, "", func(c *Config) {
		c.Inventory, c.Now, c.InventoryRefresh = store, clock.now, time.Hour
	})
	ref := f.pushSigned("shop/web:1.0")
	pod := ownedPod(ref, "ReplicaSet", "web-abc12", map[string]string{"pod-template-hash": "abc12"})
	for i := range 30 {
		f.admit("/validate", withUID(reviewOf(t, pod, podGVK, "shop"), fmt.Sprint("a", i)))
	}
	clock.add(time.Hour + time.Second)
	f.admit("/validate", withUID(reviewOf(t, pod, podGVK, "shop"), "later"))
	if err := f.srv.Close(); err != nil {
		t.Fatal(err)
	}
	if got := f.metric(`charter_admission_inventory_writes_total{result="ok"}`); got != "2" {
		t.Errorf("31 admissions of one place across two refresh intervals wrote %q times, want 2", got)
	}
}

type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// gatedStore holds every write until released, to fill the queue.
type gatedStore struct {
	inventory.Store
	entered chan struct{}
	release chan struct{}
}

func (g *gatedStore) RecordDeployments(ctx context.Context, ds []inventory.Deployment) error {
	g.entered <- struct{}{}
	<-g.release
	return g.Store.RecordDeployments(ctx, ds)
}

// TestInventoryQueueFullDropsWithoutBlocking holds the writer on its first write with a
// queue of one: the third place is dropped, counted and audited, and every answer comes
// back while the writer is stuck.
func TestInventoryQueueFullDropsWithoutBlocking(t *testing.T) {
	store := openInventory(t)
	gate := &gatedStore{Store: store, entered: make(chan struct{}, 10), release: make(chan struct{})}
	f := newFixtureConfig(t, "", func(c *Config) { c.Inventory, c.InventoryQueue = gate, 1 })
	ref := f.pushSigned("shop/web:1.0")
	post := func(owner string) *admissionv1.AdmissionResponse {
		return f.admit("/validate", withUID(reviewOf(t, ownedPod(ref, "StatefulSet", owner, nil), podGVK, "shop"), owner))
	}
	post("a")
	select {
	case <-gate.entered: // the writer holds "a"
	case <-time.After(20 * time.Second):
		t.Fatal("the writer never took the first place")
	}
	post("b") // queued
	if resp := post("c"); !resp.Allowed {
		t.Fatalf("a full queue changed the decision: %s", message(resp))
	}
	if got := f.metric("charter_admission_inventory_dropped_total"); got != "1" {
		t.Errorf("dropped %q, want 1", got)
	}
	if got := f.metric("charter_admission_inventory_queue_length"); got != "1" {
		t.Errorf("queue length %q, want 1", got)
	}
	if !strings.Contains(f.audit.String(), `"inventoryDropped":1`) {
		t.Errorf("the audit log does not say the place was dropped:\n%s", f.audit.String())
	}
	close(gate.release)
	if err := f.srv.Close(); err != nil {
		t.Fatal(err)
	}
	deps := deploymentsOf(t, store, f.digestOf(ref))
	if fmt.Sprint(deps) != "[StatefulSet/a StatefulSet/b]" {
		t.Errorf("recorded %v, want a and b (c was dropped)", deps)
	}
}

// deploymentsOf lists the workloads recorded for digest (the image is added to see them).
func deploymentsOf(t *testing.T, store inventory.Store, digest string) []string {
	t.Helper()
	if _, err := store.Add(context.Background(), &inventory.Image{Digest: digest, Reference: "r"}); err != nil {
		t.Fatal(err)
	}
	imgs, err := store.Images(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, im := range imgs {
		if im.Digest == digest {
			for _, d := range im.Deployments {
				out = append(out, d.Workload)
			}
		}
	}
	return out
}

// TestInventoryStoreErrorNeverDenies records into a closed store: the pod is admitted,
// the failure is counted and logged, once.
func TestInventoryStoreErrorNeverDenies(t *testing.T) {
	store := openInventory(t)
	if err := store.Close(); err != nil {
		t.Fatal(err)
	}
	logs := &testutil.SyncBuffer{}
	f := newFixtureConfig(t, "", func(c *Config) {
		c.Inventory, c.Logger = store, slog.New(slog.NewTextHandler(logs, nil))
	})
	ref := f.pushSigned("shop/web:1.0")
	for _, owner := range []string{"a", "b", "c"} {
		resp := f.admit("/validate", withUID(reviewOf(t, ownedPod(ref, "DaemonSet", owner, nil), podGVK, "shop"), owner))
		if !resp.Allowed {
			t.Fatalf("a store error changed the decision: %s", message(resp))
		}
	}
	if err := f.srv.Close(); err != nil {
		t.Fatal(err)
	}
	if got := f.metric(`charter_admission_inventory_writes_total{result="error"}`); got != "3" {
		t.Errorf("failed writes %q, want 3", got)
	}
	out := logs.String()
	if n := strings.Count(out, "recording where images run failed"); n != 1 {
		t.Errorf("%d log lines for 3 failures in a row, want 1 (the rest counted in the next):\n%s", n, out)
	}
	if !strings.Contains(out, "DaemonSet/a") || !strings.Contains(out, "database is closed") {
		t.Errorf("the log line does not name the place and the error:\n%s", out)
	}
}

// TestInventoryRecordsPlatformImagesOfAnIndex admits a multi-platform image: the
// index's digest (what was verified) and each platform image's digest (what charter
// inventory add records) run there; its attestation manifest does not.
func TestInventoryRecordsPlatformImagesOfAnIndex(t *testing.T) {
	store := openInventory(t)
	f := newFixtureConfig(t, "", func(c *Config) { c.Inventory = store })
	var children []string
	idx := v1.ImageIndex(empty.Index)
	for _, p := range []v1.Platform{{OS: "linux", Architecture: "amd64"}, {OS: "linux", Architecture: "arm64"}, {OS: "unknown", Architecture: "unknown"}} {
		img, err := random.Image(64, 1)
		if err != nil {
			t.Fatal(err)
		}
		d, err := img.Digest()
		if err != nil {
			t.Fatal(err)
		}
		if p.OS != "unknown" {
			children = append(children, d.String())
		}
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: &p}})
	}
	ref := f.reg.host + "/shop/multi:1.0"
	r, err := name.ParseReference(ref, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.WriteIndex(r, idx); err != nil {
		t.Fatal(err)
	}
	if _, err := sign.Sign(context.Background(), ref, f.key, sign.Options{Image: f.opts}); err != nil {
		t.Fatal(err)
	}
	if resp := f.admit("/validate", reviewOf(t, hardenedPod(ref), podGVK, "shop")); !resp.Allowed {
		t.Fatalf("denied: %s", message(resp))
	}
	// Before any image is added, the place runs an image the inventory cannot answer
	// for: the index (its platform images' places are the index's place).
	deps := writtenPlaces(t, f, store)
	indexDigest := f.digestOf(ref)
	if missing := inventory.Unrecorded(nil, deps); len(missing) != 1 || missing[0].Digest != indexDigest || missing[0].Index != "" {
		t.Errorf("unrecorded before any add: %+v, want the index's place alone", missing)
	}
	var linked int
	for _, d := range deps {
		if d.Index == indexDigest {
			linked++
		}
	}
	if linked != len(children) {
		t.Errorf("%d places recorded through the index, want %d (its platform images)", linked, len(children))
	}
	// One platform image added (what charter inventory add of the index records) covers it.
	if _, err := store.Add(context.Background(), &inventory.Image{Digest: children[1], Reference: ref}); err != nil {
		t.Fatal(err)
	}
	imgs, err := store.Images(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if missing := inventory.Unrecorded(imgs, deps); len(missing) != 0 {
		t.Errorf("unrecorded with a platform image added: %+v, want none", missing)
	}
	for _, d := range append([]string{indexDigest}, children...) {
		if got := deploymentsOf(t, store, d); fmt.Sprint(got) != "[Pod/web]" {
			t.Errorf("%s runs in %v, want Pod/web", d, got)
		}
	}
	imgs, err = store.Images(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(imgs) != 3 {
		t.Errorf("%d images (each added to see its places), want 3", len(imgs))
	}
}

// TestInventoryRegistryHangingDelaysNothing: the lookup of an index's platform images
// hangs; the places are still written (the digest alone), and the digest is not looked
// up again for a while.
func TestInventoryRegistryHangingDelaysNothing(t *testing.T) {
	store := openInventory(t)
	f := newFixtureConfig(t, "", func(c *Config) { c.Inventory = store })
	var calls atomic.Int64
	// set before the first request: the writer reads them after the queue hands it one
	f.srv.rec.lookupBudget = 50 * time.Millisecond
	f.srv.rec.platforms = func(ctx context.Context, _, _ string) ([]string, error) {
		calls.Add(1)
		<-ctx.Done()
		return nil, ctx.Err()
	}
	ref := f.pushSigned("shop/web:1.0")
	for _, owner := range []string{"a", "b", "c"} {
		if resp := f.admit("/validate", withUID(reviewOf(t, ownedPod(ref, "StatefulSet", owner, nil), podGVK, "shop"), owner)); !resp.Allowed {
			t.Fatalf("denied: %s", message(resp))
		}
	}
	if err := f.srv.Close(); err != nil {
		t.Fatal(err)
	}
	if got := f.metric(`charter_admission_inventory_writes_total{result="ok"}`); got != "3" {
		t.Errorf("writes %q, want 3", got)
	}
	if n := calls.Load(); n != 1 {
		t.Errorf("%d platform lookups for one digest, want 1 (a failure is remembered)", n)
	}
	if got := deploymentsOf(t, store, f.digestOf(ref)); fmt.Sprint(got) != "[StatefulSet/a StatefulSet/b StatefulSet/c]" {
		t.Errorf("recorded %v", got)
	}
}

func TestWorkloadOf(t *testing.T) {
	now := time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)
	yes := true
	owner := func(kind, name string, controller bool) []metav1.OwnerReference {
		r := metav1.OwnerReference{Kind: kind, Name: name}
		if controller {
			r.Controller = &yes
		}
		return []metav1.OwnerReference{r}
	}
	meta := func(refs []metav1.OwnerReference, labels map[string]string) *metav1.ObjectMeta {
		return &metav1.ObjectMeta{OwnerReferences: refs, Labels: labels}
	}
	hash := map[string]string{"pod-template-hash": "5d4f8c7b9"}
	cronMinute := fmt.Sprint(now.Unix()/60 - 60)
	cases := []struct {
		kind, name string
		meta       *metav1.ObjectMeta
		want       string
	}{
		{"Pod", "web", meta(nil, nil), "Pod/web"},
		{"Pod", "web-*", meta(owner("ReplicaSet", "web-5d4f8c7b9", true), hash), "Deployment/web"},
		{"Pod", "web-*", meta(owner("ReplicaSet", "web-5d4f8c7b9", true), nil), "ReplicaSet/web-5d4f8c7b9"},
		{"Pod", "web-*", meta(owner("ReplicaSet", "other-1234", true), hash), "ReplicaSet/other-1234"},
		{"Pod", "x", meta(owner("ReplicaSet", "-5d4f8c7b9", true), hash), "ReplicaSet/-5d4f8c7b9"},
		{"Pod", "db-0", meta(owner("StatefulSet", "db", true), nil), "StatefulSet/db"},
		{"Pod", "n-*", meta(owner("Job", "nightly-"+cronMinute, true), nil), "CronJob/nightly"},
		{"Pod", "n-*", meta(owner("Job", "migrate-42", true), nil), "Job/migrate-42"},
		{"Pod", "n-*", meta(owner("Job", "migrate", true), nil), "Job/migrate"},
		{"Pod", "n-*", meta(owner("Job", "far-99999999999", true), nil), "Job/far-99999999999"},
		{"Pod", "n-*", meta(owner("Job", "plus-+29410560", true), nil), "Job/plus-+29410560"},
		{"Pod", "r-*", meta(append(owner("Thing", "t", false), owner("Rollout", "r", true)...), nil), "Rollout/r"},
		{"Pod", "r-*", meta(owner("Thing", "t", false), nil), "Thing/t"},
		{"Deployment", "web", meta(nil, nil), "Deployment/web"},
		{"ReplicaSet", "web-5d4f8c7b9", meta(owner("Deployment", "web", true), nil), "Deployment/web"},
		{"Job", "nightly-29410560", meta(owner("CronJob", "nightly", true), nil), "CronJob/nightly"},
	}
	for _, c := range cases {
		p := &podObject{Kind: c.kind, Name: c.name, Object: c.meta}
		if got := workloadOf(p, now); got != c.want {
			t.Errorf("%s %s owned by %v labels %v: %s, want %s", c.kind, c.name, c.meta.OwnerReferences, c.meta.Labels, got, c.want)
		}
	}
}

// TestWorkloadsAreTheirOwnPlace admits each workload kind once: the place is the object
// itself (a CronJob is CronJob/NAME).
func TestWorkloadsAreTheirOwnPlace(t *testing.T) {
	store := openInventory(t)
	f := newFixtureConfig(t, "", func(c *Config) { c.Inventory = store })
	ref := f.pushSigned("shop/web:1.0")
	var want []string
	for _, w := range workloads() {
		rev := withUID(reviewOf(t, w.make(hardenedSpec(ref)), w.gvk, "shop"), w.gvk.Kind)
		if resp := f.admit("/validate", rev); !resp.Allowed {
			t.Fatalf("%s denied: %s", w.gvk.Kind, message(resp))
		}
		want = append(want, w.gvk.Kind+"/web")
	}
	if err := f.srv.Close(); err != nil {
		t.Fatal(err)
	}
	got := deploymentsOf(t, store, f.digestOf(ref))
	if len(got) != len(want) {
		t.Errorf("recorded %v, want %v", got, want)
	}
}
