package secrets

import (
	"encoding/base64"
	"strings"
)

// authHeader handles the credentials of an HTTP Authorization header, wherever they are
// printed (a log line, a curl command, a saved request): "Bearer <token>" and
// "Basic <base64 of user:password>". i is the position of the 'B'.
func (s *scanner) authHeader(i int) {
	c := s.c
	if !boundaryBefore(c, i) {
		return
	}
	switch {
	case hasPrefixAt(c, i, "Bearer "):
		vs := spanOf(c, i+7, isBlank, 8)
		ve := spanOf(c, vs, isBearerByte, maxTokenLen)
		for ve > vs && (c[ve-1] == '.' || c[ve-1] == ',') { // the end of a sentence
			ve--
		}
		if ve-vs >= 16 && boundaryAfter(c, ve, isAlnum) && plausibleBearer(string(c[vs:ve])) {
			s.add(ruleBearer, vs, ve)
		}
	case hasPrefixAt(c, i, "Basic "):
		vs := spanOf(c, i+6, isBlank, 8)
		ve := spanOf(c, vs, isB64, maxTokenLen)
		if ve-vs >= 8 && boundaryAfter(c, ve, isAlnum) && plausibleBasic(string(c[vs:ve])) {
			s.add(ruleBasicAuth, vs, ve)
		}
	}
}

// isBearerByte: RFC 6750's b64token characters.
func isBearerByte(b byte) bool {
	return isAlnum(b) || strings.IndexByte("-._~+/=", b) >= 0
}

// plausibleBearer rejects placeholders ($TOKEN, <token>, YOUR_TOKEN) and words: an
// opaque token is long, random and has digits.
func plausibleBearer(v string) bool {
	return !isPlaceholder(v) && strings.ContainsAny(v, "0123456789") && Entropy(v) >= minTokenEntropy
}

// plausibleBasic requires the base64 to decode to printable user:password with a
// password that is not a placeholder (nor RFC 7617's "Aladdin:open sesame").
func plausibleBasic(v string) bool {
	b, err := base64.StdEncoding.DecodeString(v)
	if err != nil {
		return false
	}
	for _, x := range b {
		if x < ' ' || x > '~' {
			return false
		}
	}
	user, pass, ok := strings.Cut(string(b), ":")
	return ok && len(pass) >= 4 && pass != user && !isPlaceholder(pass)
}
