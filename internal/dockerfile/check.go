package dockerfile

import (
	"github.com/charterhq/charter/internal/report"
	"github.com/charterhq/charter/internal/secrets"
)

// Config tunes the checks. The zero value is charter's defaults.
type Config struct {
	// TrustedRegistries, when set, limits the registries FROM may pull from (hadolint's
	// trustedRegistries; a FROM of an earlier stage or scratch is always allowed).
	TrustedRegistries []string `json:"trustedRegistries,omitempty"`
	// LabelSchema declares required labels and their types (hadolint's label-schema:
	// text, url, spdx, rfc3339, semver, hash, email).
	LabelSchema map[string]string `json:"labelSchema,omitempty"`
	// StrictLabels reports labels not in LabelSchema.
	StrictLabels bool `json:"strictLabels,omitempty"`
	// DisableIgnorePragma makes inline ignore comments ineffective.
	DisableIgnorePragma bool `json:"disableIgnorePragma,omitempty"`
	// AllowedBases are glob patterns from charter.yaml's image.base.allow.
	AllowedBases []string `json:"allowedBases,omitempty"`
	// HasDockerignore says whether the build context has a .dockerignore (or
	// <Dockerfile>.dockerignore). Nil means unknown (a Dockerfile read from stdin), and
	// rules that depend on it stay silent.
	HasDockerignore *bool `json:"hasDockerignore,omitempty"`
}

// check is one rule: its metadata and the function that looks for it.
type check struct {
	report.Rule
	run func(*Context)
}

// Context is what a check sees: the file, the configuration, and a way to report.
type Context struct {
	File   *File
	Config *Config

	rule     *check
	findings []report.Finding
}

// Report records a finding of the current rule at an instruction, carrying all the
// rule's aliases.
func (c *Context) Report(ins *Instruction, msg string) {
	c.add(ins, msg, "", c.rule.Aliases)
}

// ReportAlias records a finding that corresponds to one specific peer rule among the
// rule's aliases (DF010 found for apt-get is hadolint's DL3008, for pip DL3013).
func (c *Context) ReportAlias(ins *Instruction, alias, msg string) {
	c.add(ins, msg, "", []string{alias})
}

// ReportEvidence records a finding with evidence (redacted by the caller when secret).
func (c *Context) ReportEvidence(ins *Instruction, msg, evidence string) {
	c.add(ins, msg, evidence, c.rule.Aliases)
}

// ReportAliasEvidence combines ReportAlias and ReportEvidence.
func (c *Context) ReportAliasEvidence(ins *Instruction, alias, msg, evidence string) {
	c.add(ins, msg, evidence, []string{alias})
}

// ReportWith records a finding carrying exactly the given aliases (none, one or several),
// for a rule whose peers agree with only some of its cases.
func (c *Context) ReportWith(ins *Instruction, aliases []string, msg, evidence string) {
	c.add(ins, msg, evidence, aliases)
}

func (c *Context) add(ins *Instruction, msg, evidence string, aliases []string) {
	loc := report.Location{Path: c.File.Path}
	if ins != nil {
		loc.Line, loc.EndLine = ins.Line, ins.EndLine
		if loc.EndLine == loc.Line {
			loc.EndLine = 0
		}
		loc.Column = 1
		loc.Instruction = truncate(redactedSource(ins), 200)
	}
	f := c.rule.Finding(loc, msg)
	f.Aliases = append([]string(nil), aliases...)
	f.Evidence = evidence
	c.findings = append(c.findings, f)
}

// redactedSource is the instruction's text as a finding may show it: the values of
// secret-named ARG/ENV/LABEL keys and anything the secrets scanner recognises are masked.
func redactedSource(ins *Instruction) string {
	var values []string
	switch ins.Cmd {
	case "ARG":
		for _, kv := range ArgPairs(ins) {
			if kv.Value != "" && secrets.IsSecretName(kv.Key) {
				values = append(values, kv.Value)
			}
		}
	case "ENV", "LABEL":
		for _, kv := range EnvPairs(ins) {
			if kv.Value != "" && secrets.IsSecretName(kv.Key) {
				values = append(values, kv.Value)
			}
		}
	}
	return secrets.NewRedactor(values, secrets.WithScan()).String(ins.Original)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// Rules returns the metadata of every Dockerfile rule.
func Rules() []report.Rule {
	all := allChecks()
	out := make([]report.Rule, len(all))
	for i, c := range all {
		out[i] = c.Rule
	}
	return out
}

// Lint runs every rule over the file and returns the findings, with inline pragmas
// applied as suppressions (unless cfg disables them). A nil cfg means defaults.
func Lint(f *File, cfg *Config) []report.Finding {
	if cfg == nil {
		cfg = &Config{}
	}
	var out []report.Finding
	for _, chk := range allChecks() {
		ctx := &Context{File: f, Config: cfg, rule: &chk}
		chk.run(ctx)
		out = append(out, ctx.findings...)
	}
	if !cfg.DisableIgnorePragma {
		for i := range out {
			ids := append([]string{out[i].Rule}, out[i].Aliases...)
			if pr, ok := f.pragmas.match(out[i].Location.Line, ids); ok {
				out[i].Suppressed = &report.Suppression{By: pr.by, Reason: pr.reason}
			}
		}
	}
	return out
}

// allChecks lists every rule, explicitly. Each group lives in its own file.
func allChecks() []check {
	var all []check
	for _, group := range [][]check{instructionChecks, labelChecks, packageChecks, shellChecks, buildkitChecks} {
		all = append(all, group...)
	}
	return all
}
