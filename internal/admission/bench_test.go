package admission

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/charterhq/charter/internal/inventory"
)

// cpu-µs/req is the CPU the webhook and the load generator used per request, together:
// on a shared machine it says what the webhook costs when wall-clock numbers cannot.
//
// The load benchmarks drive the webhook over HTTPS on loopback, open loop: requests
// start on a fixed schedule whatever the server's speed, and latency counts from the
// scheduled start, so a slow server shows up as queueing instead of a lower rate.
//
//	go test -run '^$' -bench 'Admission' -benchtime 1x ./internal/admission
//	CHARTER_LOAD_RPS=1000 CHARTER_LOAD_SECONDS=10 go test -run '^$' -bench AdmissionLoadWarm -benchtime 1x ./internal/admission

// BenchmarkAdmissionWarm is the closed-loop cost of one validation with a warm cache.
func BenchmarkAdmissionWarm(b *testing.B) { benchWarm(b, nil) }

// BenchmarkAdmissionWarmInventory is BenchmarkAdmissionWarm recording where the pod
// runs in a SQLite inventory: what --inventory adds to a request.
func BenchmarkAdmissionWarmInventory(b *testing.B) {
	store := openInventory(b)
	benchWarm(b, func(c *Config) { c.Inventory = store })
}

func benchWarm(b *testing.B, configure func(*Config)) {
	f := newFixtureConfig(b, "", configure)
	body := mustJSON(b, reviewOf(b, hardenedPod(f.pushSigned("shop/web:1.0")), podGVK, "shop"))
	client := loadClient(f)
	warm(b, client, f.ts.URL+"/validate", body)
	cpu := cpuTime()
	b.ResetTimer()
	defer func() { b.ReportMetric(float64((cpuTime()-cpu).Microseconds())/float64(b.N), "cpu-µs/req") }()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if ok, err := post(nil, client, f.ts.URL+"/validate", body); err != nil || !ok {
				b.Errorf("allowed %v, %v", ok, err)
			}
		}
	})
}

// BenchmarkAdmissionLoadWarm holds a fixed request rate (default 1000/s for 5 s) on one
// signed image, cache warm.
func BenchmarkAdmissionLoadWarm(b *testing.B) {
	f := newFixture(b, "")
	body := mustJSON(b, reviewOf(b, hardenedPod(f.pushSigned("shop/web:1.0")), podGVK, "shop"))
	client := loadClient(f)
	warm(b, client, f.ts.URL+"/validate", body)
	rps, secs := envInt("CHARTER_LOAD_RPS", 1000), envInt("CHARTER_LOAD_SECONDS", 5)
	before, cpu := f.reg.requests.Load(), cpuTime()
	res := runLoad(client, f.ts.URL+"/validate", rps, rps*secs, func(int) []byte { return body })
	res.report(b)
	b.ReportMetric(float64((cpuTime()-cpu).Microseconds())/float64(rps*secs), "cpu-µs/req")
	b.ReportMetric(float64(f.reg.requests.Load()-before), "registry-reqs")
}

// BenchmarkAdmissionLoadWarmInventory holds the same rate with a SQLite inventory, every
// request a pod of a different workload: each is a new place to write, the worst case
// for the inventory's writer (a real cluster repeats its places). It reports the places
// written and dropped (a full queue) beside the latencies.
//
// CHARTER_BENCH_INVENTORY names another inventory (a postgres:// URL) to write to.
func BenchmarkAdmissionLoadWarmInventory(b *testing.B) {
	store := openInventory(b)
	if loc := os.Getenv("CHARTER_BENCH_INVENTORY"); loc != "" {
		s, err := inventory.Open(context.Background(), loc)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = s.Close() })
		store = s
	}
	f := newFixtureConfig(b, "", func(c *Config) { c.Inventory = store })
	ref := f.pushSigned("shop/web:1.0")
	client := loadClient(f)
	warm(b, client, f.ts.URL+"/validate", mustJSON(b, reviewOf(b, hardenedPod(ref), podGVK, "shop")))
	rps, secs := envInt("CHARTER_LOAD_RPS", 1000), envInt("CHARTER_LOAD_SECONDS", 5)
	bodies := make([][]byte, rps*secs)
	for i := range bodies {
		pod := ownedPod(ref, "StatefulSet", fmt.Sprintf("db%d", i), nil)
		bodies[i] = mustJSON(b, reviewOf(b, pod, podGVK, "shop"))
	}
	cpu := cpuTime()
	res := runLoad(client, f.ts.URL+"/validate", rps, rps*secs, func(i int) []byte { return bodies[i] })
	res.report(b)
	b.ReportMetric(float64((cpuTime()-cpu).Microseconds())/float64(rps*secs), "cpu-µs/req")
	if err := f.srv.Close(); err != nil {
		b.Fatal(err)
	}
	written, _ := strconv.Atoi(f.metric(`charter_admission_inventory_writes_total{result="ok"}`))
	dropped, _ := strconv.Atoi(f.metric("charter_admission_inventory_dropped_total"))
	b.ReportMetric(float64(written), "written")
	b.ReportMetric(float64(dropped), "dropped")
}

// BenchmarkAdmissionLoadCold sends every request for a different signed image, so each
// one waits for its own registry lookup, and counts the registry requests per image.
func BenchmarkAdmissionLoadCold(b *testing.B) {
	f := newFixture(b, "")
	n, rps := envInt("CHARTER_COLD_IMAGES", 200), envInt("CHARTER_COLD_RPS", 100)
	bodies := make([][]byte, n)
	for i := range bodies {
		ref := f.pushSigned(fmt.Sprintf("shop/app%d:1.0", i))
		bodies[i] = mustJSON(b, reviewOf(b, hardenedPod(ref), podGVK, "shop"))
	}
	client := loadClient(f)
	before := f.reg.requests.Load()
	res := runLoad(client, f.ts.URL+"/validate", rps, n, func(i int) []byte { return bodies[i] })
	res.report(b)
	b.ReportMetric(float64(f.reg.requests.Load()-before)/float64(n), "registry-reqs/image")
}

// maxStreams is Go's default limit of concurrent streams on one HTTP/2 connection.
const maxStreams = 250

type loadResult struct {
	latencies      []time.Duration
	errors, denied int64 // requests that failed; requests answered with a denial
	wall           time.Duration
}

func (r loadResult) report(b *testing.B) {
	slices.Sort(r.latencies)
	pct := func(p float64) float64 {
		if len(r.latencies) == 0 {
			return 0
		}
		return float64(r.latencies[int(p*float64(len(r.latencies)-1))].Microseconds()) / 1000
	}
	b.ReportMetric(float64(len(r.latencies))/r.wall.Seconds(), "req/s")
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(pct(1), "max-ms")
	b.ReportMetric(float64(r.errors), "errors")
	b.ReportMetric(float64(r.denied), "denied")
	if load, err := os.ReadFile("/proc/loadavg"); err == nil {
		b.Logf("loadavg: %s", bytes.TrimSpace(load))
	}
}

// runLoad sends total requests at rps, open loop, and collects their latencies.
func runLoad(client *http.Client, url string, rps, total int, body func(int) []byte) loadResult {
	interval := time.Second / time.Duration(rps)
	lat := make([]time.Duration, total)
	var errs, denied atomic.Int64
	var wg sync.WaitGroup
	// At most maxStreams requests in flight, as one HTTP/2 connection of the API server
	// allows; the rest wait here, and their wait counts in their latency.
	slots := make(chan struct{}, maxStreams)
	start := time.Now()
	for i := range total {
		at := start.Add(time.Duration(i) * interval)
		time.Sleep(time.Until(at))
		wg.Add(1)
		go func() {
			defer wg.Done()
			slots <- struct{}{}
			ok, err := post(nil, client, url, body(i))
			<-slots
			lat[i] = time.Since(at)
			switch {
			case err != nil:
				errs.Add(1)
			case !ok:
				denied.Add(1)
			}
		}()
	}
	wg.Wait()
	return loadResult{latencies: lat, errors: errs.Load(), denied: denied.Load(), wall: time.Since(start)}
}

func loadClient(f *fixture) *http.Client {
	return f.client // HTTP/2: requests share one connection, as the API server's do
}

func post(b *testing.B, client *http.Client, url string, body []byte) (bool, error) {
	resp, err := client.Post(url, "application/json", bytes.NewReader(body))
	if err != nil {
		return false, err
	}
	defer func() { _ = resp.Body.Close() }()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return false, err
	}
	var rev struct {
		Response struct {
			Allowed bool `json:"allowed"`
		} `json:"response"`
	}
	if err := json.Unmarshal(data, &rev); err != nil {
		return false, fmt.Errorf("HTTP %d: %w", resp.StatusCode, err)
	}
	if b != nil && !rev.Response.Allowed {
		b.Fatalf("denied: %s", data)
	}
	return rev.Response.Allowed, nil
}

// warm sends one request so that the image's verdict is cached.
func warm(b *testing.B, client *http.Client, url string, body []byte) {
	if ok, err := post(b, client, url, body); err != nil || !ok {
		b.Fatalf("warming the cache: allowed %v, %v", ok, err)
	}
}

func mustJSON(b testing.TB, v any) []byte {
	data, err := json.Marshal(v)
	if err != nil {
		b.Fatal(err)
	}
	return data
}

// cpuTime is the CPU time this process (webhook and load generator) has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}
