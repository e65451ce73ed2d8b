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

	// inventory recording, registered when the webhook records deployments
	inventoryWrites  *prometheus.CounterVec
	inventoryDropped prometheus.Counter
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
	m.inventoryWrites = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "charter_admission_inventory_writes_total",
		Help: "Deployments written to the inventory, by result (ok, error). A failed write never changes a decision.",
	}, []string{"result"})
	m.inventoryDropped = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "charter_admission_inventory_dropped_total",
		Help: "Deployments not written to the inventory because its queue was full (the database is slower than admissions).",
	})
	return m
}

// registerInventory adds the inventory series to /metrics; queued reports the queue's
// length.
func (m *metrics) registerInventory(queued func() float64) {
	m.registry.MustRegister(m.inventoryWrites, m.inventoryDropped, prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "charter_admission_inventory_queue_length",
		Help: "Deployments waiting to be written to the inventory.",
	}, queued))
}
