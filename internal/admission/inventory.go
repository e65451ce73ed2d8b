package admission

import (
	"bytes"
	"context"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	admissionv1 "k8s.io/api/admission/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/charterhq/charter/internal/image"
	"github.com/charterhq/charter/internal/inventory"
)

// DeploymentRecorder is the part of an inventory the webhook writes to: what runs where.
// inventory.Store is one.
type DeploymentRecorder interface {
	RecordDeployments(ctx context.Context, ds []inventory.Deployment) error
}

// Defaults of the inventory recording.
const (
	// DefaultCluster names the cluster in the inventory when no name is given.
	DefaultCluster = "default"
	// DefaultInventoryQueue bounds the places waiting to be written.
	DefaultInventoryQueue = 4096
	// DefaultInventoryRefresh is how long a place just written is not written again:
	// at 1,000 admissions a second of the same few workloads, the inventory sees one
	// write per place per refresh, and last-seen times are at most this stale.
	DefaultInventoryRefresh = 10 * time.Minute
)

const (
	// inventoryWriteTimeout bounds one write, so a hung database stalls the queue (which
	// then drops, counted) rather than the writer forever.
	inventoryWriteTimeout = 5 * time.Second
	// inventoryRetry is how soon a place whose write failed may be queued again.
	inventoryRetry = 30 * time.Second
	// inventoryErrorLogEvery spaces the log lines about failed writes; the failures in
	// between are counted in the next line (and all of them in /metrics).
	inventoryErrorLogEvery = 10 * time.Second
	// inventoryCloseGrace bounds the writes of what is still queued at Close.
	inventoryCloseGrace = 5 * time.Second
	// platformLookupBudget bounds the registry lookups of a batch's platform images.
	platformLookupBudget = 2 * time.Second
	// platformLookupRetry is how long a digest whose lookup failed is recorded alone.
	platformLookupRetry = time.Minute
	// maxWriteBatch bounds the places one write takes from the queue: one transaction
	// (and, on PostgreSQL, one round trip) for a burst of new places.
	maxWriteBatch = 256
	// maxPlaces bounds the places remembered for deduplication.
	maxPlaces = 100_000
)

// place is one row of the inventory's deployments: what deduplication is keyed by.
type place struct{ digest, namespace, workload string }

// recorder writes where admitted images run to the inventory, off the request path: a
// request only looks its places up in a map and puts the new ones on a bounded queue,
// which one goroutine drains. A full queue drops (counted in /metrics and in the
// decision's audit line); a failed write is logged and counted; neither ever changes a
// decision or delays an answer.
type recorder struct {
	store   DeploymentRecorder
	cluster string
	refresh time.Duration
	now     func() time.Time
	log     *slog.Logger
	metrics *metrics
	queue   chan queued
	stop    chan struct{}
	done    chan struct{}
	once    sync.Once

	mu   sync.Mutex
	next map[place]time.Time // a place is not queued again before this time

	// the writer's own: how many failures were not logged since the last line, and the
	// platform images of the image indexes it has seen
	lastLogged   time.Time
	unlogged     int
	platforms    func(ctx context.Context, ref, digest string) ([]string, error)
	lookupBudget time.Duration
	children     map[string][]string  // digest → its platform images (none: not an index)
	noChildren   map[string]time.Time // digest → when to look it up again
}

// queued is a place waiting to be written, with the image reference it was admitted
// by (the repository an index's platform images are looked up in).
type queued struct {
	dep inventory.Deployment
	ref string
}

func newRecorder(cfg *Config, m *metrics, logger *slog.Logger) *recorder {
	r := &recorder{
		store: cfg.Inventory, cluster: cfg.Cluster, refresh: cfg.InventoryRefresh, now: cfg.Now, log: logger, metrics: m,
		queue: make(chan queued, cfg.InventoryQueue), stop: make(chan struct{}), done: make(chan struct{}),
		next: map[place]time.Time{}, children: map[string][]string{}, noChildren: map[string]time.Time{},
		lookupBudget: platformLookupBudget,
		platforms: func(ctx context.Context, ref, digest string) ([]string, error) {
			return platformImages(ctx, ref, digest, cfg.Image)
		},
	}
	m.registerInventory(func() float64 { return float64(len(r.queue)) })
	go r.run()
	return r
}

// record queues the places of an admitted request that were not written within the
// refresh interval, and returns how many it had to drop because the queue was full.
func (r *recorder) record(req *admissionv1.AdmissionRequest, d *decision) int {
	if !recordable(req, d) {
		return 0
	}
	now := r.now()
	dropped := 0
	// the containers running each digest, in the order the digests first appear
	var order []string
	containers := map[string][]string{}
	refs := map[string]string{}
	for _, img := range d.images {
		digest := admittedDigest(img)
		if digest == "" {
			continue
		}
		if _, ok := refs[digest]; !ok {
			order = append(order, digest)
			refs[digest] = img.Image
		}
		if img.Container != "" && !strings.Contains(img.Container, ",") {
			containers[digest] = append(containers[digest], img.Container)
		}
	}
	for _, digest := range order {
		p := place{digest: digest, namespace: d.namespace, workload: d.workload}
		if !r.claim(p, now) {
			continue
		}
		dep := inventory.Deployment{Digest: digest, Cluster: r.cluster, Namespace: d.namespace, Workload: d.workload,
			Containers: containers[digest], LastSeen: now.UTC()}
		select {
		case r.queue <- queued{dep, refs[digest]}:
		default:
			r.release(p)
			r.metrics.inventoryDropped.Inc()
			dropped++
		}
	}
	return dropped
}

// recordable reports whether a request puts something to run: an allowed CREATE or
// UPDATE that is not a dry run, of an object in a namespace.
func recordable(req *admissionv1.AdmissionRequest, d *decision) bool {
	switch {
	case !d.allowed() || d.namespace == "" || d.workload == "":
		return false
	case req.Operation != admissionv1.Create && req.Operation != admissionv1.Update:
		return false
	case req.DryRun != nil && *req.DryRun:
		return false
	}
	return true
}

// admittedDigest is the digest an admitted container runs: the one verified (or
// resolved) for its image, else the one its reference pins. An image admitted by
// exemption with a tag only has none, and is not recorded.
func admittedDigest(img imageRecord) string {
	if img.Digest != "" {
		return img.Digest
	}
	if d, err := name.NewDigest(img.Image); err == nil {
		return d.DigestStr()
	}
	return ""
}

// claim reports whether p is due for a write, and if so marks it written until the
// refresh interval has passed.
func (r *recorder) claim(p place, now time.Time) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if until, ok := r.next[p]; ok && now.Before(until) {
		return false
	}
	if len(r.next) >= maxPlaces {
		r.prune(now)
	}
	r.next[p] = now.Add(r.refresh)
	return true
}

// prune forgets expired places, then an arbitrary half if that was not enough: a
// cluster with more places than maxPlaces costs extra writes, never unbounded memory.
func (r *recorder) prune(now time.Time) {
	for k, until := range r.next {
		if !now.Before(until) {
			delete(r.next, k)
		}
	}
	for k := range r.next {
		if len(r.next) < maxPlaces/2 {
			break
		}
		delete(r.next, k)
	}
}

// release makes p due again: it was not written.
func (r *recorder) release(p place) {
	r.mu.Lock()
	delete(r.next, p)
	r.mu.Unlock()
}

// retryAt makes p due again at t: its write failed.
func (r *recorder) retryAt(p place, t time.Time) {
	r.mu.Lock()
	r.next[p] = t
	r.mu.Unlock()
}

func (r *recorder) run() {
	defer close(r.done)
	for {
		select {
		case q := <-r.queue:
			r.write(r.collect([]queued{q}, maxWriteBatch))
		case <-r.stop:
			r.drain()
			return
		}
	}
}

// collect adds what is already queued to batch, up to n places.
func (r *recorder) collect(batch []queued, n int) []queued {
	for len(batch) < n {
		select {
		case q := <-r.queue:
			batch = append(batch, q)
		default:
			return batch
		}
	}
	return batch
}

// drain writes what is still queued, for a bounded time; the rest is dropped.
func (r *recorder) drain() {
	deadline := time.Now().Add(inventoryCloseGrace)
	for {
		batch := r.collect(nil, maxWriteBatch)
		if len(batch) == 0 {
			return
		}
		if time.Now().After(deadline) {
			r.metrics.inventoryDropped.Add(float64(len(batch)))
			continue
		}
		r.write(batch)
	}
}

// write records a batch of places in one transaction: each admitted digest and, when it
// names a multi-platform image, each of its platform images (charter inventory add
// records the platform image it reads, by the platform image's digest).
func (r *recorder) write(batch []queued) {
	// The registry lookups share one budget per batch, and the write gets its own
	// timeout after them: a registry that hangs delays the inventory, never fails it.
	lookups, cancelLookups := context.WithTimeout(context.Background(), r.lookupBudget)
	deps := make([]inventory.Deployment, 0, len(batch))
	for _, q := range batch {
		deps = append(deps, q.dep)
		for _, child := range r.platformDigests(lookups, q) {
			d := q.dep
			d.Digest, d.Index = child, q.dep.Digest
			deps = append(deps, d)
		}
	}
	cancelLookups()
	ctx, cancel := context.WithTimeout(context.Background(), inventoryWriteTimeout)
	defer cancel()
	if err := r.store.RecordDeployments(ctx, deps); err != nil {
		r.failed(batch, err)
		return
	}
	r.metrics.inventoryWrites.WithLabelValues("ok").Add(float64(len(batch)))
}

// platformDigests returns the platform images of q's digest when it is an image index,
// asking the registry once per digest (an index never changes). When the registry does
// not answer (or the batch's lookup budget is spent), the index's digest is recorded
// alone, and the digest is not looked up again for platformLookupRetry.
func (r *recorder) platformDigests(ctx context.Context, q queued) []string {
	digest := q.dep.Digest
	if got, ok := r.children[digest]; ok {
		return got
	}
	now := r.now()
	if until, ok := r.noChildren[digest]; ok && now.Before(until) {
		return nil
	}
	if ctx.Err() != nil {
		return nil // the batch's budget is spent: next time
	}
	got, err := r.platforms(ctx, q.ref, digest)
	if err != nil {
		r.log.Debug("inventory: cannot list the platform images of an image", "image", q.ref, "digest", digest, "err", err)
		if len(r.noChildren) >= maxPlaces {
			clear(r.noChildren)
		}
		r.noChildren[digest] = now.Add(platformLookupRetry)
		return nil
	}
	if len(r.children) >= maxPlaces {
		clear(r.children)
	}
	r.children[digest] = got
	return got
}

// platformImages lists the digests of the platform images of the index ref's
// repository holds at digest, or none when digest names a single image. Attestation
// manifests (platform unknown/unknown) are not images that run.
func platformImages(ctx context.Context, ref, digest string, opts image.Options) ([]string, error) {
	r, err := name.ParseReference(ref)
	if err != nil {
		return nil, err
	}
	reg, err := image.ParseRegistry(r.Context().Name()+"@"+digest, opts)
	if err != nil {
		return nil, err
	}
	desc, err := remote.Get(reg.Ref, append(reg.Options[:len(reg.Options):len(reg.Options)], remote.WithContext(ctx))...)
	if err != nil {
		return nil, reg.Error(err)
	}
	if !desc.MediaType.IsIndex() {
		return []string{}, nil
	}
	idx, err := v1.ParseIndexManifest(bytes.NewReader(desc.Manifest))
	if err != nil {
		return nil, err
	}
	out := []string{}
	for _, m := range idx.Manifests {
		if !m.MediaType.IsImage() || m.Platform != nil && m.Platform.OS == "unknown" {
			continue
		}
		out = append(out, m.Digest.String())
	}
	return out, nil
}

// failed counts and logs a write that failed, and makes its places due again soon.
func (r *recorder) failed(batch []queued, err error) {
	r.metrics.inventoryWrites.WithLabelValues("error").Add(float64(len(batch)))
	now := r.now()
	for _, q := range batch {
		r.retryAt(place{q.dep.Digest, q.dep.Namespace, q.dep.Workload}, now.Add(min(r.refresh, inventoryRetry)))
	}
	if !r.lastLogged.IsZero() && now.Sub(r.lastLogged) < inventoryErrorLogEvery {
		r.unlogged += len(batch)
		return
	}
	dep := batch[0].dep
	attrs := []any{"digest", dep.Digest, "namespace", dep.Namespace, "workload", dep.Workload, "places", len(batch), "err", err}
	if r.unlogged > 0 {
		attrs = append(attrs, "failedSinceLastLog", r.unlogged)
	}
	r.log.Warn("inventory: recording where images run failed; admission is unaffected", attrs...)
	r.lastLogged, r.unlogged = now, 0
}

// close stops the writer after writing what is queued (for at most
// inventoryCloseGrace). Places queued after close are never written.
func (r *recorder) close() {
	r.once.Do(func() { close(r.stop) })
	<-r.done
}

// workloadOf names what a pod belongs to, as KIND/NAME, by its controller's owner
// reference: a Deployment's pod (owned by a ReplicaSet named after the Deployment and
// the pod's pod-template-hash label) is its Deployment, a CronJob's pod (owned by a Job
// named after the CronJob and the minute it was scheduled for) its CronJob, any other
// owned object its owner, and an object without an owner is itself (Pod/NAME,
// Deployment/NAME…). Owner references are what the object states; the inventory records
// them as they are.
func workloadOf(p *podObject, now time.Time) string {
	if p.Object == nil {
		return p.Kind + "/" + p.Name
	}
	o := controllerOf(p.Object.OwnerReferences)
	if o == nil || o.Kind == "" || o.Name == "" {
		return clip(p.Kind, 63) + "/" + clip(p.Name, 253)
	}
	kind, ownerName := clip(o.Kind, 63), clip(o.Name, 253)
	if p.Kind != "Pod" {
		return kind + "/" + ownerName
	}
	switch o.Kind {
	case "ReplicaSet":
		if h := p.Object.Labels["pod-template-hash"]; h != "" {
			if base, ok := strings.CutSuffix(o.Name, "-"+h); ok && base != "" {
				return "Deployment/" + clip(base, 253)
			}
		}
	case "Job":
		if base, ok := cronJobOf(o.Name, now); ok {
			return "CronJob/" + clip(base, 253)
		}
	}
	return kind + "/" + ownerName
}

// controllerOf is the owner reference marked controller, else the first one.
func controllerOf(refs []metav1.OwnerReference) *metav1.OwnerReference {
	for i := range refs {
		if refs[i].Controller != nil && *refs[i].Controller {
			return &refs[i]
		}
	}
	if len(refs) > 0 {
		return &refs[0]
	}
	return nil
}

// earliestSchedule is the oldest scheduled minute a CronJob's Job name is believed to
// carry (2015-01-01): a Job named NAME-NUMBER with a smaller number is not a CronJob's.
var earliestSchedule = time.Date(2015, 1, 1, 0, 0, 0, 0, time.UTC).Unix() / 60

// cronJobOf returns the CronJob a Job's name says it was made by: the CronJob controller
// names each Job NAME-MINUTE, MINUTE being the scheduled time in minutes since 1970. A
// number outside 2015 to a day from now is not taken for one.
func cronJobOf(job string, now time.Time) (string, bool) {
	i := strings.LastIndexByte(job, '-')
	if i <= 0 || i == len(job)-1 {
		return "", false
	}
	minute, err := strconv.ParseInt(job[i+1:], 10, 64)
	if err != nil || job[i+1] == '+' || minute < earliestSchedule || minute > now.Add(24*time.Hour).Unix()/60 {
		return "", false
	}
	return job[:i], true
}
