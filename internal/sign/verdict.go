package sign

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/charterhq/charter/internal/report"
)

// VerdictSchema names the verdict predicate's format.
const VerdictSchema = "charter.verdict/v1"

// VerdictPredicate is the predicate of a charter verdict attestation: what charter
// decided about the image, when, and against which threshold.
type VerdictPredicate struct {
	Schema    string         `json:"schema"`
	Scanner   report.Tool    `json:"scanner"`
	ScannedAt time.Time      `json:"scannedAt"`
	Target    report.Target  `json:"target"`
	Verdict   report.Verdict `json:"verdict"`
	Summary   report.Summary `json:"summary"`
}

// vulnPredicate is cosign's vulnerability-scan predicate, with charter's report as the
// scanner result.
type vulnPredicate struct {
	Invocation struct {
		Parameters any    `json:"parameters"`
		URI        string `json:"uri"`
		EventID    string `json:"event_id"`
		BuilderID  string `json:"builder.id"`
	} `json:"invocation"`
	Scanner struct {
		URI     string `json:"uri"`
		Version string `json:"version"`
		DB      struct {
			URI     string `json:"uri"`
			Version string `json:"version"`
		} `json:"db"`
		Result json.RawMessage `json:"result"`
	} `json:"scanner"`
	Metadata struct {
		ScanStartedOn  time.Time `json:"scanStartedOn"`
		ScanFinishedOn time.Time `json:"scanFinishedOn"`
	} `json:"metadata"`
}

const charterURI = "https://github.com/charterhq/charter"

// makePredicate builds the predicate of type pt from the user's input file, refusing
// input that is not what the type says or that is about another image.
func makePredicate(pt string, input []byte, digest v1.Hash, now time.Time) (json.RawMessage, error) {
	switch pt {
	case PredicateVerdict, PredicateVuln:
		if p, ok, err := intotoVulns(input); ok && pt == PredicateVuln {
			return p, err
		}
		r, err := parseReport(input, digest)
		if err != nil {
			return nil, err
		}
		if pt == PredicateVerdict {
			return json.Marshal(VerdictPredicate{Schema: VerdictSchema, Scanner: r.Tool, ScannedAt: now.UTC().Truncate(time.Second),
				Target: r.Target, Verdict: r.Verdict, Summary: r.Summary})
		}
		var p vulnPredicate
		p.Scanner.URI = charterURI
		p.Scanner.Version = r.Tool.Version
		p.Scanner.Result = compactJSON(input)
		p.Metadata.ScanStartedOn = now.UTC().Truncate(time.Second)
		p.Metadata.ScanFinishedOn = p.Metadata.ScanStartedOn
		return json.Marshal(p)
	}
	obj, err := jsonObject(input)
	if err != nil {
		return nil, err
	}
	switch pt {
	case PredicateCycloneDX:
		var doc struct {
			BOMFormat string `json:"bomFormat"`
		}
		if json.Unmarshal(obj, &doc) != nil || doc.BOMFormat != "CycloneDX" {
			return nil, errors.New("predicate is not a CycloneDX JSON document (no \"bomFormat\": \"CycloneDX\")")
		}
	case PredicateSPDX:
		var doc struct {
			SPDXVersion string `json:"spdxVersion"`
		}
		if json.Unmarshal(obj, &doc) != nil || !strings.HasPrefix(doc.SPDXVersion, "SPDX-") {
			return nil, errors.New("predicate is not an SPDX JSON document (no \"spdxVersion\": \"SPDX-…\")")
		}
	}
	return obj, nil
}

// jsonObject checks that input is one JSON object and returns it compacted.
func jsonObject(input []byte) (json.RawMessage, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(input, &m); err != nil {
		return nil, fmt.Errorf("predicate must be a JSON object: %w", jsonErr(err))
	}
	return compactJSON(input), nil
}

func compactJSON(b []byte) json.RawMessage {
	var buf bytes.Buffer
	if err := json.Compact(&buf, b); err != nil {
		return b
	}
	return buf.Bytes()
}

// parseReport reads a charter report and checks that it is about this image (when it
// names a digest at all).
func parseReport(input []byte, digest v1.Hash) (*report.Report, error) {
	var r report.Report
	if err := json.Unmarshal(input, &r); err != nil {
		return nil, fmt.Errorf("predicate must be a charter JSON report (charter scan -o json): %w", jsonErr(err))
	}
	if r.Schema != report.Schema {
		return nil, fmt.Errorf("predicate is not a charter report (schema %q, want %q)", r.Schema, report.Schema)
	}
	if r.Verdict.FailOn == "" {
		return nil, errors.New("report has no verdict")
	}
	if r.Target.Digest != "" && r.Target.Digest != digest.String() {
		return nil, fmt.Errorf("report is about %s, not %s: scan the image you attest", r.Target.Digest, digest)
	}
	return &r, nil
}

// VerdictPolicy says what a verdict attestation must show.
type VerdictPolicy struct {
	// FailOn is the loosest threshold accepted: a verdict that passed with failOn high
	// satisfies FailOn high or critical, not medium. SeverityNone accepts any threshold
	// except none.
	FailOn report.Severity
	// MaxAge is how old the scan may be. Zero accepts any age.
	MaxAge time.Duration
	// Now is the time the age is measured at.
	Now time.Time
}

// clockSkew is how far in the future a scan time may be before it is refused.
const clockSkew = 5 * time.Minute

// Evaluate reads a verified attestation's verdict (a charter verdict predicate, or a
// vulnerability-scan predicate holding a charter report) and checks it against p.
func (p VerdictPolicy) Evaluate(a Attestation) (*VerdictPredicate, error) {
	vp, err := verdictOf(a)
	if err != nil {
		return nil, err
	}
	at := vp.ScannedAt.UTC().Format(time.RFC3339)
	switch {
	case !vp.Verdict.Pass:
		why := ""
		if len(vp.Verdict.Reasons) > 0 {
			why = ": " + strings.Join(firstN(vp.Verdict.Reasons, 3), ", ")
		}
		return vp, fmt.Errorf("the verdict scanned at %s failed with failOn %s%s", at, vp.Verdict.FailOn, why)
	}
	got, err := report.ParseSeverity(vp.Verdict.FailOn)
	if err != nil {
		return vp, fmt.Errorf("verdict failOn: %w", err)
	}
	if got == report.SeverityNone {
		return vp, fmt.Errorf("the verdict passed with failOn NONE, which fails nothing")
	}
	if p.FailOn != report.SeverityNone && got > p.FailOn {
		return vp, fmt.Errorf("the verdict passed with failOn %s, looser than the required %s", got, p.FailOn)
	}
	if vp.ScannedAt.IsZero() {
		return vp, errors.New("the verdict has no scan time")
	}
	if vp.ScannedAt.After(p.Now.Add(clockSkew)) {
		return vp, fmt.Errorf("the verdict's scan time %s is in the future", at)
	}
	if p.MaxAge > 0 && p.Now.Sub(vp.ScannedAt) > p.MaxAge {
		return vp, fmt.Errorf("the verdict was scanned at %s, more than %s ago", at, formatAge(p.MaxAge))
	}
	return vp, nil
}

func verdictOf(a Attestation) (*VerdictPredicate, error) {
	switch a.PredicateType {
	case PredicateVerdict:
		var vp VerdictPredicate
		if err := json.Unmarshal(a.Predicate, &vp); err != nil {
			return nil, fmt.Errorf("verdict predicate: %w", jsonErr(err))
		}
		if vp.Schema != VerdictSchema {
			return nil, fmt.Errorf("verdict predicate schema %q, want %q", vp.Schema, VerdictSchema)
		}
		return &vp, nil
	case PredicateVuln:
		var p vulnPredicate
		if err := json.Unmarshal(a.Predicate, &p); err != nil {
			return nil, fmt.Errorf("vuln predicate: %w", jsonErr(err))
		}
		var r report.Report
		if err := json.Unmarshal(p.Scanner.Result, &r); err != nil || r.Schema != report.Schema {
			return nil, errors.New("vuln predicate's result is not a charter report: no verdict to evaluate")
		}
		return &VerdictPredicate{Schema: VerdictSchema, Scanner: r.Tool, ScannedAt: p.Metadata.ScanFinishedOn,
			Target: r.Target, Verdict: r.Verdict, Summary: r.Summary}, nil
	}
	return nil, fmt.Errorf("predicate type %s carries no verdict (use verdict or vuln)", a.PredicateType)
}

func firstN(s []string, n int) []string {
	if len(s) > n {
		return append(s[:n:n], fmt.Sprintf("and %d more", len(s)-n))
	}
	return s
}

func formatAge(d time.Duration) string {
	if d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	}
	return d.String()
}

// Checked is a verdict check that passed: the attestation it rests on and its verdict.
type Checked struct {
	Attestation Attestation       `json:"attestation"`
	Verdict     *VerdictPredicate `json:"verdict"`
}

// checkVerdict finds the image's verified attestations of type pt and evaluates the
// newest one (by its signed scan time): an older pass does not outvote a newer failure.
func (t *target) checkVerdict(ctx context.Context, v *Verifier, pt string, p VerdictPolicy, opts Options) (*Checked, error) {
	att, err := t.verifyAttestations(ctx, v, pt, opts)
	if err != nil {
		return nil, err
	}
	var newest *Checked
	var newestErr error
	for _, a := range att.Attestations {
		vp, err := verdictOf(a)
		if err != nil {
			if newest == nil && newestErr == nil {
				newestErr = err
			}
			continue
		}
		if newest == nil || vp.ScannedAt.After(newest.Verdict.ScannedAt) {
			newest = &Checked{Attestation: a, Verdict: vp}
		}
	}
	if newest == nil {
		return nil, &VerifyError{Ref: t.ref(), Digest: t.digest, Tag: t.tag, Reasons: []string{newestErr.Error()}}
	}
	if _, err := p.Evaluate(newest.Attestation); err != nil {
		return nil, &VerifyError{Ref: t.ref(), Digest: t.digest, Tag: t.tag, Reasons: []string{err.Error()}}
	}
	return newest, nil
}

// CheckVerdict verifies the image's verdict attestations of predicateType (verdict or
// vuln) and evaluates the newest against p. A failing verdict is a *VerifyError.
func CheckVerdict(ctx context.Context, ref string, v *Verifier, predicateType string, p VerdictPolicy, opts Options) (*Checked, error) {
	if v == nil {
		return nil, errors.New("no verifier: a key is required")
	}
	pt, err := ParsePredicateType(predicateType)
	if err != nil {
		return nil, err
	}
	t, err := resolve(ctx, ref, opts.Image, opts.Limits)
	if err != nil {
		return nil, err
	}
	return t.checkVerdict(ctx, v, pt, p, opts)
}
