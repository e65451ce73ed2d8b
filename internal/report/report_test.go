package report

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

func sample() *Report {
	r := New("1.2.3", Target{Kind: "repo", Ref: "."})
	df001 := Rule{ID: "DF001", Aliases: []string{"DL3002"}, Severity: High, Title: "Final stage runs as root",
		Description: "A container that runs as root…", Remediation: "Add USER 65532.", Category: "dockerfile",
		References: []string{"https://example.com/DF001"}}
	df014 := Rule{ID: "DF014", Severity: Low, Title: "No HEALTHCHECK", Description: "d", Remediation: "r"}
	r.Findings = append(r.Findings,
		df014.Finding(Location{Path: "b/Dockerfile", Line: 1}, ""),
		df001.Finding(Location{Path: "a/Dockerfile", Line: 3, Instruction: "USER root"}, "last USER is root"),
	)
	sup := df001.Finding(Location{Path: "a/Dockerfile", Line: 9}, "")
	sup.Suppressed = &Suppression{By: "pragma", Reason: "init container"}
	r.Findings = append(r.Findings, sup)
	return r
}

func TestFinalizeVerdictAndSummary(t *testing.T) {
	r := sample()
	r.Finalize(High)
	if r.Verdict.Pass || r.Verdict.FailOn != "HIGH" || len(r.Verdict.Reasons) != 1 || r.Verdict.Reasons[0] != "DF001 at a/Dockerfile:3" {
		t.Fatalf("verdict = %+v", r.Verdict)
	}
	if r.Summary.High != 1 || r.Summary.Low != 1 || r.Summary.Suppressed != 1 {
		t.Fatalf("summary = %+v", r.Summary)
	}
	if r.Findings[0].Location.Path != "a/Dockerfile" {
		t.Fatalf("findings not sorted: %+v", r.Findings[0].Location)
	}
	r.Finalize(Critical)
	if !r.Verdict.Pass {
		t.Fatal("HIGH finding must not fail at CRITICAL")
	}
	r.Finalize(SeverityNone)
	if !r.Verdict.Pass || r.Verdict.FailOn != "NONE" {
		t.Fatalf("none threshold: %+v", r.Verdict)
	}
}

func TestJSONContract(t *testing.T) {
	r := New("1.0.0", Target{Kind: "dockerfile", Ref: "Dockerfile"})
	r.Finalize(High)
	var buf bytes.Buffer
	if err := EncodeJSON(&buf, r); err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	// findings and summary are always present, even when empty.
	for _, key := range []string{"schema", "tool", "target", "findings", "summary", "verdict"} {
		if _, ok := doc[key]; !ok {
			t.Errorf("missing %q in %s", key, buf.String())
		}
	}
	if doc["schema"] != "charter.report/v1" {
		t.Errorf("schema = %v", doc["schema"])
	}
	if _, ok := doc["packages"]; ok {
		t.Errorf("empty packages must be omitted")
	}
	sum := doc["summary"].(map[string]any)
	for _, k := range []string{"CRITICAL", "HIGH", "MEDIUM", "LOW", "INFO", "suppressed"} {
		if _, ok := sum[k]; !ok {
			t.Errorf("summary lacks %s", k)
		}
	}
	// Round trip: severities read back.
	full := sample()
	full.Finalize(High)
	buf.Reset()
	_ = EncodeJSON(&buf, full)
	var back Report
	if err := json.Unmarshal(buf.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if back.Findings[0].Severity != High || back.Findings[0].Aliases[0] != "DL3002" || back.Findings[1].Suppressed == nil {
		t.Fatalf("round trip lost data: %+v", back.Findings)
	}
}

// TestSARIFRequiredFields checks what GitHub code scanning requires of an upload: version
// 2.1.0, a driver name, rules with ids and descriptions, results with ruleId, message.text,
// a physical location with an artifact URI and a 1-based startLine, plus the
// security-severity that orders alerts.
func TestSARIFRequiredFields(t *testing.T) {
	r := sample()
	r.Findings = append(r.Findings, Rule{ID: "IMG003", Severity: Critical, Title: "Secret file"}.Finding(
		Location{Path: "/root/.ssh/id_rsa", Layer: "sha256:abc"}, ""))
	r.Target = Target{Kind: "image", Ref: "registry.example/app:1"}
	r.Finalize(High)
	cat := NewCatalog([]Rule{{ID: "DF001", Severity: High, Title: "Final stage runs as root", Description: "why", Remediation: "fix"}})
	var buf bytes.Buffer
	if err := EncodeSARIF(&buf, r, Options{Rules: cat}); err != nil {
		t.Fatal(err)
	}
	var log struct {
		Version string `json:"version"`
		Schema  string `json:"$schema"`
		Runs    []struct {
			Tool struct {
				Driver struct {
					Name  string `json:"name"`
					Rules []struct {
						ID               string            `json:"id"`
						ShortDescription map[string]string `json:"shortDescription"`
						FullDescription  map[string]string `json:"fullDescription"`
						Help             map[string]string `json:"help"`
						Default          map[string]string `json:"defaultConfiguration"`
						Properties       map[string]any    `json:"properties"`
					} `json:"rules"`
				} `json:"driver"`
			} `json:"tool"`
			Results []struct {
				RuleID    string            `json:"ruleId"`
				RuleIndex *int              `json:"ruleIndex"`
				Level     string            `json:"level"`
				Message   map[string]string `json:"message"`
				Locations []struct {
					Physical struct {
						Artifact map[string]string `json:"artifactLocation"`
						Region   map[string]int    `json:"region"`
					} `json:"physicalLocation"`
				} `json:"locations"`
				Suppressions []map[string]string `json:"suppressions"`
			} `json:"results"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(buf.Bytes(), &log); err != nil {
		t.Fatal(err)
	}
	if log.Version != "2.1.0" || !strings.Contains(log.Schema, "sarif") || len(log.Runs) != 1 {
		t.Fatalf("header: %s %s", log.Version, log.Schema)
	}
	run := log.Runs[0]
	if run.Tool.Driver.Name != "charter" {
		t.Errorf("driver name %q", run.Tool.Driver.Name)
	}
	ids := map[string]int{}
	for i, rule := range run.Tool.Driver.Rules {
		ids[rule.ID] = i
		if rule.ShortDescription["text"] == "" || rule.FullDescription["text"] == "" || rule.Help["text"] == "" {
			t.Errorf("rule %s lacks descriptions/help: %+v", rule.ID, rule)
		}
		if rule.Default["level"] == "" {
			t.Errorf("rule %s lacks a default level", rule.ID)
		}
		if rule.Properties["security-severity"] == nil {
			t.Errorf("rule %s lacks security-severity", rule.ID)
		}
	}
	if len(run.Results) != 4 {
		t.Fatalf("results = %d", len(run.Results))
	}
	for _, res := range run.Results {
		if res.RuleID == "" || res.Message["text"] == "" || res.RuleIndex == nil || ids[res.RuleID] != *res.RuleIndex {
			t.Errorf("result lacks ruleId/message/ruleIndex: %+v", res)
		}
		if len(res.Locations) != 1 || res.Locations[0].Physical.Artifact["uri"] == "" {
			t.Errorf("result %s lacks a location", res.RuleID)
		}
		if reg := res.Locations[0].Physical.Region; reg != nil && reg["startLine"] < 1 {
			t.Errorf("startLine must be >= 1: %v", reg)
		}
	}
	suppressed := 0
	for _, res := range run.Results {
		uri := res.Locations[0].Physical.Artifact["uri"]
		if res.RuleID == "IMG003" && uri != "image://registry.example/app:1/sha256:abc/root/.ssh/id_rsa" {
			t.Errorf("image uri = %q", uri)
		}
		if res.RuleID == "DF001" && res.Level != "error" {
			t.Errorf("HIGH must map to error, got %s", res.Level)
		}
		if len(res.Suppressions) == 1 && res.Suppressions[0]["kind"] == "inSource" {
			suppressed++
		}
	}
	if suppressed != 1 {
		t.Errorf("want one in-source suppression, got %d", suppressed)
	}
}

func TestTableOutput(t *testing.T) {
	r := sample()
	r.Finalize(High)
	var buf bytes.Buffer
	if err := EncodeTable(&buf, r, Options{}); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{"a/Dockerfile", "DF001 (DL3002)", "last USER is root", "suppressed by pragma: init container", "FAIL (fail-on HIGH)", "HIGH 1"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "\x1b[") {
		t.Errorf("colour without a terminal")
	}
}

func TestParseSeverity(t *testing.T) {
	for in, want := range map[string]Severity{"high": High, "CRITICAL": Critical, "none": SeverityNone, "off": SeverityNone, "Info": Info, "medium": Medium, "low": Low} {
		if got, err := ParseSeverity(in); err != nil || got != want {
			t.Errorf("%s: %v %v", in, got, err)
		}
	}
	if _, err := ParseSeverity("severe"); err == nil {
		t.Error("unknown severity accepted")
	}
}

func TestCatalogLookupByAlias(t *testing.T) {
	c := NewCatalog([]Rule{{ID: "DF002", Aliases: []string{"DL3006", "DL3007"}}}, []Rule{{ID: "CTX001"}})
	if r, ok := c.Lookup("DL3007"); !ok || r.ID != "DF002" {
		t.Fatalf("lookup by alias: %v %v", r, ok)
	}
	if _, ok := c.Lookup("DF999"); ok {
		t.Fatal("found a rule that does not exist")
	}
	defer func() {
		if recover() == nil {
			t.Fatal("duplicate ID must panic")
		}
	}()
	NewCatalog([]Rule{{ID: "X"}}, []Rule{{ID: "X"}})
}
