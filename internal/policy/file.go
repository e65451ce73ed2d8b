package policy

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/charterhq/charter/internal/report"
)

// File is a parsed charter.yaml: one image's contract. Fields hold values as written
// (paths unresolved, see Resolve); sections that are absent are zero.
type File struct {
	// Version is the schema version; only 1 exists.
	Version int     `yaml:"version"`
	Image   Image   `yaml:"image,omitempty"`
	Policy  Policy  `yaml:"policy,omitempty"`
	Signing Signing `yaml:"signing,omitempty"`
	Runtime Runtime `yaml:"runtime,omitempty"`
	Job     Job     `yaml:"job,omitempty"`
	// Admission is the Kubernetes admission policy (see admission.go).
	Admission Admission `yaml:"admission,omitempty"`
	// Monitor tunes the runtime monitor (see monitor.go).
	Monitor Monitor `yaml:"monitor,omitempty"`

	name string // the path the file was read from, as given
}

// Image names the image the contract is about and the bases it may build on.
type Image struct {
	Name string    `yaml:"name,omitempty"`
	Base BaseImage `yaml:"base,omitempty"`
}

// BaseImage restricts FROM.
type BaseImage struct {
	// Allow holds patterns a base image reference must match, where * matches any text
	// and ? one character ("gcr.io/distroless/static-debian12@sha256:*").
	Allow []string `yaml:"allow,omitempty"`
}

// Policy tunes the verdict: threshold, per-rule severities, ignores and VEX documents.
type Policy struct {
	// FailOn is the threshold as written, lower-case (critical … info, none); "" if unset.
	FailOn string `yaml:"failOn,omitempty"`
	// Rules override rule severities, in file order.
	Rules Overrides `yaml:"rules,omitempty"`
	// Ignore lists accepted findings, each with a reason and optionally an expiry.
	Ignore []Ignore `yaml:"ignore,omitempty"`
	// VEX lists OpenVEX / CycloneDX VEX documents (relative to the charter file).
	VEX []string `yaml:"vex,omitempty"`
}

// Overrides is policy.rules: rule ID or alias → new severity, in file order.
type Overrides []Override

// Override changes one rule's severity; SeverityNone means off (findings dropped).
type Override struct {
	ID       string
	Severity report.Severity
	line     int
}

// Off reports whether the override drops the rule's findings.
func (o Override) Off() bool { return o.Severity == report.SeverityNone }

// Ignore accepts findings: ID is a rule ID, one of its aliases, or an advisory ID.
type Ignore struct {
	ID string `yaml:"id"`
	// Package, when set, limits the entry to findings about that package: a name
	// ("openssl") or a purl prefix ("pkg:deb/debian/openssl").
	Package string `yaml:"package,omitempty"`
	// Path, when set, limits the entry to findings whose location path matches this glob.
	Path string `yaml:"path,omitempty"`
	// Reason says why the finding is accepted; required.
	Reason string `yaml:"reason"`
	// Expires is the last day (YYYY-MM-DD) the entry suppresses; "" for never.
	Expires string `yaml:"expires,omitempty"`

	line, column int
}

// Signing lists the keys an image's signature must verify against.
type Signing struct {
	// Keys are public key files (relative to the charter file) or key references with a
	// scheme (k8s://, awskms://…), which are used as written.
	Keys []string `yaml:"keys,omitempty"`
}

// Runtime is the least-privilege profile the image must run with.
type Runtime struct {
	// User is "uid[:gid]" or a user name.
	User                   string       `yaml:"user,omitempty"`
	ReadOnlyRootFilesystem bool         `yaml:"readOnlyRootFilesystem,omitempty"`
	Capabilities           Capabilities `yaml:"capabilities,omitempty"`
	// Writable lists absolute paths mounted as tmpfs over a read-only root.
	Writable []string `yaml:"writable,omitempty"`
	// Egress lists "host:port" or "cidr:port" destinations the process may connect to.
	Egress []string `yaml:"egress,omitempty"`
	Limits Limits   `yaml:"limits,omitempty"`
	// Seccomp narrows Docker's default seccomp profile, which the runtime profile applies.
	Seccomp Seccomp `yaml:"seccomp,omitempty"`
}

// Seccomp narrows the default seccomp profile.
type Seccomp struct {
	// Deny lists syscalls removed from the default allowlist ("ptrace", "personality").
	Deny []string `yaml:"deny,omitempty"`
}

// Capabilities are Linux capabilities, written without the CAP_ prefix.
type Capabilities struct {
	// Add lists the capabilities the process keeps.
	Add []string `yaml:"add,omitempty"`
	// Drop lists capabilities to drop. Empty means ALL: everything not added is dropped.
	Drop []string `yaml:"drop,omitempty"`
}

// Limits bound the process's resources, in Kubernetes quantity notation.
type Limits struct {
	Memory string `yaml:"memory,omitempty"` // 256Mi, 1G, 1048576
	CPU    string `yaml:"cpu,omitempty"`    // 0.5, 2, 500m
	Pids   int    `yaml:"pids,omitempty"`
}

// Job configures charter's supervised entrypoint for automation jobs.
type Job struct {
	// Deadline bounds one run, retries included.
	Deadline   Duration   `yaml:"deadline,omitempty"`
	Retries    Retries    `yaml:"retries,omitempty"`
	KillSwitch KillSwitch `yaml:"killSwitch,omitempty"`
	// State is where the job keeps its state: a file path (relative to the charter
	// file) or a URL, used as written.
	State  string `yaml:"state,omitempty"`
	Redact Redact `yaml:"redact,omitempty"`
}

// Retries says when and how a failed run is tried again.
type Retries struct {
	// Max is the number of attempts in total, the first included.
	Max        int      `yaml:"max,omitempty"`
	Backoff    Duration `yaml:"backoff,omitempty"`
	MaxBackoff Duration `yaml:"maxBackoff,omitempty"`
	// Jitter is full, equal, decorrelated or none.
	Jitter string `yaml:"jitter,omitempty"`
	// On lists the exit codes that are retried.
	On []int `yaml:"on,omitempty"`
}

// KillSwitch lets an operator stop a job without a deploy.
type KillSwitch struct {
	File string `yaml:"file,omitempty"`
	Env  string `yaml:"env,omitempty"`
	URL  string `yaml:"url,omitempty"`
	// Mode is skip (log, exit 0, action not run) or stop (exit non-zero); "" means stop.
	Mode string `yaml:"mode,omitempty"`
}

// Redact names what the job's logs must never show.
type Redact struct {
	// Env holds glob patterns of environment variable names whose values are redacted.
	Env []string `yaml:"env,omitempty"`
	// Patterns are regular expressions (RE2) whose matches are redacted.
	Patterns []string `yaml:"patterns,omitempty"`
}

// Duration is a time.Duration written the Go way ("15m", "2s").
type Duration time.Duration

// MarshalYAML writes the duration as a string ParseDuration reads back.
func (d Duration) MarshalYAML() (any, error) { return time.Duration(d).String(), nil }

// MarshalYAML writes the overrides as a mapping in their order.
func (o Overrides) MarshalYAML() (any, error) {
	n := &yaml.Node{Kind: yaml.MappingNode}
	for _, ov := range o {
		level := "off"
		if !ov.Off() {
			level = strings.ToLower(ov.Severity.String())
		}
		n.Content = append(n.Content,
			&yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: ov.ID},
			&yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: level})
	}
	return n, nil
}

// Names of the charter file, in the order Find prefers them.
var fileNames = []string{"charter.yaml", "charter.yml"}

// Find returns dir/charter.yaml or, failing that, dir/charter.yml, if it is a regular
// file.
func Find(dir string) (path string, ok bool) { return findFile(dir, fileNames) }

func findFile(dir string, names []string) (string, bool) {
	for _, n := range names {
		p := filepath.Join(dir, n)
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
			return p, true
		}
	}
	return "", false
}

// Load reads and parses a charter file. Problems with its content are *Error; a file
// that cannot be read gives the underlying error.
func Load(path string) (*File, error) {
	data, err := readCapped(path)
	if err != nil {
		return nil, err
	}
	return Parse(path, data)
}

// Parse parses a charter file's content; name is used in errors and to resolve relative
// paths (see Resolve).
func Parse(name string, data []byte) (*File, error) {
	root, err := parseDocument(name, data)
	if err != nil {
		return nil, err
	}
	d := &decoder{name: name}
	f := &File{name: name}
	if root == nil {
		return nil, &Error{Path: name, Line: 1, Msg: "empty charter file; it must start with \"version: 1\""}
	}
	if err := d.file(root, f); err != nil {
		return nil, err
	}
	return f, nil
}

// Marshal writes the file back as YAML, in canonical form (keys in schema order,
// severities lower-case, durations normalised).
func (f *File) Marshal() ([]byte, error) {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(f); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Name returns the path the file was read from, as given to Load or Parse.
func (f *File) Name() string { return f.name }

// Resolve returns a path from the file as charter should open it: unchanged when
// absolute or a reference with a scheme (https://…, k8s://…), otherwise relative to the
// directory holding the charter file, so a file works from any working directory.
func (f *File) Resolve(p string) string {
	if p == "" || filepath.IsAbs(p) || strings.Contains(p, "://") {
		return p
	}
	return filepath.Join(filepath.Dir(f.name), filepath.FromSlash(p))
}

// VEXFiles returns policy.vex resolved against the file's directory.
func (f *File) VEXFiles() []string { return f.resolveAll(f.Policy.VEX) }

// KeyRefs returns signing.keys resolved against the file's directory.
func (f *File) KeyRefs() []string { return f.resolveAll(f.Signing.Keys) }

// StatePath returns job.state resolved against the file's directory.
func (f *File) StatePath() string { return f.Resolve(f.Job.State) }

func (f *File) resolveAll(ps []string) []string {
	if len(ps) == 0 {
		return nil
	}
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = f.Resolve(p)
	}
	return out
}

// FailOn returns the severity at or above which an unsuppressed finding fails the run:
// policy.failOn, or report.High when the file (or f) does not set it. "none" gives
// report.SeverityNone, which report.Finalize never fails on.
func (f *File) FailOn() report.Severity {
	if !f.FailOnSet() {
		return report.High
	}
	s, _ := report.ParseSeverity(f.Policy.FailOn)
	return s
}

// FailOnSet reports whether the file sets policy.failOn, so a caller can tell the file's
// threshold from the default when it weighs other sources (a --fail-on flag still wins).
func (f *File) FailOnSet() bool { return f != nil && f.Policy.FailOn != "" }
