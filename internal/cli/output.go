package cli

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/charterhq/charter/internal/policy"
	"github.com/charterhq/charter/internal/report"
	"github.com/charterhq/charter/internal/secrets"
)

// reportFlags are the flags every report-producing command shares.
type reportFlags struct {
	format     string
	output     string
	failOn     string
	charter    string
	quiet      bool
	noProgress bool
}

func (f *reportFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVarP(&f.format, "format", "o", "table", "output format: "+strings.Join(report.Formats, ", "))
	fl.StringVar(&f.output, "output", "", "write the report to `FILE` instead of standard output")
	fl.StringVar(&f.failOn, "fail-on", "high", "fail (exit 1) on a finding at or above `SEVERITY` (critical, high, medium, low, info, none)")
	fl.StringVar(&f.charter, "charter", "", "charter file (default ./charter.yaml when present)")
	fl.BoolVarP(&f.quiet, "quiet", "q", false, "table output: print nothing when the verdict passes, only failing findings otherwise")
	fl.BoolVar(&f.noProgress, "no-progress", false, "never draw progress on the terminal")
}

// validate checks flag values before any work starts, so a typo costs nothing.
func (f *reportFlags) validate() error {
	if !slices.Contains(report.Formats, f.format) {
		return fmt.Errorf("unknown format %q (want %s)", f.format, strings.Join(report.Formats, ", "))
	}
	if _, err := report.ParseSeverity(f.failOn); err != nil {
		return fmt.Errorf("--fail-on: %w", err)
	}
	return nil
}

// loadCharter reads --charter, or ./charter.yaml when present. No file is not an error.
func (f *reportFlags) loadCharter(cat *report.Catalog) (*policy.File, error) {
	path := f.charter
	if path == "" {
		p, ok := policy.Find(".")
		if !ok {
			return nil, nil
		}
		path = p
	}
	pf, err := policy.Load(path)
	if err != nil {
		return nil, err
	}
	if err := pf.Validate(cat); err != nil {
		return nil, err
	}
	return pf, nil
}

// threshold is --fail-on when given, else the charter file's policy.failOn, else high.
func (f *reportFlags) threshold(cmd *cobra.Command, pf *policy.File) report.Severity {
	if !cmd.Flags().Changed("fail-on") && pf != nil && pf.FailOnSet() {
		return pf.FailOn()
	}
	s, _ := report.ParseSeverity(f.failOn)
	return s
}

// write encodes the finalized report to --output or stdout, then turns a failed verdict
// into errVerdict.
func (f *reportFlags) write(env Env, r *report.Report, cat *report.Catalog) error {
	r.Tool.Commit = commit()
	redactReport(r)
	var buf bytes.Buffer
	out := r
	if f.quiet && f.format == "table" {
		if r.Verdict.Pass {
			out = nil
		} else {
			out = failingOnly(r)
		}
	}
	if out != nil {
		opt := report.Options{Rules: cat, Color: f.output == "" && f.format == "table" && colorEnabled(env, env.Stdout)}
		if err := report.Encode(&buf, out, f.format, opt); err != nil {
			return err
		}
	}
	if f.output != "" {
		if err := writeFileAtomic(f.output, buf.Bytes()); err != nil {
			return err
		}
	} else if _, err := env.Stdout.Write(buf.Bytes()); err != nil {
		return err
	}
	if !r.Verdict.Pass {
		return errVerdict
	}
	return nil
}

// redactReport is the last line of defence before anything is printed: every free-text
// field of the report passes through the secrets scanner, whatever the analyzer that
// wrote it already did. Evidence is already in its redacted form.
func redactReport(r *report.Report) {
	red := secrets.NewRedactor(nil, secrets.WithScan())
	for i := range r.Findings {
		f := &r.Findings[i]
		f.Message = red.String(f.Message)
		f.Location.Instruction = red.String(f.Location.Instruction)
	}
	for i, w := range r.Warnings {
		r.Warnings[i] = red.String(w)
	}
}

// failingOnly keeps the findings that fail the verdict.
func failingOnly(r *report.Report) *report.Report {
	c := *r
	failOn, _ := report.ParseSeverity(r.Verdict.FailOn)
	c.Findings = nil
	for _, fd := range r.Findings {
		if fd.Suppressed == nil && failOn != report.SeverityNone && fd.Severity >= failOn {
			c.Findings = append(c.Findings, fd)
		}
	}
	c.Warnings = nil
	return &c
}

// writeFileAtomic writes data to a temporary file beside path and renames it into place,
// so a failed run never leaves half a report behind.
func writeFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("--output: %w", err)
	}
	_, werr := tmp.Write(data)
	cerr := tmp.Close()
	if err := errors.Join(werr, cerr); err != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("--output %s: %w", path, err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil { //nolint:gosec // reports are meant to be read by CI uploaders and other users
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("--output %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("--output %s: %w", path, err)
	}
	return nil
}
