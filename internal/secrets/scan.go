package secrets

import (
	"bytes"
	"slices"
)

// Limits that keep Scan linear on hostile input: no rule looks further than these.
const (
	maxTokenLen = 512      // longest token-shaped secret
	maxKeyLen   = 128      // longest key name in an assignment
	maxValueLen = 1024     // longest assigned value
	maxLineBack = 256      // how far back an assignment looks for its line's start
	maxPEMLen   = 64 << 10 // longest PEM block
	gcpWindow   = 8 << 10  // how far around a private key its service-account JSON may reach
	minPEMBody  = 40       // fewer base64 characters than this is a placeholder, not a key
	maxJWTLen   = 8 << 10  // longest JWT
	maxURLUser  = 256      // longest user:password part of a URL
)

// Priorities settle overlaps: a token of known shape wins over a URL password, which wins
// over a generic assignment (GITHUB_TOKEN=ghp_… is reported as a GitHub token).
const (
	prioGeneric = iota
	prioURL
	prioToken
)

// rule is one detection rule's identity.
type rule struct {
	id, title string
	prio      int
}

var (
	ruleAWSKeyID        = &rule{"aws-access-key-id", "AWS access key ID", prioToken}
	ruleAWSSecret       = &rule{"aws-secret-access-key", "AWS secret access key", prioToken}
	ruleGCPServiceAcct  = &rule{"gcp-service-account", "GCP service-account private key", prioToken}
	ruleGCPAPIKey       = &rule{"gcp-api-key", "Google API key", prioToken}
	ruleGitHubPAT       = &rule{"github-pat", "GitHub personal access token", prioToken}
	ruleGitHubFineGrain = &rule{"github-fine-grained-pat", "GitHub fine-grained personal access token", prioToken}
	ruleGitHubOAuth     = &rule{"github-oauth-token", "GitHub OAuth access token", prioToken}
	ruleGitHubApp       = &rule{"github-app-token", "GitHub App token", prioToken}
	ruleGitHubRefresh   = &rule{"github-refresh-token", "GitHub refresh token", prioToken}
	ruleGitLabPAT       = &rule{"gitlab-pat", "GitLab personal access token", prioToken}
	ruleGitLabToken     = &rule{"gitlab-token", "GitLab token", prioToken}
	ruleSlackToken      = &rule{"slack-token", "Slack token", prioToken}
	ruleSlackAppToken   = &rule{"slack-app-token", "Slack app-level token", prioToken}
	ruleSlackWebhook    = &rule{"slack-webhook-url", "Slack webhook URL", prioToken}
	ruleStripeSecret    = &rule{"stripe-secret-key", "Stripe live secret key", prioToken}
	ruleStripeRestrict  = &rule{"stripe-restricted-key", "Stripe live restricted key", prioToken}
	ruleNPM             = &rule{"npm-token", "npm access token", prioToken}
	rulePyPI            = &rule{"pypi-token", "PyPI API token", prioToken}
	rulePEM             = &rule{"pem-private-key", "PEM private key", prioToken}
	ruleOpenSSH         = &rule{"openssh-private-key", "OpenSSH private key", prioToken}
	rulePGP             = &rule{"pgp-private-key", "PGP private key block", prioToken}
	ruleJWT             = &rule{"jwt", "JSON Web Token", prioToken}
	ruleBearer          = &rule{"bearer-token", "Bearer token in an Authorization header", prioURL}
	ruleBasicAuth       = &rule{"basic-auth", "Basic authentication credentials", prioURL}
	ruleURLCreds        = &rule{"url-credentials", "Password in a URL", prioURL}
	ruleGeneric         = &rule{"generic-assignment", "Secret assigned in configuration or code", prioGeneric}
)

// allRules lists every rule Scan reports, in the order docs/secrets.md presents them.
var allRules = []*rule{
	ruleAWSKeyID, ruleAWSSecret, ruleGCPServiceAcct, ruleGCPAPIKey,
	ruleGitHubPAT, ruleGitHubFineGrain, ruleGitHubOAuth, ruleGitHubApp, ruleGitHubRefresh,
	ruleGitLabPAT, ruleGitLabToken, ruleSlackToken, ruleSlackAppToken, ruleSlackWebhook,
	ruleStripeSecret, ruleStripeRestrict, ruleNPM, rulePyPI,
	rulePEM, ruleOpenSSH, rulePGP, ruleJWT, ruleBearer, ruleBasicAuth, ruleURLCreds, ruleGeneric,
}

// anchorBits holds one bit per byte pair that may start (or sit just inside) something
// worth a closer look. The scan loop tests each pair of adjacent bytes against it.
var anchorBits = buildAnchors()

func buildAnchors() *[1 << 13]byte {
	var t [1 << 13]byte
	set := func(a, b byte) {
		k := uint(a)<<8 | uint(b)
		t[k>>3] |= 1 << (k & 7)
	}
	// Case-sensitive token prefixes, by the pair the handler keys on.
	for _, p := range []string{
		"AK", "AS", "AI", // AKIA…, ASIA…, AIza…
		"gh", "gi", "gl", "GR", // ghp_…, github_pat_…, glpat-…, GR1348941…
		"xo", "xa", // xoxb-…, xapp-…
		"k_",       // sk_live_…, rk_live_…
		"np",       // npm_…
		"-A",       // pypi-AgE…
		"-B",       // -----BEGIN
		"yJ",       // eyJ… (JWT)
		":/",       // scheme://user:pass@host, hooks.slack.com
		"Be", "Ba", // Bearer …, Basic … (Authorization headers)
	} {
		set(p[0], p[1])
	}
	// Case-insensitive keywords of generic assignments: pass, pwd, secret, token, key, cred.
	for _, p := range []string{"pa", "pw", "se", "to", "ke", "cr"} {
		for _, a := range []byte{p[0], p[0] - 32} {
			for _, b := range []byte{p[1], p[1] - 32} {
				set(a, b)
			}
		}
	}
	return &t
}

// candidate is a match before overlaps are settled.
type candidate struct {
	r          *rule
	start, end int
}

// scanner holds the state of one Scan call.
type scanner struct {
	c     []byte
	cands []candidate
	skip  int // anchors before skip were already examined as part of something longer

	// Memo of the next "-----END " at or after endFrom (endAt < 0: none), so that many
	// BEGIN lines without an END cost one pass, not one pass each.
	endFrom, endAt int
	// Offsets of `"type": "service_account"` values, found once on first need.
	gcpTypes []int
	gcpDone  bool
	// [openFrom, openTo) holds no byte that ends an unquoted value; lsAt's line starts
	// at ls. Both spare repeated walks over the same bytes.
	openFrom, openTo int
	lsAt, ls         int
}

func scan(c []byte) []Match {
	if len(c) < 2 {
		return nil
	}
	s := scanner{c: c, endFrom: -1}
	s.run()
	return s.matches()
}

// run makes the single pass over the content, examining each anchor.
func (s *scanner) run() {
	c := s.c
	bits := anchorBits
	prev := uint16(c[0])
	for i, b := range c[1:] {
		k := prev<<8 | uint16(b)
		prev = uint16(b)
		if bits[k>>3]&(1<<(k&7)) != 0 && i >= s.skip {
			s.at(i) // the pair starts at c[i]
		}
	}
}

// scanCandidates returns what scan would, as spans without copies of the values.
func scanCandidates(c []byte) []candidate {
	if len(c) < 2 {
		return nil
	}
	s := scanner{c: c, endFrom: -1}
	s.run()
	return s.settle()
}

// at examines the anchor pair at c[i], c[i+1].
func (s *scanner) at(i int) {
	c := s.c
	switch a, b := c[i], c[i+1]; {
	case a == 'A':
		s.awsOrGoogleKey(i)
	case a == 'g' && b == 'h':
		s.github(i)
	case a == 'g' && b == 'i':
		s.githubFineGrained(i)
	case a == 'g' && b == 'l', a == 'G' && b == 'R':
		s.gitlab(i)
	case a == 'x':
		s.slack(i)
	case a == 'k' && b == '_':
		s.stripe(i)
	case a == 'n' && b == 'p':
		s.npm(i)
	case a == '-' && b == 'A':
		s.pypi(i)
	case a == '-' && b == 'B':
		s.pem(i)
	case a == 'y' && b == 'J':
		s.jwt(i)
	case a == ':' && b == '/':
		s.url(i)
	case a == 'B':
		s.authHeader(i)
	default:
		if hasKeyword(c[i:]) {
			s.assignment(i)
		}
	}
}

func (s *scanner) add(r *rule, start, end int) {
	s.cands = append(s.cands, candidate{r, start, end})
	if r.prio == prioToken { // nothing inside a token can start another match
		s.skip = max(s.skip, end)
	}
}

// matches returns the settled candidates as matches, with their lines and values.
func (s *scanner) matches() []Match {
	kept := s.settle()
	if len(kept) == 0 {
		return nil
	}
	out := make([]Match, len(kept))
	line, pos := 1, 0
	for k, cd := range kept {
		line += bytes.Count(s.c[pos:cd.start], []byte{'\n'})
		pos = cd.start
		out[k] = Match{Rule: cd.r.id, Title: cd.r.title, Line: line, Start: cd.start, End: cd.end, Value: string(s.c[cd.start:cd.end])}
	}
	return out
}

// settle settles overlaps (the higher priority wins, then the earlier, then the longer)
// and returns the candidates kept, in order.
func (s *scanner) settle() []candidate {
	if len(s.cands) == 0 {
		return nil
	}
	slices.SortFunc(s.cands, func(x, y candidate) int {
		if x.start != y.start {
			return x.start - y.start
		}
		if x.r.prio != y.r.prio {
			return y.r.prio - x.r.prio
		}
		return (y.end - y.start) - (x.end - x.start)
	})
	kept := s.cands[:0]
	for _, cd := range s.cands {
		if n := len(kept); n > 0 && cd.start < kept[n-1].end {
			if cd.r.prio > kept[n-1].r.prio {
				kept[n-1] = cd
			}
			continue
		}
		kept = append(kept, cd)
	}
	return kept
}

// hasKeyword reports whether b starts with a generic-assignment keyword, in any case.
func hasKeyword(b []byte) bool {
	switch b[0] | 0x20 {
	case 'p':
		return hasPrefixFold(b, "pass") || hasPrefixFold(b, "pwd")
	case 's':
		return hasPrefixFold(b, "secret")
	case 't':
		return hasPrefixFold(b, "token")
	case 'k':
		return hasPrefixFold(b, "key")
	case 'c':
		return hasPrefixFold(b, "cred")
	}
	return false
}

// hasPrefixFold reports whether b starts with the lower-case ASCII prefix p, in any case.
func hasPrefixFold(b []byte, p string) bool {
	if len(b) < len(p) {
		return false
	}
	for i := 0; i < len(p); i++ {
		if b[i]|0x20 != p[i] {
			return false
		}
	}
	return true
}

func hasPrefixAt(c []byte, i int, p string) bool {
	return i >= 0 && i+len(p) <= len(c) && string(c[i:i+len(p)]) == p
}

// spanOf returns the end of the run of bytes in class starting at i, looking at most max
// bytes ahead.
func spanOf(c []byte, i int, class func(byte) bool, limit int) int {
	end := min(len(c), i+limit)
	j := i
	for j < end && class(c[j]) {
		j++
	}
	return j
}

// boundaryBefore reports whether the byte before i cannot continue a token.
func boundaryBefore(c []byte, i int) bool {
	return i == 0 || !isAlnum(c[i-1])
}

// boundaryAfter reports whether c[j] (if any) cannot continue a token of class.
func boundaryAfter(c []byte, j int, class func(byte) bool) bool {
	return j >= len(c) || !class(c[j])
}

func isB64URL(b byte) bool   { return isAlnum(b) || b == '-' || b == '_' }
func isWordByte(b byte) bool { return isAlnum(b) || b == '_' }
func isDashed(b byte) bool   { return isAlnum(b) || b == '-' }
func isBlank(b byte) bool    { return b == ' ' || b == '\t' }
func isEOL(b byte) bool      { return b == '\n' || b == '\r' }
