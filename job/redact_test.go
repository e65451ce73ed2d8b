package job

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

type cred struct {
	User  string
	Token string
}

type stringer string

func (s stringer) String() string { return string(s) }

func TestRedactingHandler(t *testing.T) {
	const value = "s3cr3t-Value-0451"
	const ghp = "ghp_R8x2Lq9ZfT4mWc7Vb1Nd6Kp3Hs5Jy0Ga2EuXo"
	var buf bytes.Buffer
	log := slog.New(NewRedactingHandler(slog.NewJSONHandler(&buf, nil), []string{value}))
	log = log.With("conn", "postgres://app:"+value+"@db:5432/app")
	log.Info("posting with "+value,
		"header", "Authorization: Bearer "+value,
		"err", fmt.Errorf("auth failed for %s", value),
		"token", "plain-but-named",
		"api_key", "whatever",
		"empty_password", "",
		"struct", cred{User: "bot", Token: value},
		"stringer", stringer("github said "+ghp),
		"bytes", []byte(value),
		slog.Group("req", "body", "tok="+value, "n", 3),
		"count", 7,
	)
	log.WithGroup("g").Error("failed", "cause", errors.New(ghp))
	out := buf.String()
	for _, leak := range []string{value, ghp, "plain-but-named", "whatever"} {
		if strings.Contains(out, leak) {
			t.Errorf("%q leaked:\n%s", leak, out)
		}
	}
	for _, want := range []string{`"count":7`, `"n":3`, `"empty_password":""`, `[REDACTED:github-pat]`, `"msg":"posting with [REDACTED]"`} {
		if !strings.Contains(out, want) {
			t.Errorf("want %s in:\n%s", want, out)
		}
	}
	if !strings.Contains(out, `"struct":{"User":"bot"`) && !strings.Contains(out, `"struct":"{\"User\":\"bot\"`) {
		t.Errorf("struct lost its shape:\n%s", out)
	}

	// Values with nothing to hide keep their type.
	buf.Reset()
	log.Info("ok", "struct", cred{User: "bot", Token: "none"})
	if !strings.Contains(buf.String(), `"struct":{"User":"bot","Token":"none"}`) {
		t.Errorf("clean struct changed: %s", buf.String())
	}
}

func TestSecretEnvValues(t *testing.T) {
	t.Setenv("PLATFORM_TOKEN", "tok-123456")
	t.Setenv("HOME_DIR_FOR_TEST", "/home/x")
	vals := SecretEnvValues()
	found := false
	for _, v := range vals {
		found = found || v == "tok-123456"
		if v == "/home/x" {
			t.Error("HOME_DIR_FOR_TEST is not a secret name")
		}
	}
	if !found {
		t.Errorf("PLATFORM_TOKEN's value missing from %d values", len(vals))
	}
}
