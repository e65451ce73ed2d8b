// Package secrets finds credentials in text and keeps them out of charter's output.
//
// It is shared by every path that may see a secret: Dockerfile lint (ENV/ARG values and
// names), build-context preflight (file names and contents), image scanning (every file of
// every layer), and the job supervisor (a child's stdout and stderr). Detection is by
// content (Scan), by file name (ClassifyName) and by variable name (IsSecretName);
// redaction is for evidence (Redact) and for free text (Redactor).
//
// Scan is built for large inputs: a single pass over the bytes looks for short anchors
// (token prefixes, keywords) and only the few places where one occurs are examined
// closely, so text without any candidate costs one table lookup per byte.
package secrets

// Match is one secret found in content. Value is the secret itself: callers must pass it
// through Redact before printing.
type Match struct {
	// Rule is a stable kebab-case ID such as "aws-access-key-id" or "generic-assignment".
	Rule string
	// Title is a human title such as "AWS access key ID".
	Title string
	// Line is the 1-based line of the match start.
	Line int
	// Start and End are the byte offsets of Value in the scanned content.
	Start int
	End   int
	// Value is the secret itself.
	Value string
}

// Scan returns the secrets found in content, in order of position and without overlaps.
// Content with no candidate keyword or token prefix is rejected in a single fast pass.
func Scan(content []byte) []Match {
	return scan(content)
}

// ScanString is Scan for a string.
func ScanString(s string) []Match {
	return scan([]byte(s))
}
