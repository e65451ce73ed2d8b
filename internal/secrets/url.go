package secrets

import (
	neturl "net/url"
	"strings"
)

// url handles scheme://user:password@host (the password is the match) and Slack
// incoming-webhook URLs (the whole URL is the match). i is the position of "://".
func (s *scanner) url(i int) {
	c := s.c
	if !hasPrefixAt(c, i, "://") {
		return
	}
	start := i
	for start > 0 && i-start < 32 && isSchemeByte(c[start-1]) {
		start--
	}
	if i-start < 2 || !isLower(c[start]|0x20) {
		return
	}
	host := i + 3
	if hasPrefixAt(c, host, "hooks.slack.com/") {
		s.slackWebhook(start, host+len("hooks.slack.com/"))
		return
	}
	at := -1
	colon := -1
	limit := min(len(c), host+maxURLUser)
	for k := host; k < limit; k++ {
		b := c[k]
		if b == '@' {
			at = k
			break
		}
		if b == ':' && colon < 0 {
			colon = k
		}
		if b <= ' ' || strings.IndexByte("/?#\"'`<>\\()[]{}|", b) >= 0 {
			return
		}
	}
	if at < 0 || colon < 0 || at+1 >= len(c) || !isAlnum(c[at+1]) && c[at+1] != '[' {
		return
	}
	user, pass := string(c[host:colon]), string(c[colon+1:at])
	if u, err := neturl.PathUnescape(user); err == nil {
		user = u
	}
	if p, err := neturl.PathUnescape(pass); err == nil {
		pass = p
	}
	hostEnd := spanOf(c, at+1, func(b byte) bool { return isAlnum(b) || b == '.' || b == '-' }, 256)
	if plausibleURLPassword(user, pass) && !isPlaceholderHost(string(c[at+1:hostEnd])) {
		s.add(ruleURLCreds, colon+1, at)
	}
}

func isSchemeByte(b byte) bool { return isAlnum(b) || b == '+' || b == '-' || b == '.' }

// isPlaceholderHost reports hosts of documentation and tests (example.com, foo.test,
// dummy.faketld).
func isPlaceholderHost(h string) bool {
	h = strings.ToLower(h)
	for _, w := range []string{"example", "dummy", "fake", "test", "invalid"} {
		if strings.Contains(h, w) {
			return true
		}
	}
	return false
}

// plausibleURLPassword rejects empty and placeholder passwords (pass, p@ssword, My Pass),
// a password equal to the user name (guest:guest), and short all-letter words (foo:bar).
func plausibleURLPassword(user, pass string) bool {
	if len(pass) < 6 || pass == user || isPlaceholder(pass) || strings.ContainsAny(pass, " \t") {
		return false
	}
	if user == "" && strings.Contains(pass, ":") { // cvs://:pserver:anoncvs@host
		return false
	}
	if l := lettersOnly(pass); strings.Contains(l, "pass") || strings.Contains(l, "pwd") || strings.Contains(l, "sword") {
		return false
	}
	switch strings.ToLower(pass) {
	case "postgres", "root", "admin", "guest", "mysql", "redis", "rabbitmq", "minioadmin", "anonymous":
		return false
	}
	var digit, upper, lower, other bool
	for i := 0; i < len(pass); i++ {
		switch b := pass[i]; {
		case isDigit(b):
			digit = true
		case isUpper(b):
			upper = true
		case isLower(b):
			lower = true
		default:
			other = true
		}
	}
	return digit || other || (upper && lower) || len(pass) >= 12
}

// slackWebhook handles https://hooks.slack.com/services/T…/B…/… and the workflows and
// triggers forms; path is where the part after the host starts.
func (s *scanner) slackWebhook(start, path int) {
	c := s.c
	ok := false
	for _, p := range []string{"services/", "workflows/", "triggers/"} {
		ok = ok || hasPrefixAt(c, path, p)
	}
	if !ok {
		return
	}
	end := spanOf(c, path, func(b byte) bool { return isAlnum(b) || b == '/' || b == '_' || b == '-' }, maxTokenLen)
	tail := string(c[path:end])
	// services/T…/B…/secret: at least three parts after the kind, the last one long.
	parts := strings.Split(strings.TrimRight(tail, "/"), "/")
	if len(parts) < 3 || len(parts[len(parts)-1]) < 16 {
		return
	}
	if Entropy(parts[len(parts)-1]) < minTokenEntropy {
		return
	}
	s.add(ruleSlackWebhook, start, end)
}
