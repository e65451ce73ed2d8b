package secrets

import (
	"math"
	"strings"
)

// maxStars caps the '*' of Redact so that evidence stays short whatever the secret.
const maxStars = 16

// Redact returns the evidence form of a secret: its first 4 characters, then one '*' per
// remaining character, at most 16. A secret of 4 characters or fewer becomes all '*'. It
// never reveals more than 4 characters, nor the length of a long secret.
func Redact(s string) string {
	r := []rune(s)
	if len(r) <= 4 {
		return strings.Repeat("*", len(r))
	}
	n := min(len(r)-4, maxStars)
	return string(r[:4]) + strings.Repeat("*", n)
}

// Entropy returns the Shannon entropy of s in bits per byte: 0 for a repeated character,
// log2(n) for n distinct bytes in equal shares, at most 8.
func Entropy(s string) float64 {
	if s == "" {
		return 0
	}
	var counts [256]int
	for i := 0; i < len(s); i++ {
		counts[s[i]]++
	}
	n := float64(len(s))
	var h float64
	for _, c := range counts {
		if c == 0 {
			continue
		}
		p := float64(c) / n
		h -= p * math.Log2(p)
	}
	return h
}
