package secrets

import (
	"strings"
	"testing"
)

// hostileInputs repeat the anchors of every rule, so that each is examined as often as
// possible; Scan must stay linear on them (see BenchmarkScanHostile).
func hostileInputs() map[string]string {
	const n = 1 << 20
	rep := func(s string) string { return strings.Repeat(s, n/len(s)+1)[:n] }
	return map[string]string{
		"pem-begin":     rep("-----BEGIN RSA PRIVATE KEY-----\n"),
		"pem-no-end":    "-----BEGIN PRIVATE KEY-----\n" + rep("-----BEGIN EC PRIVATE KEY-----"+strings.Repeat("A", 64)),
		"gcp":           rep(`"type": "service_account", "private_key": "-----BEGIN PRIVATE KEY-----\n` + strings.Repeat("M", 50) + `\n-----END PRIVATE KEY-----"`),
		"keywords":      rep("passwordtokensecretkeycred"),
		"assignments":   rep("password=password="),
		"long-key":      rep("_password"),
		"jwt":           rep("eyJhbGciOiJIUzI1NiJ9."),
		"url":           rep("a://b:c"),
		"url-at":        rep("http://" + strings.Repeat("u", 200) + ":"),
		"token-prefix":  rep("ghp_AKIAxoxb-npm_glpat-"),
		"long-token":    "ghp_" + rep("a"),
		"quotes":        "password = \"" + rep("\\\""),
		"bearer":        rep("Bearer Bearer "),
		"xml":           rep("<password><password>"),
		"env":           rep("ENV ENV "),
		"netrc":         rep("machine password "),
		"slack-webhook": rep("https://hooks.slack.com/services/"),
	}
}

func TestScanHostileInputs(t *testing.T) {
	for name, in := range hostileInputs() {
		ms := ScanString(in)
		checkInvariants(t, []byte(in), ms)
		t.Logf("%s: %d matches", name, len(ms))
	}
}

func BenchmarkScanHostile(b *testing.B) {
	for name, in := range hostileInputs() {
		data := []byte(in)
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				Scan(data)
			}
		})
	}
}
