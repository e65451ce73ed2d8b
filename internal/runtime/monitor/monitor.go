package monitor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/charterhq/charter/internal/image"
	"github.com/charterhq/charter/internal/policy"
	"github.com/charterhq/charter/internal/report"
	"github.com/charterhq/charter/internal/secrets"
)

// Sink receives alerts. Write is called from the event loop and must not block on I/O
// it does not own (the webhook sink queues).
type Sink interface {
	Write(a *Alert) error
	Close() error
}

// Options configure a Monitor.
type Options struct {
	// Source picks the kernel side: "bpf", "proc" (the proc connector fallback) or ""
	// (eBPF, else the fallback with a warning).
	Source string
	// Egress is the RT003 allowlist; nil: RT003 stays quiet.
	Egress *Egress
	// Exceptions are charter.yaml's monitor exceptions.
	Exceptions []policy.MonitorException
	// Containers limits the monitor to these containers (name, ID or ID prefix); empty: all.
	Containers []string
	// Image is the image to compare executables against (RT002) for containers whose
	// engine does not say which image they run (a plain runc container).
	Image string
	// EngineHost is the Docker-compatible engine to ask for container names and images
	// (DOCKER_HOST syntax); "" tries /var/run/docker.sock.
	EngineHost string
	// StateRoot is the directory below which the runtimes keep their state (run/runc,
	// run/containerd, run/containers, var/lib/containers): where Kubernetes pod and
	// container names are read. Default "/".
	StateRoot string
	// ImageOptions open images for RT002's file index.
	ImageOptions image.Options
	// Enforce kills the process an alert names (SIGKILL).
	Enforce bool
	// Sinks receive the alerts.
	Sinks []Sink
	// Warn receives warnings a person should read (fallback, unresolvable egress…).
	Warn func(string)
	// Logger receives diagnostics. Default: discarded.
	Logger *slog.Logger
	// Now is the clock for exception expiry. Default: time.Now.
	Now func() time.Time
}

// Counts are what a run saw, printed when the monitor stops.
type Counts struct {
	Events   uint64            `json:"events"`
	ByKind   map[string]uint64 `json:"byKind"`
	Alerts   map[string]uint64 `json:"alerts"`
	Excepted uint64            `json:"excepted"`
	// Dropped are events the kernel could not hand over because the reader fell behind.
	Dropped uint64 `json:"dropped"`
	// Unresolved are events whose path was relative (or /proc/self/exe) and whose process
	// had exited before /proc could say where it pointed: no rule could judge them.
	Unresolved uint64 `json:"unresolved"`
	// Filtered are events the kernel side left out because no rule could use them (a
	// process on the host, a container not watched, a connect the egress allowlist
	// allows); by kind. They are not in Events.
	Filtered map[string]uint64 `json:"filtered,omitempty"`
	// SinkErrors are alerts a sink failed to write or deliver.
	SinkErrors uint64 `json:"sinkErrors"`
	Source     string `json:"source"`
}

// TotalAlerts is the number of alerts reported.
func (c Counts) TotalAlerts() uint64 {
	var n uint64
	for _, v := range c.Alerts {
		n += v
	}
	return n
}

func (c Counts) totalFiltered() uint64 {
	var n uint64
	for _, v := range c.Filtered {
		n += v
	}
	return n
}

// String is the one-line summary printed on exit.
func (c Counts) String() string {
	kinds := []string{}
	for _, k := range []string{"exec", "connect", "open"} {
		kinds = append(kinds, fmt.Sprintf("%s %d", k, c.ByKind[k]))
	}
	ids := make([]string, 0, len(c.Alerts))
	for id := range c.Alerts {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	rules := []string{}
	for _, id := range ids {
		rules = append(rules, fmt.Sprintf("%s %d", id, c.Alerts[id]))
	}
	alerts := fmt.Sprintf("%d alerts", c.TotalAlerts())
	if len(rules) > 0 {
		alerts += " (" + strings.Join(rules, ", ") + ")"
	}
	s := fmt.Sprintf("%d events (%s), %s, %d excepted, %d dropped, source %s", c.Events, strings.Join(kinds, ", "),
		alerts, c.Excepted, c.Dropped, c.Source)
	if f := c.totalFiltered(); f > 0 {
		s += fmt.Sprintf(", %d filtered in the kernel", f)
	}
	if c.Unresolved > 0 {
		s += fmt.Sprintf(", %d unresolved (relative paths of processes gone before /proc was read)", c.Unresolved)
	}
	if c.SinkErrors > 0 {
		s += fmt.Sprintf(", %d not delivered", c.SinkErrors)
	}
	return s
}

// Monitor watches the host's containers and raises the RT rules.
type Monitor struct {
	opts       Options
	src        source
	sourceName string
	exceptions []exception
	engine     *engine
	rules      map[string]report.Rule
	hostname   string
	redact     *secrets.Redactor

	containers map[string]*tracked
	indexes    map[string]*imageIndex
	loaded     chan indexResult
	counts     Counts
}

// tracked is what the monitor knows of one cgroup.
type tracked struct {
	inContainer bool
	c           Container
	watched     bool
	imageRef    string
	// root is what RT002 knows of the container's root filesystem (drift.go).
	root rootFS
}

// imageIndex is an image's file index, loaded in the background; exec events that
// arrive before it are held (a bounded number) and checked when it comes.
type imageIndex struct {
	ready   bool
	index   *fileIndex
	err     error
	pending []pendingExec
}

type pendingExec struct {
	e Event
	t *tracked
}

type indexResult struct {
	ref   string
	index *fileIndex
	err   error
}

const maxPending = 1024

// dropCheckInterval is how often the kernel's drop counter is read while running.
var dropCheckInterval = 10 * time.Second

// ErrNoBPF wraps the reason the eBPF source could not start when Source is "bpf".
var ErrNoBPF = errors.New("eBPF monitor unavailable")

// New opens the kernel side. It needs root (or CAP_BPF with CAP_PERFMON) for eBPF; with
// Source "", a failure falls back to the proc connector and Warn says what is lost.
func New(opts Options) (*Monitor, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Warn == nil {
		opts.Warn = func(string) {}
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.StateRoot == "" {
		opts.StateRoot = "/"
	}
	exs, warnings, err := compileExceptions(opts.Exceptions, opts.Now())
	if err != nil {
		return nil, err
	}
	for _, w := range warnings {
		opts.Warn(w)
	}
	if opts.Egress != nil {
		for _, w := range opts.Egress.Warnings {
			opts.Warn(w)
		}
	}
	m := &Monitor{
		opts: opts, exceptions: exs, engine: newEngine(opts.EngineHost),
		rules: map[string]report.Rule{}, containers: map[string]*tracked{},
		indexes: map[string]*imageIndex{}, loaded: make(chan indexResult, 16),
		counts: Counts{ByKind: map[string]uint64{}, Alerts: map[string]uint64{}},
	}
	for _, r := range Rules() {
		m.rules[r.ID] = r
	}
	m.hostname, _ = os.Hostname()
	m.redact = secrets.NewRedactor(nil, secrets.WithScan())
	if err := m.open(); err != nil {
		return nil, err
	}
	return m, nil
}

func (m *Monitor) open() error {
	switch m.opts.Source {
	case "", "bpf":
		src, err := openBPF(m.opts.Egress)
		if err == nil {
			m.src, m.sourceName = src, "ebpf"
			return nil
		}
		if m.opts.Source == "bpf" {
			return fmt.Errorf("%w: %w", ErrNoBPF, err)
		}
		m.opts.Warn(fmt.Sprintf("eBPF unavailable (%v); falling back to the proc connector: %s", err, Lost))
	case "proc":
		m.opts.Warn("using the proc connector as asked: " + Lost)
	default:
		return fmt.Errorf("unknown source %q (want bpf or proc)", m.opts.Source)
	}
	src, err := openProcConnector()
	if err != nil {
		return fmt.Errorf("no event source: the proc connector failed too (%w); run as root", err)
	}
	m.src, m.sourceName = src, "proc-connector"
	return nil
}

// Source names the kernel side in use: "ebpf" or "proc-connector".
func (m *Monitor) Source() string { return m.sourceName }

// Run watches until ctx ends, then closes the sinks and returns the counts.
func (m *Monitor) Run(ctx context.Context) (Counts, error) {
	defer func() { _ = m.src.close() }()
	m.preload(ctx)
	events := make(chan []Event, 64) // batches of up to maxBatch
	srcCtx, stopSrc := context.WithCancel(ctx)
	defer stopSrc()
	srcErr := make(chan error, 1)
	go func() { srcErr <- m.src.run(srcCtx, events) }()
	var runErr error
	// Drops are reported as they happen, not only in the counts line at exit.
	dropCheck := time.NewTicker(dropCheckInterval)
	defer dropCheck.Stop()
	var lastDropped uint64
loop:
	for {
		select {
		case batch := <-events:
			for i := range batch {
				m.handle(ctx, &batch[i])
			}
		case r := <-m.loaded:
			m.indexLoaded(r)
		case <-dropCheck.C:
			if d := m.src.dropped(); d > lastDropped {
				m.opts.Warn(fmt.Sprintf("%d events dropped in the last %s: the reader fell behind the kernel, so alerts may be missing",
					d-lastDropped, dropCheckInterval))
				lastDropped = d
			}
		case err := <-srcErr:
			runErr, srcErr = err, nil
			break loop
		case <-ctx.Done():
			break loop
		}
	}
	stopSrc()
	// The source hands over what the kernel still holds before it returns: those events
	// count too.
	for srcErr != nil {
		select {
		case batch := <-events:
			for i := range batch {
				m.handle(ctx, &batch[i])
			}
		case err := <-srcErr:
			runErr, srcErr = err, nil
		}
	}
	for drained := false; !drained; {
		select {
		case batch := <-events:
			for i := range batch {
				m.handle(ctx, &batch[i])
			}
		default:
			drained = true
		}
	}
	m.counts.Dropped = m.src.dropped()
	if kf, ok := m.src.(kernelFilter); ok {
		m.counts.Filtered = map[string]uint64{}
		for k, n := range kf.filtered() {
			m.counts.Filtered[k.String()] = n
		}
	}
	m.counts.Source = m.sourceName
	for _, s := range m.opts.Sinks {
		if err := s.Close(); err != nil {
			m.counts.SinkErrors++
			m.opts.Logger.Warn("closing an alert sink", "err", err)
		}
	}
	for _, s := range m.opts.Sinks {
		if c, ok := s.(interface{ Failed() uint64 }); ok {
			m.counts.SinkErrors += c.Failed()
		}
	}
	return m.counts, runErr
}

// preload asks the engine for the running containers and starts loading their images'
// file indexes, so that RT002 is ready before their next exec.
func (m *Monitor) preload(ctx context.Context) {
	if m.engine == nil {
		return
	}
	ids, err := m.engine.list(ctx)
	if err != nil {
		return
	}
	for _, id := range ids {
		c := Container{Runtime: "docker", ID: id}
		if m.engine.inspect(ctx, &c) == nil && m.selected(&c) {
			m.startIndex(ctx, m.imageRef(&c))
		}
	}
}

func (m *Monitor) handle(ctx context.Context, e *Event) {
	m.counts.Events++
	m.counts.ByKind[e.Kind.String()]++
	t := m.track(ctx, e)
	if !t.inContainer || !t.watched {
		return
	}
	switch e.Kind {
	case KindExec:
		if isShell(e) && e.VPID != 1 {
			m.alert(RT001, e, t)
		}
		m.checkDrift(e, t)
	case KindConnect:
		if m.opts.Egress != nil && e.Dest.IsValid() && !e.Dest.Addr().IsUnspecified() {
			if ok, _ := m.opts.Egress.Allows(e.Dest); !ok {
				m.alert(RT003, e, t)
			}
		}
	case KindOpen:
		p := m.absolute(e)
		if p == "" {
			m.counts.Unresolved++
			return
		}
		e.Path = p
		switch {
		case e.Write() && belowSystemDir(p):
			m.alert(RT004, e, t)
		case !e.Write() && sensitive(p):
			m.alert(RT005, e, t)
		}
	}
}

// track finds or creates what the monitor knows of the event's cgroup.
func (m *Monitor) track(ctx context.Context, e *Event) *tracked {
	// Whether the process has a pid namespace of its own is part of the key: a runtime's
	// helper (runc init joining a container) is in the container's cgroup before it is
	// in its namespaces, and must not decide for the container's own processes.
	key := e.CgroupParent + "/" + e.CgroupLeaf
	if e.PIDNSLevel > 0 {
		key += "\x00ns"
	}
	if t := m.containers[key]; t != nil {
		return t
	}
	t := &tracked{}
	c, ok := containerOf(e.CgroupLeaf, e.CgroupParent)
	// A cgroup whose name only looks like a runc or containerd container's counts when
	// the process also has a pid namespace of its own.
	if ok && c.Runtime == "" {
		if e.PIDNSLevel == 0 {
			ok = false
		} else {
			c.Runtime = runtimeOf(filepath.Join(m.opts.StateRoot, "run"), c.ID, e.CgroupParent)
		}
	}
	if ok {
		t.inContainer = true
		if m.engine != nil && (c.Runtime == "docker" || c.Runtime == "podman") {
			ictx, cancel := context.WithTimeout(ctx, 2*time.Second)
			if err := m.engine.inspect(ictx, &c); err != nil {
				m.opts.Logger.Debug("engine inspect", "container", c.ID, "err", err)
			}
			cancel()
		} else {
			kubeNames(m.opts.StateRoot, &c, e.CgroupParent)
		}
		t.c = c
		t.watched = m.selected(&c)
		if t.watched {
			t.imageRef = m.imageRef(&c)
			m.startIndex(ctx, t.imageRef)
		}
	}
	if len(m.containers) > 100_000 {
		clear(m.containers) // a bound on memory for a host that churns through cgroups
	}
	m.containers[key] = t
	m.filterInKernel(e, t)
	return t
}

// selected reports whether --container picked c.
func (m *Monitor) selected(c *Container) bool {
	if len(m.opts.Containers) == 0 {
		return true
	}
	for _, want := range m.opts.Containers {
		if want == c.Name || want == c.ID || len(want) >= 4 && strings.HasPrefix(c.ID, want) || slices.Contains(c.KubeNames(), want) {
			return true
		}
	}
	return false
}

// imageRef is the reference RT002 opens for c's image.
func (m *Monitor) imageRef(c *Container) string {
	switch {
	case c.ImageID != "" && c.Runtime == "podman":
		return "podman:" + c.ImageID
	case c.ImageID != "":
		return "docker:" + c.ImageID
	}
	return m.opts.Image
}

func (m *Monitor) startIndex(ctx context.Context, ref string) {
	if ref == "" || m.indexes[ref] != nil {
		return
	}
	m.indexes[ref] = &imageIndex{}
	go func() {
		idx, err := loadIndex(ctx, ref, m.opts.ImageOptions)
		select {
		case m.loaded <- indexResult{ref: ref, index: idx, err: err}:
		case <-ctx.Done():
		}
	}()
}

func (m *Monitor) indexLoaded(r indexResult) {
	ix := m.indexes[r.ref]
	if ix == nil {
		return
	}
	ix.ready, ix.index, ix.err = true, r.index, r.err
	if r.err != nil {
		m.opts.Warn(fmt.Sprintf("RT002 is off for containers of %s: %v", r.ref, r.err))
	}
	pending := ix.pending
	ix.pending = nil
	for i := range pending {
		m.checkDrift(&pending[i].e, pending[i].t)
	}
}

// checkDrift raises RT002 when an executable is not in the container's image, or is a
// file of the image modified since the container started (drift.go).
func (m *Monitor) checkDrift(e *Event, t *tracked) {
	// The root filesystem is learnt from a process that still runs, before the event
	// may wait for the image's index.
	ix := m.indexes[t.imageRef]
	if ix == nil && t.root.learnt && t.root.lowers == nil {
		return // neither the image's index nor its layers on this host: nothing to compare with
	}
	t.root.learn(procDir, e.PID, e.VPID)
	if !t.root.learnt || !t.root.overlay && !t.root.inRoot(procDir, t.root.pid) {
		// The process is gone already: ask the container's cgroup for one that runs.
		t.root.learnFromCgroup(procDir, cgroupRoot(), e.CgroupParent, e.CgroupLeaf, e.Time)
	}
	var idx *fileIndex
	if ix != nil {
		if !ix.ready {
			if len(ix.pending) < maxPending {
				ix.pending = append(ix.pending, pendingExec{e: *e, t: t})
			}
			return
		}
		idx = ix.index
	}
	if idx == nil && t.root.lowers == nil {
		return // the image could not be opened, and its layers are not on this host
	}
	p := m.absolute(e)
	if strings.HasPrefix(p, "/proc/") || strings.HasPrefix(p, "/dev/fd/") {
		// A program that runs itself again (/proc/self/exe: busybox applets, runc) or a
		// file descriptor: the file is whatever /proc/PID/exe names now.
		p = m.exe(e.PID)
	}
	if p == "" {
		m.counts.Unresolved++
		return
	}
	if kind := t.root.driftOf(idx, procDir, p, e.PID, e.PPID); kind != "" {
		m.raise(RT002, e, t, kind)
	}
}

// procDir is where the monitor reads other processes' state.
const procDir = "/proc"

// exe is the process's executable as its container sees it, "" once it has exited. A
// file run from a memfd or deleted after exec is named as such, and is not in any image.
func (m *Monitor) exe(pid uint32) string {
	return exePath(fmt.Sprintf("/proc/%d/", pid))
}

// absolute returns the event's path as the container sees it: relative paths are
// joined to the process's working directory, read from /proc while it still runs.
func (m *Monitor) absolute(e *Event) string {
	if strings.HasPrefix(e.Path, "/") {
		return path.Clean(e.Path)
	}
	if e.Path == "" {
		return ""
	}
	if e.Cwd != "" {
		return path.Join(e.Cwd, e.Path)
	}
	proc := fmt.Sprintf("/proc/%d/", e.PID)
	cwd, err := os.Readlink(proc + "cwd")
	if err != nil {
		return ""
	}
	if root, err := os.Readlink(proc + "root"); err == nil && root != "/" {
		rel, ok := strings.CutPrefix(cwd, root)
		if !ok || rel != "" && !strings.HasPrefix(rel, "/") {
			return ""
		}
		cwd = "/" + strings.TrimPrefix(rel, "/")
	}
	return path.Join(cwd, e.Path)
}

func (m *Monitor) alert(id string, e *Event, t *tracked) { m.raise(id, e, t, "") }

// raise reports an alert of rule id; drift is RT002's kind (new or modified).
func (m *Monitor) raise(id string, e *Event, t *tracked, drift string) {
	for i := range m.exceptions {
		if m.exceptions[i].matches(id, e, &t.c) {
			m.counts.Excepted++
			return
		}
	}
	r := m.rules[id]
	a := &Alert{
		Time: e.Time.UTC(), Rule: id, Aliases: r.Aliases, Severity: r.Severity.String(),
		Priority: priority(r.Severity), Title: r.Title, Output: describe(id, e, &t.c, drift),
		Source: "syscall", Hostname: m.hostname, Fields: fields(e, &t.c),
	}
	if drift != "" {
		a.Fields["evt.drift"] = drift
	}
	// Command lines carry tokens and passwords as often as anything else.
	a.Output = m.redact.String(a.Output)
	if cmd, ok := a.Fields["proc.cmdline"].(string); ok {
		a.Fields["proc.cmdline"] = m.redact.String(cmd)
	}
	if m.opts.Enforce {
		a.Enforced = enforce(e)
	}
	m.counts.Alerts[id]++
	for _, s := range m.opts.Sinks {
		if err := s.Write(a); err != nil {
			m.counts.SinkErrors++
		}
	}
}

// enforce kills the process an alert names and says what happened.
func enforce(e *Event) string {
	if e.PID <= 1 || int(e.PID) == os.Getpid() {
		return "not killed: pid " + fmt.Sprint(e.PID)
	}
	if err := unix.Kill(int(e.PID), unix.SIGKILL); err != nil {
		return "kill failed: " + err.Error()
	}
	return "killed"
}
