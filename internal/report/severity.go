package report

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Severity ranks findings. The zero value is SeverityNone, which is never reported and,
// as a threshold, never fails a run.
type Severity int

// Severities from least to most severe.
const (
	SeverityNone Severity = iota
	Info
	Low
	Medium
	High
	Critical
)

var severityNames = [...]string{"NONE", "INFO", "LOW", "MEDIUM", "HIGH", "CRITICAL"}

// String returns the upper-case name used in reports.
func (s Severity) String() string {
	if s < 0 || int(s) >= len(severityNames) {
		return "UNKNOWN"
	}
	return severityNames[s]
}

// ParseSeverity reads a severity name in any case; "none" and "off" give SeverityNone.
func ParseSeverity(s string) (Severity, error) {
	switch strings.ToUpper(strings.TrimSpace(s)) {
	case "NONE", "OFF":
		return SeverityNone, nil
	case "INFO", "INFORMATIONAL", "STYLE":
		return Info, nil
	case "LOW", "WARNING":
		return Low, nil
	case "MEDIUM", "MODERATE":
		return Medium, nil
	case "HIGH", "ERROR":
		return High, nil
	case "CRITICAL":
		return Critical, nil
	}
	return SeverityNone, fmt.Errorf("unknown severity %q (want critical, high, medium, low, info or none)", s)
}

// MarshalJSON writes the severity as its name.
func (s Severity) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }

// UnmarshalJSON reads a severity name.
func (s *Severity) UnmarshalJSON(b []byte) error {
	var name string
	if err := json.Unmarshal(b, &name); err != nil {
		return err
	}
	v, err := ParseSeverity(name)
	if err != nil {
		return err
	}
	*s = v
	return nil
}
