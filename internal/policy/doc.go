// Package policy reads charter's contract file (charter.yaml) and hadolint's
// configuration (.hadolint.yaml), and applies them to a report: severity overrides,
// ignores with reasons and expiry dates, and the failure threshold.
//
// Both files are parsed strictly from a YAML node tree, so every problem (an unknown key,
// a wrong type, a bad severity, a missing reason) is an *Error naming the file and line.
// A typo in a policy file must never silently relax a gate.
package policy
