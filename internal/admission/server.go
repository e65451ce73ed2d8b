package admission

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
	admissionv1 "k8s.io/api/admission/v1"

	"github.com/charterhq/charter/internal/image"
	"github.com/charterhq/charter/internal/policy"
	"github.com/charterhq/charter/internal/secrets"
	"github.com/charterhq/charter/internal/sign"
)

// Config is what a Server needs.
type Config struct {
	// Policy is the charter file; its admission section says what is required.
	Policy *policy.File
	// Verifier checks signatures and verdict attestations. Required unless no
	// requirement (cluster-wide or per namespace) asks for a signature or a verdict.
	Verifier *sign.Verifier
	// NamespaceVerifiers hold the keys of the admission.namespaces entries that name
	// their own, by entry index; each such entry needs one, and its requests are
	// verified with it instead of Verifier.
	NamespaceVerifiers map[int]*sign.Verifier
	// Image carries registry access: docker config credentials, plain-HTTP hosts.
	Image image.Options
	// Namespaces looks up namespace labels for namespaceSelector entries; nil when the
	// webhook cannot read namespaces (such entries then fail closed).
	Namespaces NamespaceLabels
	// Audit receives one record per decision; nil discards them.
	Audit *slog.Logger
	// Now is the clock (exemption expiry, verdict age, cache TTL). Default time.Now.
	Now func() time.Time
	// CacheSize bounds the cached image results. Default 10000.
	CacheSize int

	// Inventory, when set, records where each admitted image runs: its digest, Cluster,
	// the namespace and the workload. Recording happens off the request path and never
	// changes or delays a decision; Close stops it.
	Inventory DeploymentRecorder
	// Cluster names this cluster in the inventory. Default DefaultCluster.
	Cluster string
	// InventoryQueue bounds the places waiting to be written; a full queue drops.
	// Default DefaultInventoryQueue.
	InventoryQueue int
	// InventoryRefresh is how long a place just recorded is not written again. Default
	// DefaultInventoryRefresh.
	InventoryRefresh time.Duration
	// Logger receives diagnostics (failed inventory writes); nil discards them.
	Logger *slog.Logger
}

// Server answers AdmissionReviews. It is safe for concurrent use.
type Server struct {
	policy  *compiled
	images  *imageChecker
	nsl     NamespaceLabels
	audit   *slog.Logger
	now     func() time.Time
	metrics *metrics
	redact  *secrets.Redactor
	ready   atomic.Bool
	rec     *recorder // nil: no inventory
}

// New checks the configuration and builds a Server. A requirement for signatures or
// verdicts without a verifier is an error: nothing is ever checked against no key.
func New(cfg Config) (*Server, error) {
	if cfg.Policy == nil {
		return nil, errors.New("admission: no charter file")
	}
	c, err := compile(cfg.Policy.Admission)
	if err != nil {
		return nil, fmt.Errorf("admission: %w", err)
	}
	if err := c.setVerifiers(cfg); err != nil {
		return nil, fmt.Errorf("admission: %w", err)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Audit == nil {
		cfg.Audit = slog.New(slog.NewJSONHandler(io.Discard, nil))
	}
	if cfg.CacheSize <= 0 {
		cfg.CacheSize = 10000
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if cfg.Image.Retry == nil {
		// One quick retry: the whole check must fit in the timeout.
		cfg.Image.Retry = &image.Backoff{Duration: 100 * time.Millisecond, Factor: 2, Jitter: 0.2, Steps: 2}
	}
	a := cfg.Policy.Admission
	timeout, ttl := time.Duration(a.Timeout), time.Duration(a.CacheTTL)
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	if ttl <= 0 {
		ttl = DefaultCacheTTL
	}
	m := newMetrics()
	s := &Server{
		policy: c, nsl: cfg.Namespaces, audit: cfg.Audit, now: cfg.Now, metrics: m,
		redact: secrets.NewRedactor(nil, secrets.WithScan()),
		images: &imageChecker{
			opts: sign.Options{Image: cfg.Image}, timeout: timeout, ttl: ttl, now: cfg.Now, metrics: m,
			cache: newResultCache(cfg.CacheSize),
		},
	}
	if cfg.Inventory != nil {
		s.rec = newRecorder(inventoryDefaults(cfg), m, cfg.Logger)
	}
	s.ready.Store(true)
	return s, nil
}

func inventoryDefaults(cfg Config) *Config {
	if cfg.Cluster == "" {
		cfg.Cluster = DefaultCluster
	}
	if cfg.InventoryQueue <= 0 {
		cfg.InventoryQueue = DefaultInventoryQueue
	}
	if cfg.InventoryRefresh <= 0 {
		cfg.InventoryRefresh = DefaultInventoryRefresh
	}
	return &cfg
}

// Close stops the inventory recording after writing what is queued (for a few seconds
// at most). Call it once the HTTP server has stopped serving.
func (s *Server) Close() error {
	if s.rec != nil {
		s.rec.close()
	}
	return nil
}

// setVerifiers gives every set of requirements the keys it verifies with: the
// cluster-wide verifier, or its namespaces entry's own. Nothing that requires a
// signature or a verdict is left without keys.
func (c *compiled) setVerifiers(cfg Config) error {
	file := filepath.Base(cfg.Policy.Name())
	cluster := "signing.keys"
	if len(cfg.Policy.Admission.Keys) > 0 {
		cluster = "admission.keys"
	}
	needs := func(r *requirements) bool { return r.signature || r.verdict != nil }
	c.base.verifier, c.base.keysHint = cfg.Verifier, file+" "+cluster
	if needs(&c.base) && cfg.Verifier == nil {
		return errors.New("signatures are required but there is no public key; list signing.keys (or admission.keys) in charter.yaml")
	}
	for i := range c.namespaces {
		r := &c.namespaces[i]
		if !r.ownKeys {
			r.req.verifier, r.req.keysHint = cfg.Verifier, c.base.keysHint
			if needs(&r.req) && cfg.Verifier == nil {
				return fmt.Errorf("%s requires signatures but there is no public key; list signing.keys (or admission.keys, or keys in the entry) in charter.yaml", r.req.scope)
			}
			continue
		}
		v := cfg.NamespaceVerifiers[i]
		if v == nil {
			return fmt.Errorf("%s.keys were not loaded", r.req.scope)
		}
		r.req.verifier, r.req.keysHint = v, file+" "+r.req.scope+".keys"
	}
	return nil
}

// SetReady marks the server ready or not for /readyz (not ready while shutting down, or
// while its serving certificate cannot be loaded).
func (s *Server) SetReady(ok bool) { s.ready.Store(ok) }

// Handler serves /validate, /mutate, /healthz, /readyz and /metrics.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/validate", s.review("validate", false))
	mux.Handle("/mutate", s.review("mutate", true))
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok\n") })
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, _ *http.Request) {
		if !s.ready.Load() {
			http.Error(w, "not ready", http.StatusServiceUnavailable)
			return
		}
		_, _ = io.WriteString(w, "ok\n")
	})
	mux.Handle("/metrics", promhttp.HandlerFor(s.metrics.registry, promhttp.HandlerOpts{}))
	return mux
}

// review handles one AdmissionReview endpoint.
func (s *Server) review(endpoint string, mutate bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		defer func() { s.metrics.latency.WithLabelValues(endpoint).Observe(time.Since(start).Seconds()) }()
		rev, err := readReview(r)
		if err != nil {
			s.metrics.decisions.WithLabelValues(endpoint, "error").Inc()
			s.audit.LogAttrs(r.Context(), slog.LevelWarn, "admission", slog.String("endpoint", endpoint),
				slog.Bool("allowed", false), slog.String("error", err.Error()))
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		d := s.decide(r.Context(), rev.Request, mutate)
		resp := d.response()
		decision := "deny"
		if resp.Allowed {
			decision = "allow"
		}
		if s.rec != nil {
			d.inventoryDropped = s.rec.record(rev.Request, d)
		}
		s.metrics.decisions.WithLabelValues(endpoint, decision).Inc()
		s.log(r.Context(), endpoint, rev.Request, d, time.Since(start))
		body, err := json.Marshal(response(rev.Request.UID, resp))
		if err != nil {
			http.Error(w, "encoding the response failed", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	})
}

// log writes the audit record of one decision: what was asked, the images and their
// digests, and the reasons. No object content beyond that, and reasons pass the
// redactor.
func (s *Server) log(ctx context.Context, endpoint string, req *admissionv1.AdmissionRequest, d *decision, took time.Duration) {
	attrs := []slog.Attr{
		slog.String("endpoint", endpoint), slog.String("uid", string(req.UID)),
		slog.String("operation", string(req.Operation)), slog.String("resource", d.resource),
		slog.Bool("allowed", d.allowed()), slog.Float64("ms", float64(took.Microseconds())/1000),
	}
	if d.scope != "" {
		attrs = append(attrs, slog.String("policy", d.scope))
	}
	if len(d.images) > 0 {
		attrs = append(attrs, slog.Any("images", d.images))
	}
	if len(d.reasons) > 0 {
		attrs = append(attrs, slog.Any("reasons", d.reasons))
	}
	if len(d.warnings) > 0 {
		attrs = append(attrs, slog.Any("warnings", d.warnings))
	}
	if len(d.patch) > 0 {
		attrs = append(attrs, slog.Int("patched", len(d.patch)))
	}
	if d.inventoryDropped > 0 {
		attrs = append(attrs, slog.Int("inventoryDropped", d.inventoryDropped))
	}
	level := slog.LevelInfo
	if !d.allowed() {
		level = slog.LevelWarn
	}
	s.audit.LogAttrs(ctx, level, "admission", attrs...)
}
