package dockerfile

import (
	"fmt"
	"net/mail"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/github/go-spdx/v2/spdxexp"

	"github.com/charterhq/charter/internal/report"
	"github.com/charterhq/charter/internal/secrets"
)

// labelChecks are the rules about LABEL: key syntax and the label schema a team declares.
var labelChecks = []check{
	{Rule: report.Rule{
		ID:       "DF160",
		Aliases:  []string{"DL3048"},
		Severity: report.Info,
		Title:    "Invalid label key",
		Description: "Label keys are read by registries, scanners, orchestrators and `docker inspect` filters, which expect the reverse-DNS convention: " +
			"lower-case letters, digits, dots and dashes, starting with a letter and ending with a letter or digit, without doubled separators. " +
			"The com.docker.*, io.docker.* and org.dockerproject.* namespaces are reserved for Docker itself.",
		Remediation: "Rename the key to a lower-case reverse-DNS name in your own namespace, e.g. `org.opencontainers.image.source` or `com.example.team`.",
		References: []string{
			"https://github.com/hadolint/hadolint/wiki/DL3048",
			"https://docs.docker.com/engine/manage-resources/labels/#key-format-recommendations",
		},
		Category: "dockerfile",
		Example:  "LABEL org.opencontainers.image.source=\"https://github.com/example/app\"",
	}, run: checkLabelKeys},
	{Rule: report.Rule{
		ID:       "DF161",
		Aliases:  []string{"DL3049"},
		Severity: report.Info,
		Title:    "Label required by the label schema is missing",
		Description: "The team's label schema lists labels every image must carry, such as its source repository, revision or owner; " +
			"inventory, provenance and incident response tools find images by them. A stage that neither sets nor inherits a required label produces an image those tools cannot place. " +
			"Stages only used as COPY --from sources are not checked.",
		Remediation: "Add the missing labels to the stage, e.g. `LABEL org.opencontainers.image.revision=$GIT_SHA`, or inherit them from a stage that sets them.",
		References:  []string{"https://github.com/hadolint/hadolint/wiki/DL3049"},
		Category:    "dockerfile",
		Example:     "ARG GIT_SHA\nLABEL org.opencontainers.image.revision=$GIT_SHA",
	}, run: checkMissingLabels},
	{Rule: report.Rule{
		ID:       "DF162",
		Aliases:  []string{"DL3050"},
		Severity: report.Info,
		Title:    "Label not in the label schema",
		Description: "With strict labels on, the label schema is the complete list of labels an image may carry. " +
			"A label outside it is usually a typo of a required one, or metadata that no tool reads and that nobody keeps up to date.",
		Remediation: "Remove the label, fix its name to the schema's spelling, or add it to the label schema.",
		References:  []string{"https://github.com/hadolint/hadolint/wiki/DL3050"},
		Category:    "dockerfile",
		Example:     "LABEL org.opencontainers.image.version=\"1.4.2\"",
	}, run: checkSuperfluousLabels},
	{Rule: report.Rule{
		ID:       "DF163",
		Aliases:  []string{"DL3051"},
		Severity: report.Low,
		Title:    "Label from the label schema is empty",
		Description: "An empty value satisfies a presence check while carrying no information, typically because the build argument meant to fill it was not passed. " +
			"Tools that rely on the label then see an image with no source, revision or owner.",
		Remediation: "Give the label a value, and pass the build argument it comes from (`--build-arg GIT_SHA=$(git rev-parse HEAD)`).",
		References:  []string{"https://github.com/hadolint/hadolint/wiki/DL3051"},
		Category:    "dockerfile",
		Example:     "LABEL org.opencontainers.image.revision=\"43c572f1272b6b3171dd1db9e41b7027128ce080\"",
	}, run: checkEmptyLabels},
	{Rule: report.Rule{
		ID:       "DF164",
		Aliases:  []string{"DL3052", "DL3053", "DL3054", "DL3055", "DL3056", "DL3058"},
		Severity: report.Low,
		Title:    "Label value does not match its type in the label schema",
		Description: "The label schema declares what each label holds (a URL, an RFC 3339 time, an SPDX license expression, a git hash, a semantic version or an email address). " +
			"A value of the wrong shape breaks the tools that parse it: links that go nowhere, licence scans that fail, version comparisons that sort wrongly.",
		Remediation: "Write the value in the declared format, e.g. `https://…` for url, `2024-05-01T12:00:00Z` for rfc3339, `Apache-2.0` for spdx, a 7–40 character hex commit for hash, `1.4.2` for semver.",
		References: []string{
			"https://github.com/hadolint/hadolint/wiki/DL3052",
			"https://github.com/hadolint/hadolint/wiki/DL3053",
			"https://github.com/hadolint/hadolint/wiki/DL3054",
			"https://github.com/hadolint/hadolint/wiki/DL3055",
			"https://github.com/hadolint/hadolint/wiki/DL3056",
			"https://github.com/hadolint/hadolint/wiki/DL3058",
			"https://github.com/opencontainers/image-spec/blob/main/annotations.md",
		},
		Category: "dockerfile",
		Example:  "LABEL org.opencontainers.image.licenses=\"Apache-2.0\" org.opencontainers.image.version=\"1.4.2\"",
	}, run: checkLabelTypes},
}

// reservedLabelNamespaces are the prefixes Docker keeps for itself.
var reservedLabelNamespaces = []string{"com.docker.", "io.docker.", "org.dockerproject."}

// labelKeyProblem explains why key is not a well-formed label key, or returns "".
func labelKeyProblem(key string) string {
	switch {
	case key == "":
		return "is empty"
	case key[0] < 'a' || key[0] > 'z':
		return "must start with a lower-case letter"
	}
	for _, r := range key {
		if !isLowerAlnum(r) && r != '.' && r != '-' {
			return fmt.Sprintf("contains %q; use only lower-case letters, digits, '.' and '-'", r)
		}
	}
	if !isLowerAlnum(rune(key[len(key)-1])) {
		return "must end with a lower-case letter or a digit"
	}
	if strings.Contains(key, "..") || strings.Contains(key, "--") {
		return "has consecutive separators"
	}
	for _, ns := range reservedLabelNamespaces {
		if strings.HasPrefix(key, ns) {
			return "uses the namespace " + strings.TrimSuffix(ns, ".") + ", which is reserved for Docker"
		}
	}
	return ""
}

func isLowerAlnum(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= '0' && r <= '9'
}

// labelPairs reads a LABEL's key/value pairs. BuildKit keeps each pair as three nodes:
// the key, the value and the separator ("=", or "" for the legacy `LABEL key value`).
func labelPairs(ins *Instruction) []KeyValue {
	var out []KeyValue
	for i := 0; i+1 < len(ins.Args); i += 3 {
		out = append(out, KeyValue{Key: unquote(ins.Args[i]), Value: unquote(ins.Args[i+1]), HasValue: true})
	}
	return out
}

// labelInstructions returns every LABEL, ONBUILD LABEL included.
func labelInstructions(f *File) []*Instruction {
	var out []*Instruction
	f.Each(func(ins *Instruction) {
		if ins.Cmd == "LABEL" {
			out = append(out, ins)
		}
	})
	return out
}

func checkLabelKeys(c *Context) {
	for _, ins := range labelInstructions(c.File) {
		for _, kv := range labelPairs(ins) {
			if why := labelKeyProblem(kv.Key); why != "" {
				c.Report(ins, fmt.Sprintf("label key %q %s", kv.Key, why))
			}
		}
	}
}

func checkMissingLabels(c *Context) {
	schema := c.Config.LabelSchema
	if len(schema) == 0 {
		return
	}
	required := make([]string, 0, len(schema))
	for k := range schema {
		required = append(required, k)
	}
	sort.Strings(required)

	// A stage whose files are copied elsewhere is a build stage, not a shipped image.
	copied := map[*Stage]bool{}
	c.File.Each(func(ins *Instruction) {
		if ins.Cmd != "COPY" {
			return
		}
		if from, ok := ins.Flag("from"); ok {
			if st := c.File.StageByName(from); st != nil {
				copied[st] = true
			}
		}
	})

	have := map[*Stage]map[string]bool{}
	for _, st := range c.File.Stages {
		set := map[string]bool{}
		if st.BaseStage != nil {
			for k := range have[st.BaseStage] {
				set[k] = true
			}
		}
		for _, ins := range st.Instructions {
			if ins.Cmd == "LABEL" {
				for _, kv := range labelPairs(ins) {
					set[kv.Key] = true
				}
			}
		}
		have[st] = set
	}
	for _, st := range c.File.Stages {
		if copied[st] {
			continue
		}
		var missing []string
		for _, k := range required {
			if !have[st][k] {
				missing = append(missing, "`"+k+"`")
			}
		}
		if len(missing) > 0 {
			c.Report(st.From, fmt.Sprintf("stage %s lacks label %s required by the label schema", stageLabel(st), strings.Join(missing, ", ")))
		}
	}
}

// stageLabel names a stage for messages: its alias, or its position and base.
func stageLabel(st *Stage) string {
	if st.Name != "" {
		return fmt.Sprintf("%q", st.Name)
	}
	return fmt.Sprintf("%d (FROM %s)", st.Index, st.Base)
}

func checkSuperfluousLabels(c *Context) {
	if !c.Config.StrictLabels {
		return
	}
	for _, ins := range labelInstructions(c.File) {
		for _, kv := range labelPairs(ins) {
			if _, ok := c.Config.LabelSchema[kv.Key]; !ok {
				c.Report(ins, fmt.Sprintf("label %q is not in the label schema", kv.Key))
			}
		}
	}
}

func checkEmptyLabels(c *Context) {
	if len(c.Config.LabelSchema) == 0 {
		return
	}
	for _, ins := range labelInstructions(c.File) {
		for _, kv := range labelPairs(ins) {
			if _, ok := c.Config.LabelSchema[kv.Key]; ok && strings.TrimSpace(kv.Value) == "" {
				c.Report(ins, fmt.Sprintf("label %q is empty", kv.Key))
			}
		}
	}
}

// labelType is one value type of the label schema: the peer rule that checks it, what a
// message calls it, and the validator.
type labelType struct {
	alias string
	what  string
	valid func(string) bool
}

var labelTypes = map[string]labelType{
	"url":     {"DL3052", "a URL", validLabelURL},
	"rfc3339": {"DL3053", "an RFC 3339 time", validLabelTime},
	"spdx":    {"DL3054", "an SPDX license expression", validLabelSPDX},
	"hash":    {"DL3055", "a git commit hash", validLabelHash},
	"semver":  {"DL3056", "a semantic version", validLabelSemver},
	"email":   {"DL3058", "an email address", validLabelEmail},
}

func checkLabelTypes(c *Context) {
	if len(c.Config.LabelSchema) == 0 {
		return
	}
	for _, ins := range labelInstructions(c.File) {
		for _, kv := range labelPairs(ins) {
			lt, ok := labelTypes[strings.ToLower(c.Config.LabelSchema[kv.Key])]
			if !ok || kv.Value == "" || strings.Contains(kv.Value, "$") {
				continue // untyped, empty (DF163) or filled in at build time
			}
			if !lt.valid(kv.Value) {
				c.ReportAliasEvidence(ins, lt.alias, fmt.Sprintf("label %q is not %s", kv.Key, lt.what), labelEvidence(kv.Value))
			}
		}
	}
}

// labelEvidence is a label value as a finding shows it: redacted when it holds a
// credential (a token, or a URL with a password).
func labelEvidence(v string) string {
	if u, err := url.Parse(v); err == nil && u.User != nil {
		if _, hasPassword := u.User.Password(); hasPassword {
			return secrets.Redact(v)
		}
	}
	if len(secrets.ScanString(v)) > 0 {
		return secrets.Redact(v)
	}
	return v
}

func validLabelURL(v string) bool {
	u, err := url.Parse(v)
	if err != nil || u.Scheme == "" {
		return false
	}
	if u.Scheme == "http" || u.Scheme == "https" {
		return u.Host != ""
	}
	return u.Host != "" || u.Opaque != "" || u.Path != ""
}

func validLabelTime(v string) bool {
	_, err := time.Parse(time.RFC3339, v)
	return err == nil
}

func validLabelSPDX(v string) bool {
	ok, _ := spdxexp.ValidateLicenses([]string{v})
	return ok
}

// validLabelHash accepts a full SHA-1 or SHA-256 commit ID or an abbreviation of at
// least 7 characters, in lower-case hex as git prints them.
func validLabelHash(v string) bool {
	if n := len(v); n < 7 || n > 40 && n != 64 {
		return false
	}
	for _, r := range v {
		if !isLowerAlnum(r) || r > 'f' {
			return false
		}
	}
	return true
}

// reSemver is the expression semver.org gives for a version: no "v" prefix, no leading zeros.
var reSemver = regexp.MustCompile(`^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)` +
	`(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?` +
	`(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$`)

func validLabelSemver(v string) bool { return reSemver.MatchString(v) }

// validLabelEmail accepts an address as RFC 5322 writes it, bare or with a display name.
func validLabelEmail(v string) bool {
	_, err := mail.ParseAddress(v)
	return err == nil
}
