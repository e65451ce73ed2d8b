// Package report holds charter's findings model, the charter.report/v1 document every
// command emits, and the encoders that turn it into table, JSON and SARIF output.
//
// The JSON field names are part of the public contract: CI gates and scripts parse them.
package report

import (
	"fmt"
	"sort"
	"strings"
)

// Schema identifies the report format version.
const Schema = "charter.report/v1"

// Report is one run's result: what was looked at, what was found, and the verdict.
type Report struct {
	Schema   string    `json:"schema"`
	Tool     Tool      `json:"tool"`
	Target   Target    `json:"target"`
	Findings []Finding `json:"findings"`
	Packages []Package `json:"packages,omitempty"`
	Summary  Summary   `json:"summary"`
	Verdict  Verdict   `json:"verdict"`
	// Warnings are non-fatal problems the run met (a file it could not read, a parser
	// warning). They never change the verdict.
	Warnings []string `json:"warnings,omitempty"`
}

// Tool names the program that made the report.
type Tool struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	// Commit is the full commit hash the program was built from, when it knows it (release
	// builds are stamped; `go build` in a checkout records it). Optional: v1 consumers
	// that do not know it keep working.
	Commit string `json:"commit,omitempty"`
}

// Target is what the report is about.
type Target struct {
	Kind   string `json:"kind"` // repo, dockerfile, image, sbom, manifest
	Ref    string `json:"ref"`
	Digest string `json:"digest,omitempty"`
}

// Finding is one rule violation at one place.
type Finding struct {
	Rule        string       `json:"rule"`
	Aliases     []string     `json:"aliases,omitempty"`
	Severity    Severity     `json:"severity"`
	Title       string       `json:"title"`
	Message     string       `json:"message"`
	Location    Location     `json:"location"`
	Evidence    string       `json:"evidence,omitempty"`
	Remediation string       `json:"remediation,omitempty"`
	References  []string     `json:"references,omitempty"`
	Suppressed  *Suppression `json:"suppressed,omitempty"`
}

// Location says where a finding is: a file and line, a Kubernetes resource, an image layer.
type Location struct {
	Path        string `json:"path,omitempty"`
	Line        int    `json:"line,omitempty"`
	EndLine     int    `json:"endLine,omitempty"`
	Column      int    `json:"column,omitempty"`
	Resource    string `json:"resource,omitempty"`
	Container   string `json:"container,omitempty"`
	Image       string `json:"image,omitempty"`
	Layer       string `json:"layer,omitempty"`
	LayerIndex  *int   `json:"layerIndex,omitempty"`
	Instruction string `json:"instruction,omitempty"`
	Package     string `json:"package,omitempty"`
}

// String renders the location compactly for tables and verdict reasons.
func (l Location) String() string {
	var b strings.Builder
	if l.Path != "" {
		b.WriteString(l.Path)
		if l.Line > 0 {
			fmt.Fprintf(&b, ":%d", l.Line)
		}
	}
	if l.Resource != "" {
		sep(&b, " ")
		b.WriteString(l.Resource)
		if l.Container != "" {
			b.WriteString("[" + l.Container + "]")
		}
	}
	if l.LayerIndex != nil {
		sep(&b, " ")
		fmt.Fprintf(&b, "layer %d", *l.LayerIndex)
	}
	if l.Package != "" {
		sep(&b, " ")
		b.WriteString(l.Package)
	}
	return b.String()
}

func sep(b *strings.Builder, s string) {
	if b.Len() > 0 {
		b.WriteString(s)
	}
}

// Suppression records why a finding does not count toward the verdict.
type Suppression struct {
	By      string `json:"by"` // charter.yaml, pragma, hadolint, vex
	Reason  string `json:"reason,omitempty"`
	Expires string `json:"expires,omitempty"`
}

// Package is one software package found in a target.
type Package struct {
	Name       string         `json:"name"`
	Version    string         `json:"version"`
	Ecosystem  string         `json:"ecosystem"`
	PURL       string         `json:"purl,omitempty"`
	Source     *PackageSource `json:"source,omitempty"`
	Layer      string         `json:"layer,omitempty"`
	LayerIndex *int           `json:"layerIndex,omitempty"`
	Base       bool           `json:"base,omitempty"`
	Locations  []string       `json:"locations,omitempty"`
	// Arch is the package's architecture as its package manager writes it ("amd64").
	Arch string `json:"arch,omitempty"`
	// Licenses are the licences the package declares (SPDX expressions when it uses them).
	Licenses []string `json:"licenses,omitempty"`
	// CPEs are CPE 2.3 names, for matching advisories that only carry CPEs.
	CPEs []string `json:"cpes,omitempty"`
	// Unmanaged marks software no package manager installed, identified from its files.
	Unmanaged bool `json:"unmanaged,omitempty"`
	// Instruction is the history entry (created_by) of the layer that brought the package.
	Instruction string `json:"instruction,omitempty"`
	// ChangedLayerIndex is the layer that last changed the package (an upgrade), when it
	// is not the one that brought it.
	ChangedLayerIndex *int `json:"changedLayerIndex,omitempty"`
}

// PackageSource is the source package a binary package was built from.
type PackageSource struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

// Summary counts unsuppressed findings by severity, and suppressed ones apart.
type Summary struct {
	Critical   int `json:"CRITICAL"`
	High       int `json:"HIGH"`
	Medium     int `json:"MEDIUM"`
	Low        int `json:"LOW"`
	Info       int `json:"INFO"`
	Suppressed int `json:"suppressed"`
}

// Verdict is the pass/fail outcome against a severity threshold.
type Verdict struct {
	Pass    bool     `json:"pass"`
	FailOn  string   `json:"failOn"`
	Reasons []string `json:"reasons,omitempty"`
}

// New starts a report for a target.
func New(version string, target Target) *Report {
	return &Report{
		Schema:   Schema,
		Tool:     Tool{Name: "charter", Version: version},
		Target:   target,
		Findings: []Finding{},
	}
}

// Sort orders findings by path, line, rule, then message, so output is stable.
func (r *Report) Sort() {
	sort.SliceStable(r.Findings, func(i, j int) bool {
		a, b := r.Findings[i], r.Findings[j]
		if a.Location.Path != b.Location.Path {
			return a.Location.Path < b.Location.Path
		}
		if a.Location.Line != b.Location.Line {
			return a.Location.Line < b.Location.Line
		}
		if a.Rule != b.Rule {
			return a.Rule < b.Rule
		}
		return a.Message < b.Message
	})
}

// Finalize sorts the findings, computes the summary and decides the verdict: the run
// fails when an unsuppressed finding is at or above failOn. SeverityNone never fails.
func (r *Report) Finalize(failOn Severity) {
	r.Sort()
	r.Summary = Summary{}
	r.Verdict = Verdict{Pass: true, FailOn: failOn.String()}
	for _, f := range r.Findings {
		if f.Suppressed != nil {
			r.Summary.Suppressed++
			continue
		}
		switch f.Severity {
		case Critical:
			r.Summary.Critical++
		case High:
			r.Summary.High++
		case Medium:
			r.Summary.Medium++
		case Low:
			r.Summary.Low++
		default:
			r.Summary.Info++
		}
		if failOn != SeverityNone && f.Severity >= failOn {
			r.Verdict.Pass = false
			r.Verdict.Reasons = append(r.Verdict.Reasons, reason(f))
		}
	}
}

func reason(f Finding) string {
	loc := f.Location.String()
	if loc == "" {
		return f.Rule
	}
	return f.Rule + " at " + loc
}
