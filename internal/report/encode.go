package report

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
)

// Formats lists the encoders every command accepts.
var Formats = []string{"table", "json", "sarif"}

// Options tune encoding.
type Options struct {
	// Color enables ANSI colours in the table (only when writing to a terminal).
	Color bool
	// Rules supplies rule metadata for SARIF's rule descriptors and help text.
	Rules *Catalog
	// BaseURI is the SARIF originalUriBaseIds root (optional).
	BaseURI string
}

// Encode writes the report in the named format.
func Encode(w io.Writer, r *Report, format string, opt Options) error {
	switch format {
	case "json":
		return EncodeJSON(w, r)
	case "sarif":
		return EncodeSARIF(w, r, opt)
	case "table", "":
		return EncodeTable(w, r, opt)
	}
	return fmt.Errorf("unknown format %q (want %s)", format, strings.Join(Formats, ", "))
}

// EncodeJSON writes the charter.report/v1 document, indented, with a trailing newline.
func EncodeJSON(w io.Writer, r *Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(r)
}

const (
	ansiReset = "\x1b[0m"
	ansiBold  = "\x1b[1m"
	ansiDim   = "\x1b[2m"
)

var severityColor = map[Severity]string{
	Critical: "\x1b[1;35m", High: "\x1b[1;31m", Medium: "\x1b[33m", Low: "\x1b[36m", Info: "\x1b[2m",
}

// EncodeTable writes findings grouped by file (or resource), most severe first within a
// line, then the summary and the verdict.
func EncodeTable(w io.Writer, r *Report, opt Options) error {
	paint := func(code, s string) string {
		if !opt.Color || code == "" {
			return s
		}
		return code + s + ansiReset
	}
	ew := &errWriter{w: w}
	groups, order := groupFindings(r.Findings)
	for _, key := range order {
		ew.printf("%s\n", paint(ansiBold, key))
		for _, f := range groups[key] {
			sev := fmt.Sprintf("%-8s", f.Severity)
			line := ""
			if f.Location.Line > 0 {
				line = fmt.Sprintf("%d", f.Location.Line)
			}
			id := f.Rule
			if len(f.Aliases) > 0 {
				id += " (" + strings.Join(f.Aliases, ",") + ")"
			}
			msg := f.Message
			if f.Evidence != "" {
				msg += " [" + f.Evidence + "]"
			}
			if f.Suppressed != nil {
				sev = fmt.Sprintf("%-8s", "ignored")
				msg += paint(ansiDim, " (suppressed by "+f.Suppressed.By+suffix(": ", f.Suppressed.Reason)+")")
			}
			ew.printf("  %5s  %s %s  %s\n", line, paint(severityColor[f.Severity], sev), id, msg)
		}
		ew.printf("\n")
	}
	for _, warn := range r.Warnings {
		ew.printf("warning: %s\n", warn)
	}
	s := r.Summary
	ew.printf("%s  CRITICAL %d  HIGH %d  MEDIUM %d  LOW %d  INFO %d  (suppressed %d)\n",
		r.Target.Ref, s.Critical, s.High, s.Medium, s.Low, s.Info, s.Suppressed)
	if r.Verdict.Pass {
		ew.printf("%s (fail-on %s)\n", paint("\x1b[1;32m", "PASS"), r.Verdict.FailOn)
	} else {
		ew.printf("%s (fail-on %s): %d finding(s) at or above the threshold\n",
			paint("\x1b[1;31m", "FAIL"), r.Verdict.FailOn, len(r.Verdict.Reasons))
	}
	return ew.err
}

func suffix(sep, s string) string {
	if s == "" {
		return ""
	}
	return sep + s
}

func groupFindings(fs []Finding) (map[string][]Finding, []string) {
	groups := map[string][]Finding{}
	var order []string
	for _, f := range fs {
		key := f.Location.Path
		if key == "" {
			key = f.Location.Resource
		}
		if key == "" {
			key = f.Location.Image
		}
		if key == "" {
			key = "(target)"
		}
		if _, ok := groups[key]; !ok {
			order = append(order, key)
		}
		groups[key] = append(groups[key], f)
	}
	sort.Strings(order)
	return groups, order
}

type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) printf(format string, args ...any) {
	if e.err == nil {
		_, e.err = fmt.Fprintf(e.w, format, args...)
	}
}
