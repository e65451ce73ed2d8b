package report

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/url"
	"path"
	"strings"
)

// SARIF 2.1.0, the subset GitHub code scanning reads. Field names follow the OASIS spec.
const (
	sarifVersion = "2.1.0"
	sarifSchema  = "https://json.schemastore.org/sarif-2.1.0.json"
)

type sarifLog struct {
	Version string     `json:"version"`
	Schema  string     `json:"$schema"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool               sarifTool                   `json:"tool"`
	Results            []sarifResult               `json:"results"`
	OriginalURIBaseIDs map[string]sarifArtifactLoc `json:"originalUriBaseIds,omitempty"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name           string      `json:"name"`
	Version        string      `json:"version,omitempty"`
	SemanticVer    string      `json:"semanticVersion,omitempty"`
	InformationURI string      `json:"informationUri,omitempty"`
	Rules          []sarifRule `json:"rules"`
}

type sarifRule struct {
	ID                   string         `json:"id"`
	Name                 string         `json:"name,omitempty"`
	ShortDescription     sarifText      `json:"shortDescription"`
	FullDescription      sarifText      `json:"fullDescription"`
	Help                 sarifHelp      `json:"help"`
	HelpURI              string         `json:"helpUri,omitempty"`
	DefaultConfiguration sarifRuleConf  `json:"defaultConfiguration"`
	Properties           sarifRuleProps `json:"properties"`
}

type sarifText struct {
	Text string `json:"text"`
}

type sarifHelp struct {
	Text     string `json:"text"`
	Markdown string `json:"markdown,omitempty"`
}

type sarifRuleConf struct {
	Level string `json:"level"`
}

type sarifRuleProps struct {
	Tags             []string `json:"tags,omitempty"`
	SecuritySeverity string   `json:"security-severity,omitempty"`
	Precision        string   `json:"precision,omitempty"`
}

type sarifResult struct {
	RuleID              string             `json:"ruleId"`
	RuleIndex           int                `json:"ruleIndex"`
	Level               string             `json:"level"`
	Message             sarifText          `json:"message"`
	Locations           []sarifLocation    `json:"locations"`
	PartialFingerprints map[string]string  `json:"partialFingerprints,omitempty"`
	Suppressions        []sarifSuppression `json:"suppressions,omitempty"`
	Properties          map[string]any     `json:"properties,omitempty"`
}

type sarifLocation struct {
	PhysicalLocation sarifPhysical `json:"physicalLocation"`
}

type sarifPhysical struct {
	ArtifactLocation sarifArtifactLoc `json:"artifactLocation"`
	Region           *sarifRegion     `json:"region,omitempty"`
}

type sarifArtifactLoc struct {
	URI       string `json:"uri"`
	URIBaseID string `json:"uriBaseId,omitempty"`
}

type sarifRegion struct {
	StartLine   int `json:"startLine"`
	EndLine     int `json:"endLine,omitempty"`
	StartColumn int `json:"startColumn,omitempty"`
}

type sarifSuppression struct {
	Kind          string `json:"kind"`
	Justification string `json:"justification,omitempty"`
}

// sarifLevel maps a severity to SARIF's level.
func sarifLevel(s Severity) string {
	switch {
	case s >= High:
		return "error"
	case s == Medium:
		return "warning"
	default:
		return "note"
	}
}

// securitySeverity is GitHub's 0–10 score that orders code-scanning alerts.
func securitySeverity(s Severity) string {
	switch s {
	case Critical:
		return "9.5"
	case High:
		return "8.0"
	case Medium:
		return "5.5"
	case Low:
		return "2.0"
	}
	return ""
}

// EncodeSARIF writes the report as a SARIF 2.1.0 log with one run. Every rule that has a
// finding gets a descriptor with help text; findings map to file locations, or for image
// targets to image://REF/LAYER/PATH.
func EncodeSARIF(w io.Writer, r *Report, opt Options) error {
	run := sarifRun{
		Tool: sarifTool{Driver: sarifDriver{
			Name: "charter", Version: r.Tool.Version, SemanticVer: strings.TrimPrefix(r.Tool.Version, "v"),
			InformationURI: "https://github.com/charterhq/charter",
		}},
		Results: []sarifResult{},
	}
	if opt.BaseURI != "" {
		run.OriginalURIBaseIDs = map[string]sarifArtifactLoc{"ROOT": {URI: opt.BaseURI}}
	}
	index := map[string]int{}
	for _, f := range r.Findings {
		i, ok := index[f.Rule]
		if !ok {
			i = len(run.Tool.Driver.Rules)
			index[f.Rule] = i
			run.Tool.Driver.Rules = append(run.Tool.Driver.Rules, sarifRuleFor(f, opt.Rules))
		}
		run.Results = append(run.Results, sarifResultFor(f, i, r.Target, opt.BaseURI != ""))
	}
	if run.Tool.Driver.Rules == nil {
		run.Tool.Driver.Rules = []sarifRule{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(sarifLog{Version: sarifVersion, Schema: sarifSchema, Runs: []sarifRun{run}})
}

func sarifRuleFor(f Finding, cat *Catalog) sarifRule {
	meta := Rule{ID: f.Rule, Title: f.Title, Severity: f.Severity, Remediation: f.Remediation, References: f.References}
	if cat != nil {
		if m, ok := cat.Lookup(f.Rule); ok {
			meta = m
		}
	}
	desc := meta.Description
	if desc == "" {
		desc = meta.Title
	}
	help := desc
	md := "**" + meta.Title + "**\n\n" + desc
	if meta.Remediation != "" {
		help += "\n\nRemediation: " + meta.Remediation
		md += "\n\n**Remediation:** " + meta.Remediation
	}
	if len(meta.Aliases) > 0 {
		md += "\n\nAlso known as: " + strings.Join(meta.Aliases, ", ")
	}
	for _, ref := range meta.References {
		md += "\n- " + ref
	}
	helpURI := ""
	if len(meta.References) > 0 {
		helpURI = meta.References[0]
	}
	tags := []string{"security"}
	if meta.Category != "" {
		tags = append(tags, meta.Category)
	}
	return sarifRule{
		ID: meta.ID, Name: ruleName(meta.Title),
		ShortDescription:     sarifText{Text: meta.Title},
		FullDescription:      sarifText{Text: desc},
		Help:                 sarifHelp{Text: help, Markdown: md},
		HelpURI:              helpURI,
		DefaultConfiguration: sarifRuleConf{Level: sarifLevel(meta.Severity)},
		Properties:           sarifRuleProps{Tags: tags, SecuritySeverity: securitySeverity(meta.Severity), Precision: "high"},
	}
}

// ruleName turns a title into the PascalCase identifier SARIF viewers show.
func ruleName(title string) string {
	var b strings.Builder
	for _, w := range strings.FieldsFunc(title, func(r rune) bool {
		return (r < 'a' || r > 'z') && (r < 'A' || r > 'Z') && (r < '0' || r > '9')
	}) {
		b.WriteString(strings.ToUpper(w[:1]) + w[1:])
	}
	return b.String()
}

func sarifResultFor(f Finding, ruleIndex int, t Target, base bool) sarifResult {
	msg := f.Message
	if f.Evidence != "" {
		msg += " (" + f.Evidence + ")"
	}
	res := sarifResult{
		RuleID: f.Rule, RuleIndex: ruleIndex, Level: sarifLevel(f.Severity),
		Message:   sarifText{Text: msg},
		Locations: []sarifLocation{{PhysicalLocation: physical(f.Location, t, base)}},
		PartialFingerprints: map[string]string{
			"charter/v1": fingerprint(f),
		},
	}
	if f.Suppressed != nil {
		kind := "external"
		if f.Suppressed.By == "pragma" || f.Suppressed.By == "hadolint" {
			kind = "inSource"
		}
		res.Suppressions = []sarifSuppression{{Kind: kind, Justification: f.Suppressed.Reason}}
	}
	if len(f.Aliases) > 0 || f.Location.Package != "" {
		res.Properties = map[string]any{}
		if len(f.Aliases) > 0 {
			res.Properties["aliases"] = f.Aliases
		}
		if f.Location.Package != "" {
			res.Properties["package"] = f.Location.Package
		}
	}
	return res
}

func physical(l Location, t Target, base bool) sarifPhysical {
	p := sarifPhysical{}
	switch {
	case l.Path != "" && l.Layer == "" && t.Kind != "image":
		p.ArtifactLocation.URI = (&url.URL{Path: strings.TrimPrefix(path.Clean("/"+l.Path), "/")}).String()
		if base {
			p.ArtifactLocation.URIBaseID = "ROOT"
		}
	default:
		// image://REF/LAYER/PATH: code scanning shows it as-is; there is no source file.
		ref := l.Image
		if ref == "" {
			ref = t.Ref
		}
		u := "image://" + ref
		if l.Layer != "" {
			u += "/" + l.Layer
		}
		if l.Path != "" {
			u += "/" + strings.TrimPrefix(l.Path, "/")
		}
		p.ArtifactLocation.URI = u
	}
	if l.Line > 0 {
		p.Region = &sarifRegion{StartLine: l.Line, EndLine: l.EndLine}
		if l.Column > 0 {
			p.Region.StartColumn = l.Column
		}
	}
	return p
}

// fingerprint identifies a finding across runs without its line number, so an alert
// survives edits above it.
func fingerprint(f Finding) string {
	parts := []string{f.Rule, f.Location.Path, f.Location.Resource, f.Location.Container,
		f.Location.Package, f.Location.Layer, strings.Join(strings.Fields(f.Location.Instruction), " ")}
	sum := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return hex.EncodeToString(sum[:16])
}
