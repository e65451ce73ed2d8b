package buildcontext

import (
	"cmp"
	"context"
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/charterhq/charter/internal/dockerfile"
	"github.com/charterhq/charter/internal/report"
	"github.com/charterhq/charter/internal/secrets"
)

// Check runs the preflight rules over a loaded context and the Dockerfile built from it:
// CTX001 (a secret-bearing file lands in the final image; located at the Dockerfile's
// COPY/ADD), CTX002 (a secret-bearing file is sent but not copied; located at the file
// and line) and CTX003 (a .git directory is sent; located at the directory).
//
// display maps a context-relative path to the path findings should show (relative to the
// lint argument, say); nil shows context-relative paths. Evidence is always redacted.
//
// The warnings are this call's own: unresolvable copies that may concern a secret, files
// not fully scanned, problems the builder would fail on. c.Warnings (from Load) are not
// repeated. A cancelled ctx stops the scan early; a warning then says the result is partial.
func Check(ctx context.Context, c *Context, df *dockerfile.File, display func(rel string) string) ([]report.Finding, []string) {
	if display == nil {
		display = func(rel string) string { return rel }
	}
	plan := Resolve(c, df)
	warnings := slices.Clone(plan.Warnings)
	sc, err := newScanner(c)
	if err != nil {
		return nil, append(warnings, fmt.Sprintf("build context %s: %v: not scanned for secrets", c.Root, err))
	}
	defer sc.close()
	ck := &checker{c: c, df: df, plan: plan, sc: sc, display: display}
	if err := ck.scanAll(ctx); err != nil {
		warnings = append(warnings, fmt.Sprintf("preflight interrupted (%v): secrets were looked for in part of the context only", err))
	}
	findings := ck.landed()
	findings = append(findings, ck.sent()...)
	findings = append(findings, ck.gitDirs()...)
	slices.SortStableFunc(findings, func(a, b report.Finding) int {
		return cmp.Or(cmp.Compare(a.Rule, b.Rule), cmp.Compare(a.Location.Path, b.Location.Path),
			cmp.Compare(a.Location.Line, b.Location.Line), cmp.Compare(a.Message, b.Message))
	})
	warnings = append(warnings, ck.unresolved()...)
	return findings, append(warnings, sc.warnings()...)
}

type checker struct {
	c       *Context
	df      *dockerfile.File
	plan    *Plan
	sc      *scanner
	display func(string) string
}

// scanAll scans the files that land in the final image first, so that the read budget
// goes where a leak is worst, then every other file sent.
func (ck *checker) scanAll(ctx context.Context) error {
	for _, l := range ck.plan.Final {
		if err := ctx.Err(); err != nil {
			return err
		}
		ck.scan(l.File)
	}
	for i, f := range ck.c.Files {
		if i%256 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		ck.scan(f)
	}
	return nil
}

// scan skips the Dockerfile and the ignore file: secrets in a Dockerfile are DF004's.
func (ck *checker) scan(f File) *scanResult {
	if f.Path == ck.c.Dockerfile || f.Path == IgnoreFileName || f.Path == ck.c.ignoreRel {
		return nil
	}
	return ck.sc.scan(f)
}

func (ck *checker) result(p string) *scanResult { return ck.sc.results[p] }

// landed reports CTX001: one finding per secret-bearing file and COPY/ADD that brings it
// into the final image.
func (ck *checker) landed() []report.Finding {
	type key struct {
		path string
		ins  *dockerfile.Instruction
	}
	var out []report.Finding
	seen := map[key]bool{}
	for _, l := range ck.plan.Final {
		r := ck.result(l.Path)
		first := l.Steps[0].Instruction
		key := key{l.Path, first}
		if !r.secret() || seen[key] {
			continue
		}
		seen[key] = true
		loc := report.Location{Path: ck.df.Path, Line: first.Line, Column: 1, Instruction: truncate(first.Original, 200)}
		if first.EndLine > first.Line {
			loc.EndLine = first.EndLine
		}
		msg := fmt.Sprintf("%s (%s) is copied into the final image as %s%s%s",
			ck.display(l.Path), describe(r), l.Dest, route(l), uncertainNote(l))
		f := ruleCTX001.Finding(loc, msg)
		f.Evidence = evidence(r)
		out = append(out, f)
	}
	return out
}

// sent reports CTX002 for secret-bearing files that do not land in the final image: one
// finding per secret found in the content, or one for the file when only its name tells.
func (ck *checker) sent() []report.Finding {
	final := map[string]bool{}
	for _, l := range ck.plan.Final {
		final[l.Path] = true
	}
	var out []report.Finding
	for _, f := range ck.c.Files {
		r := ck.result(f.Path)
		if final[f.Path] || !r.secret() {
			continue
		}
		how := ck.howSent(f.Path)
		if len(r.matches) == 0 {
			msg := fmt.Sprintf("%s (%s) is sent in the build context %s", ck.display(f.Path), kindLabel(r.kind), how)
			out = append(out, ruleCTX002.Finding(report.Location{Path: ck.display(f.Path)}, msg))
			continue
		}
		for _, m := range r.matches {
			msg := fmt.Sprintf("%s in %s is sent in the build context %s", m.Title, ck.display(f.Path), how)
			fd := ruleCTX002.Finding(report.Location{Path: ck.display(f.Path), Line: m.Line}, msg)
			fd.Evidence = secrets.Redact(m.Value)
			out = append(out, fd)
		}
	}
	return out
}

// howSent says what, if anything, uses a file that does not reach the final image.
func (ck *checker) howSent(p string) string {
	var uses []string
	for _, l := range ck.plan.Intermediate {
		if l.Path == p {
			s := l.Steps[len(l.Steps)-1]
			uses = append(uses, fmt.Sprintf("COPY into stage %s (line %d)", StageName(s.Stage), s.Instruction.Line))
		}
	}
	for _, m := range ck.plan.Mounts {
		if m.Path == "" || m.Path == p || strings.HasPrefix(p, m.Path+"/") {
			uses = append(uses, fmt.Sprintf("RUN --mount in stage %s (line %d)", StageName(m.Stage), m.Instruction.Line))
		}
	}
	slices.Sort(uses)
	uses = slices.Compact(uses)
	if len(uses) == 0 {
		return "though no instruction uses it (the classic builder uploads the whole context; BuildKit the paths COPY, ADD and RUN --mount name)"
	}
	return "and used by " + strings.Join(uses, " and ") + ", but does not reach the final image"
}

// gitDirs reports CTX003 for every .git directory sent that is not inside another one.
func (ck *checker) gitDirs() []report.Finding {
	var out []report.Finding
	for i, f := range ck.c.Files {
		if !f.IsDir() || path.Base(f.Path) != ".git" || strings.Contains("/"+path.Dir(f.Path)+"/", "/.git/") {
			continue
		}
		n := ck.c.tree.end[i] - i - 1
		msg := fmt.Sprintf("%s/ is sent in the build context (%d %s): history, remotes and anything ever committed reach the builder",
			ck.display(f.Path), n, plural(n, "entry", "entries"))
		if line := ck.copiedLine(f.Path); line > 0 {
			msg += fmt.Sprintf(", and line %d copies it into the final image", line)
		}
		out = append(out, ruleCTX003.Finding(report.Location{Path: ck.display(f.Path)}, msg))
	}
	return out
}

// copiedLine is the line of the first COPY that brings something below dir into the
// final image, or 0.
func (ck *checker) copiedLine(dir string) int {
	line := 0
	for _, l := range ck.plan.Final {
		if strings.HasPrefix(l.Path, dir+"/") {
			if n := l.Steps[0].Instruction.Line; line == 0 || n < line {
				line = n
			}
		}
	}
	return line
}

// unresolved turns the copies charter could not resolve into warnings, when they may
// concern a secret-bearing file.
func (ck *checker) unresolved() []string {
	var secretFiles []string
	for _, f := range ck.c.Files {
		if ck.result(f.Path).secret() {
			secretFiles = append(secretFiles, f.Path)
		}
	}
	var out []string
	for _, u := range ck.plan.Unresolved {
		concerned := secretFiles
		if !u.AnyFile {
			concerned = slices.DeleteFunc(slices.Clone(u.Paths), func(p string) bool { return !ck.result(p).secret() })
		}
		if len(concerned) == 0 {
			continue
		}
		out = append(out, fmt.Sprintf("%s:%d: %s; cannot tell statically whether it copies secret-bearing files: %s",
			ck.df.Path, u.Instruction.Line, u.Reason, examples(displayAll(concerned, ck.display))))
	}
	return out
}

func displayAll(list []string, display func(string) string) []string {
	out := make([]string, len(list))
	for i, p := range list {
		out[i] = display(p)
	}
	return out
}

// describe says why a file is secret-bearing, without the secret.
func describe(r *scanResult) string {
	var parts []string
	if r.kind != "" {
		parts = append(parts, kindLabel(r.kind))
	}
	if len(r.matches) > 0 {
		s := fmt.Sprintf("%s on line %d", r.matches[0].Title, r.matches[0].Line)
		if n := len(r.matches) - 1; n > 0 {
			s += fmt.Sprintf(" and %d more secret(s)", n)
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, "; ")
}

func evidence(r *scanResult) string {
	if len(r.matches) == 0 {
		return ""
	}
	return secrets.Redact(r.matches[0].Value)
}

// route describes how a file reaches the final image when that took more than one
// COPY in the final stage: the build stages it went through.
func route(l Landing) string {
	var hops []string
	for _, s := range l.Steps {
		if s.Stage != l.Stage {
			hops = append(hops, fmt.Sprintf("stage %s (line %d, %s)", StageName(s.Stage), s.Instruction.Line, s.Dest))
		}
	}
	if len(hops) == 0 {
		return ""
	}
	last := l.Steps[len(l.Steps)-1]
	s := ", via " + strings.Join(hops, ", then ")
	if last.Stage != l.Stage {
		return s + fmt.Sprintf(", inherited through FROM %s", StageName(last.Stage))
	}
	return s + fmt.Sprintf(", then COPY --from at line %d", last.Instruction.Line)
}

func uncertainNote(l Landing) string {
	if !l.Uncertain {
		return ""
	}
	return " (the exact path depends on the base image's WORKDIR or a build argument)"
}

var kindLabels = map[string]string{
	"ssh-private-key":     "SSH private key file",
	"private-key":         "private key file",
	"dotenv":              ".env file",
	"aws-credentials":     "AWS credentials file",
	"docker-config":       "Docker registry credentials file",
	"npmrc":               "npm credentials file",
	"pypirc":              "PyPI credentials file",
	"netrc":               ".netrc credentials file",
	"git-credentials":     "Git credentials file",
	"kubeconfig":          "kubeconfig",
	"gcp-service-account": "GCP service-account key",
	"htpasswd":            "htpasswd file",
	"terraform-state":     "Terraform state",
	"password-db":         "password database",
	"shadow":              "shadow password file",
}

func kindLabel(kind string) string {
	if l, ok := kindLabels[kind]; ok {
		return l
	}
	return strings.ReplaceAll(kind, "-", " ") + " file"
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
