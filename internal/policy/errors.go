package policy

import (
	"fmt"
	"strings"
)

// Error is a problem in a policy file, at a line when one is known. Callers map it to
// exit code 2; its text is the one line charter prints.
type Error struct {
	Path   string
	Line   int // 1-based; 0 when the problem concerns the whole file
	Column int // 1-based; 0 when unknown
	Msg    string
}

// Error renders "path:line: msg", or "path: msg" when no line applies.
func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.Path, e.Line, e.Msg)
	}
	return e.Path + ": " + e.Msg
}

// suggest returns " (did you mean "x"?)" for the known word closest to got, or "" when
// none is close enough to be a plausible typo.
func suggest(got string, known []string) string {
	best, bestDist, tie := "", 0, false
	norm := normalizeKey(got)
	for _, k := range known {
		if normalizeKey(k) == norm {
			return fmt.Sprintf(" (did you mean %q?)", k)
		}
		d := editDistance(strings.ToLower(got), strings.ToLower(k))
		switch {
		case best == "" || d < bestDist:
			best, bestDist, tie = k, d, false
		case d == bestDist && k != best:
			tie = true
		}
	}
	limit := 2
	if len(got) <= 4 {
		limit = 1
	}
	// Two equally close candidates would be a guess; say nothing rather than mislead.
	if best == "" || bestDist > limit || tie {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

// normalizeKey folds case and separators so failOn, fail-on, fail_on and FAILON compare
// equal: those are spelling mix-ups, not typos, and deserve a suggestion at any length.
func normalizeKey(s string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case '-', '_', ' ':
			return -1
		}
		if r >= 'A' && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return r
	}, s)
}

// editDistance is the optimal-string-alignment distance: Levenshtein plus adjacent
// transpositions, the commonest typo (hihg). It is bounded: keys are a few characters
// long, and anything longer than 64 runes is never a near miss worth computing.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	if len(ra) > 64 || len(rb) > 64 {
		return 1 << 30
	}
	d := make([][]int, len(ra)+1)
	for i := range d {
		d[i] = make([]int, len(rb)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(ra); i++ {
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(ra)][len(rb)]
}
