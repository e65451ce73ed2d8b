package vulndb

import (
	"encoding/json"
	"strings"

	cvss20 "github.com/pandatix/go-cvss/20"
	cvss30 "github.com/pandatix/go-cvss/30"
	cvss31 "github.com/pandatix/go-cvss/31"
	cvss40 "github.com/pandatix/go-cvss/40"

	"github.com/charterhq/charter/internal/report"
	"github.com/charterhq/charter/internal/version"
)

// Where a severity came from, as Match.SeveritySource reports it.
const (
	SevCVSSv4     = "CVSS v4.0"
	SevCVSSv31    = "CVSS v3.1"
	SevCVSSv30    = "CVSS v3.0"
	SevCVSSv2     = "CVSS v2"
	SevGHSA       = "GHSA severity"
	SevDebian     = "Debian urgency"
	SevUbuntu     = "Ubuntu priority"
	SevAdvisory   = "advisory severity" // a severity word in database_specific / ecosystem_specific
	SevDefault    = "default (the advisory rates no severity)"
	rankUnrated   = 99
	rankDistroOwn = 0
)

// severity is a rating with its origin. Rank orders sources: lower wins when alias
// records disagree.
type severity struct {
	Level  report.Severity `json:"l,omitempty"`
	Source string          `json:"src,omitempty"`
	Score  float64         `json:"sc,omitempty"`
	Vector string          `json:"vec,omitempty"`
	Rank   int             `json:"rk,omitempty"`
}

type severityInputs struct {
	list []osvSeverity
	db   json.RawMessage
	id   string
}

// severityOf rates one affected entry. For distro packages the distro's own rating
// comes first: it judges the distro's build (Debian marks a CVE in code it does not
// compile "unimportant"). For language packages the CVSS vector comes first, the newest
// CVSS version winning, then GHSA's word.
func severityOf(a *osvAffected, rec severityInputs) severity {
	distro := isDistro(a.Package.Ecosystem)
	var best severity
	best.Rank = rankUnrated
	consider := func(s severity, ok bool) {
		if ok && s.Rank < best.Rank {
			best = s
		}
	}
	for _, list := range [][]osvSeverity{a.Severity, rec.list} {
		for _, s := range list {
			consider(cvssOf(s))
			consider(vendorWord(s, distro))
		}
	}
	for _, raw := range []json.RawMessage{a.EcosystemSpecific, a.DatabaseSpecific, rec.db} {
		consider(wordIn(raw, distro, rec.id))
	}
	if best.Rank == rankUnrated {
		return severity{Rank: rankUnrated}
	}
	return best
}

func isDistro(eco string) bool {
	s, ok := version.ForOSV(eco)
	return ok && (s == version.Dpkg || s == version.Apk || s == version.RPM)
}

// cvssOf scores a CVSS vector. Ranks: v4 1, v3.1 2, v3.0 3, v2 4.
func cvssOf(s osvSeverity) (severity, bool) {
	vec := strings.TrimSpace(s.Score)
	var score float64
	var src string
	var rank int
	switch {
	case s.Type == "CVSS_V4" || strings.HasPrefix(vec, "CVSS:4.0/"):
		v, err := cvss40.ParseVector(vec)
		if err != nil {
			return severity{}, false
		}
		score, src, rank = v.Score(), SevCVSSv4, 1
	case strings.HasPrefix(vec, "CVSS:3.1/"):
		v, err := cvss31.ParseVector(vec)
		if err != nil {
			return severity{}, false
		}
		score, src, rank = v.BaseScore(), SevCVSSv31, 2
	case strings.HasPrefix(vec, "CVSS:3.0/"):
		v, err := cvss30.ParseVector(vec)
		if err != nil {
			return severity{}, false
		}
		score, src, rank = v.BaseScore(), SevCVSSv30, 3
	case s.Type == "CVSS_V2":
		v, err := cvss20.ParseVector(strings.Trim(vec, "()"))
		if err != nil {
			return severity{}, false
		}
		score, src, rank = v.BaseScore(), SevCVSSv2, 4
		return severity{Level: cvss2Level(score), Source: src, Score: score, Vector: vec, Rank: rank}, true
	default:
		return severity{}, false
	}
	return severity{Level: cvss3Level(score), Source: src, Score: score, Vector: vec, Rank: rank}, true
}

// cvss3Level is the CVSS v3/v4 qualitative rating.
func cvss3Level(score float64) report.Severity {
	switch {
	case score >= 9.0:
		return report.Critical
	case score >= 7.0:
		return report.High
	case score >= 4.0:
		return report.Medium
	case score > 0:
		return report.Low
	}
	return report.Info
}

// cvss2Level is NVD's v2 rating, which has no Critical.
func cvss2Level(score float64) report.Severity {
	switch {
	case score >= 7.0:
		return report.High
	case score >= 4.0:
		return report.Medium
	}
	return report.Low
}

// vendorWord reads severity entries that carry a word, such as Ubuntu's priority.
func vendorWord(s osvSeverity, distro bool) (severity, bool) {
	if s.Type != "Ubuntu" {
		return severity{}, false
	}
	l, ok := levelOfWord(s.Score)
	return severity{Level: l, Source: SevUbuntu, Rank: wordRank(distro)}, ok
}

// wordIn reads "severity" (GHSA, vendors) or "urgency" (Debian) from a
// database_specific or ecosystem_specific object.
func wordIn(raw json.RawMessage, distro bool, id string) (severity, bool) {
	if len(raw) == 0 || raw[0] != '{' {
		return severity{}, false
	}
	var ds struct {
		Severity json.RawMessage `json:"severity"`
		Urgency  string          `json:"urgency"`
	}
	if json.Unmarshal(raw, &ds) != nil {
		return severity{}, false
	}
	if ds.Urgency != "" {
		if l, ok := levelOfWord(ds.Urgency); ok {
			return severity{Level: l, Source: SevDebian, Rank: wordRank(distro)}, true
		}
	}
	var word string
	if json.Unmarshal(ds.Severity, &word) != nil || word == "" {
		return severity{}, false
	}
	l, ok := levelOfWord(word)
	src := SevAdvisory
	if strings.HasPrefix(id, "GHSA-") {
		src = SevGHSA
	}
	return severity{Level: l, Source: src, Rank: wordRank(distro)}, ok
}

func wordRank(distro bool) int {
	if distro {
		return rankDistroOwn
	}
	return 5
}

// levelOfWord maps the words advisories use. Debian's "unimportant" and Ubuntu's
// "negligible" are informational; "not yet assigned", "unknown" and "end-of-life" rate
// nothing.
func levelOfWord(w string) (report.Severity, bool) {
	switch strings.ToLower(strings.Trim(strings.TrimSpace(w), "*")) {
	case "critical":
		return report.Critical, true
	case "high", "important":
		return report.High, true
	case "medium", "moderate":
		return report.Medium, true
	case "low":
		return report.Low, true
	case "unimportant", "negligible", "informational":
		return report.Info, true
	}
	return report.SeverityNone, false
}
