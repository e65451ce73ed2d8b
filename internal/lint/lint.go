// Package lint runs charter's build-time checks over a path: every Dockerfile it finds,
// each with its build context, and every deployment file (Kubernetes manifests, compose
// files, CI workflows), into one report. It is what `charter lint` does, kept out
// of the CLI so that other commands (check, demo) can run it in-process.
package lint

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/charterhq/charter/internal/buildcontext"
	"github.com/charterhq/charter/internal/dockerfile"
	"github.com/charterhq/charter/internal/manifest"
	"github.com/charterhq/charter/internal/policy"
	"github.com/charterhq/charter/internal/report"
)

// maxDockerfileBytes caps how much of a Dockerfile is read; the parser refuses more.
const maxDockerfileBytes = 4 << 20

// Options tune a lint run. The zero value lints with charter's defaults.
type Options struct {
	// Version is charter's version, recorded in the report.
	Version string
	// Charter is the charter file in effect, or nil.
	Charter *policy.File
	// ContextDir overrides the build context of a single Dockerfile (docker build's PATH
	// argument); by default a Dockerfile's context is its own folder.
	ContextDir string
	// NoContext skips the build-context preflight.
	NoContext bool
	// Stdin is read when the target is "-".
	Stdin io.Reader
	// Progress, when set, is called before each Dockerfile with its position and the total.
	Progress func(done, total int, path string)
}

// Error is a failure to lint: the named input could not be read or parsed. The CLI maps
// it to exit code 2.
type Error struct {
	Path string
	Line int
	Err  error
}

func (e *Error) Error() string {
	var pe *dockerfile.ParseError
	if errors.As(e.Err, &pe) {
		return e.Err.Error() // already "path:line: message"
	}
	var me *manifest.ParseError
	if errors.As(e.Err, &me) && e.Line == 0 {
		e = &Error{Path: e.Path, Line: me.Line, Err: me.Err}
	}
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %v", e.Path, e.Line, e.Err)
	}
	return fmt.Sprintf("%s: %v", e.Path, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// Run lints target: "-" (standard input: Kubernetes manifests or a compose file when it
// looks like one, else a Dockerfile, with no build context), a Dockerfile, a deployment
// file (Kubernetes manifest, compose file, CI workflow), or a directory (every
// Dockerfile in the tree, each with its folder as the context, and every deployment
// file). The report is not finalized: the caller applies the charter file and the
// threshold.
func Run(ctx context.Context, target string, opts Options) (*report.Report, error) {
	if target == "-" {
		return runStdin(opts)
	}
	info, err := os.Stat(target)
	if err != nil {
		return nil, &Error{Path: target, Err: cleanOSError(err)}
	}
	r := report.New(opts.Version, report.Target{Kind: "dockerfile", Ref: target})
	if !info.IsDir() && !IsDockerfileName(filepath.Base(target)) && manifestCandidate(target) {
		r.Target.Kind = "manifest"
		if opts.Progress != nil {
			opts.Progress(0, 1, target)
		}
		return r, lintManifest(r, target, target, manifest.Unknown)
	}
	if !info.IsDir() {
		j := job{path: target, display: target, root: filepath.Dir(target), contextDir: opts.ContextDir}
		if j.contextDir == "" {
			j.contextDir = filepath.Dir(target)
		}
		if opts.Progress != nil {
			opts.Progress(0, 1, target)
		}
		return r, lintOne(ctx, r, j, opts)
	}
	if opts.ContextDir != "" {
		return nil, &Error{Path: target, Err: errors.New("--context applies to a single Dockerfile, not a directory")}
	}
	r.Target.Kind = "repo"
	found, warnings, err := discover(ctx, target, true)
	if err != nil {
		return nil, err
	}
	r.Warnings = append(r.Warnings, warnings...)
	paths := found.dockerfiles
	total := len(paths) + len(found.manifests)
	for i, p := range paths {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if opts.Progress != nil {
			opts.Progress(i, total, p)
		}
		rel, _ := filepath.Rel(target, p)
		j := job{path: p, display: filepath.ToSlash(rel), root: target, contextDir: filepath.Dir(p)}
		if err := lintOne(ctx, r, j, opts); err != nil {
			return nil, err
		}
	}
	for i, m := range found.manifests {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if opts.Progress != nil {
			opts.Progress(len(paths)+i, total, m.path)
		}
		rel, _ := filepath.Rel(target, m.path)
		if err := lintManifest(r, m.path, filepath.ToSlash(rel), m.kind); err != nil {
			return nil, err
		}
	}
	if total == 0 {
		r.Warnings = append(r.Warnings, fmt.Sprintf("%s: no Dockerfile, Kubernetes manifest, compose or CI file found", target))
	}
	return r, nil
}

// lintManifest lints one deployment file into r. kind Unknown means detect it: a file
// named on the command line that is none of the known kinds is an error.
func lintManifest(r *report.Report, path, display string, kind manifest.Kind) error {
	data, err := readManifest(path)
	if err != nil {
		return &Error{Path: display, Err: err}
	}
	if kind == manifest.Unknown {
		abs, _ := filepath.Abs(path)
		if kind = manifest.Detect(filepath.ToSlash(abs), data); kind == manifest.Unknown {
			return &Error{Path: display, Err: errors.New(
				"not a Kubernetes manifest (no apiVersion and kind), compose file (no services:), GitHub Actions workflow or .gitlab-ci.yml")}
		}
	}
	if kind == manifest.Kubernetes && manifest.IsTemplate(data) {
		r.Warnings = append(r.Warnings, display+": an unrendered template ({{ }}), skipped: lint the rendered output, e.g. helm template CHART | charter lint -")
		return nil
	}
	res, err := manifest.Lint(kind, display, data)
	if err != nil {
		return &Error{Path: display, Err: err}
	}
	r.Findings = append(r.Findings, res.Findings...)
	r.Warnings = append(r.Warnings, res.Warnings...)
	return nil
}

// readManifest reads a deployment file with a size cap, refusing anything but a regular
// file.
func readManifest(path string) ([]byte, error) {
	data, err := readRegular(path, manifest.MaxFileBytes)
	if err != nil {
		return nil, err
	}
	if len(data) > manifest.MaxFileBytes {
		return nil, fmt.Errorf("larger than %d MiB", manifest.MaxFileBytes>>20)
	}
	return data, nil
}

// job is one Dockerfile to lint: where it is, how findings name it, where its
// .hadolint.yaml search stops, and its build context.
type job struct {
	path, display, root, contextDir string
}

func runStdin(opts Options) (*report.Report, error) {
	if opts.Stdin == nil {
		return nil, &Error{Path: "-", Err: errors.New("no standard input")}
	}
	data, err := io.ReadAll(io.LimitReader(opts.Stdin, manifest.MaxFileBytes+1))
	if err != nil {
		return nil, &Error{Path: "<stdin>", Err: err}
	}
	if kind := manifest.Sniff(data); kind != manifest.Unknown {
		if len(data) > manifest.MaxFileBytes {
			return nil, &Error{Path: "<stdin>", Err: fmt.Errorf("larger than %d MiB", manifest.MaxFileBytes>>20)}
		}
		r := report.New(opts.Version, report.Target{Kind: "manifest", Ref: "-"})
		res, err := manifest.Lint(kind, "<stdin>", data)
		if err != nil {
			return nil, &Error{Path: "<stdin>", Err: err}
		}
		r.Findings = append(r.Findings, res.Findings...)
		r.Warnings = append(r.Warnings, res.Warnings...)
		return r, nil
	}
	f, err := dockerfile.ParseBytes("<stdin>", data)
	if err != nil {
		return nil, &Error{Path: "<stdin>", Err: err}
	}
	var hl *policy.Hadolint
	if p, ok := policy.FindHadolint("."); ok {
		if hl, err = policy.LoadHadolint(p); err != nil {
			return nil, err
		}
	}
	r := report.New(opts.Version, report.Target{Kind: "dockerfile", Ref: "-"})
	r.Findings = append(r.Findings, dockerfile.Lint(f, dockerfileConfig(opts.Charter, hl))...)
	r.Warnings = append(r.Warnings, f.Warnings...)
	hl.Apply(r)
	return r, nil
}

// lintOne lints one Dockerfile and its context into r.
func lintOne(ctx context.Context, r *report.Report, j job, opts Options) error {
	data, err := readDockerfile(j.path)
	if err != nil {
		return &Error{Path: j.display, Err: err}
	}
	f, err := dockerfile.ParseBytes(j.display, data)
	if err != nil {
		return &Error{Path: j.display, Err: err}
	}
	var hl *policy.Hadolint
	if p, ok := findHadolint(filepath.Dir(j.path), j.root); ok {
		if hl, err = policy.LoadHadolint(p); err != nil {
			return err
		}
	}
	cfg := dockerfileConfig(opts.Charter, hl)
	sub := report.New("", report.Target{})
	var bc *buildcontext.Context
	if !opts.NoContext {
		if bc, err = buildcontext.Load(ctx, j.contextDir, j.path, buildcontext.Options{}); err != nil {
			return &Error{Path: j.contextDir, Err: err}
		}
		has := bc.Ignore != nil
		cfg.HasDockerignore = &has
	}
	sub.Findings = append(sub.Findings, dockerfile.Lint(f, cfg)...)
	sub.Warnings = append(sub.Warnings, f.Warnings...)
	if bc != nil {
		display := contextDisplay(j)
		findings, warnings := buildcontext.Check(ctx, bc, f, display)
		sub.Findings = append(sub.Findings, findings...)
		sub.Warnings = append(sub.Warnings, bc.Warnings...)
		sub.Warnings = append(sub.Warnings, warnings...)
	}
	hl.Apply(sub)
	r.Findings = append(r.Findings, sub.Findings...)
	r.Warnings = append(r.Warnings, sub.Warnings...)
	return nil
}

// contextDisplay maps a context-relative path to the path a finding shows: relative to
// the lint argument when the context lies under it, else the context-relative path
// prefixed by the context folder as given.
func contextDisplay(j job) func(string) string {
	return func(rel string) string {
		abs := filepath.Join(j.contextDir, filepath.FromSlash(rel))
		if out, err := filepath.Rel(j.root, abs); err == nil && !strings.HasPrefix(out, "..") {
			return filepath.ToSlash(out)
		}
		return filepath.ToSlash(abs)
	}
}

// readDockerfile reads a Dockerfile with a size cap, refusing anything but a regular file.
func readDockerfile(path string) ([]byte, error) {
	return readRegular(path, maxDockerfileBytes)
}

// readRegular reads at most limit+1 bytes of a regular file (one more than the cap, so
// the caller can tell an oversized file), refusing anything else.
func readRegular(path string, limit int64) ([]byte, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, cleanOSError(err)
	}
	defer func() { _ = fh.Close() }()
	info, err := fh.Stat()
	if err != nil {
		return nil, cleanOSError(err)
	}
	if !info.Mode().IsRegular() {
		return nil, errors.New("not a regular file")
	}
	data, err := io.ReadAll(io.LimitReader(fh, limit+1))
	if err != nil {
		return nil, cleanOSError(err)
	}
	return data, nil
}

// cleanOSError drops the path an *fs.PathError repeats, since Error names it already.
func cleanOSError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// dockerfileConfig merges the charter file and a .hadolint.yaml into the rules' settings.
func dockerfileConfig(pf *policy.File, hl *policy.Hadolint) *dockerfile.Config {
	cfg := &dockerfile.Config{}
	if hl != nil {
		cfg.TrustedRegistries = slices.Clone(hl.TrustedRegistries)
		cfg.LabelSchema = hl.LabelSchema
		cfg.StrictLabels = hl.StrictLabels
		cfg.DisableIgnorePragma = hl.DisableIgnorePragma
	}
	if pf != nil {
		cfg.AllowedBases = slices.Clone(pf.Image.Base.Allow)
	}
	return cfg
}

// findHadolint looks for .hadolint.yaml in dir and its parents up to and including stop,
// then in the working directory, as hadolint itself reads it from there.
func findHadolint(dir, stop string) (string, bool) {
	absStop, err1 := filepath.Abs(stop)
	d, err2 := filepath.Abs(dir)
	if err1 == nil && err2 == nil {
		for {
			if p, ok := policy.FindHadolint(d); ok {
				return p, true
			}
			if d == absStop || !strings.HasPrefix(d, absStop) {
				break
			}
			parent := filepath.Dir(d)
			if parent == d {
				break
			}
			d = parent
		}
	}
	return policy.FindHadolint(".")
}

// HadolintFailOn returns the threshold a .hadolint.yaml for target asks for
// (failure-threshold, or no-fail), so that a team switching from hadolint keeps its gate.
// It is consulted only when neither --fail-on nor the charter file's policy.failOn is set.
func HadolintFailOn(target string) (report.Severity, bool) {
	dir := target
	if target == "-" {
		dir = "."
	} else if info, err := os.Stat(target); err == nil && !info.IsDir() {
		dir = filepath.Dir(target)
	}
	p, ok := findHadolint(dir, dir)
	if !ok {
		return report.SeverityNone, false
	}
	hl, err := policy.LoadHadolint(p)
	if err != nil {
		return report.SeverityNone, false
	}
	return hl.FailOn()
}
