package policy

import (
	"maps"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/charterhq/charter/internal/report"
)

// Hadolint is a hadolint configuration file (.hadolint.yaml), read so a team moving to
// charter keeps its ignores, severity overrides and thresholds without rewriting them.
// Rule IDs in it are hadolint's (DLxxxx, SCxxxx); they match charter findings that carry
// them as aliases.
type Hadolint struct {
	Ignored           []string
	TrustedRegistries []string
	// LabelSchema maps a required label to its type: text, url, spdx, hash, rfc3339,
	// semver or email.
	LabelSchema         map[string]string
	StrictLabels        bool
	DisableIgnorePragma bool
	// Override maps a rule ID to the hadolint level it is raised or lowered to: error,
	// warning, info or style. A rule listed under several levels gets the most severe,
	// as in hadolint.
	Override map[string]string
	// FailureThreshold is error, warning, info, style, ignore or none; "" if unset.
	FailureThreshold string
	NoFail           bool

	// Output settings: accepted so that real configurations load; charter's own flags
	// (-o, NO_COLOR, -q) control its output.
	Format  string
	NoColor bool
	Verbose bool
}

// HadolintSuppressedBy is the Suppression.By of findings a hadolint configuration ignores.
const HadolintSuppressedBy = "hadolint"

var hadolintNames = []string{".hadolint.yaml", ".hadolint.yml"}

// FindHadolint returns dir/.hadolint.yaml or, failing that, dir/.hadolint.yml.
func FindHadolint(dir string) (string, bool) { return findFile(dir, hadolintNames) }

// LoadHadolint reads and parses a hadolint configuration file.
func LoadHadolint(path string) (*Hadolint, error) {
	data, err := readCapped(path)
	if err != nil {
		return nil, err
	}
	return ParseHadolint(path, data)
}

// hadolintKeys are every key hadolint's configuration file accepts, with the spellings
// of older releases (output-format, trusted-registries).
var hadolintKeys = []string{
	"ignored", "trustedRegistries", "trusted-registries", "label-schema", "strict-labels",
	"disable-ignore-pragma", "override", "failure-threshold", "no-fail", "format",
	"output-format", "no-color", "verbose",
}

var (
	hadolintLevels     = []string{"error", "warning", "info", "style"}
	hadolintThresholds = []string{"error", "warning", "info", "style", "ignore", "none"}
	hadolintFormats    = []string{"tty", "json", "checkstyle", "codeclimate", "gitlab_codeclimate",
		"gnu", "codacy", "sonarqube", "sarif", "junit"}
	hadolintLabelTypes = []string{"text", "url", "spdx", "hash", "rfc3339", "semver", "email"}
)

// ParseHadolint parses a hadolint configuration's content. Unlike hadolint, which skips
// keys it does not know, it rejects them: a misspelt "ignore:" would otherwise turn every
// exception off without a word.
func ParseHadolint(name string, data []byte) (*Hadolint, error) {
	root, err := parseDocument(name, data)
	if err != nil {
		return nil, err
	}
	h := &Hadolint{}
	if root == nil {
		return h, nil
	}
	d := &decoder{name: name}
	if root.Kind != yaml.MappingNode {
		return nil, d.errf(root, "a hadolint configuration is a mapping (ignored:, override:, …), got %s", describe(root))
	}
	if err := d.mapping(root, "", hadolintKeys, func(key string, _, v *yaml.Node) error {
		return d.hadolintKey(h, key, v)
	}); err != nil {
		return nil, err
	}
	return h, nil
}

func (d *decoder) hadolintKey(h *Hadolint, key string, v *yaml.Node) error {
	var err error
	switch key {
	case "ignored":
		h.Ignored, err = d.strings(v, key, nonEmpty)
	case "trustedRegistries", "trusted-registries":
		var regs []string
		if regs, err = d.stringOrList(v, key); err == nil {
			h.TrustedRegistries = append(h.TrustedRegistries, regs...)
		}
	case "label-schema":
		err = d.labelSchema(v, h)
	case "strict-labels":
		h.StrictLabels, err = d.boolean(v, key)
	case "disable-ignore-pragma":
		h.DisableIgnorePragma, err = d.boolean(v, key)
	case "override":
		err = d.hadolintOverride(v, h)
	case "failure-threshold":
		if h.FailureThreshold, err = d.str(v, key); err == nil {
			err = d.check(v, key, oneOf(h.FailureThreshold, hadolintThresholds))
		}
	case "no-fail":
		h.NoFail, err = d.boolean(v, key)
	case "format", "output-format":
		if h.Format, err = d.str(v, key); err == nil {
			err = d.check(v, key, oneOf(h.Format, hadolintFormats))
		}
	case "no-color":
		h.NoColor, err = d.boolean(v, key)
	default:
		h.Verbose, err = d.boolean(v, key)
	}
	return err
}

// stringOrList reads hadolint's "string | [string]".
func (d *decoder) stringOrList(v *yaml.Node, where string) ([]string, error) {
	if v.Kind == yaml.ScalarNode {
		s, err := d.str(v, where)
		if err != nil {
			return nil, err
		}
		return []string{s}, d.check(v, where, nonEmpty(s))
	}
	return d.strings(v, where, nonEmpty)
}

func (d *decoder) labelSchema(v *yaml.Node, h *Hadolint) error {
	h.LabelSchema = map[string]string{}
	return d.mapping(v, "label-schema", nil, func(label string, _, t *yaml.Node) error {
		at := "label-schema." + label
		s, err := d.str(t, at)
		if err != nil {
			return err
		}
		h.LabelSchema[label] = s
		if s == "" {
			return nil // hadolint reads an empty type as text
		}
		return d.check(t, at, oneOf(s, hadolintLabelTypes))
	})
}

func (d *decoder) hadolintOverride(v *yaml.Node, h *Hadolint) error {
	if h.Override == nil {
		h.Override = map[string]string{}
	}
	return d.mapping(v, "override", hadolintLevels, func(level string, _, list *yaml.Node) error {
		ids, err := d.strings(list, "override."+level, nonEmpty)
		for _, id := range ids {
			if prev, ok := h.Override[id]; !ok || hadolintRank(level) < hadolintRank(prev) {
				h.Override[id] = level
			}
		}
		return err
	})
}

// hadolintRank orders hadolint's levels, most severe first.
func hadolintRank(level string) int {
	for i, l := range hadolintThresholds {
		if l == level {
			return i
		}
	}
	return len(hadolintThresholds)
}

// HadolintSeverity maps a hadolint level to charter's severity. hadolint's error is
// charter's MEDIUM: hadolint calls most style and hygiene problems errors, while charter
// keeps HIGH and CRITICAL for what weakens the image's security.
func HadolintSeverity(level string) (report.Severity, bool) {
	switch strings.ToLower(level) {
	case "error":
		return report.Medium, true
	case "warning":
		return report.Low, true
	case "info", "style":
		return report.Info, true
	}
	return report.SeverityNone, false
}

// Apply suppresses findings whose rule or alias is in Ignored and sets the severity of
// findings carrying an overridden rule or alias. A nil h does nothing.
func (h *Hadolint) Apply(r *report.Report) {
	if h == nil || r == nil {
		return
	}
	for i := range r.Findings {
		fd := &r.Findings[i]
		if level, ok := h.override(*fd); ok {
			if sev, ok := HadolintSeverity(level); ok {
				fd.Severity = sev
			}
		}
		if fd.Suppressed != nil {
			continue
		}
		for _, id := range h.Ignored {
			if matchesID(*fd, id) {
				fd.Suppressed = &report.Suppression{By: HadolintSuppressedBy, Reason: ".hadolint.yaml ignored"}
				break
			}
		}
	}
}

// override finds the level for a finding: by its rule first, then by its aliases in order.
func (h *Hadolint) override(fd report.Finding) (string, bool) {
	if len(h.Override) == 0 {
		return "", false
	}
	keys := slices.Sorted(maps.Keys(h.Override))
	for _, id := range append([]string{fd.Rule}, fd.Aliases...) {
		if level, ok := h.Override[id]; ok {
			return level, true
		}
		for _, k := range keys {
			if strings.EqualFold(k, id) {
				return h.Override[k], true
			}
		}
	}
	return "", false
}

// FailOn returns the threshold the configuration asks for, and whether it asks for one:
// none with no-fail; otherwise failure-threshold mapped like the levels. hadolint fails
// on any violation for ignore and none, so those map to INFO.
func (h *Hadolint) FailOn() (report.Severity, bool) {
	if h == nil {
		return report.SeverityNone, false
	}
	if h.NoFail {
		return report.SeverityNone, true
	}
	switch h.FailureThreshold {
	case "":
		return report.SeverityNone, false
	case "ignore", "none":
		return report.Info, true
	}
	return HadolintSeverity(h.FailureThreshold)
}
