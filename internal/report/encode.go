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

// EncodeTable writes findings grouped by file (or resource, or image), and a file's
// findings by the object they are about (a Kubernetes manifest holds many objects, each
// with containers, and a line number alone does not say which); then the summary and the
// verdict.
func EncodeTable(w io.Writer, r *Report, opt Options) error {
	paint := func(code, s string) string {
		if !opt.Color || code == "" {
			return s
		}
		return code + s + ansiReset
	}
	ew := &errWriter{w: w}
	for _, g := range groupFindings(r.Findings) {
		ew.printf("%s\n", paint(ansiBold, g.heading))
		for _, sub := range g.subjects {
			if sub.heading != "" {
				ew.printf("  %s\n", sub.heading)
			}
			for _, f := range sub.findings {
				ew.printf("%s\n", tableRow(f, sub.heading != "", paint))
			}
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

// tableRow renders one finding: line, severity, rule and aliases, message. Under an
// object's heading the message loses its opening naming that object.
func tableRow(f Finding, underSubject bool, paint func(code, s string) string) string {
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
	if underSubject {
		msg = trimSubject(msg, f.Location.Resource, f.Location.Container)
	}
	if f.Evidence != "" {
		msg += " [" + f.Evidence + "]"
	}
	if f.Suppressed != nil {
		sev = fmt.Sprintf("%-8s", "ignored")
		msg += paint(ansiDim, " (suppressed by "+f.Suppressed.By+suffix(": ", f.Suppressed.Reason)+")")
	}
	return fmt.Sprintf("  %5s  %s %s  %s", line, paint(severityColor[f.Severity], sev), id, msg)
}

func suffix(sep, s string) string {
	if s == "" {
		return ""
	}
	return sep + s
}

// tableGroup is one heading of the table: a file, else a resource, an image or the target.
type tableGroup struct {
	heading  string
	subjects []tableSubject
}

// tableSubject is the findings of one group about one object and container. heading is
// empty for findings that name no object (a Dockerfile's, an image's).
type tableSubject struct {
	heading  string
	findings []Finding
	// obj is the order the object first appeared in (-1: no object); ctr the order of
	// the container within it (-1: the object itself).
	obj, ctr int
}

// add files f under its subject, making the subject on first sight.
func (g *tableGroup) add(f Finding) {
	l := f.Location
	heading, obj, ctr := "", -1, -1
	if l.Path != "" && l.Resource != "" {
		heading = subjectHeading(l.Resource, l.Container)
		obj = len(g.subjects)
		for _, s := range g.subjects {
			if s.obj >= 0 && s.findings[0].Location.Resource == l.Resource {
				obj = s.obj
				break
			}
		}
		if l.Container != "" {
			ctr = len(g.subjects)
		}
	}
	for i := range g.subjects {
		if g.subjects[i].heading == heading {
			g.subjects[i].findings = append(g.subjects[i].findings, f)
			return
		}
	}
	g.subjects = append(g.subjects, tableSubject{heading: heading, findings: []Finding{f}, obj: obj, ctr: ctr})
}

// subjectHeading names an object and container as a file's sub-heading:
// "Deployment/shop/web, container app".
func subjectHeading(resource, container string) string {
	if container == "" {
		return resource
	}
	return resource + ", container " + container
}

// trimSubject drops the opening of a message that names the object the table's heading
// already shows. Analyzers name the object there because SARIF and most JSON readers
// show the message without the resource: "Deployment web, container app: ...",
// "service web: ...", "job/build [app]: ...". A message opening any other way is kept.
func trimSubject(msg, resource, container string) string {
	kind, _, _ := strings.Cut(resource, "/")
	name := resource[strings.LastIndex(resource, "/")+1:]
	short := kind + " " + name
	var names []string
	if container != "" {
		names = append(names, short+", container "+container, resource+" ["+container+"]")
	}
	names = append(names, short, resource)
	for _, n := range names {
		if rest, ok := strings.CutPrefix(msg, n+": "); ok && rest != "" {
			return rest
		}
	}
	return msg
}

// groupFindings orders groups by heading. Within a file, findings that name no object
// come first, then each object in the order it first appears (findings arrive sorted by
// line), the object's own findings before its containers'.
func groupFindings(fs []Finding) []tableGroup {
	byKey := map[string]*tableGroup{}
	var keys []string
	for _, f := range fs {
		key := groupKey(f.Location)
		g, ok := byKey[key]
		if !ok {
			g = &tableGroup{heading: key}
			byKey[key] = g
			keys = append(keys, key)
		}
		g.add(f)
	}
	sort.Strings(keys)
	out := make([]tableGroup, 0, len(keys))
	for _, k := range keys {
		g := byKey[k]
		sort.SliceStable(g.subjects, func(i, j int) bool {
			a, b := g.subjects[i], g.subjects[j]
			if a.obj != b.obj {
				return a.obj < b.obj
			}
			return a.ctr < b.ctr
		})
		out = append(out, *g)
	}
	return out
}

func groupKey(l Location) string {
	for _, k := range []string{l.Path, l.Resource, l.Image} {
		if k != "" {
			return k
		}
	}
	return "(target)"
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
