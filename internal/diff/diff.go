// Package diff compares two images: the packages added, removed and changed, the
// findings B brings and the ones it fixes, the config changes (environment variable
// names, never their values), and the layers they share and do not.
//
// It is a pure comparison of two Sides the caller read; it opens nothing.
package diff

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	packageurl "github.com/package-url/packageurl-go"

	"github.com/charterhq/charter/internal/report"
)

// Schema names the JSON a Result encodes to.
const Schema = "charter.diff/v1"

// Side is one image as read: its config (nil for an SBOM), layers, packages and findings.
type Side struct {
	Ref      string
	Digest   string
	Config   *v1.ConfigFile
	Layers   []Layer
	Packages []report.Package
	Findings []report.Finding
}

// Layer is one filesystem layer.
type Layer struct {
	DiffID string `json:"diffID"`
	// Size is the stored (compressed) size in bytes, -1 when the source does not say.
	Size      int64  `json:"size"`
	CreatedBy string `json:"createdBy,omitempty"`
}

// Result is what changed from A to B.
type Result struct {
	Schema   string         `json:"schema"`
	A        Target         `json:"a"`
	B        Target         `json:"b"`
	Packages Packages       `json:"packages"`
	Findings Findings       `json:"findings"`
	Config   []ConfigChange `json:"config"`
	Layers   Layers         `json:"layers"`
}

// Target names one side.
type Target struct {
	Ref    string `json:"ref"`
	Digest string `json:"digest,omitempty"`
}

// Packages are the package changes.
type Packages struct {
	Added   []Package `json:"added"`
	Removed []Package `json:"removed"`
	Changed []Change  `json:"changed"`
}

// Package is a package only one side has.
type Package struct {
	Ecosystem string `json:"ecosystem"`
	Name      string `json:"name"`
	Version   string `json:"version"`
	PURL      string `json:"purl,omitempty"`
}

// Change is a package both sides have, at different versions.
type Change struct {
	Ecosystem string `json:"ecosystem"`
	Name      string `json:"name"`
	From      string `json:"from"`
	To        string `json:"to"`
	PURL      string `json:"purl,omitempty"` // B's
}

// Findings are the findings only one side has.
type Findings struct {
	// New are B's findings that A does not have.
	New []report.Finding `json:"new"`
	// Fixed are A's findings that B no longer has.
	Fixed []report.Finding `json:"fixed"`
}

// ConfigChange is one changed config field. Environment variables are compared by name:
// a changed value is reported as changed, with neither value.
type ConfigChange struct {
	// Field is "user", "workdir", "entrypoint", "cmd", "env", "ports", "labels",
	// "volumes", "stopSignal", "healthcheck" or "platform".
	Field string `json:"field"`
	// Key names the entry of a map or set field (the variable, port, label, volume).
	Key string `json:"key,omitempty"`
	// Change is "added", "removed" or "changed".
	Change string `json:"change"`
	From   string `json:"from,omitempty"`
	To     string `json:"to,omitempty"`
}

// Layers compares the layer stacks by diffID.
type Layers struct {
	// Shared counts B's layers that A has too (a common base is a shared prefix).
	Shared int `json:"shared"`
	// SharedPrefix counts the leading layers both have in the same order: the base.
	SharedPrefix int     `json:"sharedPrefix"`
	Removed      []Layer `json:"removed"`
	Added        []Layer `json:"added"`
	// SizeA and SizeB are the stored sizes of all layers (-1 when some are unknown).
	SizeA int64 `json:"sizeA"`
	SizeB int64 `json:"sizeB"`
}

// Options tune Compare.
type Options struct {
	// Redact masks secrets in label values before they are reported.
	Redact func(string) string
}

// Compare reports what changed from a to b.
func Compare(a, b *Side, opt Options) *Result {
	if opt.Redact == nil {
		opt.Redact = func(s string) string { return s }
	}
	return &Result{
		Schema:   Schema,
		A:        Target{Ref: a.Ref, Digest: a.Digest},
		B:        Target{Ref: b.Ref, Digest: b.Digest},
		Packages: comparePackages(a.Packages, b.Packages),
		Findings: compareFindings(a.Findings, b.Findings),
		Config:   compareConfig(a.Config, b.Config, opt),
		Layers:   compareLayers(a.Layers, b.Layers),
	}
}

// NewAtOrAbove returns B's new findings at or above sev (none for SeverityNone).
func (r *Result) NewAtOrAbove(sev report.Severity) []report.Finding {
	if sev == report.SeverityNone {
		return nil
	}
	var out []report.Finding
	for _, f := range r.Findings.New {
		if f.Suppressed == nil && f.Severity >= sev {
			out = append(out, f)
		}
	}
	return out
}

// packageKey is a package's identity across versions: ecosystem, purl without version
// (and without qualifiers but arch, which carry the source version for Debian), else the
// name.
func packageKey(p *report.Package) string {
	if u, err := packageurl.FromString(p.PURL); err == nil && u.Name != "" {
		arch := u.Qualifiers.Map()["arch"]
		return p.Ecosystem + "\x00" + u.Type + "/" + u.Namespace + "/" + u.Name + "?" + arch
	}
	return p.Ecosystem + "\x00" + p.Name
}

func comparePackages(a, b []report.Package) Packages {
	group := func(ps []report.Package) (map[string][]*report.Package, []string) {
		m := map[string][]*report.Package{}
		var keys []string
		for i := range ps {
			k := packageKey(&ps[i])
			if m[k] == nil {
				keys = append(keys, k)
			}
			m[k] = append(m[k], &ps[i])
		}
		return m, keys
	}
	ga, ka := group(a)
	gb, kb := group(b)
	out := Packages{Added: []Package{}, Removed: []Package{}, Changed: []Change{}}
	keys := append(ka, kb...)
	seen := map[string]bool{}
	for _, k := range keys {
		if seen[k] {
			continue
		}
		seen[k] = true
		ra, rb := unmatched(ga[k], gb[k])
		// pair what is left in version order: one side's nth with the other's nth
		for len(ra) > 0 && len(rb) > 0 {
			pa, pb := ra[0], rb[0]
			ra, rb = ra[1:], rb[1:]
			out.Changed = append(out.Changed, Change{Ecosystem: pb.Ecosystem, Name: pb.Name, From: pa.Version, To: pb.Version, PURL: pb.PURL})
		}
		for _, p := range ra {
			out.Removed = append(out.Removed, pkgOf(p))
		}
		for _, p := range rb {
			out.Added = append(out.Added, pkgOf(p))
		}
	}
	sortPkgs(out.Added)
	sortPkgs(out.Removed)
	sort.Slice(out.Changed, func(i, j int) bool {
		x, y := out.Changed[i], out.Changed[j]
		return x.Ecosystem+"\x00"+x.Name+"\x00"+x.From < y.Ecosystem+"\x00"+y.Name+"\x00"+y.From
	})
	return out
}

// unmatched drops the versions both sides have (as many times as both have them) and
// returns what is left of each side, sorted by version string.
func unmatched(a, b []*report.Package) ([]*report.Package, []*report.Package) {
	count := map[string]int{}
	for _, p := range b {
		count[p.Version]++
	}
	var ra []*report.Package
	for _, p := range a {
		if count[p.Version] > 0 {
			count[p.Version]--
			continue
		}
		ra = append(ra, p)
	}
	count = map[string]int{}
	for _, p := range a {
		count[p.Version]++
	}
	var rb []*report.Package
	for _, p := range b {
		if count[p.Version] > 0 {
			count[p.Version]--
			continue
		}
		rb = append(rb, p)
	}
	byVersion := func(ps []*report.Package) {
		sort.SliceStable(ps, func(i, j int) bool { return ps[i].Version < ps[j].Version })
	}
	byVersion(ra)
	byVersion(rb)
	return ra, rb
}

func pkgOf(p *report.Package) Package {
	return Package{Ecosystem: p.Ecosystem, Name: p.Name, Version: p.Version, PURL: p.PURL}
}

func sortPkgs(ps []Package) {
	sort.Slice(ps, func(i, j int) bool {
		return ps[i].Ecosystem+"\x00"+ps[i].Name+"\x00"+ps[i].Version < ps[j].Ecosystem+"\x00"+ps[j].Name+"\x00"+ps[j].Version
	})
}

// findingKey identifies a finding across two images: the rule and where it is, by path,
// resource, container and package (without version: an upgrade that does not fix a
// vulnerability keeps it), and its evidence. Layer numbers and messages are left out:
// they shift when an unrelated layer is added.
func findingKey(f *report.Finding) string {
	pkg := f.Location.Package
	if u, err := packageurl.FromString(pkg); err == nil {
		pkg = u.Type + "/" + u.Namespace + "/" + u.Name
	}
	return strings.Join([]string{f.Rule, f.Location.Path, f.Location.Resource, f.Location.Container, pkg, f.Evidence}, "\x00")
}

func compareFindings(a, b []report.Finding) Findings {
	out := Findings{New: []report.Finding{}, Fixed: []report.Finding{}}
	count := map[string]int{}
	for i := range a {
		count[findingKey(&a[i])]++
	}
	for i := range b {
		if k := findingKey(&b[i]); count[k] > 0 {
			count[k]--
		} else {
			out.New = append(out.New, b[i])
		}
	}
	count = map[string]int{}
	for i := range b {
		count[findingKey(&b[i])]++
	}
	for i := range a {
		if k := findingKey(&a[i]); count[k] > 0 {
			count[k]--
		} else {
			out.Fixed = append(out.Fixed, a[i])
		}
	}
	bySeverity := func(fs []report.Finding) {
		sort.SliceStable(fs, func(i, j int) bool {
			if fs[i].Severity != fs[j].Severity {
				return fs[i].Severity > fs[j].Severity
			}
			return fs[i].Rule < fs[j].Rule
		})
	}
	bySeverity(out.New)
	bySeverity(out.Fixed)
	return out
}

func compareLayers(a, b []Layer) Layers {
	out := Layers{Removed: []Layer{}, Added: []Layer{}, SizeA: totalSize(a), SizeB: totalSize(b)}
	for out.SharedPrefix < min(len(a), len(b)) && a[out.SharedPrefix].DiffID == b[out.SharedPrefix].DiffID {
		out.SharedPrefix++
	}
	inA, inB := map[string]int{}, map[string]int{}
	for _, l := range a {
		inA[l.DiffID]++
	}
	for _, l := range b {
		inB[l.DiffID]++
	}
	for _, l := range b {
		if inA[l.DiffID] > 0 {
			inA[l.DiffID]--
			out.Shared++
		} else {
			out.Added = append(out.Added, l)
		}
	}
	for _, l := range a {
		if inB[l.DiffID] > 0 {
			inB[l.DiffID]--
		} else {
			out.Removed = append(out.Removed, l)
		}
	}
	return out
}

func totalSize(ls []Layer) int64 {
	var n int64
	for _, l := range ls {
		if l.Size < 0 {
			return -1
		}
		n += l.Size
	}
	return n
}

func compareConfig(a, b *v1.ConfigFile, opt Options) []ConfigChange {
	out := []ConfigChange{}
	if a == nil || b == nil {
		return out
	}
	ca, cb := a.Config, b.Config
	scalar := func(field, x, y string) {
		if x != y {
			out = append(out, ConfigChange{Field: field, Change: changeKind(x, y), From: x, To: y})
		}
	}
	scalar("platform", platform(a), platform(b))
	scalar("user", ca.User, cb.User)
	scalar("workdir", ca.WorkingDir, cb.WorkingDir)
	scalar("entrypoint", list(ca.Entrypoint), list(cb.Entrypoint))
	scalar("cmd", list(ca.Cmd), list(cb.Cmd))
	scalar("stopSignal", ca.StopSignal, cb.StopSignal)
	scalar("healthcheck", healthcheck(ca.Healthcheck), healthcheck(cb.Healthcheck))
	out = append(out, compareEnv(ca.Env, cb.Env)...)
	out = append(out, compareSet("ports", keys(ca.ExposedPorts), keys(cb.ExposedPorts))...)
	out = append(out, compareSet("volumes", keys(ca.Volumes), keys(cb.Volumes))...)
	out = append(out, compareLabels(ca.Labels, cb.Labels, opt.Redact)...)
	return out
}

func changeKind(from, to string) string {
	switch {
	case from == "":
		return "added"
	case to == "":
		return "removed"
	}
	return "changed"
}

func platform(c *v1.ConfigFile) string {
	p := c.OS + "/" + c.Architecture
	if c.Variant != "" {
		p += "/" + c.Variant
	}
	return strings.Trim(p, "/")
}

func list(xs []string) string {
	if len(xs) == 0 {
		return ""
	}
	b, _ := json.Marshal(xs) // strings always encode
	return string(b)
}

func healthcheck(h *v1.HealthConfig) string {
	if h == nil {
		return ""
	}
	return list(h.Test)
}

// compareEnv compares variables by name; values are never reported.
func compareEnv(a, b []string) []ConfigChange {
	parse := func(env []string) map[string]string {
		m := map[string]string{}
		for _, kv := range env {
			k, v, _ := strings.Cut(kv, "=")
			m[k] = v
		}
		return m
	}
	ma, mb := parse(a), parse(b)
	var out []ConfigChange
	for _, k := range unionKeys(ma, mb) {
		va, inA := ma[k]
		vb, inB := mb[k]
		switch {
		case !inA:
			out = append(out, ConfigChange{Field: "env", Key: k, Change: "added"})
		case !inB:
			out = append(out, ConfigChange{Field: "env", Key: k, Change: "removed"})
		case va != vb:
			out = append(out, ConfigChange{Field: "env", Key: k, Change: "changed"})
		}
	}
	return out
}

func compareLabels(a, b map[string]string, redact func(string) string) []ConfigChange {
	var out []ConfigChange
	for _, k := range unionKeys(a, b) {
		va, inA := a[k]
		vb, inB := b[k]
		switch {
		case !inA:
			out = append(out, ConfigChange{Field: "labels", Key: k, Change: "added", To: redact(vb)})
		case !inB:
			out = append(out, ConfigChange{Field: "labels", Key: k, Change: "removed", From: redact(va)})
		case va != vb:
			out = append(out, ConfigChange{Field: "labels", Key: k, Change: "changed", From: redact(va), To: redact(vb)})
		}
	}
	return out
}

func compareSet(field string, a, b []string) []ConfigChange {
	in := func(xs []string) map[string]string {
		m := map[string]string{}
		for _, x := range xs {
			m[x] = x
		}
		return m
	}
	ma, mb := in(a), in(b)
	var out []ConfigChange
	for _, k := range unionKeys(ma, mb) {
		_, inA := ma[k]
		_, inB := mb[k]
		switch {
		case !inA:
			out = append(out, ConfigChange{Field: field, Key: k, Change: "added"})
		case !inB:
			out = append(out, ConfigChange{Field: field, Key: k, Change: "removed"})
		}
	}
	return out
}

func keys(m map[string]struct{}) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

func unionKeys(a, b map[string]string) []string {
	seen := map[string]bool{}
	var out []string
	for _, m := range []map[string]string{a, b} {
		for k := range m {
			if !seen[k] {
				seen[k] = true
				out = append(out, k)
			}
		}
	}
	sort.Strings(out)
	return out
}

// Summary is a one-line count of the changes.
func (r *Result) Summary() string {
	return fmt.Sprintf("packages +%d -%d ~%d, findings %d new %d fixed, %d config change(s), layers %d shared %d added %d removed",
		len(r.Packages.Added), len(r.Packages.Removed), len(r.Packages.Changed), len(r.Findings.New), len(r.Findings.Fixed),
		len(r.Config), r.Layers.Shared, len(r.Layers.Added), len(r.Layers.Removed))
}
