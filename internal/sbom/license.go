package sbom

import (
	"strings"

	"github.com/github/go-spdx/v2/spdxexp"
)

// licenseKind says how a declared licence can be written.
type licenseKind int

const (
	licenseName       licenseKind = iota // free text: "BSD-like", "Apache License, Version 2.0"
	licenseID                            // one SPDX licence identifier: "MIT"
	licenseExpression                    // any other valid SPDX expression: "MIT OR Apache-2.0", "GPL-2.0+"
)

// classifyLicense tells what s is; for an identifier it also returns the canonical
// spelling ("mit" → "MIT").
func classifyLicense(s string) (licenseKind, string) {
	s = strings.TrimSpace(s)
	if s == "" {
		return licenseName, s
	}
	if ok, id := spdxexp.ActiveLicense(s); ok {
		return licenseID, id
	}
	if ok, _ := spdxexp.ValidateLicenses([]string{s}); ok {
		return licenseExpression, s
	}
	return licenseName, s
}

// splitAnd splits an SPDX expression at its top-level ANDs, removing one pair of
// parentheses that wraps a whole part: "(MIT OR X) AND Y" → ["MIT OR X", "Y"].
func splitAnd(expr string) []string {
	var parts []string
	depth, start := 0, 0
	fields := strings.Fields(expr)
	for i, f := range fields {
		depth += strings.Count(f, "(") - strings.Count(f, ")")
		if depth == 0 && f == "AND" {
			parts = append(parts, strings.Join(fields[start:i], " "))
			start = i + 1
		}
	}
	parts = append(parts, strings.Join(fields[start:], " "))
	out := parts[:0]
	for _, p := range parts {
		p = unwrapParens(p)
		if p != "" {
			out = append(out, p)
		}
	}
	return out
}

// unwrapParens removes parentheses that enclose all of s: "(A OR B)" → "A OR B", but
// "(A) OR (B)" stays.
func unwrapParens(s string) string {
	for len(s) >= 2 && s[0] == '(' && s[len(s)-1] == ')' {
		depth := 0
		for i := 0; i < len(s); i++ {
			switch s[i] {
			case '(':
				depth++
			case ')':
				depth--
			}
			if depth == 0 && i < len(s)-1 {
				return s
			}
		}
		s = strings.TrimSpace(s[1 : len(s)-1])
	}
	return s
}
