package secrets

import (
	"encoding/base64"
	"encoding/json"
	"strings"
)

// minTokenEntropy rejects token-shaped placeholders such as ghp_XXXX… or npm_000…: a
// random token body is well above it.
const minTokenEntropy = 3.0

// token reports a match for c[start:end] when its body c[bodyStart:end] looks random
// and holds no documentation marker.
func (s *scanner) token(r *rule, start, bodyStart, end int) {
	body := string(s.c[bodyStart:end])
	if Entropy(body) < minTokenEntropy || strings.Contains(strings.ToUpper(body), "EXAMPLE") {
		return
	}
	s.add(r, start, end)
}

// awsOrGoogleKey handles AKIA…/ASIA… access key IDs (20 upper-case letters and digits)
// and AIza… Google API keys (39 characters).
func (s *scanner) awsOrGoogleKey(i int) {
	c := s.c
	if !boundaryBefore(c, i) {
		return
	}
	switch {
	case hasPrefixAt(c, i, "AKIA"), hasPrefixAt(c, i, "ASIA"):
		isUpperDigit := func(b byte) bool { return isUpper(b) || isDigit(b) }
		end := spanOf(c, i+4, isUpperDigit, 17)
		if end-i == 20 && boundaryAfter(c, end, isAlnum) {
			s.token(ruleAWSKeyID, i, i+4, end)
		}
	case hasPrefixAt(c, i, "AIza"):
		end := spanOf(c, i+4, isB64URL, 36)
		if end-i == 39 && boundaryAfter(c, end, isB64URL) {
			s.token(ruleGCPAPIKey, i, i+4, end)
		}
	}
}

// github handles ghp_, gho_, ghu_, ghs_ and ghr_ tokens: the prefix and 36 or more
// letters and digits.
func (s *scanner) github(i int) {
	c := s.c
	if i+4 > len(c) || c[i+3] != '_' || !boundaryBefore(c, i) {
		return
	}
	var r *rule
	switch c[i+2] {
	case 'p':
		r = ruleGitHubPAT
	case 'o':
		r = ruleGitHubOAuth
	case 'u', 's':
		r = ruleGitHubApp
	case 'r':
		r = ruleGitHubRefresh
	default:
		return
	}
	end := spanOf(c, i+4, isAlnum, maxTokenLen)
	if end-(i+4) >= 36 && boundaryAfter(c, end, isWordByte) {
		s.token(r, i, i+4, end)
	}
}

// githubFineGrained handles github_pat_ tokens: 22 characters, '_', 59 characters.
func (s *scanner) githubFineGrained(i int) {
	c := s.c
	if !hasPrefixAt(c, i, "github_pat_") || !boundaryBefore(c, i) {
		return
	}
	end := spanOf(c, i+11, isWordByte, maxTokenLen)
	if end-(i+11) >= 60 && boundaryAfter(c, end, isWordByte) {
		s.token(ruleGitHubFineGrain, i, i+11, end)
	}
}

// gitlabPrefixes are the prefixes GitLab gives its tokens; glpat- is reported on its own.
var gitlabPrefixes = []string{"glpat-", "gldt-", "glrt-", "glrtr-", "glptt-", "glft-", "glcbt-",
	"glimt-", "glagent-", "gloas-", "glsoat-", "glffct-", "GR1348941"}

// gitlab handles GitLab tokens: a known prefix and 20 or more base64url characters (newer
// tokens add dot-separated parts).
func (s *scanner) gitlab(i int) {
	c := s.c
	if !boundaryBefore(c, i) {
		return
	}
	for _, p := range gitlabPrefixes {
		if !hasPrefixAt(c, i, p) {
			continue
		}
		body := i + len(p)
		end := spanOf(c, body, func(b byte) bool { return isB64URL(b) || b == '.' }, maxTokenLen)
		for end > body && (c[end-1] == '.' || c[end-1] == '-') {
			end--
		}
		if end-body < 20 {
			return
		}
		r := ruleGitLabToken
		if p == "glpat-" {
			r = ruleGitLabPAT
		}
		s.token(r, i, body, end)
		return
	}
}

// slack handles xoxb-, xoxp-, xoxa-, xoxr-, xoxs-, xoxe- tokens and xapp- app tokens.
func (s *scanner) slack(i int) {
	c := s.c
	if !boundaryBefore(c, i) || i+5 > len(c) || c[i+4] != '-' {
		return
	}
	r := ruleSlackToken
	switch {
	case hasPrefixAt(c, i, "xapp"):
		r = ruleSlackAppToken
	case hasPrefixAt(c, i, "xox") && strings.IndexByte("bpaerso", c[i+3]) >= 0:
	default:
		return
	}
	end := spanOf(c, i+5, isDashed, maxTokenLen)
	for end > i+5 && c[end-1] == '-' {
		end--
	}
	if end-(i+5) >= 20 && boundaryAfter(c, end, isWordByte) {
		s.token(r, i, i+5, end)
	}
}

// stripe handles live secret (sk_live_) and restricted (rk_live_) keys. Test-mode keys
// (sk_test_) are not reported: they cannot move money, and documentation and test suites
// are full of them.
func (s *scanner) stripe(i int) {
	c := s.c
	start := i - 1
	if start < 0 || !hasPrefixAt(c, start+2, "_live_") || !boundaryBefore(c, start) {
		return
	}
	r := ruleStripeSecret
	switch c[start] {
	case 's':
	case 'r':
		r = ruleStripeRestrict
	default:
		return
	}
	body := start + 8
	end := spanOf(c, body, isAlnum, maxTokenLen)
	if end-body >= 20 && boundaryAfter(c, end, isWordByte) {
		s.token(r, start, body, end)
	}
}

// npm handles npm access tokens: npm_ and 36 letters and digits.
func (s *scanner) npm(i int) {
	c := s.c
	if !hasPrefixAt(c, i, "npm_") || !boundaryBefore(c, i) {
		return
	}
	end := spanOf(c, i+4, isAlnum, 37)
	if end-(i+4) == 36 && boundaryAfter(c, end, isWordByte) {
		s.token(ruleNPM, i, i+4, end)
	}
}

// pypi handles PyPI API tokens: pypi- and a macaroon, whose base64 always starts AgE.
func (s *scanner) pypi(i int) {
	c := s.c
	start := i - 4
	if start < 0 || !hasPrefixAt(c, start, "pypi-AgE") || !boundaryBefore(c, start) {
		return
	}
	end := spanOf(c, i+1, isB64URL, maxTokenLen)
	if end-(i+1) >= 50 && boundaryAfter(c, end, isB64URL) {
		s.token(rulePyPI, start, i+1, end)
	}
}

// jwt handles JSON Web Tokens: three base64url parts whose first decodes to a JSON
// object with an "alg", and a non-empty signature (unsigned tokens are not reported).
func (s *scanner) jwt(i int) {
	c := s.c
	start := i - 1
	if start < 0 || c[start] != 'e' || (start > 0 && (isB64URL(c[start-1]) || c[start-1] == '.')) {
		return
	}
	limit := min(len(c), start+maxJWTLen)
	var dots [2]int
	j := start
	for k := 0; k < 2; k++ {
		j = spanOf(c, j, isB64URL, limit-j)
		if j >= limit || c[j] != '.' {
			return
		}
		dots[k] = j
		j++
	}
	end := spanOf(c, j, isB64URL, limit-j)
	if end < len(c) && (isB64URL(c[end]) || c[end] == '.') {
		return // longer than the limit, or a five-part JWE
	}
	header, payload, sig := c[start:dots[0]], c[dots[0]+1:dots[1]], c[dots[1]+1:end]
	if len(header) < 10 || len(payload) < 4 || len(sig) < 16 {
		return
	}
	if !jwtHeaderOK(header) {
		return
	}
	if _, err := base64.RawURLEncoding.DecodeString(string(payload)); err != nil || isKnownExample(string(sig)) {
		return
	}
	s.add(ruleJWT, start, end)
}

func jwtHeaderOK(b []byte) bool {
	raw, err := base64.RawURLEncoding.DecodeString(string(b))
	if err != nil {
		return false
	}
	var h struct {
		Alg any `json:"alg"`
	}
	if json.Unmarshal(raw, &h) != nil {
		return false
	}
	alg, ok := h.Alg.(string)
	return ok && alg != ""
}
