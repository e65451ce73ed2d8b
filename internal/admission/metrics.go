package admission

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// metrics are the webhook's Prometheus series, on a registry of the server's own.
type metrics struct {
	registry       *prometheus.Registry
	latency        *prometheus.HistogramVec
	decisions      *prometheus.CounterVec
	cache          *prometheus.CounterVec
	registryErrors prometheus.Counter
}

func newMetrics() *metrics {
	m := &metrics{
		registry: prometheus.NewRegistry(),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "charter_admission_request_duration_seconds",
			Help: "Time to answer an AdmissionReview, by endpoint (validate, mutate).",
			// From a cache hit (well under a millisecond) to the default 3 s timeout.
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"endpoint"}),
		decisions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "charter_admission_decisions_total",
			Help: "AdmissionReview answers by endpoint and decision (allow, deny, error: HTTP 400).",
		}, []string{"endpoint", "decision"}),
		cache: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "charter_admission_cache_total",
			Help: "Image verdict cache lookups by result (hit, miss).",
		}, []string{"result"}),
		registryErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "charter_admission_registry_errors_total",
			Help: "Image checks that could not complete: registry unreachable, slow, or refusing.",
		}),
	}
	m.registry.MustRegister(m.latency, m.decisions, m.cache, m.registryErrors,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}
