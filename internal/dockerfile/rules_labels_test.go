package dockerfile

import (
	"strings"
	"testing"
)

func TestRuleLabelKeys(t *testing.T) {
	runRuleCases(t, "DF160", []ruleCase{
		{name: "upper case", src: "FROM debian:12\nLABEL Maintainer=\"a@b.c\"\n", want: 1, msg: "lower-case letter", aliases: []string{"DL3048"}},
		{name: "underscore", src: "FROM debian:12\nLABEL build_date=now\n", want: 1, msg: "'_'"},
		{name: "reserved namespace", src: "FROM debian:12\nLABEL com.docker.compose.project=x\n", want: 1, msg: "reserved"},
		{name: "doubled separator", src: "FROM debian:12\nLABEL org..example=x\n", want: 1, msg: "consecutive"},
		{name: "trailing dot", src: "FROM debian:12\nLABEL org.example.=x\n", want: 1, msg: "end with"},
		{name: "each bad key", src: "FROM debian:12\nLABEL A=1 B=2 ok=3\n", want: 2},
		{name: "legacy form", src: "FROM debian:12\nLABEL Version 1.0\n", want: 1},
		{name: "onbuild", src: "FROM debian:12\nONBUILD LABEL Bad=1\n", want: 1},
		{name: "oci keys", src: "FROM debian:12\nLABEL org.opencontainers.image.source=\"https://x\" org.opencontainers.image.version=1.2.3\n", want: 0},
		{name: "quoted key", src: "FROM debian:12\nLABEL \"maintainer\"=\"me\"\n", want: 0},
	})
}

func TestRuleMissingLabels(t *testing.T) {
	schema := &Config{LabelSchema: map[string]string{"org.opencontainers.image.source": "url", "team": "text"}}
	runRuleCases(t, "DF161", []ruleCase{
		{name: "none", cfg: schema, src: "FROM debian:12\n", want: 1, msg: "`org.opencontainers.image.source`, `team`", aliases: []string{"DL3049"}},
		{name: "one of two", cfg: schema, src: "FROM debian:12\nLABEL team=core\n", want: 1, msg: "lacks label `org.opencontainers.image.source` "},
		{name: "all", cfg: schema, src: "FROM debian:12\nLABEL team=core org.opencontainers.image.source=https://x\n", want: 0},
		{name: "every stage", cfg: schema, src: "FROM debian:12 AS a\nFROM debian:12\n", want: 2},
		{name: "inherited from a stage", cfg: schema, src: "FROM debian:12 AS base\nLABEL team=core org.opencontainers.image.source=https://x\nFROM base\n", want: 0},
		{name: "a base stage still needs its own", cfg: schema, src: "FROM debian:12 AS base\nFROM base\nLABEL team=core org.opencontainers.image.source=https://x\n", want: 1, msg: "\"base\""},
		{name: "copy sources are build stages", cfg: schema, src: "FROM golang:1.22 AS build\nRUN go build\nFROM debian:12\nCOPY --from=build /out /out\nLABEL team=core org.opencontainers.image.source=https://x\n", want: 0},
		{name: "no schema", src: "FROM debian:12\n", want: 0},
	})
}

func TestRuleSuperfluousLabels(t *testing.T) {
	strict := &Config{LabelSchema: map[string]string{"team": "text"}, StrictLabels: true}
	runRuleCases(t, "DF162", []ruleCase{
		{name: "extra", cfg: strict, src: "FROM debian:12\nLABEL team=core teem=x\n", want: 1, msg: "\"teem\"", aliases: []string{"DL3050"}},
		{name: "only schema labels", cfg: strict, src: "FROM debian:12\nLABEL team=core\n", want: 0},
		{name: "not strict", cfg: &Config{LabelSchema: map[string]string{"team": "text"}}, src: "FROM debian:12\nLABEL other=x\n", want: 0},
	})
}

func TestRuleEmptyLabels(t *testing.T) {
	schema := &Config{LabelSchema: map[string]string{"org.opencontainers.image.revision": "hash"}}
	runRuleCases(t, "DF163", []ruleCase{
		{name: "empty", cfg: schema, src: "FROM debian:12\nLABEL org.opencontainers.image.revision=\"\"\n", want: 1, aliases: []string{"DL3051"}},
		{name: "blank", cfg: schema, src: "FROM debian:12\nLABEL org.opencontainers.image.revision=\" \"\n", want: 1},
		{name: "set", cfg: schema, src: "FROM debian:12\nLABEL org.opencontainers.image.revision=2dbfae9\n", want: 0},
		{name: "other label empty", cfg: schema, src: "FROM debian:12\nLABEL other=\"\"\n", want: 0},
	})
}

func TestRuleLabelTypesRedactEvidence(t *testing.T) {
	cfg := &Config{LabelSchema: map[string]string{"src": "hash", "url": "email"}}
	for _, v := range []string{"https://bot:hunter2hunter2@git.example.com/app", "ghp_0123456789abcdefghijklmnopqrstuvwxyzAB"} {
		got := hitsFor(t, "DF164", "FROM debian:12\nLABEL src=\""+v+"\"\n", cfg)
		if len(got) != 1 {
			t.Fatalf("%s: got %d findings, want 1", v, len(got))
		}
		if strings.Contains(got[0].Evidence, "hunter2") || strings.Contains(got[0].Evidence, "0123456789") || !strings.HasSuffix(got[0].Evidence, "*") {
			t.Errorf("evidence not redacted: %q", got[0].Evidence)
		}
	}
}

func TestRuleLabelTypes(t *testing.T) {
	cfg := &Config{LabelSchema: map[string]string{
		"src": "url", "built": "rfc3339", "license": "spdx", "rev": "hash", "version": "semver", "owner": "email", "note": "text",
	}}
	cases := []struct {
		label, value, alias string
		ok                  bool
	}{
		{"src", "https://github.com/example/app", "DL3052", true},
		{"src", "git+ssh://git@github.com/example/app.git", "DL3052", true},
		{"src", "github.com/example/app", "DL3052", false},
		{"src", "https://", "DL3052", false},
		{"built", "2024-05-01T12:00:00Z", "DL3053", true},
		{"built", "2024-05-01T12:00:00.5+02:00", "DL3053", true},
		{"built", "2024-05-01", "DL3053", false},
		{"license", "Apache-2.0", "DL3054", true},
		{"license", "MIT OR Apache-2.0", "DL3054", true},
		{"license", "GPL-2.0-only WITH Classpath-exception-2.0", "DL3054", true},
		{"license", "Apache 2", "DL3054", false},
		{"license", "proprietary", "DL3054", false},
		{"rev", "2dbfae9", "DL3055", true},
		{"rev", "43c572f1272b6b3171dd1db9e41b7027128ce080", "DL3055", true},
		{"rev", "43C572F", "DL3055", false},
		{"rev", "abc", "DL3055", false},
		{"version", "1.4.2", "DL3056", true},
		{"version", "2.0.1-rc.1+build.5", "DL3056", true},
		{"version", "v1.4.2", "DL3056", false},
		{"version", "1.4", "DL3056", false},
		{"version", "01.4.2", "DL3056", false},
		{"owner", "team@example.com", "DL3058", true},
		{"owner", "Core Team <team@example.com>", "DL3058", true},
		{"owner", "team at example", "DL3058", false},
		{"note", "anything at all", "", true},
		{"version", "$VERSION", "", true}, // filled in by a build argument
		{"unlisted", "whatever", "", true},
	}
	for _, tc := range cases {
		t.Run(tc.label+"="+tc.value, func(t *testing.T) {
			got := hitsFor(t, "DF164", "FROM debian:12\nLABEL "+tc.label+"=\""+tc.value+"\"\n", cfg)
			if tc.ok {
				if len(got) != 0 {
					t.Fatalf("unexpected finding: %s", got[0].Message)
				}
				return
			}
			if len(got) != 1 {
				t.Fatalf("got %d findings, want 1", len(got))
			}
			if len(got[0].Aliases) != 1 || got[0].Aliases[0] != tc.alias {
				t.Errorf("aliases %v, want [%s]", got[0].Aliases, tc.alias)
			}
			if got[0].Evidence != tc.value {
				t.Errorf("evidence %q, want the value", got[0].Evidence)
			}
		})
	}
}
